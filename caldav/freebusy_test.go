package caldav_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/internal/caltest"
	"github.com/calbolt/calbolt/store"
)

// Words that must never reach anyone through free-busy.
var secrets = []string{"secret-summary", "secret-location", "secret-uid", "secret-description"}

func secretEvent(uid, start, end string, extra ...string) string {
	return event(uid, "secret-summary", start, end,
		append([]string{"LOCATION:secret-location", "DESCRIPTION:secret-description"}, extra...)...)
}

// fbSetup gives alice a busy, a tentative, a transparent and a cancelled
// event on 2026-03-10, plus a to-do; and a second calendar "side" with one
// more event, and a transparent calendar "holidays".
func fbSetup(t *testing.T, s *caltest.Server) {
	t.Helper()
	cal := "/dav/calendars/alice/personal/"
	wantStatus(t, put(t, s, "alice", cal+"busy.ics", secretEvent("secret-uid", "20260310T090000Z", "20260310T100000Z")), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", cal+"tent.ics", secretEvent("tent", "20260310T093000Z", "20260310T110000Z", "STATUS:TENTATIVE")), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", cal+"transp.ics", secretEvent("transp", "20260310T120000Z", "20260310T130000Z", "TRANSP:TRANSPARENT")), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", cal+"cancel.ics", secretEvent("cancel", "20260310T140000Z", "20260310T150000Z", "STATUS:CANCELLED")), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", cal+"todo.ics", todo("todo", "secret-summary")), http.StatusCreated)
	for _, c := range []store.Calendar{{Name: "side"}, {Name: "holidays", Transparent: true}} {
		if _, err := s.DB.CreateCalendar("alice", c); err != nil {
			t.Fatal(err)
		}
	}
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/side/x.ics", secretEvent("side", "20260310T160000Z", "20260310T170000Z")), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/holidays/h.ics", secretEvent("hol", "20260310T180000Z", "20260310T190000Z")), http.StatusCreated)
}

const fbWindow = `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260310T000000Z" end="20260311T000000Z"/></c:free-busy-query>`

// freeBusyLines parses a VCALENDAR body and returns its FREEBUSY lines as
// "TYPE start/end", one VFREEBUSY's worth per element of the result.
func freeBusyLines(t *testing.T, body string) [][]string {
	t.Helper()
	cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("decoding free-busy answer: %v\n%s", err, body)
	}
	var out [][]string
	for _, c := range cal.Children {
		if c.Name != ical.CompFreeBusy {
			t.Fatalf("answer holds a %s:\n%s", c.Name, body)
		}
		lines := []string{}
		for _, p := range c.Props.Values(ical.PropFreeBusy) {
			lines = append(lines, p.Params.Get(ical.ParamFreeBusyType)+" "+p.Value)
		}
		out = append(out, lines)
	}
	return out
}

func noSecrets(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Fatalf("%s leaks %q:\n%s", what, s, body)
		}
	}
}

var personalBusy = []string{
	"BUSY 20260310T090000Z/20260310T100000Z",
	"BUSY-TENTATIVE 20260310T100000Z/20260310T110000Z",
}

func TestFreeBusyQueryReport(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	fbSetup(t, s)

	r := s.Do(t, "alice", "REPORT", "/dav/calendars/alice/personal/", fbWindow, "Depth", "0")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
		t.Errorf("Content-Type = %q, want text/calendar", ct)
	}
	noSecrets(t, "REPORT on a calendar", r.Body)
	if got := freeBusyLines(t, r.Body); len(got) != 1 || !slices.Equal(got[0], personalBusy) {
		t.Errorf("free-busy of personal = %v, want %v", got, personalBusy)
	}

	// The home with Depth: 1 merges the opaque calendars; the transparent
	// "holidays" does not count.
	want := append(slices.Clone(personalBusy), "BUSY 20260310T160000Z/20260310T170000Z")
	r = s.Do(t, "alice", "REPORT", "/dav/calendars/alice/", fbWindow, "Depth", "1")
	wantStatus(t, r, http.StatusOK)
	if got := freeBusyLines(t, r.Body); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("free-busy of the home = %v, want %v", got, want)
	}
	r = s.Do(t, "alice", "REPORT", "/dav/calendars/alice/", fbWindow, "Depth", "0")
	wantStatus(t, r, http.StatusOK)
	if got := freeBusyLines(t, r.Body); len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("free-busy of the home at Depth 0 = %v, want no periods", got)
	}

	// Another user sees the same busy time and nothing else (the default
	// policy), but no other report on alice's calendar.
	r = s.Do(t, "bob", "REPORT", "/dav/calendars/alice/", fbWindow, "Depth", "1")
	wantStatus(t, r, http.StatusOK)
	noSecrets(t, "bob's REPORT on alice's home", r.Body)
	if got := freeBusyLines(t, r.Body); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("bob's view of alice's home = %v, want %v", got, want)
	}
	wantStatus(t, s.Do(t, "bob", "REPORT", "/dav/calendars/alice/personal/",
		`<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:d="DAV:"><d:prop><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>`, "Depth", "1"),
		http.StatusNotFound)

	// A changed event shows at once (the cache keys on the ETag).
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/personal/busy.ics",
		secretEvent("secret-uid", "20260310T070000Z", "20260310T080000Z")), http.StatusNoContent)
	r = s.Do(t, "alice", "REPORT", "/dav/calendars/alice/personal/", fbWindow)
	wantLines := []string{"BUSY 20260310T070000Z/20260310T080000Z", "BUSY-TENTATIVE 20260310T093000Z/20260310T110000Z"}
	if got := freeBusyLines(t, r.Body); len(got) != 1 || !slices.Equal(got[0], wantLines) {
		t.Errorf("free-busy after moving an event = %v, want %v", got, wantLines)
	}

	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"no time-range", `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"/>`, http.StatusBadRequest},
		{"no end", `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260310T000000Z"/></c:free-busy-query>`, http.StatusBadRequest},
		{"not UTC", `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260310T000000" end="20260311T000000Z"/></c:free-busy-query>`, http.StatusBadRequest},
		{"reversed", `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260311T000000Z" end="20260310T000000Z"/></c:free-busy-query>`, http.StatusForbidden},
		{"ten years", `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260101T000000Z" end="20360101T000000Z"/></c:free-busy-query>`, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, s.Do(t, "alice", "REPORT", "/dav/calendars/alice/personal/", tt.body), tt.status)
		})
	}
	// On an object, and on a calendar that does not exist.
	wantStatus(t, s.Do(t, "alice", "REPORT", "/dav/calendars/alice/personal/tent.ics", fbWindow), http.StatusForbidden)
	wantStatus(t, s.Do(t, "alice", "REPORT", "/dav/calendars/alice/nope/", fbWindow), http.StatusNotFound)
	wantStatus(t, s.Do(t, "alice", "REPORT", "/dav/calendars/nobody/", fbWindow, "Depth", "1"), http.StatusNotFound)
}

// Under VisibilityGranted only grants count, per calendar or for all.
func TestFreeBusyGrants(t *testing.T) {
	s := caltest.NewWith(t, caltest.Config{Visibility: busytime.VisibilityGranted}, "alice", "bob", "carol")
	fbSetup(t, s)
	home := "/dav/calendars/alice/"
	missing := s.Do(t, "bob", "REPORT", "/dav/calendars/nobody/", fbWindow, "Depth", "1")
	r := s.Do(t, "bob", "REPORT", home, fbWindow, "Depth", "1")
	if r.StatusCode != http.StatusNotFound || missing.StatusCode != http.StatusNotFound {
		t.Fatalf("without a grant: alice's home = %d, a missing home = %d, want 404 for both", r.StatusCode, missing.StatusCode)
	}
	wantStatus(t, s.Do(t, "bob", http.MethodGet, "/freebusy/alice?start=2026-03-10&end=2026-03-11", ""), http.StatusNotFound)

	// A grant on "side" shows that calendar only.
	if err := s.DB.SetGrant("alice", store.Grant{Calendar: "side", Grantee: "bob", Access: store.AccessFreeBusy}); err != nil {
		t.Fatal(err)
	}
	r = s.Do(t, "bob", "REPORT", home, fbWindow, "Depth", "1")
	wantStatus(t, r, http.StatusOK)
	if got, want := freeBusyLines(t, r.Body), []string{"BUSY 20260310T160000Z/20260310T170000Z"}; len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("bob's view with a grant on side = %v, want %v", got, want)
	}
	wantStatus(t, s.Do(t, "bob", "REPORT", home+"personal/", fbWindow), http.StatusNotFound)
	wantStatus(t, s.Do(t, "bob", "REPORT", home+"side/", fbWindow), http.StatusOK)
	// carol has none.
	wantStatus(t, s.Do(t, "carol", "REPORT", home+"side/", fbWindow), http.StatusNotFound)
	// A read grant includes free-busy; an account-wide one covers all.
	if err := s.DB.SetGrant("alice", store.Grant{Grantee: "carol", Access: store.AccessRead}); err != nil {
		t.Fatal(err)
	}
	r = s.Do(t, "carol", "REPORT", home, fbWindow, "Depth", "1")
	wantStatus(t, r, http.StatusOK)
	if got := freeBusyLines(t, r.Body); len(got) != 1 || len(got[0]) != 3 {
		t.Errorf("carol's view with an account grant = %v, want the three merged periods", got)
	}
}

func TestSchedulingDiscovery(t *testing.T) {
	s := caltest.New(t, "alice")
	r := s.Do(t, "", http.MethodOptions, "/dav/calendars/alice/", "")
	if dav := r.Header.Get("DAV"); !strings.Contains(dav, "calendar-schedule") || strings.Contains(dav, "calendar-auto-schedule") {
		t.Errorf("OPTIONS DAV = %q, want calendar-schedule and not calendar-auto-schedule", dav)
	}
	r = s.Do(t, "alice", "PROPFIND", "/dav/principals/alice/", `<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:schedule-inbox-URL/><c:schedule-outbox-URL/><c:calendar-user-address-set/><c:calendar-user-type/></d:prop></d:propfind>`, "Depth", "0")
	wantStatus(t, r, http.StatusMultiStatus)
	for _, want := range []string{"/dav/calendars/alice/inbox/", "/dav/calendars/alice/outbox/", "mailto:alice@127.0.0.1", "INDIVIDUAL"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("principal PROPFIND lacks %q:\n%s", want, r.Body)
		}
	}
	for box, rt := range map[string]string{"inbox": "schedule-inbox", "outbox": "schedule-outbox"} {
		r = s.Do(t, "alice", "PROPFIND", "/dav/calendars/alice/"+box+"/", `<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>`, "Depth", "1")
		wantStatus(t, r, http.StatusMultiStatus)
		ms := caltest.ParseMultistatus(t, r.Body)
		if len(ms.Responses) != 1 {
			t.Errorf("PROPFIND %s Depth 1 = %d responses, want the box alone", box, len(ms.Responses))
		}
		if v, ok := ms.Responses[0].Prop("DAV:", "resourcetype"); !ok || !v.Has("urn:ietf:params:xml:ns:caldav", rt) {
			t.Errorf("%s resourcetype = %+v, want %s", box, v, rt)
		}
	}
	// The names stay reserved, and the boxes hold nothing.
	wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/inbox/", ""), http.StatusMethodNotAllowed)
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/outbox/x.ics", event("x", "x", "20260310T090000Z", "20260310T100000Z")), http.StatusNotFound)
	wantStatus(t, s.Do(t, "alice", "DELETE", "/dav/calendars/alice/inbox/", ""), http.StatusForbidden)
}

func fbRequest(organizer string, attendees ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\n")
	b.WriteString("UID:fb-req-1\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:20260310T000000Z\r\nDTEND:20260311T000000Z\r\n")
	b.WriteString("ORGANIZER:" + organizer + "\r\n")
	for _, a := range attendees {
		b.WriteString("ATTENDEE;CN=Someone:" + a + "\r\n")
	}
	b.WriteString("END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
	return b.String()
}

type scheduleResponse struct {
	Responses []struct {
		Recipient string `xml:"recipient>href"`
		Status    string `xml:"request-status"`
		Data      string `xml:"calendar-data"`
	} `xml:"response"`
}

func TestOutboxFreeBusy(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	fbSetup(t, s)
	outbox := "/dav/calendars/bob/outbox/"
	ct := []string{"Content-Type", "text/calendar; charset=utf-8"}
	r := s.Do(t, "bob", http.MethodPost, outbox,
		fbRequest("mailto:bob@127.0.0.1", "mailto:alice@127.0.0.1", "mailto:nobody@example.com", "mailto:BOB@127.0.0.1"), ct...)
	wantStatus(t, r, http.StatusOK)
	noSecrets(t, "outbox POST", r.Body)
	var sr scheduleResponse
	if err := xml.Unmarshal([]byte(r.Body), &sr); err != nil || len(sr.Responses) != 3 {
		t.Fatalf("schedule-response = %+v, %v, want three responses:\n%s", sr, err, r.Body)
	}
	alice := sr.Responses[0]
	if alice.Recipient != "mailto:alice@127.0.0.1" || !strings.HasPrefix(alice.Status, "2.0") {
		t.Errorf("alice's response = %q %q, want 2.0", alice.Recipient, alice.Status)
	}
	want := append(slices.Clone(personalBusy), "BUSY 20260310T160000Z/20260310T170000Z")
	if got := freeBusyLines(t, alice.Data); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("alice's busy time = %v, want %v", got, want)
	}
	reply, _ := ical.NewDecoder(strings.NewReader(alice.Data)).Decode()
	if m := reply.Props.Get(ical.PropMethod); m == nil || m.Value != "REPLY" {
		t.Errorf("reply METHOD = %v, want REPLY", m)
	}
	fb := reply.Children[0]
	for prop, want := range map[string]string{ical.PropUID: "fb-req-1", ical.PropOrganizer: "mailto:bob@127.0.0.1", ical.PropAttendee: "mailto:alice@127.0.0.1"} {
		if p := fb.Props.Get(prop); p == nil || p.Value != want {
			t.Errorf("reply %s = %v, want %q", prop, p, want)
		}
	}
	if got := sr.Responses[1]; !strings.HasPrefix(got.Status, "3.7") || got.Data != "" {
		t.Errorf("unknown recipient = %q with data %q, want 3.7 and no data", got.Status, got.Data)
	}
	if got := sr.Responses[2]; !strings.HasPrefix(got.Status, "2.0") {
		t.Errorf("bob asking about himself (address in another case) = %q, want 2.0", got.Status)
	}

	for _, tt := range []struct {
		name, user, path, body string
		headers                []string
		status                 int
		cond                   string
	}{
		{"someone else's outbox", "alice", outbox, fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1"), ct, http.StatusNotFound, ""},
		{"another organizer", "bob", outbox, fbRequest("mailto:alice@127.0.0.1", "mailto:alice@127.0.0.1"), ct, http.StatusForbidden, "organizer-allowed"},
		{"no attendee", "bob", outbox, fbRequest("mailto:bob@127.0.0.1"), ct, http.StatusForbidden, "recipient-specified"},
		{"an invitation", "bob", outbox, strings.ReplaceAll(fbRequest("mailto:bob@127.0.0.1", "mailto:alice@127.0.0.1"), "VFREEBUSY", "VEVENT"), ct, http.StatusForbidden, "valid-scheduling-message"},
		{"not a request", "bob", outbox, strings.Replace(fbRequest("mailto:bob@127.0.0.1", "mailto:alice@127.0.0.1"), "METHOD:REQUEST", "METHOD:PUBLISH", 1), ct, http.StatusForbidden, "valid-scheduling-message"},
		{"form-encoded", "bob", outbox, "a=b", []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType, "supported-calendar-data"},
		{"garbage", "bob", outbox, "BEGIN:VCALENDAR\r\nnonsense", ct, http.StatusBadRequest, "valid-calendar-data"},
		{"POST to the inbox", "bob", "/dav/calendars/bob/inbox/", fbRequest("mailto:bob@127.0.0.1", "mailto:alice@127.0.0.1"), ct, http.StatusMethodNotAllowed, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, tt.user, http.MethodPost, tt.path, tt.body, tt.headers...)
			wantStatus(t, r, tt.status)
			if got := caltest.ErrorCondition(r.Body); tt.cond != "" && got.Local != tt.cond {
				t.Errorf("condition = %v, want %q\n%s", got, tt.cond, r.Body)
			}
		})
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "mailto:alice@127.0.0.1"
	}
	r = s.Do(t, "bob", http.MethodPost, outbox, fbRequest("mailto:bob@127.0.0.1", many...), ct...)
	wantStatus(t, r, http.StatusForbidden)
}

func TestFreeBusyEndpoint(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	fbSetup(t, s)
	wantStatus(t, put(t, s, "bob", "/dav/calendars/bob/personal/b.ics", secretEvent("b", "20260310T083000Z", "20260310T093000Z")), http.StatusCreated)
	window := "start=2026-03-10T00:00:00Z&end=20260311T000000Z"

	// iCalendar by default, and at the .ifb URL.
	for _, path := range []string{"/freebusy/alice?" + window, "/freebusy/alice.ifb?" + window, "/freebusy?user=alice&" + window} {
		r := s.Do(t, "bob", http.MethodGet, path, "")
		wantStatus(t, r, http.StatusOK)
		noSecrets(t, "GET "+path, r.Body)
		want := append(slices.Clone(personalBusy), "BUSY 20260310T160000Z/20260310T170000Z")
		if got := freeBusyLines(t, r.Body); len(got) != 1 || !slices.Equal(got[0], want) {
			t.Errorf("GET %s = %v, want %v", path, got, want)
		}
	}

	// JSON for two users, with the merged time: 08:30-10:00 busy (bob's
	// event meets alice's), then alice's tentative hour.
	r := s.Do(t, "alice", http.MethodGet, "/freebusy?users=alice,bob&"+window, "", "Accept", "application/json")
	wantStatus(t, r, http.StatusOK)
	noSecrets(t, "JSON", r.Body)
	var ans busytime.Answer
	if err := json.Unmarshal([]byte(r.Body), &ans); err != nil {
		t.Fatalf("JSON answer: %v\n%s", err, r.Body)
	}
	if len(ans.Users) != 2 || ans.Users[0].User != "alice" || ans.Users[1].User != "bob" || len(ans.Users[1].Busy) != 1 {
		t.Fatalf("users = %+v, want alice then bob with one period", ans.Users)
	}
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	wantMerged := []busytime.PeriodJSON{
		{Start: at(8, 30), End: at(10, 0), Type: "BUSY"},
		{Start: at(10, 0), End: at(11, 0), Type: "BUSY-TENTATIVE"},
		{Start: at(16, 0), End: at(17, 0), Type: "BUSY"},
	}
	if !slices.Equal(ans.Merged, wantMerged) {
		t.Errorf("merged = %+v, want %+v", ans.Merged, wantMerged)
	}

	// Free slots of an hour for both, 08:00-18:00 Berlin: 07:00-17:00 UTC
	// in March, so 07:00-08:30 and 11:00-16:00 (16:00-17:00 is alice's
	// side calendar).
	r = s.Do(t, "alice", http.MethodGet, "/freebusy?users=alice,bob&duration=PT1H&hours=08:00-18:00&tz=Europe/Berlin&"+window, "")
	wantStatus(t, r, http.StatusOK)
	ans = busytime.Answer{}
	if err := json.Unmarshal([]byte(r.Body), &ans); err != nil {
		t.Fatalf("slots answer: %v\n%s", err, r.Body)
	}
	wantSlots := []busytime.PeriodJSON{{Start: at(7, 0), End: at(8, 30)}, {Start: at(11, 0), End: at(16, 0)}}
	if !slices.Equal(ans.Slots, wantSlots) {
		t.Errorf("slots = %+v, want %+v", ans.Slots, wantSlots)
	}

	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/freebusy", http.StatusBadRequest},
		{"/freebusy/nobody?" + window, http.StatusNotFound},
		{"/freebusy/alice?start=yesterday", http.StatusBadRequest},
		{"/freebusy/alice?start=2026-01-01&end=2030-01-01", http.StatusBadRequest},
		{"/freebusy/alice?tz=Mars/Olympus", http.StatusBadRequest},
		{"/freebusy/alice?duration=forever", http.StatusBadRequest},
		{"/freebusy/alice?hours=9-5&duration=PT1H", http.StatusBadRequest},
		{"/freebusy/alice?hours=09:00-17:00", http.StatusBadRequest},
		{"/freebusy/alice/extra", http.StatusNotFound},
	} {
		t.Run(tt.path, func(t *testing.T) {
			wantStatus(t, s.Do(t, "bob", http.MethodGet, tt.path, ""), tt.status)
		})
	}
	wantStatus(t, s.Do(t, "", http.MethodGet, "/freebusy/alice", ""), http.StatusUnauthorized)
	wantStatus(t, s.Do(t, "bob", http.MethodPost, "/freebusy/alice", "x"), http.StatusMethodNotAllowed)
}

// The REPORT, the outbox and the endpoint give the same periods for the
// same data: one code path.
func TestFreeBusyPathsAgree(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	fbSetup(t, s)
	report := freeBusyLines(t, s.Do(t, "bob", "REPORT", "/dav/calendars/alice/", fbWindow, "Depth", "1").Body)
	endpoint := freeBusyLines(t, s.Do(t, "bob", http.MethodGet, "/freebusy/alice?start=2026-03-10&end=2026-03-11", "").Body)
	r := s.Do(t, "bob", http.MethodPost, "/dav/calendars/bob/outbox/", fbRequest("mailto:bob@127.0.0.1", "mailto:alice@127.0.0.1"), "Content-Type", "text/calendar")
	var sr scheduleResponse
	if err := xml.Unmarshal([]byte(r.Body), &sr); err != nil || len(sr.Responses) != 1 {
		t.Fatalf("outbox: %v\n%s", err, r.Body)
	}
	outbox := freeBusyLines(t, sr.Responses[0].Data)
	if !slices.Equal(report[0], endpoint[0]) || !slices.Equal(report[0], outbox[0]) || len(report[0]) != 3 {
		t.Errorf("REPORT %v, endpoint %v, outbox %v: want the same three periods", report, endpoint, outbox)
	}
}

// What the store holds shapes busy time as the computation says: a
// VAVAILABILITY stored like an event, a floating event read in the
// calendar's time zone, an event the owner declined.
func TestFreeBusyStoredKinds(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	berlin := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
		"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
		"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n" +
		"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"
	mk := `<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><c:calendar-timezone>` +
		strings.ReplaceAll(berlin, "\r\n", "&#13;\n") + `</c:calendar-timezone></d:prop></d:set></c:mkcalendar>`
	wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/berlin/", mk), http.StatusCreated)
	// 09:00-10:00 floating is 08:00-09:00 UTC in Berlin in March.
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/berlin/float.ics", event("float", "x", "20260310T090000", "20260310T100000")), http.StatusCreated)
	// Declined by alice: free; accepted by her, declined by bob: busy.
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/personal/declined.ics", event("declined", "x", "20260310T120000Z", "20260310T130000Z",
		"ORGANIZER:mailto:bob@127.0.0.1", "ATTENDEE;PARTSTAT=DECLINED:mailto:alice@127.0.0.1")), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/personal/accepted.ics", event("accepted", "x", "20260310T130000Z", "20260310T133000Z",
		"ORGANIZER:mailto:bob@127.0.0.1", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@127.0.0.1", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@127.0.0.1")), http.StatusCreated)
	// Available 07:00-17:00 UTC on weekdays from March 2026; unavailable
	// otherwise.
	avail := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VAVAILABILITY\r\nUID:hours\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260301T000000Z\r\nBEGIN:AVAILABLE\r\nUID:hours-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T070000Z\r\n" +
		"DTEND:20260302T170000Z\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEND:AVAILABLE\r\nEND:VAVAILABILITY\r\nEND:VCALENDAR\r\n"
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/personal/hours.ics", avail), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/personal/bad-avail.ics",
		strings.Replace(avail, "DTSTART:20260302T070000Z\r\n", "", 1)), http.StatusForbidden)

	r := s.Do(t, "bob", "REPORT", "/dav/calendars/alice/", fbWindow, "Depth", "1")
	wantStatus(t, r, http.StatusOK)
	want := []string{
		"BUSY-UNAVAILABLE 20260310T000000Z/20260310T070000Z",
		"BUSY 20260310T080000Z/20260310T090000Z",
		"BUSY 20260310T130000Z/20260310T133000Z",
		"BUSY-UNAVAILABLE 20260310T170000Z/20260311T000000Z",
	}
	if got := freeBusyLines(t, r.Body); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("alice's busy time = %v, want %v", got, want)
	}
	// The availability object is an ordinary resource otherwise: listed,
	// readable, synced.
	r = s.Do(t, "alice", http.MethodGet, "/dav/calendars/alice/personal/hours.ics", "")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.Body, "BEGIN:AVAILABLE") {
		t.Errorf("GET hours.ics lost its AVAILABLE:\n%s", r.Body)
	}
}
