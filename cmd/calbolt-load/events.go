package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// yearStart is the Monday the generated events' year begins on. A fixed
// date keeps runs comparable and lets a scenario compute locally which
// events a time-range query must match.
var yearStart = time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC)

// eventSpec is one generated event: enough to write it as iCalendar and to
// know which instances it has.
type eventSpec struct {
	index int
	name  string // resource name, e.g. "ev-000042.ics"
	uid   string
	start time.Time
	dur   time.Duration
	// count is the number of weekly instances of a recurring event, 0 for
	// a single one.
	count int
	// exdate is the instance (0-based) an EXDATE removes from a recurring
	// event, -1 for none.
	exdate   int
	summary  string
	location string
	desc     string
}

var (
	topics = []string{"Quarterly planning", "Design review", "Team stand-up", "One-to-one",
		"Customer call", "Budget check-in", "Release retrospective", "Hiring panel",
		"Architecture sync", "Incident review", "Product demo", "Vendor meeting"}
	groups = []string{"finance", "platform team", "mobile squad", "support", "sales EMEA",
		"the board", "infrastructure", "QA", "marketing", "legal"}
	places = []string{"Room 4.12, North Building, 221 Example Street",
		"Conference room Aurora; 3rd floor", "Video call (link in description)",
		"Café Central, Marktplatz 7, Vienna", "Lab B, West Wing, Research Park 2",
		"Boardroom, Head Office, 1 Sample Road"}
	notes = []string{
		"Agenda: review last quarter's numbers, agree on priorities for the next one, and assign owners. Please read the shared document beforehand.",
		"Bring your laptop; we will walk through the open tickets, decide what ships next, and note any blockers, risks or dependencies.",
		"Standing slot. If you cannot attend, post your update in the channel before the meeting starts so nobody waits for you.",
		"Dial-in: +1 555 0100, code 4242#. Notes will be circulated afterwards; action items go to the tracker with a due date.",
	}
)

// newEventSpec returns the i-th event of a run. The same seed and index
// give the same event. One event in five recurs weekly, with one
// instance removed by an EXDATE.
func newEventSpec(seed uint64, runID string, i int) eventSpec {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	day := r.IntN(364)
	minute := 8*60 + 15*r.IntN(40) // 08:00 to 17:45
	durs := []time.Duration{30 * time.Minute, 45 * time.Minute, time.Hour, 90 * time.Minute, 2 * time.Hour}
	e := eventSpec{
		index:    i,
		name:     fmt.Sprintf("ev-%06d.ics", i),
		uid:      fmt.Sprintf("%s-%06d@load.calbolt.invalid", runID, i),
		start:    yearStart.AddDate(0, 0, day).Add(time.Duration(minute) * time.Minute),
		dur:      durs[r.IntN(len(durs))],
		exdate:   -1,
		summary:  topics[r.IntN(len(topics))] + " with " + groups[r.IntN(len(groups))],
		location: places[r.IntN(len(places))],
		desc:     notes[r.IntN(len(notes))],
	}
	if i%5 == 0 {
		e.count = 4 + r.IntN(49) // 4 to 52 weeks
		e.exdate = 1 + r.IntN(e.count-1)
	}
	return e
}

// instances returns the start of every instance of e, EXDATE applied.
func (e eventSpec) instances() []time.Time {
	if e.count == 0 {
		return []time.Time{e.start}
	}
	out := make([]time.Time, 0, e.count-1)
	for k := range e.count {
		if k != e.exdate {
			out = append(out, e.start.AddDate(0, 0, 7*k))
		}
	}
	return out
}

// overlaps reports whether an instance of e overlaps [start, end), the
// rule of RFC 4791 §9.9 for an event with DTEND.
func (e eventSpec) overlaps(start, end time.Time) bool {
	for _, s := range e.instances() {
		if s.Before(end) && s.Add(e.dur).After(start) {
			return true
		}
	}
	return false
}

// ics returns e as a complete iCalendar object: rev is the revision
// (SEQUENCE, shown in the summary when non-zero), tag an optional marker
// appended to the summary, stamp the DTSTAMP and LAST-MODIFIED. The server
// has nothing to add to it, so it stores the bytes as sent and answers PUT
// with an ETag.
func (e eventSpec) ics(rev int, tag string, stamp time.Time) []byte {
	var w icsWriter
	summary := e.summary
	if rev > 0 {
		summary += " (rev " + strconv.Itoa(rev) + ")"
	}
	if tag != "" {
		summary += " [" + tag + "]"
	}
	w.line("BEGIN", "VCALENDAR")
	w.line("VERSION", "2.0")
	w.line("PRODID", "-//calbolt//calbolt-load//EN")
	w.line("BEGIN", "VEVENT")
	w.line("UID", e.uid)
	w.line("DTSTAMP", icalUTC(stamp))
	w.line("CREATED", icalUTC(yearStart.AddDate(0, 0, -30)))
	w.line("LAST-MODIFIED", icalUTC(stamp))
	w.line("SEQUENCE", strconv.Itoa(rev))
	w.line("DTSTART", icalUTC(e.start))
	w.line("DTEND", icalUTC(e.start.Add(e.dur)))
	if e.count > 0 {
		w.line("RRULE", "FREQ=WEEKLY;COUNT="+strconv.Itoa(e.count))
		w.line("EXDATE", icalUTC(e.start.AddDate(0, 0, 7*e.exdate)))
	}
	w.line("SUMMARY", escapeText(summary))
	w.line("LOCATION", escapeText(e.location))
	w.line("DESCRIPTION", escapeText(e.desc))
	w.line("STATUS", "CONFIRMED")
	w.line("TRANSP", "OPAQUE")
	w.line("END", "VEVENT")
	w.line("END", "VCALENDAR")
	return w.b.Bytes()
}

// icsWriter writes iCalendar content lines, folded at 75 octets
// (RFC 5545 §3.1).
type icsWriter struct{ b bytes.Buffer }

func (w *icsWriter) line(name, value string) {
	w.b.WriteString(fold(name + ":" + value))
	w.b.WriteString("\r\n")
}

// fold splits a content line into lines of at most 75 octets, each
// continuation starting with a space, never inside a UTF-8 sequence.
func fold(s string) string {
	const limit = 75
	if len(s) <= limit {
		return s
	}
	var b strings.Builder
	first := true
	for len(s) > 0 {
		n := limit
		if !first {
			n = limit - 1 // the leading space counts
			b.WriteString("\r\n ")
		}
		if n >= len(s) {
			n = len(s)
		} else {
			for n > 0 && s[n]&0xC0 == 0x80 {
				n-- // do not cut a multi-byte character
			}
		}
		b.WriteString(s[:n])
		s = s[n:]
		first = false
	}
	return b.String()
}

// escapeText escapes a TEXT value (RFC 5545 §3.3.11).
func escapeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}
