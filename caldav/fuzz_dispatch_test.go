package caldav

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/store"
)

// fuzzMark is in every piece of bob's data in FuzzServeXML's store.
const fuzzMark = "BOBFUZZMARK"

// FuzzServeXML drives arbitrary request bodies through the real dispatcher
// as alice — REPORT (every kind) and PROPFIND on her calendar, an object,
// her home, bob's calendar and the root — against a store holding events
// of both: no panic, no 5xx, no byte of bob's data in any answer, and bob's
// calendar unchanged.
func FuzzServeXML(f *testing.F) {
	db, err := store.Open(filepath.Join(f.TempDir(), "calbolt.db"), &store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewHandler(db, &Options{Logger: logger, Authenticate: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), "alice")))
		})
	}})
	put := func(user, name, body string) {
		for _, u := range []string{"alice", "bob"} {
			if _, err := db.User(u); err != nil {
				if err := db.CreateUser(store.User{Name: u, PasswordHash: "x"}); err != nil {
					f.Fatal(err)
				}
				cal := store.Calendar{Name: "personal", DisplayName: u}
				if u == "bob" {
					cal.DisplayName, cal.DeadProps = fuzzMark, map[string]string{"{urn:z}note": fuzzMark}
				}
				if _, err := db.CreateCalendar(u, cal); err != nil {
					f.Fatal(err)
				}
			}
		}
		cal, err := db.Calendar(user, "personal")
		if err != nil {
			f.Fatal(err)
		}
		obj, err := parseObject([]byte(body), &cal)
		if err != nil {
			f.Fatal(err)
		}
		if _, _, err := db.PutObject(user, "personal", store.Object{Name: name, UID: obj.UID, Component: obj.Component, Span: obj.Span, Data: obj.Data}, store.Condition{}); err != nil {
			f.Fatal(err)
		}
	}
	ev := func(uid, summary, extra string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nSUMMARY:" + summary + "\r\n" + extra + "END:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	put("alice", "a.ics", ev("a", "alice", "RRULE:FREQ=DAILY;COUNT=50\r\n"))
	put("alice", "b.ics", ev("b", "alice", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n"))
	put("bob", "secret.ics", ev(fuzzMark+"-uid", fuzzMark, "LOCATION:"+fuzzMark+"\r\nRRULE:FREQ=WEEKLY;COUNT=20\r\n"))
	bobCal, err := db.Calendar("bob", "personal")
	if err != nil {
		f.Fatal(err)
	}
	bobETag := ""
	if o, err := db.Object("bob", "personal", "secret.ics"); err == nil {
		bobETag = o.ETag
	}
	secrets := []string{strings.ToLower(fuzzMark), bobCal.ID, bobETag}
	paths := []string{
		"/dav/calendars/alice/personal/", "/dav/calendars/alice/personal/a.ics", "/dav/calendars/alice/",
		"/dav/calendars/bob/personal/", "/dav/calendars/bob/", "/", "/dav/principals/bob/", "/dav/calendars/alice/outbox/",
	}
	for _, b := range []string{
		`<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data><c:expand start="20260301T000000Z" end="20260401T000000Z"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260301T000000Z" end="20260401T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
		`<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data/></d:prop><d:href>/dav/calendars/alice/personal/a.ics</d:href><d:href>/dav/calendars/bob/personal/secret.ics</d:href><d:href>/dav/calendars/alice/../bob/personal/secret.ics</d:href></c:calendar-multiget>`,
		`<d:sync-collection xmlns:d="DAV:"><d:sync-token>` + bobCal.SyncToken() + `</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
		`<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:limit><d:nresults>1</d:nresults></d:limit><d:prop><c:calendar-data xmlns:c="urn:ietf:params:xml:ns:caldav"><c:comp name="VCALENDAR"><c:comp name="VEVENT"><c:prop name="UID"/></c:comp></c:comp></c:calendar-data></d:prop></d:sync-collection>`,
		`<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260301T000000Z" end="20260401T000000Z"/></c:free-busy-query>`,
		`<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`,
		`<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>`,
		`<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><d:displayname/><z:note/><d:sync-token/></d:prop></d:propfind>`,
	} {
		for m := range 2 {
			for p := range paths {
				f.Add(uint8(m), uint8(p), b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, method, path uint8, body string) {
		m := []string{"REPORT", "PROPFIND"}[int(method)%2]
		p := paths[int(path)%len(paths)]
		for _, d := range []string{"0", "1"} {
			r := httptest.NewRequest(m, p, strings.NewReader(body))
			r.Header.Set("Depth", d)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("%s %s Depth %s = %d\n%s", m, p, d, w.Code, w.Body.String())
			}
			got := strings.ToLower(w.Body.String())
			for _, s := range secrets {
				if s != "" && strings.Contains(got, strings.ToLower(s)) {
					// Busy time of bob's is public by default, but never
					// his event's text, ETag or calendar ID.
					t.Fatalf("%s %s Depth %s leaks %q:\n%s", m, p, d, s, w.Body.String())
				}
			}
		}
		if c, err := db.Calendar("bob", "personal"); err != nil || c.SyncSeq != bobCal.SyncSeq || !c.Modified.Equal(bobCal.Modified) {
			t.Fatalf("bob's calendar changed: %+v, %v", c, err)
		}
	})
}

// FuzzAccess checks the isolation rule on any path or href: whatever a
// request path or an href (multiget, Destination) resolves to, alice is
// let through only to resources without an owner or owned by her, and an
// href on another host never resolves.
func FuzzAccess(f *testing.F) {
	for _, s := range [][2]string{
		{"/dav/calendars/alice/../bob/personal/x.ics", "http://calbolt.example/dav/calendars/bob/personal/x.ics"},
		{"//dav//calendars//bob//", "https://evil.example/dav/calendars/alice/personal/a.ics"},
		{"/dav/calendars/%62ob/personal/", "/dav/calendars/alice/personal/..%2F..%2Fbob%2Fpersonal/x.ics"},
		{"/dav/principals/alice/../../principals/bob/", "//evil.example/dav/calendars/alice/"},
		{"/dav/calendars/alice%2F..%2Fbob/personal/", "http://CALBOLT.EXAMPLE:80/dav/calendars/alice/"},
		{"/dav/calendars/bob/outbox/", "http://calbolt.example@evil.example/dav/calendars/alice/"},
	} {
		f.Add(s[0], s[1])
	}
	h := &handler{}
	f.Fuzz(func(t *testing.T, path, href string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = "calbolt.example"
		r = r.WithContext(auth.WithUser(r.Context(), "alice"))
		cands := []string{path}
		if p, ok := hrefPath(href, r); ok {
			cands = append(cands, p)
			if u, err := url.Parse(strings.TrimSpace(href)); err != nil || (u.Host != "" && !strings.EqualFold(u.Host, "calbolt.example")) {
				t.Fatalf("hrefPath(%q) = %q on another host", href, p)
			}
		}
		for _, p := range cands {
			res := parsePath(p)
			if h.access(r, res) == nil && res.user != "" && res.user != "alice" {
				t.Fatalf("alice may access %q = %+v of %q", p, res, res.user)
			}
		}
	})
}
