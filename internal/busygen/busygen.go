// Package busygen generates calendar objects shaped like a busy working
// calendar, for the free-busy benchmarks (internal/caltest) and the load
// tool (cmd/calbolt-load), which must measure the same data. It is a
// package of its own because the load tool is not a test and must not
// import the test harness.
package busygen

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Objects returns n calendar objects (each a VCALENDAR) of 2026: four in
// five are single events of 30 minutes to 2 hours on working days, one in
// five recurs (weekly with COUNT, on working days until a date two months
// on, or weekly for ever) with an EXDATE, a moved and a cancelled
// instance; some are tentative, some transparent, one in seven is in
// Europe/Berlin time. UIDs are "<prefix>-<i>@busy.test". The same seed
// gives the same objects.
func Objects(seed uint64, prefix string, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 0xca1b017))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, 0, n)
	for i := range n {
		day := year.AddDate(0, 0, rng.IntN(365))
		for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, 1)
		}
		start := day.Add(time.Duration(7*60+rng.IntN(10*4)*15) * time.Minute)
		dur := time.Duration(30+rng.IntN(4)*30) * time.Minute
		berlin := i%7 == 3
		stamp := func(t time.Time) string {
			if berlin {
				return ";TZID=Europe/Berlin:" + t.Format("20060102T150405")
			}
			return ":" + utc(t)
		}
		uid := fmt.Sprintf("%s-%d@busy.test", prefix, i)
		var b strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//busygen//EN\r\n")
		ev := func(start time.Time, extra ...string) {
			b.WriteString("BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n")
			b.WriteString("DTSTART" + stamp(start) + "\r\nDTEND" + stamp(start.Add(dur)) + "\r\n")
			b.WriteString("SUMMARY:Meeting " + fmt.Sprint(i) + "\r\nLOCATION:Room " + fmt.Sprint(i%40) + "\r\n")
			switch i % 23 {
			case 5:
				b.WriteString("STATUS:TENTATIVE\r\n")
			case 11:
				b.WriteString("TRANSP:TRANSPARENT\r\n")
			}
			for _, e := range extra {
				b.WriteString(e + "\r\n")
			}
			b.WriteString("END:VEVENT\r\n")
		}
		if i%5 != 0 {
			ev(start)
		} else {
			var rule string
			step := 7 * 24 * time.Hour
			switch i % 3 {
			case 0:
				rule = fmt.Sprintf("RRULE:FREQ=WEEKLY;COUNT=%d", 10+rng.IntN(30))
			case 1:
				rule = "RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=" + utc(start.AddDate(0, 2, 0))
				step = 24 * time.Hour
			default:
				rule = "RRULE:FREQ=WEEKLY"
			}
			ev(start, rule, "EXDATE"+stamp(start.Add(2*step)))
			// One instance moved an hour later, another cancelled.
			moved := start.Add(3 * step)
			ev(moved.Add(time.Hour), "RECURRENCE-ID"+stamp(moved))
			cancelled := start.Add(4 * step)
			ev(cancelled, "RECURRENCE-ID"+stamp(cancelled), "STATUS:CANCELLED")
		}
		b.WriteString("END:VCALENDAR\r\n")
		out = append(out, b.String())
	}
	return out
}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
