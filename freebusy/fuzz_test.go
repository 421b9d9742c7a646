package freebusy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// FuzzMerge decodes bytes into periods and availability on a minute grid
// and compares Merge with the reference, minute by minute. Each 4 bytes
// (k, a, b, c) are one item: k%6 in 0-3 a period of that FBType, 4 a new
// VAVAILABILITY, 5 an AVAILABLE span of the last one.
func FuzzMerge(f *testing.F) {
	f.Add([]byte{3, 20, 30, 0, 1, 25, 40, 0})
	f.Add([]byte{4, 9, 0x80, 2, 5, 30, 60, 0, 4, 1, 100, 3, 5, 50, 20, 0, 1, 60, 30, 0})
	f.Add([]byte{4, 0, 0xff, 2, 4, 9, 0x10, 1, 5, 40, 90, 0, 2, 0, 255, 0})
	ws := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const n = 600 // minutes in the window
	we := ws.Add(n * time.Minute)
	at := func(m int) time.Time { return ws.Add(time.Duration(m) * time.Minute) }
	f.Fuzz(func(t *testing.T, data []byte) {
		busies := make([]Busy, 2)
		objs := make([]refObject, 2)
		lastAvail := -1 // index in busies[1].Availability
		for i := 0; i+4 <= len(data) && i < 4*200; i += 4 {
			k, a, b, c := data[i], int(data[i+1]), int(data[i+2]), data[i+3]
			s := at(a*3 - 60)
			e := s.Add(time.Duration(b%150) * time.Minute)
			switch k % 6 {
			case 0, 1, 2, 3:
				p := Period{Start: s, End: e, Type: FBType(k % 6)}
				busies[i/4%2].Periods = append(busies[i/4%2].Periods, p)
				if r := refRank[p.Type.String()]; p.Type != FBTypeFree {
					objs[i/4%2].busy = append(objs[i/4%2].busy, refSpan{s, e, r})
				}
			case 4:
				av := Availability{Priority: a % 10, Type: FBType(c % 4)}
				if b&0x80 == 0 {
					av.Start = at(b%128*6 - 60)
				}
				if c&0x80 == 0 {
					av.End = av.Start.Add(time.Duration(1+int(c)%64) * 15 * time.Minute)
					if av.Start.IsZero() {
						av.End = at(int(c) % 64 * 12)
					}
				}
				busies[1].Availability = append(busies[1].Availability, av)
				lastAvail = len(busies[1].Availability) - 1
			case 5:
				if lastAvail < 0 {
					continue
				}
				// Compute hands Merge available instances clipped to the window.
				if p, ok := clip(s, e, ws, we); ok {
					busies[1].Availability[lastAvail].Available = append(busies[1].Availability[lastAvail].Available, p)
				}
			}
		}
		for _, av := range busies[1].Availability {
			ra := refAvail{start: av.Start, end: av.End, rank: refRank[av.Type.String()]}
			if av.Priority >= 1 && av.Priority <= 9 {
				ra.order = 10 - av.Priority
			}
			for _, p := range av.Available {
				ra.available = append(ra.available, refSpan{p.Start, p.End, 0})
			}
			objs[1].avails = append(objs[1].avails, ra)
		}
		got := Merge(ws, we, busies...)
		checkMerged(t, got, ws, we)
		want := refPeriods(ws, refMinutes(ws, we, objs))
		if g, w := formatPeriods(got), formatPeriods(want); g != w {
			t.Fatalf("Merge(%v) =\n%swant (reference)\n%s", busies, g, w)
		}
	})
}

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

// onMinutes reports whether every instant of o falls on a minute.
func onMinutes(o refObject) bool {
	ok := func(t time.Time) bool { return t.IsZero() || t.Truncate(time.Minute).Equal(t) }
	for _, s := range o.busy {
		if !ok(s.start) || !ok(s.end) {
			return false
		}
	}
	for _, a := range o.avails {
		if !ok(a.start) || !ok(a.end) {
			return false
		}
		for _, s := range a.available {
			if !ok(s.start) || !ok(s.end) {
				return false
			}
		}
	}
	return true
}

// FuzzCompute runs Compute and Merge on any iCalendar text: they must not
// panic, Merge's result must keep its promises, and where the reference
// can read the object (all instants on minutes) the two must agree.
func FuzzCompute(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.ics"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			text := strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n", "\r\n")
			f.Add(text)
		}
	}
	ws := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	we := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
	opts := &Options{MaxInstances: 2000, Floating: zoneBerlin, Addresses: []string{"mailto:alice@example.com"}}
	f.Fuzz(func(t *testing.T, data string) {
		cal := decodeLoose(data)
		if cal == nil {
			return
		}
		b, err := Compute(cal, ws, we, opts)
		if err != nil {
			return
		}
		got := Merge(ws, we, b)
		checkMerged(t, got, ws, we)
		o, err := refRead(cal, ws, we, opts)
		if err != nil || !onMinutes(o) {
			return
		}
		want := refPeriods(ws, refMinutes(ws, we, []refObject{o}))
		if g, w := formatPeriods(got), formatPeriods(want); g != w {
			t.Fatalf("Merge(Compute(input)) =\n%swant (reference)\n%s", g, w)
		}
	})
}
