package ics

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/emersion/go-ical"
)

// The index pass reads every input once, front to back, and remembers
// where each top-level component is — not its bytes. The import pass then
// reads each resource's components back with ReadAt, so memory grows with
// the number of components (one compRef each), not with the file's size.

// compRef locates one top-level component of a VCALENDAR in an input.
type compRef struct {
	input  int    // index into the inputs
	off    int64  // offset of its BEGIN line
	size   int64  // bytes up to and including its END line
	line   int    // line number of its BEGIN line
	name   string // component name, e.g. VEVENT
	vcal   int    // index into index.vcals of its VCALENDAR
	rid    bool   // has a RECURRENCE-ID
	genUID bool   // had no UID: uid is a content hash to insert
	broken string // why the component cannot be imported, or ""
}

// group is one future resource: the components sharing a UID, in file
// order.
type group struct {
	uid   string
	comps []compRef
}

// vcalInfo holds the calendar properties of one VCALENDAR that the import
// uses: the resource header keeps PRODID and CALSCALE (RFC 5545 §3.7); the
// name and time zone may create the calendar.
type vcalInfo struct {
	prodID, calScale string
}

// index is the result of the index pass.
type index struct {
	groups    []*group
	byUID     map[string]int
	zones     map[string]compRef // VTIMEZONE by trimmed TZID; the first definition wins
	vcals     []vcalInfo
	calName   string // first X-WR-CALNAME
	calZone   string // first X-WR-TIMEZONE
	comps     map[string]int
	problems  []Rejection // structure errors outside any resource
	repairs   map[string]int
	noVCal    bool // no VCALENDAR at all
	bytesRead int64
}

func newIndex() *index {
	return &index{byUID: map[string]int{}, zones: map[string]compRef{}, comps: map[string]int{}, repairs: map[string]int{}}
}

func (ix *index) add(uid string, c compRef) {
	i, ok := ix.byUID[uid]
	if !ok {
		i = len(ix.groups)
		ix.byUID[uid] = i
		ix.groups = append(ix.groups, &group{uid: uid})
	}
	ix.groups[i].comps = append(ix.groups[i].comps, c)
}

// scan runs the index pass over one input. progress, when not nil, gets
// the bytes read so far.
func (ix *index) scan(input int, file string, r io.Reader, progress func(int64)) error {
	lr := newLineReader(r, false)
	var (
		inCal   bool
		stack   []string // open components inside the current top-level one
		cur     compRef
		uid     string
		sum     hash.Hash
		garbage = 0 // first line of a run of lines outside any VCALENDAR
		sawCal  bool
	)
	// finish ends the current top-level component at offset end.
	finish := func(end int64) {
		cur.size = end - cur.off
		if cur.name == ical.CompTimezone {
			if uid != "" && cur.broken == "" {
				if _, dup := ix.zones[uid]; !dup {
					ix.zones[uid] = cur
				}
			}
		} else {
			if uid == "" {
				if cur.broken == "" {
					uid = "calbolt-import-" + hex.EncodeToString(sum.Sum(nil)[:16])
					cur.genUID = true
				} else {
					// Broken and without a UID: a resource of its own.
					uid = fmt.Sprintf("\x00broken %d:%d", input, cur.line)
				}
			}
			ix.comps[cur.name]++
			ix.add(uid, cur)
		}
		stack = stack[:0]
	}
	flushGarbage := func() {
		if garbage > 0 {
			ix.problems = append(ix.problems, Rejection{File: file, Line: garbage,
				Kind: KindSyntax, Reason: "content outside BEGIN:VCALENDAR … END:VCALENDAR"})
			garbage = 0
		}
	}
	for {
		cl, err := lr.next()
		if progress != nil && lr.line%4096 == 0 {
			progress(lr.off)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("ics: reading %s: %w", file, err)
		}
		name := cl.name()
		if !inCal {
			if name == "BEGIN" && strings.EqualFold(strings.TrimSpace(cl.value()), ical.CompCalendar) {
				flushGarbage()
				inCal, sawCal = true, true
				ix.vcals = append(ix.vcals, vcalInfo{})
				continue
			}
			if garbage == 0 {
				garbage = cl.line
			}
			continue
		}
		vc := &ix.vcals[len(ix.vcals)-1]
		if len(stack) == 0 {
			// Calendar level.
			switch name {
			case "BEGIN":
				comp := strings.ToUpper(strings.TrimSpace(cl.value()))
				if comp == ical.CompCalendar {
					// A VCALENDAR inside a VCALENDAR: the previous one lacked
					// its END.
					ix.repairs[RepairMissingEnd]++
					ix.vcals = append(ix.vcals, vcalInfo{})
					continue
				}
				cur = compRef{input: input, off: cl.start, line: cl.line, name: comp, vcal: len(ix.vcals) - 1}
				uid = ""
				if sum == nil {
					sum = sha256.New()
				}
				sum.Reset()
				stack = append(stack, comp)
			case "END":
				if strings.EqualFold(strings.TrimSpace(cl.value()), ical.CompCalendar) {
					inCal = false
				} else {
					ix.problems = append(ix.problems, Rejection{File: file, Line: cl.line, Kind: KindSyntax,
						Reason: fmt.Sprintf("END:%s without its BEGIN", strings.TrimSpace(cl.value()))})
				}
			case ical.PropProductID:
				vc.prodID = cl.value()
			case ical.PropCalendarScale:
				vc.calScale = cl.value()
			case "X-WR-CALNAME":
				if ix.calName == "" {
					ix.calName = unescapeText(cl.value())
				}
			case "X-WR-TIMEZONE":
				if ix.calZone == "" {
					ix.calZone = strings.TrimSpace(cl.value())
				}
			case ical.PropMethod:
				// RFC 4791 §4.1: a calendar object resource has no METHOD;
				// the resources are written without it.
				ix.repairs[RepairMethod]++
			}
			continue
		}
		// Inside a top-level component.
		depth := len(stack)
		switch name {
		case "BEGIN":
			stack = append(stack, strings.ToUpper(strings.TrimSpace(cl.value())))
		case "END":
			v := strings.ToUpper(strings.TrimSpace(cl.value()))
			switch {
			case v == stack[depth-1]:
				stack = stack[:depth-1]
			case v == ical.CompCalendar:
				if cur.broken == "" {
					cur.broken = fmt.Sprintf("BEGIN:%s at line %d has no END:%s", stack[depth-1], cur.line, stack[depth-1])
				}
				finish(cl.start)
				inCal = false
				continue
			default:
				if cur.broken == "" {
					cur.broken = fmt.Sprintf("END:%s at line %d where END:%s belongs", v, cl.line, stack[depth-1])
				}
				// Resynchronise on the component it closes, if open.
				for i := depth - 1; i >= 0; i-- {
					if stack[i] == v {
						stack = stack[:i]
						break
					}
				}
			}
			if len(stack) == 0 {
				finish(lr.off)
			}
			continue
		}
		if depth != 1 {
			sum.Write(cl.text)
			sum.Write([]byte{'\n'})
			continue
		}
		switch name {
		case ical.PropUID:
			if cl.long {
				cur.broken = "UID longer than 1024 bytes"
			} else if v := cl.value(); uid == "" && strings.TrimSpace(v) != "" {
				uid = v
			}
		case ical.PropTimezoneID:
			if cur.name == ical.CompTimezone && !cl.long {
				uid = strings.TrimSpace(cl.value())
			}
		case ical.PropRecurrenceID:
			cur.rid = true
		case ical.PropDateTimeStamp:
			// Exporters stamp every component with the time of the export:
			// leave it out of the content hash so a UID made from it is
			// the same in the next export.
			continue
		}
		sum.Write(cl.text)
		sum.Write([]byte{'\n'})
	}
	flushGarbage()
	if len(stack) > 0 {
		if cur.broken == "" {
			cur.broken = fmt.Sprintf("BEGIN:%s at line %d has no END:%s (the file ends first)", stack[0], cur.line, stack[0])
		}
		finish(lr.off)
		inCal = false
	}
	if inCal {
		ix.repairs[RepairMissingEnd]++
	}
	if !sawCal && lr.line > 0 {
		ix.noVCal = true
	}
	if lr.empty > 0 {
		ix.repairs[RepairEmptyLines] += lr.empty
	}
	ix.bytesRead += lr.off
	if progress != nil {
		progress(lr.off)
	}
	return nil
}

// unescapeText undoes RFC 5545 §3.3.11 TEXT escaping.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
