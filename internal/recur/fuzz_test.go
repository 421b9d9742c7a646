package recur

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// decodeLoose parses like the server's PUT path: a decoder panic is just
// an unreadable body.
func decodeLoose(s string) (cal *ical.Calendar) {
	defer func() {
		if recover() != nil {
			cal = nil
		}
	}()
	c, err := ical.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		return nil
	}
	return c
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260101T090000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT",
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART;TZID=Europe/Berlin:20260101T090000\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20260301T000000Z\r\nEXDATE;TZID=Europe/Berlin:20260105T090000\r\nEND:VEVENT",
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20260101\r\nRDATE;VALUE=PERIOD:20260105T090000Z/PT2H\r\nEND:VEVENT",
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260101T090000Z\r\nRRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1\r\nEND:VEVENT",
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260101T000000Z\r\nRRULE:FREQ=HOURLY;INTERVAL=2;BYHOUR=1\r\nEND:VEVENT",
		"BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20260101T090000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=-1\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:1\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260130T090000Z\r\nDTSTART:20260131T090000Z\r\nEND:VEVENT",
		"BEGIN:VTODO\r\nUID:1\r\nDUE:20260101T090000Z\r\nRRULE:FREQ=YEARLY;BYWEEKNO=53;BYDAY=-1SU\r\nEND:VTODO",
	} {
		f.Add("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n" + s + "\r\nEND:VCALENDAR\r\n")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "recur", "*.ics"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data string) {
		cal := decodeLoose(data)
		if cal == nil {
			return
		}
		opts := &Options{MaxInstances: 500, Floating: time.UTC}
		_ = Validate(cal, opts)
		_, _, _, _ = Bounds(cal, opts)
		ins, err := Expand(cal, start, end, opts)
		if err != nil {
			return
		}
		if len(ins) > opts.MaxInstances {
			t.Fatalf("Expand returned %d instances, cap %d", len(ins), opts.MaxInstances)
		}
		for i, in := range ins {
			if in.End.Before(in.Start) {
				t.Fatalf("instance %d ends before it starts: %v", i, in)
			}
			if i > 0 && in.Start.Before(ins[i-1].Start) {
				t.Fatalf("instances not sorted at %d", i)
			}
			if !Overlaps(in, start, end) {
				t.Fatalf("instance %d outside the window: %v", i, in)
			}
		}
	})
}

// naive generates the starts of a simple DAILY or WEEKLY rule by walking
// the calendar day by day: the reference Expand is checked against.
type naiveRule struct {
	weekly   bool
	interval int
	byday    []time.Weekday
	count    int
	until    time.Time
	start    time.Time // DTSTART, in its zone
	exdates  []time.Time
}

func (r naiveRule) starts(limit time.Time) []time.Time {
	var out []time.Time
	loc := r.start.Location()
	y, m, d := r.start.Date()
	h, mi, s := r.start.Clock()
	weekStart := func(t time.Time) int64 { // day number of the Monday of t's week
		return dayNumber(t.Year(), t.Month(), t.Day()) - int64((int(t.Weekday())+6)%7)
	}
	day0 := dayNumber(y, m, d)
	for i := 0; ; i++ {
		t := earliest(time.Date(y, m, d+i, h, mi, s, 0, loc))
		if !t.Before(limit) || (r.count > 0 && len(out) >= r.count) || (!r.until.IsZero() && t.After(r.until)) {
			break
		}
		dn := dayNumber(t.Year(), t.Month(), t.Day())
		var ok bool
		if r.weekly {
			days := r.byday
			if len(days) == 0 {
				days = []time.Weekday{r.start.Weekday()}
			}
			ok = (weekStart(t)-weekStart(r.start))/7%int64(r.interval) == 0 && slices.Contains(days, t.Weekday())
		} else {
			ok = (dn-day0)%int64(r.interval) == 0 && (len(r.byday) == 0 || slices.Contains(r.byday, t.Weekday()))
		}
		if i == 0 {
			ok = true // DTSTART is always the first instance
		}
		if ok {
			out = append(out, t)
		}
	}
	var kept []time.Time
	for _, t := range out {
		if !slices.ContainsFunc(r.exdates, t.Equal) {
			kept = append(kept, t.UTC())
		}
	}
	return kept
}

func TestExpandAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"}
	dayNames := []string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}
	for n := 0; n < 300; n++ {
		loc := mustLoc(t, zones[rng.Intn(len(zones))])
		start := time.Date(2024+rng.Intn(3), time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), 15*rng.Intn(4), 0, 0, loc)
		r := naiveRule{weekly: rng.Intn(2) == 0, interval: 1 + rng.Intn(3), start: start}
		var parts []string
		if r.weekly {
			parts = append(parts, "FREQ=WEEKLY")
		} else {
			parts = append(parts, "FREQ=DAILY")
		}
		parts = append(parts, fmt.Sprintf("INTERVAL=%d", r.interval))
		if rng.Intn(2) == 0 {
			var names []string
			for wd := time.Sunday; wd <= time.Saturday; wd++ {
				if rng.Intn(3) == 0 {
					r.byday = append(r.byday, wd)
					names = append(names, dayNames[wd])
				}
			}
			if len(names) > 0 {
				parts = append(parts, "BYDAY="+strings.Join(names, ","))
			} else {
				r.byday = nil
			}
		}
		switch rng.Intn(3) {
		case 0:
			r.count = 1 + rng.Intn(50)
			parts = append(parts, fmt.Sprintf("COUNT=%d", r.count))
		case 1:
			r.until = start.AddDate(0, 0, rng.Intn(400)).UTC().Truncate(time.Hour)
			parts = append(parts, "UNTIL="+r.until.Format("20060102T150405Z"))
		}
		all := r.starts(start.AddDate(5, 0, 0))
		var ex []string
		for _, t := range all {
			if rng.Intn(10) == 0 && len(ex) < 5 {
				ex = append(ex, t.Format("20060102T150405Z"))
				r.exdates = append(r.exdates, t)
			}
		}
		ics := fmt.Sprintf("BEGIN:VEVENT\nUID:x\nDTSTART;TZID=%s:%s\nDURATION:PT1H\nRRULE:%s\n", loc, start.Format("20060102T150405"), strings.Join(parts, ";"))
		if len(ex) > 0 {
			ics += "EXDATE:" + strings.Join(ex, ",") + "\n"
		}
		ics += "END:VEVENT"
		ws := start.AddDate(0, 0, rng.Intn(700)-30).UTC().Truncate(time.Hour)
		we := ws.Add(time.Duration(1+rng.Intn(60*24)) * time.Hour)
		var want []string
		for _, s := range r.starts(we.Add(time.Hour)) {
			if s.Before(we) && s.Add(time.Hour).After(ws) {
				want = append(want, s.Format("20060102T150405Z")+"/"+s.Add(time.Hour).Format("20060102T150405Z"))
			}
		}
		ins, err := Expand(parse(t, ics), ws, we, nil)
		if err != nil {
			t.Fatalf("Expand(%s) = %v", ics, err)
		}
		if got := spans(ins); !slices.Equal(got, want) {
			t.Fatalf("window %v–%v of\n%s\nExpand = %q\nnaive  = %q", ws, we, ics, got, want)
		}
	}
}

// TestFastForward checks that restarting a rule near the window (as Expand
// does for rules without COUNT) yields what walking it from DTSTART does.
func TestFastForward(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"}
	freqs := []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY"}
	parts := map[string][]string{
		"YEARLY":   {"BYMONTH=2,8", "BYWEEKNO=1,20,-1;BYDAY=MO", "BYYEARDAY=1,100,-1", "BYDAY=-1SU;BYMONTH=3,10", "BYMONTHDAY=29;BYMONTH=2", "BYDAY=20MO"},
		"MONTHLY":  {"BYDAY=2TU", "BYMONTHDAY=-1", "BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "BYMONTHDAY=31", "BYDAY=FR;BYMONTHDAY=13"},
		"WEEKLY":   {"BYDAY=MO,TH", "BYDAY=SU;WKST=SU", "BYDAY=SA,SU;WKST=TU", "BYHOUR=8,17"},
		"DAILY":    {"BYDAY=MO,FR", "BYMONTH=1,7", "BYHOUR=9,21;BYMINUTE=0,30", "BYMONTHDAY=1,15"},
		"HOURLY":   {"BYHOUR=1,2,3", "BYDAY=SA", "BYMINUTE=0,30"},
		"MINUTELY": {"BYHOUR=2", "BYMINUTE=0,15,30,45"},
	}
	for n := 0; n < 500; n++ {
		loc := mustLoc(t, zones[rng.Intn(len(zones))])
		freq := freqs[rng.Intn(len(freqs))]
		interval := 1 + rng.Intn(4)
		if freq == "MINUTELY" {
			interval = 15 * (1 + rng.Intn(4))
		}
		rule := fmt.Sprintf("FREQ=%s;INTERVAL=%d", freq, interval)
		if rng.Intn(3) > 0 {
			p := parts[freq]
			rule += ";" + p[rng.Intn(len(p))]
		}
		ws := time.Date(2020+rng.Intn(8), time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), 0, 0, 0, time.UTC)
		back := 20 * 365
		if freq == "HOURLY" || freq == "MINUTELY" {
			back = 400
		}
		d := ws.In(loc).AddDate(0, 0, -rng.Intn(back))
		start := time.Date(d.Year(), d.Month(), d.Day(), rng.Intn(24), 15*rng.Intn(4), 0, 0, loc)
		cal := parse(t, fmt.Sprintf("BEGIN:VEVENT\nUID:x\nDTSTART;TZID=%s:%s\nDURATION:PT10M\nRRULE:%s\nEND:VEVENT", loc, start.Format("20060102T150405"), rule))
		if err := Validate(cal, nil); err != nil {
			continue // an impossible combination
		}
		span := 3 * 24 * time.Hour
		if freq == "YEARLY" || freq == "MONTHLY" {
			span = 400 * 24 * time.Hour
		}
		we := ws.Add(span)
		ins, err := Expand(cal, ws, we, nil)
		if err != nil {
			t.Fatalf("Expand(%s from %v) = %v", rule, start, err)
		}
		// The reference: rrule-go from DTSTART, no restart.
		r := newResolver(cal, nil)
		cp, err := r.readComp(cal.Children[0], DefaultMaxInstances)
		if err != nil {
			t.Fatal(err)
		}
		ru := cp.rules[0]
		next, err := ru.iterator(time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{}
		if s := start.UTC(); s.Before(we) && s.Add(10*time.Minute).After(ws) {
			want = append(want, s.Format("20060102T150405Z"))
		}
		for i := 0; i < 3_000_000; i++ {
			w, ok := next()
			if !ok {
				break
			}
			v := r.toAbs(w, cp.start) // the iterator yields wall-clock stand-ins
			if !v.Before(we) && w.After(r.toWall(we.Add(3*time.Hour), cp.start)) {
				break
			}
			if !v.Before(we) || v.Equal(start) {
				continue
			}
			if v.Add(10 * time.Minute).After(ws) {
				want = append(want, v.UTC().Format("20060102T150405Z"))
			}
		}
		slices.Sort(want) // around a DST gap rrule-go's times come out of order
		want = slices.Compact(want)
		got := []string{}
		for _, in := range ins {
			got = append(got, in.Start.Format("20060102T150405Z"))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("RRULE:%s from %v in [%v, %v):\nExpand %q\nwalk   %q", rule, start, ws, we, got, want)
		}
	}
}

// TestProbeDays checks that the day-by-day pre-probe of sub-daily rules
// never refuses a rule the full probe accepts.
func TestProbeDays(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	intervals := []int{1, 2, 5, 7, 11, 15, 45, 90, 97, 1439, 1441, 2880, 9973}
	filters := []string{"", "BYDAY=TU", "BYDAY=WE", "BYMONTH=2;BYMONTHDAY=29", "BYMONTHDAY=31", "BYDAY=SU;BYMONTHDAY=13", "BYYEARDAY=-1", "BYWEEKNO=53;BYDAY=TH"}
	times := map[string][]string{"HOURLY": {"", "BYHOUR=23", "BYHOUR=0,12"}, "MINUTELY": {"", "BYHOUR=23;BYMINUTE=59", "BYMINUTE=0", "BYHOUR=5"}}
	refused := 0
	for n := 0; n < 300; n++ {
		freq := []string{"HOURLY", "MINUTELY"}[rng.Intn(2)]
		rule := fmt.Sprintf("FREQ=%s;COUNT=2;INTERVAL=%d", freq, intervals[rng.Intn(len(intervals))])
		for _, p := range []string{filters[rng.Intn(len(filters))], times[freq][rng.Intn(len(times[freq]))]} {
			if p != "" {
				rule += ";" + p
			}
		}
		start := time.Date(2026, time.Month(1+rng.Intn(12)), 1+rng.Intn(28), rng.Intn(24), rng.Intn(60), 0, 0, time.UTC)
		ru, err := parseRule(rule, timeVal{abs: start, wall: start, loc: time.UTC}, newResolver(nil, nil), DefaultMaxInstances)
		if err == nil {
			continue // accepted: the full probe ran too
		}
		if !strings.Contains(err.Error(), "yields no instance") {
			continue
		}
		// Refused: the full probe alone must agree.
		refused++
		if ru != nil {
			t.Fatal("a rule and an error")
		}
		preProbe = func(rrule.ROption) bool { return true }
		_, err = parseRule(rule, timeVal{abs: start, wall: start, loc: time.UTC}, newResolver(nil, nil), DefaultMaxInstances)
		preProbe = probeDays
		if err == nil {
			t.Errorf("%s from %v refused, but it yields an instance", rule, start)
		}
	}
	if refused < 10 {
		t.Errorf("%d rules refused: the test tests little", refused)
	}
}
