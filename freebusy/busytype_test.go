package freebusy

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// A BUSYTYPE that is not one (FREE) or not known counts as BUSY; a missing
// one as BUSY-UNAVAILABLE (RFC 7953 §3.2).
func TestBusyType(t *testing.T) {
	for value, want := range map[string]FBType{
		"":                 FBTypeBusyUnavailable,
		"FREE":             FBTypeBusy,
		"X-AWAY":           FBTypeBusy,
		"BUSY-TENTATIVE":   FBTypeBusyTentative,
		"busy-unavailable": FBTypeBusyUnavailable,
	} {
		line := ""
		if value != "" {
			line = "BUSYTYPE:" + value + "\r\n"
		}
		src := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VAVAILABILITY\r\nUID:a\r\nDTSTAMP:20260101T000000Z\r\n" +
			line + "END:VAVAILABILITY\r\nEND:VCALENDAR\r\n"
		cal, err := ical.NewDecoder(strings.NewReader(src)).Decode()
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		b, err := Compute(cal, start, start.Add(time.Hour), nil)
		if err != nil || len(b.Availability) != 1 || b.Availability[0].Type != want {
			t.Errorf("Compute(BUSYTYPE:%s) = %+v, %v, want one availability of type %v", value, b, err, want)
		}
	}
}
