package caldav_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/ics"
	"github.com/calbolt/calbolt/internal/caltest"
)

const importBody = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" +
	"BEGIN:VEVENT\r\nUID:imp-1\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20260105T100000Z\r\nSUMMARY:one\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:imp-2\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20260106T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:imp-bad\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:no start\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func decodeReport(t *testing.T, resp *caltest.Response) *ics.Report {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json; body %s", ct, resp.Body)
	}
	var rep ics.Report
	if err := json.Unmarshal([]byte(resp.Body), &rep); err != nil {
		t.Fatalf("decoding the report: %v\n%s", err, resp.Body)
	}
	return &rep
}

func TestImportHTTP(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	const cal = "/dav/calendars/alice/personal/"
	ct := []string{"Content-Type", "text/calendar; charset=utf-8"}

	resp := s.Do(t, "alice", "POST", cal, importBody, ct...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST import = %d %s, want 200", resp.StatusCode, resp.Body)
	}
	rep := decodeReport(t, resp)
	if rep.Created != 2 || rep.Rejected != 1 || rep.Rejections[0].Line != 16 || rep.Rejections[0].UID != "imp-bad" {
		t.Fatalf("report = %+v, want 2 created and imp-bad rejected at line 16", rep)
	}
	if got := s.Do(t, "alice", "GET", cal+"imp-1.ics", ""); got.StatusCode != http.StatusOK || !strings.Contains(got.Body, "SUMMARY:one") {
		t.Fatalf("GET of an imported object = %d %s", got.StatusCode, got.Body)
	}

	// PUT to the collection does the same; the second time nothing changes.
	resp = s.Do(t, "alice", "PUT", cal, importBody, ct...)
	if rep := decodeReport(t, resp); resp.StatusCode != http.StatusOK || rep.Unchanged != 2 {
		t.Fatalf("PUT import again = %d %+v, want 200 with 2 unchanged", resp.StatusCode, rep)
	}

	tests := []struct {
		name, user, method, path, body string
		headers                        []string
		status                         int
	}{
		{"another user's calendar", "bob", "POST", cal, importBody, ct, http.StatusNotFound},
		{"a form (CSRF)", "alice", "POST", cal, "a=b", []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"text/plain (CSRF)", "alice", "POST", cal, importBody, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"no content type", "alice", "POST", cal, importBody, nil, http.StatusUnsupportedMediaType},
		{"missing calendar", "alice", "POST", "/dav/calendars/alice/nope/", importBody, ct, http.StatusNotFound},
		{"unauthenticated", "", "POST", cal, importBody, ct, http.StatusUnauthorized},
		{"all rejected", "alice", "POST", cal, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", ct, http.StatusUnprocessableEntity},
		{"not iCalendar", "alice", "POST", cal, "hello", ct, http.StatusUnprocessableEntity},
		{"strict", "alice", "POST", cal + "?strict=1", importBody, ct, http.StatusUnprocessableEntity},
		{"POST to the home", "alice", "POST", "/dav/calendars/alice/", importBody, ct, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.Do(t, tt.user, tt.method, tt.path, tt.body, tt.headers...)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, resp.Body, tt.status)
			}
		})
	}
	if n := len(objectNames(t, s, "alice")); n != 2 {
		t.Fatalf("after the refused requests alice has %d objects, want 2", n)
	}

	t.Run("dry run and create", func(t *testing.T) {
		body := strings.Replace(importBody, "VERSION:2.0\r\n", "VERSION:2.0\r\nX-WR-CALNAME:Imported\r\n", 1)
		resp := s.Do(t, "alice", "POST", "/dav/calendars/alice/new/?create=1&dry-run=1", body, ct...)
		if rep := decodeReport(t, resp); resp.StatusCode != http.StatusOK || !rep.DryRun || rep.Created != 2 {
			t.Fatalf("dry run with create = %d %+v", resp.StatusCode, rep)
		}
		if _, err := s.DB.Calendar("alice", "new"); err == nil {
			t.Fatal("a dry run created the calendar")
		}
		resp = s.Do(t, "alice", "POST", "/dav/calendars/alice/new/?create=1", body, ct...)
		if rep := decodeReport(t, resp); resp.StatusCode != http.StatusCreated || !rep.CalendarCreated || rep.Created != 2 {
			t.Fatalf("import with create = %d %+v, want 201", resp.StatusCode, rep)
		}
		c, err := s.DB.Calendar("alice", "new")
		if err != nil || c.DisplayName != "Imported" || c.Objects != 2 {
			t.Fatalf("created calendar %+v, %v", c, err)
		}
	})
}

func objectNames(t *testing.T, s *caltest.Server, user string) []string {
	t.Helper()
	infos, err := s.DB.ObjectInfos(user, "personal")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range infos {
		names = append(names, o.Name)
	}
	return names
}

func TestExportHTTP(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	const cal = "/dav/calendars/alice/personal/"
	google, err := os.ReadFile("../testdata/import/google.ics")
	if err != nil {
		t.Fatal(err)
	}
	if resp := s.Do(t, "alice", "POST", cal, string(google), "Content-Type", "text/calendar"); resp.StatusCode != http.StatusOK {
		t.Fatalf("import = %d %s", resp.StatusCode, resp.Body)
	}
	resp := s.Do(t, "alice", "GET", cal, "", "Accept", "text/calendar")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("GET calendar = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	body := resp.Body
	for _, want := range []string{"X-WR-CALNAME:Personal\r\n", "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n", "UID:4q8v2l1c0k9s7a6d5f4g3h2j1k@google.com\r\n", "X-GOOGLE-CONFERENCE:"} {
		if !strings.Contains(body, want) {
			t.Errorf("export lacks %q", want)
		}
	}
	if n := strings.Count(body, "BEGIN:VTIMEZONE"); n != 1 {
		t.Errorf("export has %d VTIMEZONEs, want Europe/Berlin once", n)
	}
	if n := strings.Count(body, "BEGIN:VEVENT"); n != 10 {
		t.Errorf("export has %d VEVENTs, want 10", n)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("export without ETag")
	}
	if r := s.Do(t, "alice", "GET", cal, "", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("GET If-None-Match the same ETag = %d, want 304", r.StatusCode)
	}
	// A change to a member changes the export's ETag.
	s.Do(t, "alice", "DELETE", cal+"allday1abcdefghijk@google.com.ics", "")
	if r := s.Do(t, "alice", "GET", cal, "", "If-None-Match", etag); r.StatusCode != http.StatusOK || r.Header.Get("ETag") == etag {
		t.Errorf("GET after a delete = %d with ETag %s, want 200 and a new ETag", r.StatusCode, r.Header.Get("ETag"))
	}
	if r := s.Do(t, "bob", "GET", cal, ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("bob's GET of alice's calendar = %d, want 404", r.StatusCode)
	}
	if r := s.Do(t, "alice", "HEAD", cal, ""); r.StatusCode != http.StatusOK || r.Body != "" {
		t.Errorf("HEAD = %d with %d bytes, want 200 and no body", r.StatusCode, len(r.Body))
	}
}
