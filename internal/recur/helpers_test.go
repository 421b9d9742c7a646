package recur

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// parse decodes an iCalendar text written with "\n" line ends; a body
// without BEGIN:VCALENDAR is wrapped in one.
func parse(t testing.TB, s string) *ical.Calendar {
	t.Helper()
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "BEGIN:VCALENDAR") {
		s = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//calbolt//test//EN\n" + s + "\nEND:VCALENDAR"
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n") + "\r\n"
	cal, err := ical.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, s)
	}
	return cal
}

func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// spans renders instances as "start/end" in UTC basic format.
func spans(ins []Instance) []string {
	out := make([]string, len(ins))
	for i, in := range ins {
		out[i] = in.Start.UTC().Format("20060102T150405Z") + "/" + in.End.UTC().Format("20060102T150405Z")
	}
	return out
}
