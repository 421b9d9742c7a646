package freebusy

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

var update = flag.Bool("update", false, "rewrite testdata/freebusy/*.golden from the code (review the diff: the goldens are worked out by hand)")

const goldenDir = "../testdata/freebusy"

// Test parameters carried by the first VCALENDAR of a golden case
// (testdata/freebusy/README.md).
const (
	propWindow   = "X-CALBOLT-WINDOW"
	propFloating = "X-CALBOLT-FLOATING"
	propAddress  = "X-CALBOLT-ADDRESS"
)

// decodeAll reads every VCALENDAR of an iCalendar file written with "\n"
// or "\r\n" line ends.
func decodeAll(t testing.TB, text string) []*ical.Calendar {
	t.Helper()
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\n", "\r\n")
	dec := ical.NewDecoder(strings.NewReader(text))
	var cals []*ical.Calendar
	for {
		cal, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		cals = append(cals, cal)
	}
	if len(cals) == 0 {
		t.Fatal("no VCALENDAR")
	}
	return cals
}

// formatPeriods renders periods one a line as "START/END TYPE" in UTC.
func formatPeriods(ps []Period) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Start.UTC().Format(utcFormat) + "/" + p.End.UTC().Format(utcFormat) + " " + p.Type.String() + "\n")
	}
	return b.String()
}

func mustUTC(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(utcFormat, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// goldenParams reads the window and Options of a case.
func goldenParams(t testing.TB, cal *ical.Calendar) (start, end time.Time, opts *Options) {
	t.Helper()
	w := cal.Props.Get(propWindow)
	if w == nil {
		t.Fatalf("no %s in the first VCALENDAR", propWindow)
	}
	s, e, ok := strings.Cut(w.Value, "/")
	if !ok {
		t.Fatalf("%s %q: want START/END", propWindow, w.Value)
	}
	start, end = mustUTC(t, s), mustUTC(t, e)
	opts = &Options{}
	if p := cal.Props.Get(propFloating); p != nil {
		loc, err := time.LoadLocation(p.Value)
		if err != nil {
			t.Fatal(err)
		}
		opts.Floating = loc
	}
	for _, p := range cal.Props.Values(propAddress) {
		opts.Addresses = append(opts.Addresses, p.Value)
	}
	return start, end, opts
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.ics"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases in %s", goldenDir)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".ics")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cals := decodeAll(t, string(b))
			start, end, opts := goldenParams(t, cals[0])
			var busies []Busy
			for i, cal := range cals {
				bz, err := Compute(cal, start, end, opts)
				if err != nil {
					t.Fatalf("Compute(object %d) error: %v", i, err)
				}
				busies = append(busies, bz)
			}
			got := formatPeriods(Merge(start, end, busies...))
			goldenFile := strings.TrimSuffix(file, ".ics") + ".golden"
			if *update {
				if err := os.WriteFile(goldenFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Merge(%s, %s, Compute(%s)...) =\n%swant\n%s", start.Format(utcFormat), end.Format(utcFormat), filepath.Base(file), got, want)
			}
		})
	}
}
