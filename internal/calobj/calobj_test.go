package calobj

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/store"
)

func vcal(body string) []byte {
	return []byte(strings.ReplaceAll("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n"+body+"END:VCALENDAR\n", "\n", "\r\n"))
}

func TestParseKinds(t *testing.T) {
	events := &store.Calendar{Name: "c", Components: []string{"VEVENT"}}
	tests := []struct {
		name string
		body []byte
		want Kind
	}{
		{"not iCalendar", []byte("hello"), KindCalendarData},
		{"bad UTF-8", vcal("BEGIN:VEVENT\nUID:a\nSUMMARY:\xff\nDTSTART:20260101T100000Z\nEND:VEVENT\n"), KindCalendarData},
		{"METHOD", vcal("METHOD:REQUEST\nBEGIN:VEVENT\nUID:a\nDTSTART:20260101T100000Z\nEND:VEVENT\n"), KindObjectResource},
		{"two UIDs", vcal("BEGIN:VEVENT\nUID:a\nDTSTART:20260101T100000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nDTSTART:20260101T100000Z\nEND:VEVENT\n"), KindObjectResource},
		{"no UID", vcal("BEGIN:VEVENT\nDTSTART:20260101T100000Z\nEND:VEVENT\n"), KindObjectResource},
		{"no DTSTART", vcal("BEGIN:VEVENT\nUID:a\nEND:VEVENT\n"), KindCalendarData},
		{"VTODO into an event calendar", vcal("BEGIN:VTODO\nUID:a\nEND:VTODO\n"), KindComponent},
		{"too many instances", vcal("BEGIN:VEVENT\nUID:a\nDTSTART:20260101T100000Z\nRRULE:FREQ=MINUTELY;COUNT=100000\nEND:VEVENT\n"), KindMaxInstances},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.body, events, nil)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %v, want an *Error of kind %s", err, tt.want)
			}
			if ce.Kind != tt.want {
				t.Fatalf("Parse kind = %s (%v), want %s", ce.Kind, ce.Msg, tt.want)
			}
		})
	}
}

func TestParseRepairs(t *testing.T) {
	cal := &store.Calendar{Name: "c"}
	body := []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260101T100000Z\r\nLAST-MODIFIED:20250102T030405Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	stamp := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	obj, err := Parse(body, cal, &Options{Stamp: func(*ical.Component) time.Time { return stamp }})
	if err != nil {
		t.Fatal(err)
	}
	if obj.Verbatim {
		t.Fatal("Parse of a repaired object: Verbatim = true")
	}
	if got, want := strings.Join(obj.Repairs, ","), "DTSTAMP,PRODID,VERSION"; got != want {
		t.Fatalf("Repairs = %s, want %s", got, want)
	}
	if !bytes.Contains(obj.Data, []byte("DTSTAMP:20250102T030405Z\r\n")) {
		t.Fatalf("Data lacks the given DTSTAMP:\n%s", obj.Data)
	}
	again, err := Parse(obj.Data, cal, nil)
	if err != nil || !again.Verbatim || again.UID != "a" || again.Component != "VEVENT" {
		t.Fatalf("Parse(repaired) = %+v, %v; want verbatim a/VEVENT", again, err)
	}
	if obj.Span != again.Span || obj.Span.End <= obj.Span.Start {
		t.Fatalf("spans %+v and %+v, want equal and non-empty", obj.Span, again.Span)
	}
}
