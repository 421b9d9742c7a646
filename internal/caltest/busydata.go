package caltest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/store"
)

// BusyObjects returns n calendar objects shaped like a busy working
// calendar of 2026, for free-busy benchmarks and load: four in five are
// single events of 30 minutes to 2 hours on working days, one in five
// recurs (weekly with COUNT, daily until a date, or weekly for ever), with
// EXDATEs, a moved and a cancelled instance; some are tentative, some
// transparent, some in Europe/Berlin time. The same seed gives the same
// objects. Each is validated and indexed as a PUT would be.
func BusyObjects(tb testing.TB, seed uint64, prefix string, n int) []store.Object {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xca1b017))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cal := &store.Calendar{}
	objs := make([]store.Object, 0, n)
	for i := range n {
		day := year.AddDate(0, 0, rng.IntN(365))
		for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, 1)
		}
		start := day.Add(time.Duration(7*60+rng.IntN(10*4)*15) * time.Minute)
		dur := time.Duration(30+rng.IntN(4)*30) * time.Minute
		uid := fmt.Sprintf("%s-%d@busy.test", prefix, i)
		var b strings.Builder
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//bench//EN\r\n")
		ev := func(extra ...string) {
			b.WriteString("BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n")
			if i%7 == 3 {
				b.WriteString("DTSTART;TZID=Europe/Berlin:" + start.Format("20060102T150405") + "\r\n")
				b.WriteString("DTEND;TZID=Europe/Berlin:" + start.Add(dur).Format("20060102T150405") + "\r\n")
			} else {
				b.WriteString("DTSTART:" + utc(start) + "\r\nDTEND:" + utc(start.Add(dur)) + "\r\n")
			}
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
			ev()
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
			ex := start.Add(2 * step)
			moved := start.Add(3 * step)
			ridValue := func(t time.Time) string {
				if i%7 == 3 {
					return ";TZID=Europe/Berlin:" + t.Format("20060102T150405")
				}
				return ":" + utc(t)
			}
			ev(rule, "EXDATE"+ridValue(ex))
			// An override moving one instance by an hour, one cancelling
			// another.
			start0 := start
			start = moved.Add(time.Hour)
			ev("RECURRENCE-ID" + ridValue(moved))
			start = start0.Add(4 * step)
			ev("RECURRENCE-ID"+ridValue(start), "STATUS:CANCELLED")
			start = start0
		}
		b.WriteString("END:VCALENDAR\r\n")
		o, err := calobj.Parse([]byte(b.String()), cal, nil)
		if err != nil {
			tb.Fatalf("BusyObjects: object %d: %v\n%s", i, err, b.String())
		}
		objs = append(objs, store.Object{Name: fmt.Sprintf("%s-%d.ics", prefix, i), UID: o.UID,
			Component: o.Component, Span: o.Span, Data: o.Data})
	}
	return objs
}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// Load writes objs into owner's calendar (created if missing) in chunks,
// as an import does.
func Load(tb testing.TB, db *store.DB, owner, calendar string, objs []store.Object) {
	tb.Helper()
	if _, err := db.Calendar(owner, calendar); err != nil {
		if _, err := db.CreateCalendar(owner, store.Calendar{Name: calendar}); err != nil {
			tb.Fatalf("CreateCalendar(%s, %s): %v", owner, calendar, err)
		}
	}
	for i := 0; i < len(objs); i += 1000 {
		if _, err := db.PutObjects(owner, calendar, objs[i:min(i+1000, len(objs))]); err != nil {
			tb.Fatalf("PutObjects(%s, %s): %v", owner, calendar, err)
		}
	}
}
