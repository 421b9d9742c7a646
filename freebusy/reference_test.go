package freebusy

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/recur"
)

// This file holds a brute-force reference for Compute, Merge and FreeSlots:
// it expands each object with the recurrence engine over a wide window (the
// engine has its own tests), then decides every minute of the window on its
// own, with the rules coded again from RFC 4791 §7.10, RFC 5545 §3.2.9 and
// RFC 7953 §4, and compresses the minutes into periods. All instants in the
// randomized tests fall on minutes.

// refRank orders busy types for the reference: 0 free, then BUSY-TENTATIVE,
// BUSY-UNAVAILABLE, BUSY.
var refRank = map[string]int{"": 0, "BUSY-TENTATIVE": 1, "BUSY-UNAVAILABLE": 2, "BUSY": 3}

func refTypeName(r int) string {
	for k, v := range refRank {
		if v == r {
			return k
		}
	}
	panic(r)
}

// refFBType reads FBTYPE/BUSYTYPE: FREE is 0, anything unknown (or empty) BUSY.
func refFBType(v string) int {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "FREE" {
		return 0
	}
	if r, ok := refRank[v]; ok && v != "" {
		return r
	}
	return refRank["BUSY"]
}

// A refSpan is [start, end) of one busy rank.
type refSpan struct {
	start, end time.Time
	rank       int
}

// A refAvail is one VAVAILABILITY as the reference reads it.
type refAvail struct {
	order      int       // painting order: PRIORITY 0 first, then 9 … 1
	start, end time.Time // zero: open
	rank       int
	available  []refSpan
}

// A refObject is the reference's reading of one calendar object.
type refObject struct {
	busy   []refSpan
	avails []refAvail
}

// refEventRank decides one VEVENT instance from the component defining it.
func refEventRank(c *ical.Component, addresses []string) int {
	prop := func(name string) string {
		if p := c.Props.Get(name); p != nil {
			return strings.ToUpper(strings.TrimSpace(p.Value))
		}
		return ""
	}
	if prop("TRANSP") == "TRANSPARENT" || prop("STATUS") == "CANCELLED" {
		return 0
	}
	r := refRank["BUSY"]
	if prop("STATUS") == "TENTATIVE" {
		r = refRank["BUSY-TENTATIVE"]
	}
	for _, a := range c.Props["ATTENDEE"] {
		mine := false
		for _, addr := range addresses {
			mine = mine || strings.EqualFold(strings.TrimSpace(a.Value), addr)
		}
		if !mine {
			continue
		}
		switch strings.ToUpper(a.Params.Get("PARTSTAT")) {
		case "DECLINED":
			return 0
		case "TENTATIVE":
			r = refRank["BUSY-TENTATIVE"]
		}
	}
	return r
}

const refPad = 40 * 24 * time.Hour

// refRead reads one object: its event instances over a wide window, its
// FREEBUSY periods and its availability components.
func refRead(cal *ical.Calendar, ws, we time.Time, opts *Options) (refObject, error) {
	var o refObject
	ropts := &recur.Options{Floating: opts.Floating}
	ins, err := recur.Expand(cal, ws.Add(-refPad), we.Add(refPad), ropts)
	if err != nil {
		return o, err
	}
	for _, in := range ins {
		if in.Component.Name != "VEVENT" {
			continue
		}
		if r := refEventRank(in.Component, opts.Addresses); r > 0 {
			o.busy = append(o.busy, refSpan{in.Start, in.End, r})
		}
	}
	for _, c := range cal.Children {
		switch c.Name {
		case "VFREEBUSY":
			for _, p := range c.Props["FREEBUSY"] {
				r := refFBType(p.Params.Get("FBTYPE"))
				if r == 0 {
					continue
				}
				ps, err := recur.PropPeriods(&p, cal, ropts)
				if err != nil {
					return o, err
				}
				for _, pe := range ps {
					o.busy = append(o.busy, refSpan{pe.Start, pe.End, r})
				}
			}
		case "VAVAILABILITY":
			a := refAvail{rank: refRank["BUSY-UNAVAILABLE"]}
			if p := c.Props.Get("BUSYTYPE"); p != nil {
				a.rank = refFBType(p.Value)
			}
			// PRIORITY read leniently, as Compute does: its leading
			// digits ("1A" is 1); none, or out of 0-9, is undefined.
			prio := 0
			if p := c.Props.Get("PRIORITY"); p != nil {
				v := strings.TrimSpace(p.Value)
				i := 0
				for i < len(v) && (v[i] >= '0' && v[i] <= '9' || i == 0 && (v[i] == '+' || v[i] == '-')) {
					i++
				}
				prio, _ = strconv.Atoi(v[:i])
			}
			a.order = 0
			if prio >= 1 && prio <= 9 {
				a.order = 10 - prio
			}
			one := func(name string) (time.Time, error) {
				ps, err := recur.PropPeriods(c.Props.Get(name), cal, ropts)
				if err != nil {
					return time.Time{}, err
				}
				return ps[0].Start, nil
			}
			// RFC 7953 §3.1: no DTSTART leaves the start open, no DTEND
			// (and no DURATION, which needs DTSTART) the end.
			if c.Props.Get("DTSTART") != nil {
				if a.start, err = one("DTSTART"); err != nil {
					return o, err
				}
			}
			if c.Props.Get("DTEND") != nil {
				if a.end, err = one("DTEND"); err != nil {
					return o, err
				}
			} else if p := c.Props.Get("DURATION"); p != nil && !a.start.IsZero() {
				d, err := recur.ParseDuration(p.Value)
				if err != nil {
					return o, err
				}
				a.end = a.start.Add(d)
			}
			ains, err := recur.Expand(recur.AvailableSet(cal, c), ws.Add(-refPad), we.Add(refPad), ropts)
			if err != nil {
				return o, err
			}
			for _, in := range ains {
				a.available = append(a.available, refSpan{in.Start, in.End, 0})
			}
			o.avails = append(o.avails, a)
		}
	}
	return o, nil
}

// refMinutes decides each minute of [ws, we) for the objects together.
func refMinutes(ws, we time.Time, objs []refObject) []int {
	n := int(we.Sub(ws) / time.Minute)
	// minute index range [i, j) of [s, e), clipped to the window
	idx := func(s, e time.Time) (int, int) {
		i, j := int(s.Sub(ws)/time.Minute), int(e.Sub(ws)/time.Minute)
		if s.Before(ws) {
			i = 0
		}
		if e.After(we) {
			j = n
		}
		return max(i, 0), min(j, n)
	}
	avail := make([]int, n)
	var all []refAvail
	for _, o := range objs {
		all = append(all, o.avails...)
	}
	for order := 0; order <= 9; order++ {
		var group []refAvail
		for _, a := range all {
			if a.order == order {
				group = append(group, a)
			}
		}
		inRange := func(a refAvail, m int) bool {
			t := ws.Add(time.Duration(m) * time.Minute)
			return (a.start.IsZero() || !t.Before(a.start)) && (a.end.IsZero() || t.Before(a.end))
		}
		for _, a := range group {
			for m := 0; m < n; m++ {
				if inRange(a, m) {
					avail[m] = a.rank
				}
			}
		}
		for _, a := range group {
			for _, s := range a.available {
				i, j := idx(s.start, s.end)
				for m := i; m < j; m++ {
					if inRange(a, m) {
						avail[m] = 0
					}
				}
			}
		}
	}
	out := avail
	for _, o := range objs {
		for _, s := range o.busy {
			i, j := idx(s.start, s.end)
			for m := i; m < j; m++ {
				out[m] = max(out[m], s.rank)
			}
		}
	}
	return out
}

// refPeriods compresses minutes into periods.
func refPeriods(ws time.Time, mins []int) []Period {
	var out []Period
	for m := 0; m < len(mins); {
		k := m
		for k < len(mins) && mins[k] == mins[m] {
			k++
		}
		if mins[m] != 0 {
			out = append(out, Period{
				Start: ws.Add(time.Duration(m) * time.Minute).UTC(),
				End:   ws.Add(time.Duration(k) * time.Minute).UTC(),
				Type:  ParseFBType(refTypeName(mins[m])),
			})
		}
		m = k
	}
	return out
}

// ---- random objects ----

type gen struct {
	r    *rand.Rand
	base time.Time // UTC midnight the objects cluster around
	n    int       // UID counter
}

var (
	zoneBerlin, _  = time.LoadLocation("Europe/Berlin")
	zoneNewYork, _ = time.LoadLocation("America/New_York")
)

// A dtForm is how a DATE-TIME is written.
type dtForm struct {
	tzid string         // "" with utc false: floating
	loc  *time.Location // the zone the wall time is in
	utc  bool
	date bool
}

func (g *gen) form() dtForm {
	switch g.r.Intn(10) {
	case 0, 1, 2:
		return dtForm{utc: true, loc: time.UTC}
	case 3, 4:
		return dtForm{tzid: "Europe/Berlin", loc: zoneBerlin}
	case 5:
		return dtForm{tzid: "W. Europe Standard Time", loc: zoneBerlin}
	case 6, 7:
		return dtForm{tzid: "America/New_York", loc: zoneNewYork}
	case 8:
		return dtForm{} // floating
	default:
		return dtForm{date: true}
	}
}

// prop writes wall time w (its clock fields) in form f.
func (f dtForm) prop(name string, w time.Time) string {
	switch {
	case f.date:
		return name + ";VALUE=DATE:" + w.Format("20060102")
	case f.utc:
		return name + ":" + w.Format("20060102T150405") + "Z"
	case f.tzid != "":
		return name + ";TZID=" + f.tzid + ":" + w.Format("20060102T150405")
	default:
		return name + ":" + w.Format("20060102T150405")
	}
}

func (f dtForm) value(w time.Time) string {
	switch {
	case f.date:
		return w.Format("20060102")
	case f.utc:
		return w.Format("20060102T150405") + "Z"
	default:
		return w.Format("20060102T150405")
	}
}

// wall returns a random wall time (in UTC fields) within days of base,
// on 5-minute steps, or at 02:30 now and then (a DST gap or fold).
func (g *gen) wall(days int) time.Time {
	d := g.base.AddDate(0, 0, g.r.Intn(2*days+1)-days)
	if g.r.Intn(8) == 0 {
		return d.Add(150 * time.Minute)
	}
	return d.Add(time.Duration(g.r.Intn(288)) * 5 * time.Minute)
}

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

// instanceProps returns the free-busy relevant properties of one instance.
func (g *gen) instanceProps() []string {
	var out []string
	if g.r.Intn(5) == 0 {
		out = append(out, "TRANSP:"+g.pick("TRANSPARENT", "OPAQUE", "transparent"))
	}
	if g.r.Intn(4) == 0 {
		out = append(out, "STATUS:"+g.pick("CANCELLED", "TENTATIVE", "CONFIRMED", "tentative"))
	}
	if g.r.Intn(3) == 0 {
		out = append(out, "ORGANIZER:mailto:carol@example.com")
		for _, who := range []string{"mailto:alice@example.com", "MAILTO:Bob@example.com"} {
			if g.r.Intn(2) == 0 {
				out = append(out, "ATTENDEE;PARTSTAT="+g.pick("ACCEPTED", "DECLINED", "TENTATIVE", "NEEDS-ACTION", "declined")+":"+who)
			}
		}
	}
	return out
}

func (g *gen) end(f dtForm, start time.Time) []string {
	switch g.r.Intn(6) {
	case 0:
		return nil
	case 1:
		return []string{"DURATION:" + g.pick("PT0S", "PT15M", "PT1H", "P1D", "PT90M", "P1DT2H")}
	default:
		if f.date {
			return []string{f.prop("DTEND", start.AddDate(0, 0, 1+g.r.Intn(3)))}
		}
		return []string{f.prop("DTEND", start.Add(time.Duration(g.r.Intn(60))*5*time.Minute))}
	}
}

// event returns the VEVENT components of one random event (master and overrides).
func (g *gen) event() []string {
	g.n++
	uid := fmt.Sprintf("ev%d@calbolt", g.n)
	f := g.form()
	start := g.wall(4)
	if f.date {
		start = start.Truncate(24 * time.Hour)
	}
	lines := []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z", f.prop("DTSTART", start)}
	lines = append(lines, g.end(f, start)...)
	lines = append(lines, g.instanceProps()...)
	step := 0 // days between rule occurrences, 0 if not simple
	recurring := false
	if g.r.Intn(2) == 0 {
		recurring = true
		freq := g.pick("DAILY", "DAILY", "WEEKLY", "MONTHLY")
		interval := 1 + g.r.Intn(2)
		rule := "RRULE:FREQ=" + freq + ";INTERVAL=" + strconv.Itoa(interval)
		switch freq {
		case "DAILY":
			step = interval
		case "WEEKLY":
			step = 7 * interval
		}
		switch g.r.Intn(3) {
		case 0:
			rule += ";COUNT=" + strconv.Itoa(1+g.r.Intn(8))
		case 1:
			until := start.AddDate(0, 0, g.r.Intn(10))
			if f.date {
				rule += ";UNTIL=" + until.Format("20060102")
			} else {
				rule += ";UNTIL=" + until.Format("20060102T150405") + "Z"
			}
		}
		lines = append(lines, rule)
	}
	if g.r.Intn(3) == 0 {
		recurring = true
		var vals []string
		for range 1 + g.r.Intn(3) {
			w := g.wall(4)
			if f.date {
				w = w.Truncate(24 * time.Hour)
			} else if g.r.Intn(3) == 0 {
				// a PERIOD value, in UTC
				vals = nil
				lines = append(lines, "RDATE;VALUE=PERIOD:"+w.Format("20060102T150405")+"Z/PT"+strconv.Itoa(5*(1+g.r.Intn(30)))+"M")
				continue
			}
			vals = append(vals, f.value(w))
		}
		if len(vals) > 0 {
			p := f.prop("RDATE", time.Time{})
			p = p[:strings.LastIndex(p, ":")+1]
			lines = append(lines, p+strings.Join(vals, ","))
		}
	}
	var ridTimes []time.Time
	if step > 0 {
		for k := 1; k < 6; k++ {
			ridTimes = append(ridTimes, start.AddDate(0, 0, k*step))
		}
	}
	if len(ridTimes) > 0 && g.r.Intn(3) == 0 {
		var vals []string
		for range 1 + g.r.Intn(2) {
			vals = append(vals, f.value(ridTimes[g.r.Intn(len(ridTimes))]))
		}
		p := f.prop("EXDATE", time.Time{})
		p = p[:strings.LastIndex(p, ":")+1]
		lines = append(lines, p+strings.Join(vals, ","))
	}
	lines = append(lines, "END:VEVENT")
	if !recurring || len(ridTimes) == 0 {
		return lines
	}
	for range g.r.Intn(3) {
		rid := ridTimes[g.r.Intn(len(ridTimes))]
		ov := []string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z"}
		ridProp := f.prop("RECURRENCE-ID", rid)
		if g.r.Intn(5) == 0 {
			ridProp = strings.Replace(ridProp, "RECURRENCE-ID", "RECURRENCE-ID;RANGE=THISANDFUTURE", 1)
		}
		nstart := rid
		if g.r.Intn(2) == 0 {
			if f.date {
				nstart = rid.AddDate(0, 0, g.r.Intn(3)-1)
			} else {
				nstart = rid.Add(time.Duration(g.r.Intn(49)-24) * 15 * time.Minute)
			}
		}
		ov = append(ov, ridProp, f.prop("DTSTART", nstart))
		ov = append(ov, g.end(f, nstart)...)
		ov = append(ov, g.instanceProps()...)
		ov = append(ov, "END:VEVENT")
		lines = append(lines, ov...)
	}
	return lines
}

func (g *gen) utc(w time.Time) string { return w.Format("20060102T150405") + "Z" }

func (g *gen) freebusy() []string {
	g.n++
	lines := []string{"BEGIN:VFREEBUSY", fmt.Sprintf("UID:fb%d@calbolt", g.n), "DTSTAMP:20260101T000000Z"}
	for range 1 + g.r.Intn(4) {
		p := "FREEBUSY"
		if g.r.Intn(3) > 0 {
			p += ";FBTYPE=" + g.pick("BUSY", "FREE", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE", "X-OUT-OF-OFFICE")
		}
		var vals []string
		for range 1 + g.r.Intn(2) {
			s := g.wall(4)
			if g.r.Intn(2) == 0 {
				vals = append(vals, g.utc(s)+"/PT"+strconv.Itoa(5*(1+g.r.Intn(60)))+"M")
			} else {
				vals = append(vals, g.utc(s)+"/"+g.utc(s.Add(time.Duration(1+g.r.Intn(60))*5*time.Minute)))
			}
		}
		lines = append(lines, p+":"+strings.Join(vals, ","))
	}
	return append(lines, "END:VFREEBUSY")
}

func (g *gen) availability() []string {
	g.n++
	lines := []string{"BEGIN:VAVAILABILITY", fmt.Sprintf("UID:av%d@calbolt", g.n), "DTSTAMP:20260101T000000Z"}
	if g.r.Intn(3) > 0 {
		lines = append(lines, "PRIORITY:"+strconv.Itoa(g.r.Intn(10)))
	}
	if g.r.Intn(3) == 0 {
		lines = append(lines, "BUSYTYPE:"+g.pick("BUSY", "BUSY-UNAVAILABLE", "BUSY-TENTATIVE", "X-AWAY"))
	}
	switch g.r.Intn(4) {
	case 0:
		lines = append(lines, "DTEND:"+g.utc(g.wall(3)))
	case 1, 2:
		s := g.wall(3)
		lines = append(lines, "DTSTART:"+g.utc(s))
		switch g.r.Intn(3) {
		case 0:
			lines = append(lines, "DTEND:"+g.utc(s.Add(time.Duration(1+g.r.Intn(96))*30*time.Minute)))
		case 1:
			lines = append(lines, "DURATION:PT"+strconv.Itoa(1+g.r.Intn(48))+"H")
		}
	}
	for range g.r.Intn(3) {
		g.n++
		f := g.form()
		for f.date {
			f = g.form()
		}
		s := g.wall(5)
		a := []string{"BEGIN:AVAILABLE", fmt.Sprintf("UID:a%d@calbolt", g.n), "DTSTAMP:20260101T000000Z", f.prop("DTSTART", s),
			f.prop("DTEND", s.Add(time.Duration(1+g.r.Intn(24))*30*time.Minute))}
		switch g.r.Intn(3) {
		case 0:
			a = append(a, "RRULE:FREQ=DAILY")
		case 1:
			a = append(a, "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")
		}
		lines = append(lines, append(a, "END:AVAILABLE")...)
	}
	return append(lines, "END:VAVAILABILITY")
}

// object returns one random calendar object.
func (g *gen) object() string {
	var body []string
	switch k := g.r.Intn(20); {
	case k < 14:
		body = g.event()
	case k < 16:
		body = g.freebusy()
	case k < 19:
		body = g.availability()
	default:
		body = []string{"BEGIN:VTODO", "UID:todo", "DTSTAMP:20260101T000000Z", "DTSTART:" + g.utc(g.wall(2)), "DURATION:PT1H", "END:VTODO"}
	}
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//random//EN\r\n" + strings.Join(body, "\r\n") + "\r\nEND:VCALENDAR\r\n"
}

// checkMerged asserts what Merge promises of any result.
func checkMerged(t testing.TB, ps []Period, start, end time.Time) {
	t.Helper()
	for i, p := range ps {
		if !p.End.After(p.Start) || p.Start.Before(start) || p.End.After(end) || p.Type == FBTypeFree {
			t.Fatalf("Merge period %d = %v, want a non-empty busy period within [%v, %v)", i, p, start, end)
		}
		if p.Start.Location() != time.UTC || p.End.Location() != time.UTC {
			t.Fatalf("Merge period %d = %v, want UTC", i, p)
		}
		if i > 0 {
			q := ps[i-1]
			if p.Start.Before(q.End) || (p.Start.Equal(q.End) && p.Type == q.Type) {
				t.Fatalf("Merge periods %d, %d = %v, %v: want sorted, disjoint and coalesced", i-1, i, q, p)
			}
		}
	}
}

var bases = []time.Time{
	time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC),  // Europe/Berlin springs forward on the 29th
	time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC), // Europe/Berlin falls back on the 25th
	time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC),   // America/New_York springs forward on the 8th
	time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),  // America/New_York falls back on the 1st
	time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC),
}

func TestComputeMatchesReference(t *testing.T) {
	iterations := 500
	if testing.Short() {
		iterations = 100
	}
	r := rand.New(rand.NewSource(20260301))
	for it := range iterations {
		g := &gen{r: r, base: bases[r.Intn(len(bases))]}
		var texts []string
		for range 1 + r.Intn(4) {
			texts = append(texts, g.object())
		}
		opts := &Options{}
		switch r.Intn(3) {
		case 1:
			opts.Floating = zoneBerlin
		case 2:
			opts.Floating = zoneNewYork
		}
		if r.Intn(2) == 0 {
			opts.Addresses = []string{"mailto:alice@example.com", "mailto:bob@example.com"}
		}
		ws := g.base.Add(time.Duration(r.Intn(4*24*12)-2*24*12) * 5 * time.Minute)
		we := ws.Add(time.Duration(1+r.Intn(6*24*4)) * 15 * time.Minute)
		compareWithReference(t, fmt.Sprintf("iteration %d", it), texts, ws, we, opts)
	}
}

// compareWithReference computes texts' free-busy both ways; it reports
// false when the input is outside what the reference handles.
func compareWithReference(t testing.TB, name string, texts []string, ws, we time.Time, opts *Options) bool {
	t.Helper()
	var busies []Busy
	var objs []refObject
	for _, text := range texts {
		cal := decodeAll(t, text)[0]
		b, err := Compute(cal, ws, we, opts)
		if err != nil {
			t.Fatalf("%s: Compute error %v for\n%s", name, err, text)
		}
		busies = append(busies, b)
		o, err := refRead(cal, ws, we, opts)
		if err != nil {
			t.Fatalf("%s: reference error %v for\n%s", name, err, text)
		}
		objs = append(objs, o)
	}
	got := Merge(ws, we, busies...)
	checkMerged(t, got, ws, we)
	want := refPeriods(ws, refMinutes(ws, we, objs))
	if g, w := formatPeriods(got), formatPeriods(want); g != w {
		t.Fatalf("%s: Merge(%s, %s, Compute(objects)...) =\n%swant (reference)\n%sobjects:\n%s", name,
			ws.Format(utcFormat), we.Format(utcFormat), g, w, strings.Join(texts, "\n"))
	}
	return true
}

// refFreeSlots is FreeSlots minute by minute: a minute is free when it is
// working time (its wall clock in wh.Loc is within [From, To) on a day in
// Days) and no busy period covers it; free runs shorter than minLen drop.
func refFreeSlots(busy []Period, ws, we time.Time, minLen time.Duration, wh *WorkHours) []Period {
	n := int(we.Sub(ws) / time.Minute)
	free := make([]bool, n)
	for m := range n {
		t := ws.Add(time.Duration(m) * time.Minute)
		ok := true
		if wh != nil {
			loc := wh.Loc
			if loc == nil {
				loc = time.UTC
			}
			l := t.In(loc)
			clock := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute
			ok = wh.Days[l.Weekday()] && clock >= wh.From && clock < wh.To
		}
		for _, p := range busy {
			if p.Type != FBTypeFree && !t.Before(p.Start) && t.Before(p.End) {
				ok = false
			}
		}
		free[m] = ok
	}
	var out []Period
	for m := 0; m < n; {
		k := m
		for k < n && free[k] == free[m] {
			k++
		}
		if free[m] && time.Duration(k-m)*time.Minute >= minLen {
			out = append(out, Period{Start: ws.Add(time.Duration(m) * time.Minute).UTC(), End: ws.Add(time.Duration(k) * time.Minute).UTC(), Type: FBTypeFree})
		}
		m = k
	}
	return out
}

func TestFreeSlotsMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(20261025))
	days := []time.Time{
		time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC),  // Europe/Berlin springs forward
		time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), // Europe/Berlin falls back
		time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),   // America/New_York springs forward
		time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC),
	}
	for it := range 300 {
		base := days[r.Intn(len(days))]
		ws := base.Add(time.Duration(r.Intn(48*4)-24*4) * 15 * time.Minute)
		we := ws.Add(time.Duration(1+r.Intn(4*24*4)) * 15 * time.Minute)
		var busy []Period
		for range r.Intn(8) {
			s := base.Add(time.Duration(r.Intn(6*24*12)-3*24*12) * 5 * time.Minute)
			busy = append(busy, Period{Start: s, End: s.Add(time.Duration(1+r.Intn(48)) * 5 * time.Minute), Type: FBType(r.Intn(4))})
		}
		var wh *WorkHours
		if r.Intn(4) > 0 {
			wh = &WorkHours{Loc: []*time.Location{zoneBerlin, zoneNewYork, nil}[r.Intn(3)]}
			for d := range wh.Days {
				wh.Days[d] = r.Intn(4) > 0
			}
			switch r.Intn(4) {
			case 0:
				wh.From, wh.To = 9*time.Hour, 17*time.Hour
			case 1:
				wh.From, wh.To = 0, 24*time.Hour
			default:
				// Bounds outside 01:00-03:00, where a wall time can be
				// skipped or repeated on a DST day (see the report on
				// FreeSlots' wall clock in the package notes).
				var q []time.Duration
				for m := 0; m <= 24*4; m++ {
					if d := time.Duration(m) * 15 * time.Minute; d < time.Hour || d > 3*time.Hour {
						q = append(q, d)
					}
				}
				i := r.Intn(len(q) - 1)
				wh.From, wh.To = q[i], q[i+1+r.Intn(len(q)-i-1)]
			}
		}
		minLen := time.Duration(r.Intn(5)) * 30 * time.Minute
		got, err := FreeSlots(busy, ws, we, minLen, wh)
		if err != nil {
			t.Fatalf("iteration %d: FreeSlots error %v", it, err)
		}
		want := refFreeSlots(busy, ws, we, minLen, wh)
		if g, w := formatPeriods(got), formatPeriods(want); g != w {
			t.Fatalf("iteration %d: FreeSlots(%v, %s, %s, %v, %+v) =\n%swant (reference)\n%s", it, busy,
				ws.Format(utcFormat), we.Format(utcFormat), minLen, wh, g, w)
		}
	}
}
