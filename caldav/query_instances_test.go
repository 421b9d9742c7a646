package caldav_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calbolt/calbolt/internal/caltest"
)

// The fast path of calendar-query (events in a time range, from remembered
// instance spans) answers exactly as the general matcher: the same query
// with a prop-filter every event passes (UID) takes the general path, and
// both must list the same objects, for random ranges, before and after
// edits, in a calendar with a time zone for its floating events.
func TestEventRangeFastPath(t *testing.T) {
	s := caltest.New(t, "alice")
	caltest.Load(t, s.DB, "alice", "personal", caltest.BusyObjects(t, 3, "q", 400))
	cal := "/dav/calendars/alice/personal/"
	for name, body := range map[string]string{
		"allday.ics":   "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:allday\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260310\r\nRRULE:FREQ=MONTHLY;COUNT=12\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"instant.ics":  event("instant", "x", "20260402T120000Z", "20260402T120000Z"),
		"nodtend.ics":  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:nodtend\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260403T120000Z\r\nRRULE:FREQ=DAILY;COUNT=40\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"floating.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:floating\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260630T233000\r\nDTEND:20260701T003000\r\nRRULE:FREQ=WEEKLY;COUNT=20\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"todo.ics":     todo("todo", "not an event"),
	} {
		wantStatus(t, put(t, s, "alice", cal+name, body), http.StatusCreated)
	}
	query := func(start, end time.Time, general bool) []string {
		t.Helper()
		inner := ""
		if general {
			inner = `<c:prop-filter name="UID"/>`
		}
		body := fmt.Sprintf(`<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop>`+
			`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">%s<c:time-range start="%s" end="%s"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
			inner, start.Format("20060102T150405Z"), end.Format("20060102T150405Z"))
		r := s.Do(t, "alice", "REPORT", cal, body, "Depth", "1")
		wantStatus(t, r, http.StatusMultiStatus)
		var hrefs []string
		for _, resp := range caltest.ParseMultistatus(t, r.Body).Responses {
			hrefs = append(hrefs, resp.Href)
		}
		slices.Sort(hrefs)
		return hrefs
	}
	rng := rand.New(rand.NewPCG(4, 5))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	compare := func(stage string, n int) {
		t.Helper()
		for range n {
			start := year.Add(time.Duration(rng.IntN(365*24*4)) * 15 * time.Minute)
			end := start.Add(time.Duration(1+rng.IntN(60*24*4)) * 15 * time.Minute)
			fast, general := query(start, end, false), query(start, end, true)
			if !slices.Equal(fast, general) {
				t.Fatalf("%s: events in [%s, %s): fast path %d objects, general %d\nfast    %v\ngeneral %v", stage, start, end, len(fast), len(general), fast, general)
			}
		}
	}
	compare("warm and cold", 40)
	// Edges of RFC 4791 §9.9: an event without DTEND (zero length)
	// starting at the range start matches; one whose DTEND equals its
	// DTSTART does not (start < DTEND fails), on both paths.
	at := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
	if got := query(at, at.Add(time.Hour), false); !slices.Contains(got, cal+"nodtend.ics") {
		t.Errorf("a zero-length event at the range start is not found: %v", got)
	}
	at = time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)
	if fast, general := query(at, at.Add(time.Hour), false), query(at, at.Add(time.Hour), true); !slices.Equal(fast, general) || slices.Contains(fast, cal+"instant.ics") {
		t.Errorf("DTEND = DTSTART at the range start: fast %v, general %v; want both without instant.ics", fast, general)
	}
	at = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	if got := query(at, at.AddDate(0, 0, 3), false); !slices.Contains(got, cal+"instant.ics") {
		t.Errorf("an instant event inside the range is not found: %v", got)
	}
	// Edits change what matches, and the floating event moves with the
	// calendar's time zone.
	wantStatus(t, put(t, s, "alice", cal+"instant.ics", event("instant", "x", "20261102T120000Z", "20261102T120000Z")), http.StatusNoContent)
	if got := query(at, at.AddDate(0, 0, 3), false); slices.Contains(got, cal+"instant.ics") {
		t.Errorf("a moved event is still found where it was")
	}
	tz := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	wantStatus(t, s.Do(t, "alice", "PROPPATCH", cal, `<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><c:calendar-timezone>`+
		strings.ReplaceAll(tz, "\r\n", "&#13;\n")+`</c:calendar-timezone></d:prop></d:set></d:propertyupdate>`), http.StatusMultiStatus)
	compare("after edits and a time zone", 40)
	// 23:30 floating in Tokyo is 14:30Z: inside [14:00Z, 15:00Z) on June 30.
	june30 := time.Date(2026, 6, 30, 14, 0, 0, 0, time.UTC)
	if got := query(june30, june30.Add(time.Hour), false); !slices.Contains(got, cal+"floating.ics") {
		t.Errorf("the floating event is not read in the calendar's zone: %v", got)
	}
}
