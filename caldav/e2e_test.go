package caldav_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/internal/caltest"
)

const (
	nsDAV    = "DAV:"
	nsCalDAV = "urn:ietf:params:xml:ns:caldav"
	nsCS     = "http://calendarserver.org/ns/"
	nsApple  = "http://apple.com/ns/ical/"
)

const personal = "/dav/calendars/alice/personal/"

func event(uid, summary, dtstart, dtend string, extra ...string) string {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n")
	fmt.Fprintf(&b, "UID:%s\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n", uid, dtstart, dtend, summary)
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return b.String()
}

func todo(uid, summary string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:" + summary + "\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
}

func wantStatus(t *testing.T, r *caltest.Response, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s = %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.Body)
	}
}

func wantCondition(t *testing.T, r *caltest.Response, status int, space, local string) {
	t.Helper()
	wantStatus(t, r, status)
	if got := caltest.ErrorCondition(r.Body); got.Space != space || got.Local != local {
		t.Fatalf("%s %s: precondition = %v, want {%s}%s\n%s", r.Request.Method, r.Request.URL.Path, got, space, local, r.Body)
	}
}

func put(t *testing.T, s *caltest.Server, user, path, body string, headers ...string) *caltest.Response {
	t.Helper()
	return s.Do(t, user, http.MethodPut, path, body, append([]string{"Content-Type", "text/calendar; charset=utf-8"}, headers...)...)
}

func propfind(t *testing.T, s *caltest.Server, user, path, depth string, props ...string) *caltest.Response {
	t.Helper()
	body := `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ical="http://apple.com/ns/ical/"><d:prop>` +
		strings.Join(props, "") + `</d:prop></d:propfind>`
	return s.Do(t, user, "PROPFIND", path, body, "Depth", depth, "Content-Type", "application/xml")
}

func TestDiscoveryFromBareURL(t *testing.T) {
	s := caltest.New(t, "alice")

	t.Run("well-known redirects without credentials", func(t *testing.T) {
		r := s.Do(t, "", "PROPFIND", "/.well-known/caldav", "")
		if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/dav/" {
			t.Fatalf("PROPFIND /.well-known/caldav = %d Location %q, want 301 /dav/", r.StatusCode, r.Header.Get("Location"))
		}
	})
	t.Run("root needs credentials", func(t *testing.T) {
		r := propfind(t, s, "", "/", "0", "<d:current-user-principal/>")
		wantStatus(t, r, http.StatusUnauthorized)
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("WWW-Authenticate = %q, want a Basic challenge", r.Header.Get("WWW-Authenticate"))
		}
	})
	for _, path := range []string{"/", "/dav/"} {
		t.Run("current-user-principal on "+path, func(t *testing.T) {
			r := propfind(t, s, "alice", path, "0", "<d:current-user-principal/>")
			wantStatus(t, r, http.StatusMultiStatus)
			ms := caltest.ParseMultistatus(t, r.Body)
			if ms.Responses[0].Href != path {
				t.Errorf("Depth 0 response names %q, want the request URI %q (RFC 4918 §9.1)", ms.Responses[0].Href, path)
			}
			p, ok := ms.Responses[0].Prop(nsDAV, "current-user-principal")
			if !ok || len(p.Children) != 1 || p.Children[0].Text != "/dav/principals/alice/" {
				t.Fatalf("current-user-principal = %+v, want href /dav/principals/alice/", p)
			}
		})
	}
	t.Run("principal properties", func(t *testing.T) {
		r := propfind(t, s, "alice", "/dav/principals/alice/", "0",
			"<c:calendar-home-set/>", "<c:calendar-user-address-set/>", "<d:principal-URL/>",
			"<d:displayname/>", "<d:resourcetype/>", "<d:principal-collection-set/>")
		wantStatus(t, r, http.StatusMultiStatus)
		resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
		home, _ := resp.Prop(nsCalDAV, "calendar-home-set")
		if len(home.Children) != 1 || home.Children[0].Text != "/dav/calendars/alice/" {
			t.Errorf("calendar-home-set = %+v, want /dav/calendars/alice/", home)
		}
		addr, _ := resp.Prop(nsCalDAV, "calendar-user-address-set")
		if len(addr.Children) == 0 || !strings.HasPrefix(addr.Children[0].Text, "mailto:alice@") {
			t.Errorf("calendar-user-address-set = %+v, want a mailto: first", addr)
		}
		rt, _ := resp.Prop(nsDAV, "resourcetype")
		if !rt.Has(nsDAV, "principal") {
			t.Errorf("resourcetype = %+v, want principal", rt)
		}
		for _, p := range []string{"principal-URL", "displayname", "principal-collection-set"} {
			if _, ok := resp.Prop(nsDAV, p); !ok {
				t.Errorf("principal has no %s", p)
			}
		}
	})
	t.Run("go-webdav client finds the calendars", func(t *testing.T) {
		c := s.Client(t, "alice")
		principal, err := c.FindCurrentUserPrincipal(caltest.Context())
		if err != nil || principal != "/dav/principals/alice/" {
			t.Fatalf("FindCurrentUserPrincipal = %q, %v", principal, err)
		}
		home, err := c.FindCalendarHomeSet(caltest.Context(), principal)
		if err != nil || home != "/dav/calendars/alice/" {
			t.Fatalf("FindCalendarHomeSet = %q, %v", home, err)
		}
		cals, err := c.FindCalendars(caltest.Context(), home)
		if err != nil || len(cals) != 1 || cals[0].Path != personal || cals[0].Name != "Personal" {
			t.Fatalf("FindCalendars = %+v, %v; want the personal calendar", cals, err)
		}
		if len(cals[0].SupportedComponentSet) != 2 {
			t.Errorf("SupportedComponentSet = %v, want VEVENT and VTODO", cals[0].SupportedComponentSet)
		}
	})
	t.Run("options without credentials", func(t *testing.T) {
		r := s.Do(t, "", http.MethodOptions, "/dav/calendars/alice/", "")
		wantStatus(t, r, http.StatusOK)
		if dav := r.Header.Get("DAV"); !strings.Contains(dav, "calendar-access") {
			t.Fatalf("DAV = %q, want calendar-access", dav)
		}
	})
}

func TestCalendarProperties(t *testing.T) {
	s := caltest.New(t, "alice")
	r := propfind(t, s, "alice", personal, "0",
		"<d:resourcetype/>", "<c:supported-calendar-component-set/>", "<d:supported-report-set/>",
		"<d:current-user-privilege-set/>", "<d:owner/>", "<cs:getctag/>", "<d:sync-token/>",
		"<c:max-resource-size/>", "<d:current-user-principal/>", "<x:nope xmlns:x=\"urn:x\"/>")
	wantStatus(t, r, http.StatusMultiStatus)
	resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
	rt, _ := resp.Prop(nsDAV, "resourcetype")
	if !rt.Has(nsCalDAV, "calendar") || !rt.Has(nsDAV, "collection") {
		t.Errorf("resourcetype = %+v, want collection+calendar", rt)
	}
	priv, _ := resp.Prop(nsDAV, "current-user-privilege-set")
	var hasWrite bool
	for _, p := range priv.Children {
		if p.Has(nsDAV, "write") {
			hasWrite = true
		}
	}
	if !hasWrite {
		t.Errorf("current-user-privilege-set lacks write: %+v", priv)
	}
	reports, _ := resp.Prop(nsDAV, "supported-report-set")
	if got := len(reports.Children); got < 3 {
		t.Errorf("supported-report-set has %d reports, want >= 3", got)
	}
	ctag, _ := resp.Prop(nsCS, "getctag")
	token, _ := resp.Prop(nsDAV, "sync-token")
	if ctag.Text == "" || token.Text == "" {
		t.Errorf("getctag %q, sync-token %q: want both set", ctag.Text, token.Text)
	}
	if st := resp.PropStatus("urn:x", "nope"); !strings.Contains(st, " 404 ") {
		t.Errorf("unknown property status = %q, want 404", st)
	}
	if _, ok := resp.Prop(nsDAV, "owner"); !ok {
		t.Errorf("no owner property")
	}

	t.Run("depth infinity refused", func(t *testing.T) {
		r := propfind(t, s, "alice", personal, "infinity", "<d:getetag/>")
		wantCondition(t, r, http.StatusForbidden, nsDAV, "propfind-finite-depth")
	})
	t.Run("Brief leaves out 404s", func(t *testing.T) {
		body := `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><x:nope xmlns:x="urn:x"/></d:prop></d:propfind>`
		r := s.Do(t, "alice", "PROPFIND", personal, body, "Depth", "0", "Brief", "t")
		wantStatus(t, r, http.StatusMultiStatus)
		resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
		if st := resp.PropStatus("urn:x", "nope"); st != "" {
			t.Errorf("with Brief: t the unknown property is still reported (%s)", st)
		}
	})
}

func TestObjectLifecycle(t *testing.T) {
	s := caltest.New(t, "alice")
	path := personal + "lunch.ics"
	body := event("lunch-1", "Lunch", "20260310T120000Z", "20260310T130000Z")

	r := put(t, s, "alice", path, body, "If-None-Match", "*")
	wantStatus(t, r, http.StatusCreated)
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("PUT ETag = %q, want a strong ETag", etag)
	}

	t.Run("GET returns the stored bytes", func(t *testing.T) {
		r := s.Do(t, "alice", http.MethodGet, path, "")
		wantStatus(t, r, http.StatusOK)
		if r.Body != body || r.Header.Get("ETag") != etag {
			t.Fatalf("GET = %q (ETag %s), want the PUT body (ETag %s)", r.Body, r.Header.Get("ETag"), etag)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/calendar") {
			t.Fatalf("Content-Type = %q", ct)
		}
		r = s.Do(t, "alice", http.MethodGet, path, "", "If-None-Match", etag)
		wantStatus(t, r, http.StatusNotModified)
		r = s.Do(t, "alice", http.MethodHead, path, "")
		if r.StatusCode != http.StatusOK || r.Body != "" {
			t.Fatalf("HEAD = %d with %d body bytes, want 200 and none", r.StatusCode, len(r.Body))
		}
	})
	t.Run("If-None-Match * on an existing object", func(t *testing.T) {
		wantStatus(t, put(t, s, "alice", path, body, "If-None-Match", "*"), http.StatusPreconditionFailed)
	})
	t.Run("stale If-Match", func(t *testing.T) {
		wantStatus(t, put(t, s, "alice", path, body, "If-Match", `"stale"`), http.StatusPreconditionFailed)
		wantStatus(t, s.Do(t, "alice", http.MethodDelete, path, "", "If-Match", `"stale"`), http.StatusPreconditionFailed)
	})
	var newETag string
	t.Run("replace with If-Match", func(t *testing.T) {
		changed := event("lunch-1", "Long lunch", "20260310T120000Z", "20260310T140000Z")
		r := put(t, s, "alice", path, changed, "If-Match", etag)
		wantStatus(t, r, http.StatusNoContent)
		newETag = r.Header.Get("ETag")
		if newETag == "" || newETag == etag {
			t.Fatalf("replace ETag = %q, want a new one (old %s)", newETag, etag)
		}
	})
	t.Run("delete with If-Match", func(t *testing.T) {
		wantStatus(t, s.Do(t, "alice", http.MethodDelete, path, "", "If-Match", newETag), http.StatusNoContent)
		wantStatus(t, s.Do(t, "alice", http.MethodGet, path, ""), http.StatusNotFound)
		wantStatus(t, s.Do(t, "alice", http.MethodDelete, path, ""), http.StatusNotFound)
	})
	t.Run("PUT into a missing calendar", func(t *testing.T) {
		wantStatus(t, put(t, s, "alice", "/dav/calendars/alice/nope/x.ics", body), http.StatusConflict)
	})
	t.Run("a repaired object gets no ETag on PUT", func(t *testing.T) {
		noStamp := strings.Replace(event("stampless", "x", "20260310T120000Z", "20260310T130000Z"), "DTSTAMP:20260101T000000Z\r\n", "", 1)
		r := put(t, s, "alice", personal+"stampless.ics", noStamp)
		wantStatus(t, r, http.StatusCreated)
		if r.Header.Get("ETag") != "" {
			t.Fatalf("ETag %q on a PUT whose body was changed (RFC 4791 §5.3.4)", r.Header.Get("ETag"))
		}
		got := s.Do(t, "alice", http.MethodGet, personal+"stampless.ics", "")
		if !strings.Contains(got.Body, "DTSTAMP:") {
			t.Fatalf("stored object has no DTSTAMP:\n%s", got.Body)
		}
	})
}

// TestPutRejectsBadInput checks each CalDAV precondition of RFC 4791
// §5.3.2.1 and that a rejected PUT changes nothing.
func TestPutRejectsBadInput(t *testing.T) {
	s := caltest.New(t, "alice")
	wantStatus(t, put(t, s, "alice", personal+"taken.ics", event("taken", "x", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)
	if r := s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/events-only/",
		`<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`); r.StatusCode != http.StatusCreated {
		t.Fatalf("MKCALENDAR = %d\n%s", r.StatusCode, r.Body)
	}
	before := propfind(t, s, "alice", personal, "0", "<d:sync-token/>").Body

	cases := []struct {
		name, path, body string
		headers          []string
		status           int
		space, cond      string
	}{
		{"not iCalendar", personal + "a.ics", "hello", nil, 403, nsCalDAV, "valid-calendar-data"},
		{"unterminated", personal + "a.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n", nil, 403, nsCalDAV, "valid-calendar-data"},
		{"NUL byte", personal + "a.ics", event("n", "a\x00b", "20260310T120000Z", "20260310T130000Z"), nil, 403, nsCalDAV, "valid-calendar-data"},
		{"bad UTF-8", personal + "a.ics", event("u", "\xff\xfe", "20260310T120000Z", "20260310T130000Z"), nil, 403, nsCalDAV, "valid-calendar-data"},
		{"METHOD", personal + "a.ics", strings.Replace(event("m", "x", "20260310T120000Z", "20260310T130000Z"), "VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST", 1), nil, 403, nsCalDAV, "valid-calendar-object-resource"},
		{"no UID", personal + "a.ics", strings.Replace(event("", "x", "20260310T120000Z", "20260310T130000Z"), "UID:\r\n", "", 1), nil, 403, nsCalDAV, "valid-calendar-object-resource"},
		{"two UIDs", personal + "a.ics", strings.Replace(event("one", "x", "20260310T120000Z", "20260310T130000Z"), "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:two\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260311T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1), nil, 403, nsCalDAV, "valid-calendar-object-resource"},
		{"mixed components", personal + "a.ics", strings.Replace(event("mix", "x", "20260310T120000Z", "20260310T130000Z"), "END:VCALENDAR", "BEGIN:VTODO\r\nUID:mix\r\nDTSTAMP:20260101T000000Z\r\nEND:VTODO\r\nEND:VCALENDAR", 1), nil, 403, nsCalDAV, "valid-calendar-object-resource"},
		{"unsupported component", "/dav/calendars/alice/events-only/t.ics", todo("t1", "task"), nil, 403, nsCalDAV, "supported-calendar-component"},
		{"UID conflict", personal + "other.ics", event("taken", "x", "20260310T120000Z", "20260310T130000Z"), nil, 409, nsCalDAV, "no-uid-conflict"},
		{"too large", personal + "big.ics", event("big", strings.Repeat("x", 2<<20), "20260310T120000Z", "20260310T130000Z"), nil, 403, nsCalDAV, "max-resource-size"},
		{"wrong media type", personal + "a.ics", event("ct", "x", "20260310T120000Z", "20260310T130000Z"), []string{"Content-Type", "application/json"}, 415, nsCalDAV, "supported-calendar-data"},
		{"exploding rule", personal + "a.ics", event("boom", "x", "20260310T120000Z", "20260310T130000Z", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1"), nil, 403, nsCalDAV, ""},
		{"negative COUNT", personal + "a.ics", event("neg", "x", "20260310T120000Z", "20260310T130000Z", "RRULE:FREQ=DAILY;COUNT=-1"), nil, 403, nsCalDAV, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := put(t, s, "alice", tc.path, tc.body, tc.headers...)
			if tc.cond == "" {
				wantStatus(t, r, tc.status)
				if got := caltest.ErrorCondition(r.Body); got.Space != tc.space {
					t.Fatalf("precondition = %v, want one in %s\n%s", got, tc.space, r.Body)
				}
			} else {
				wantCondition(t, r, tc.status, tc.space, tc.cond)
			}
			if tc.cond == "no-uid-conflict" && !strings.Contains(r.Body, personal+"taken.ics") {
				t.Errorf("no-uid-conflict body does not name the conflicting href:\n%s", r.Body)
			}
			wantStatus(t, s.Do(t, "alice", http.MethodGet, tc.path, ""), http.StatusNotFound)
		})
	}
	if after := propfind(t, s, "alice", personal, "0", "<d:sync-token/>").Body; after != before {
		t.Fatalf("rejected PUTs changed the calendar's sync token:\n%s\n%s", before, after)
	}
}

func TestMkcalendarAndProppatch(t *testing.T) {
	s := caltest.New(t, "alice")
	const work = "/dav/calendars/alice/work/"
	body := `<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:ical="http://apple.com/ns/ical/">
<d:set><d:prop><d:displayname>Work</d:displayname><c:calendar-description>Office</c:calendar-description>
<ical:calendar-color>#FF0000FF</ical:calendar-color>
<c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`
	wantStatus(t, s.Do(t, "alice", "MKCALENDAR", work, body), http.StatusCreated)
	wantCondition(t, s.Do(t, "alice", "MKCALENDAR", work, body), http.StatusForbidden, nsDAV, "resource-must-be-null")

	r := propfind(t, s, "alice", work, "0", "<d:displayname/>", "<c:calendar-description/>", "<ical:calendar-color/>", "<c:supported-calendar-component-set/>")
	resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
	if p, _ := resp.Prop(nsDAV, "displayname"); p.Text != "Work" {
		t.Errorf("displayname = %q, want Work", p.Text)
	}
	if p, _ := resp.Prop(nsApple, "calendar-color"); p.Text != "#FF0000FF" {
		t.Errorf("calendar-color = %q", p.Text)
	}
	if p, _ := resp.Prop(nsCalDAV, "supported-calendar-component-set"); len(p.Children) != 1 {
		t.Errorf("supported-calendar-component-set = %+v, want VTODO only", p)
	}

	t.Run("extended MKCOL", func(t *testing.T) {
		body := `<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype><d:displayname>Ext</d:displayname></d:prop></d:set></d:mkcol>`
		wantStatus(t, s.Do(t, "alice", "MKCOL", "/dav/calendars/alice/ext/", body), http.StatusCreated)
		wantStatus(t, s.Do(t, "alice", "MKCOL", "/dav/calendars/alice/ext/", ""), http.StatusMethodNotAllowed)
	})
	t.Run("no calendar inside a calendar", func(t *testing.T) {
		wantCondition(t, s.Do(t, "alice", "MKCALENDAR", work+"inner/", ""), http.StatusForbidden, nsCalDAV, "calendar-collection-location-ok")
	})
	t.Run("missing parent", func(t *testing.T) {
		wantStatus(t, s.Do(t, "alice", "MKCOL", "/dav/calendars/alice/nonesuch/foo/", ""), http.StatusConflict)
		wantStatus(t, s.Do(t, "alice", "MKCOL", work+"a/b/", ""), http.StatusConflict)
		wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/bob/x/", ""), http.StatusConflict)
	})
	t.Run("MKCOL with a body that is not XML", func(t *testing.T) {
		wantStatus(t, s.Do(t, "alice", "MKCOL", "/dav/calendars/alice/weird/", "afafafaf", "Content-Type", "xzy-foo/bar-512"), http.StatusUnsupportedMediaType)
		wantStatus(t, propfind(t, s, "alice", "/dav/calendars/alice/weird/", "0", "<d:displayname/>"), http.StatusNotFound)
	})
	t.Run("PROPPATCH sets and removes", func(t *testing.T) {
		body := `<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:x="urn:example"><d:set><d:prop><d:displayname>Work 2</d:displayname><x:dead>kept</x:dead></d:prop></d:set><d:remove><d:prop><c:calendar-description/></d:prop></d:remove></d:propertyupdate>`
		r := s.Do(t, "alice", "PROPPATCH", work, body)
		wantStatus(t, r, http.StatusMultiStatus)
		resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
		if st := resp.PropStatus(nsDAV, "displayname"); !strings.Contains(st, " 200 ") {
			t.Fatalf("displayname status %q\n%s", st, r.Body)
		}
		r = propfind(t, s, "alice", work, "0", "<d:displayname/>", "<c:calendar-description/>", `<x:dead xmlns:x="urn:example"/>`)
		resp = caltest.ParseMultistatus(t, r.Body).Responses[0]
		if p, _ := resp.Prop(nsDAV, "displayname"); p.Text != "Work 2" {
			t.Errorf("displayname = %q, want Work 2", p.Text)
		}
		if p, ok := resp.Prop("urn:example", "dead"); !ok || p.Text != "kept" {
			t.Errorf("dead property = %+v, want kept", p)
		}
		if _, ok := resp.Prop(nsCalDAV, "calendar-description"); ok {
			t.Errorf("calendar-description still set after remove")
		}
	})
	t.Run("calendar colours", func(t *testing.T) {
		for _, tc := range []struct {
			color, status string
		}{{"#3A87AD", " 200 "}, {"#3A87ADFF", " 200 "}, {"turquoise", " 200 "}, {"#12", " 403 "}, {"red; x", " 403 "}} {
			body := `<d:propertyupdate xmlns:d="DAV:" xmlns:ical="http://apple.com/ns/ical/"><d:set><d:prop><ical:calendar-color>` + tc.color + `</ical:calendar-color></d:prop></d:set></d:propertyupdate>`
			r := s.Do(t, "alice", "PROPPATCH", work, body)
			if st := caltest.ParseMultistatus(t, r.Body).Responses[0].PropStatus(nsApple, "calendar-color"); !strings.Contains(st, tc.status) {
				t.Errorf("calendar-color %q: status %q, want%s", tc.color, st, tc.status)
			}
		}
	})
	t.Run("PROPPATCH is all or nothing", func(t *testing.T) {
		body := `<d:propertyupdate xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:set><d:prop><d:displayname>Never</d:displayname><cs:getctag>forged</cs:getctag></d:prop></d:set></d:propertyupdate>`
		r := s.Do(t, "alice", "PROPPATCH", work, body)
		wantStatus(t, r, http.StatusMultiStatus)
		resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
		if st := resp.PropStatus(nsCS, "getctag"); !strings.Contains(st, " 403 ") {
			t.Errorf("getctag status = %q, want 403", st)
		}
		if st := resp.PropStatus(nsDAV, "displayname"); !strings.Contains(st, " 424 ") {
			t.Errorf("displayname status = %q, want 424", st)
		}
		r = propfind(t, s, "alice", work, "0", "<d:displayname/>")
		if p, _ := caltest.ParseMultistatus(t, r.Body).Responses[0].Prop(nsDAV, "displayname"); p.Text != "Work 2" {
			t.Errorf("displayname = %q after a failed PROPPATCH, want Work 2", p.Text)
		}
	})
	t.Run("DELETE a calendar with its objects", func(t *testing.T) {
		wantStatus(t, put(t, s, "alice", work+"t.ics", todo("task-1", "Task")), http.StatusCreated)
		wantStatus(t, s.Do(t, "alice", http.MethodDelete, work, ""), http.StatusNoContent)
		wantStatus(t, s.Do(t, "alice", http.MethodGet, work+"t.ics", ""), http.StatusNotFound)
		wantStatus(t, propfind(t, s, "alice", work, "0", "<d:displayname/>"), http.StatusNotFound)
	})
}

func syncReport(token string, limit int) string {
	lim := ""
	if limit > 0 {
		lim = fmt.Sprintf("<d:limit><d:nresults>%d</d:nresults></d:limit>", limit)
	}
	return `<d:sync-collection xmlns:d="DAV:"><d:sync-token>` + token + `</d:sync-token><d:sync-level>1</d:sync-level>` + lim + `<d:prop><d:getetag/></d:prop></d:sync-collection>`
}

func TestSyncCollection(t *testing.T) {
	s := caltest.New(t, "alice")
	for i := range 5 {
		wantStatus(t, put(t, s, "alice", fmt.Sprintf("%se%d.ics", personal, i), event(fmt.Sprintf("e%d", i), "x", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)
	}
	r := s.Do(t, "alice", "REPORT", personal, syncReport("", 0), "Depth", "1")
	wantStatus(t, r, http.StatusMultiStatus)
	initial := caltest.ParseMultistatus(t, r.Body)
	if len(initial.Responses) != 5 || initial.SyncToken == "" {
		t.Fatalf("initial sync: %d responses, token %q; want 5 and a token", len(initial.Responses), initial.SyncToken)
	}

	wantStatus(t, put(t, s, "alice", personal+"e1.ics", event("e1", "changed", "20260310T120000Z", "20260310T130000Z")), http.StatusNoContent)
	wantStatus(t, s.Do(t, "alice", http.MethodDelete, personal+"e2.ics", ""), http.StatusNoContent)
	wantStatus(t, put(t, s, "alice", personal+"e9.ics", event("e9", "new", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)

	r = s.Do(t, "alice", "REPORT", personal, syncReport(initial.SyncToken, 0), "Depth", "1")
	wantStatus(t, r, http.StatusMultiStatus)
	delta := caltest.ParseMultistatus(t, r.Body)
	got := map[string]string{}
	for _, resp := range delta.Responses {
		if resp.Status != "" {
			got[resp.Href] = "deleted"
		} else if _, ok := resp.Prop(nsDAV, "getetag"); ok {
			got[resp.Href] = "changed"
		}
	}
	want := map[string]string{personal + "e1.ics": "changed", personal + "e2.ics": "deleted", personal + "e9.ics": "changed"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delta = %v, want %v\n%s", got, want, r.Body)
	}
	if delta.SyncToken == initial.SyncToken {
		t.Fatalf("token did not advance")
	}

	t.Run("limit pages through everything once", func(t *testing.T) {
		seen := map[string]int{}
		token := ""
		for page := 0; page < 10; page++ {
			r := s.Do(t, "alice", "REPORT", personal, syncReport(token, 2), "Depth", "1")
			wantStatus(t, r, http.StatusMultiStatus)
			ms := caltest.ParseMultistatus(t, r.Body)
			truncated := false
			for _, resp := range ms.Responses {
				switch {
				case resp.Href == personal:
					truncated = strings.Contains(resp.Status, " 507 ")
				case resp.Status != "":
					// A deletion of a name this client never saw:
					// RFC 6578 §3.5.2 lets it ignore the 404.
				default:
					seen[resp.Href]++
				}
			}
			token = ms.SyncToken
			if !truncated {
				break
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paged sync saw %v, want the 5 live objects once each", seen)
		}
		for h, n := range seen {
			if n != 1 {
				t.Errorf("%s seen %d times", h, n)
			}
		}
	})
	t.Run("invalid tokens", func(t *testing.T) {
		wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/other/", ""), http.StatusCreated)
		other := propfind(t, s, "alice", "/dav/calendars/alice/other/", "0", "<d:sync-token/>")
		otherToken, _ := caltest.ParseMultistatus(t, other.Body).Responses[0].Prop(nsDAV, "sync-token")
		for _, tok := range []string{"garbage", otherToken.Text, strings.TrimSuffix(delta.SyncToken, "9") + "99999"} {
			r := s.Do(t, "alice", "REPORT", personal, syncReport(tok, 0), "Depth", "1")
			wantCondition(t, r, http.StatusForbidden, nsDAV, "valid-sync-token")
		}
	})
}

func calendarQuery(start, end string) string {
	return `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop>` +
		`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="` + start + `" end="` + end + `"/>` +
		`</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
}

func hrefs(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, r := range caltest.ParseMultistatus(t, body).Responses {
		out = append(out, r.Href)
	}
	return out
}

func TestCalendarQueryTimeRange(t *testing.T) {
	s := caltest.New(t, "alice")
	objs := map[string]string{
		"single.ics": event("single", "x", "20260310T120000Z", "20260310T130000Z"),
		"weekly.ics": event("weekly", "x", "20260302T090000Z", "20260302T100000Z", "RRULE:FREQ=WEEKLY;COUNT=10", "EXDATE:20260316T090000Z"),
		"allday.ics": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:allday\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20260320\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"task.ics":   todo("task", "x"),
	}
	for name, body := range objs {
		wantStatus(t, put(t, s, "alice", personal+name, body), http.StatusCreated)
	}
	cases := []struct {
		name, start, end string
		want             []string
	}{
		{"week with the single event", "20260309T000000Z", "20260316T000000Z", []string{"single.ics", "weekly.ics"}},
		{"excluded instance only", "20260316T000000Z", "20260317T000000Z", nil},
		{"ends exactly at range start", "20260310T130000Z", "20260310T140000Z", nil},
		{"starts exactly at range end", "20260310T110000Z", "20260310T120000Z", nil},
		{"all-day event", "20260320T100000Z", "20260320T110000Z", []string{"allday.ics"}},
		{"after the last instance", "20260601T000000Z", "20260701T000000Z", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, "alice", "REPORT", personal, calendarQuery(tc.start, tc.end), "Depth", "1")
			wantStatus(t, r, http.StatusMultiStatus)
			got := hrefs(t, r.Body)
			var want []string
			for _, w := range tc.want {
				want = append(want, personal+w)
			}
			if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
				t.Fatalf("calendar-query [%s,%s) = %v, want %v", tc.start, tc.end, got, want)
			}
		})
	}
	t.Run("invalid time-range", func(t *testing.T) {
		r := s.Do(t, "alice", "REPORT", personal, calendarQuery("yesterday", "20260101T000000Z"), "Depth", "1")
		wantCondition(t, r, http.StatusForbidden, nsCalDAV, "valid-filter")
	})
	t.Run("text-match", func(t *testing.T) {
		wantStatus(t, put(t, s, "alice", personal+"dentist.ics", event("dentist", "Dentist appointment", "20260410T120000Z", "20260410T130000Z")), http.StatusCreated)
		body := `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match>DENTIST</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
		r := s.Do(t, "alice", "REPORT", personal, body, "Depth", "1")
		wantStatus(t, r, http.StatusMultiStatus)
		if got := hrefs(t, r.Body); len(got) != 1 || got[0] != personal+"dentist.ics" {
			t.Fatalf("text-match DENTIST = %v, want dentist.ics", got)
		}
		octet := strings.Replace(body, "<c:text-match>", `<c:text-match collation="i;octet">`, 1)
		r = s.Do(t, "alice", "REPORT", personal, octet, "Depth", "1")
		wantStatus(t, r, http.StatusMultiStatus)
		if got := hrefs(t, r.Body); len(got) != 0 {
			t.Fatalf("text-match DENTIST with i;octet = %v, want nothing (case-sensitive)", got)
		}
		bad := strings.Replace(body, "<c:text-match>", `<c:text-match collation="i;klingon">`, 1)
		wantCondition(t, s.Do(t, "alice", "REPORT", personal, bad, "Depth", "1"), http.StatusForbidden, nsCalDAV, "supported-collation")
	})
	t.Run("go-webdav client query", func(t *testing.T) {
		c := s.Client(t, "alice")
		objs, err := c.QueryCalendar(caltest.Context(), personal, queryVTODO())
		if err != nil || len(objs) != 1 || objs[0].Path != personal+"task.ics" || objs[0].Data == nil {
			t.Fatalf("QueryCalendar(VTODO) = %+v, %v; want task.ics with data", objs, err)
		}
	})
}

func TestMultiget(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	wantStatus(t, put(t, s, "alice", personal+"a.ics", event("a", "x", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)
	wantStatus(t, put(t, s, "bob", "/dav/calendars/bob/personal/b.ics", event("b", "bob secret", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)
	body := `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>` +
		`<d:href>` + personal + `a.ics</d:href><d:href>` + personal + `missing.ics</d:href><d:href>/dav/calendars/bob/personal/b.ics</d:href></c:calendar-multiget>`
	r := s.Do(t, "alice", "REPORT", personal, body, "Depth", "1")
	wantStatus(t, r, http.StatusMultiStatus)
	if strings.Contains(r.Body, "bob secret") {
		t.Fatalf("multiget leaked bob's event:\n%s", r.Body)
	}
	ms := caltest.ParseMultistatus(t, r.Body)
	a, _ := ms.Response(personal + "a.ics")
	if d, ok := a.Prop(nsCalDAV, "calendar-data"); !ok || !strings.Contains(d.Text, "UID:a") {
		t.Errorf("a.ics calendar-data = %q", d.Text)
	}
	for _, h := range []string{personal + "missing.ics", "/dav/calendars/bob/personal/b.ics"} {
		resp, ok := ms.Response(h)
		if !ok || !strings.Contains(resp.Status, " 404 ") {
			t.Errorf("%s: %+v, want 404", h, resp)
		}
	}
}

func TestMoveAndCopy(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/work/", ""), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", personal+"m.ics", event("m", "x", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)

	r := s.Do(t, "alice", "MOVE", personal+"m.ics", "", "Destination", s.URL+"/dav/calendars/alice/work/m.ics")
	wantStatus(t, r, http.StatusCreated)
	wantStatus(t, s.Do(t, "alice", http.MethodGet, personal+"m.ics", ""), http.StatusNotFound)
	wantStatus(t, s.Do(t, "alice", http.MethodGet, "/dav/calendars/alice/work/m.ics", ""), http.StatusOK)

	r = s.Do(t, "alice", "COPY", "/dav/calendars/alice/work/m.ics", "", "Destination", "/dav/calendars/alice/personal/m.ics")
	wantStatus(t, r, http.StatusCreated)
	r = s.Do(t, "alice", "COPY", "/dav/calendars/alice/work/m.ics", "", "Destination", "/dav/calendars/alice/personal/m.ics", "Overwrite", "F")
	wantStatus(t, r, http.StatusPreconditionFailed)
	r = s.Do(t, "alice", "MOVE", "/dav/calendars/alice/work/m.ics", "", "Destination", "/dav/calendars/bob/personal/m.ics")
	wantStatus(t, r, http.StatusConflict)
	wantStatus(t, s.Do(t, "bob", http.MethodGet, "/dav/calendars/bob/personal/m.ics", ""), http.StatusNotFound)
}

func TestIsolation(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	wantStatus(t, put(t, s, "bob", "/dav/calendars/bob/personal/secret.ics", event("secret", "bob secret", "20260310T120000Z", "20260310T130000Z")), http.StatusCreated)
	for _, path := range []string{"/dav/principals/bob/", "/dav/calendars/bob/", "/dav/calendars/bob/personal/", "/dav/calendars/bob/personal/secret.ics"} {
		missing := strings.Replace(path, "bob", "nobody", 1)
		for _, method := range []string{"GET", "PROPFIND", "DELETE", "PROPPATCH", "REPORT"} {
			t.Run(method+" "+path, func(t *testing.T) {
				a := s.Do(t, "alice", method, path, "", "Depth", "0")
				b := s.Do(t, "alice", method, missing, "", "Depth", "0")
				if a.StatusCode != b.StatusCode || a.StatusCode/100 == 2 {
					t.Fatalf("%s %s = %d, %s %s = %d: want the same non-2xx", method, path, a.StatusCode, method, missing, b.StatusCode)
				}
				if strings.Contains(a.Body, "secret") {
					t.Fatalf("response leaks bob's data:\n%s", a.Body)
				}
			})
		}
	}
	wantStatus(t, put(t, s, "alice", "/dav/calendars/bob/personal/evil.ics", event("evil", "x", "20260310T120000Z", "20260310T130000Z")), http.StatusNotFound)
	wantStatus(t, s.Do(t, "bob", http.MethodGet, "/dav/calendars/bob/personal/secret.ics", ""), http.StatusOK)
}

func TestMethods(t *testing.T) {
	s := caltest.New(t, "alice")
	wantStatus(t, s.Do(t, "alice", "BREW", personal, ""), http.StatusNotImplemented)
	wantStatus(t, s.Do(t, "alice", "LOCK", personal, ""), http.StatusNotImplemented)
	r := s.Do(t, "alice", "REPORT", personal, `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260101T000000Z" end="20260102T000000Z"/></c:free-busy-query>`)
	if r.StatusCode >= 500 {
		t.Fatalf("REPORT free-busy-query = %d", r.StatusCode)
	}
	wantStatus(t, s.Do(t, "alice", "PROPFIND", personal, "<not-xml", "Depth", "0"), http.StatusBadRequest)
	emptyPrefix := `<propfind xmlns="DAV:"><prop><bar:foo xmlns:bar=""/></prop></propfind>`
	wantStatus(t, s.Do(t, "alice", "PROPFIND", personal, emptyPrefix, "Depth", "0"), http.StatusBadRequest)
	deep := strings.Repeat("<d:prop xmlns:d=\"DAV:\">", 100) + strings.Repeat("</d:prop>", 100)
	wantStatus(t, s.Do(t, "alice", "PROPFIND", personal, deep, "Depth", "0"), http.StatusRequestEntityTooLarge)
	wantStatus(t, s.Do(t, "alice", "PROPFIND", personal, "", "Depth", "2"), http.StatusBadRequest)
}

func queryVTODO() *gocaldav.CalendarQuery {
	return &gocaldav.CalendarQuery{
		CompRequest: gocaldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true},
		CompFilter:  gocaldav.CompFilter{Name: "VCALENDAR", Comps: []gocaldav.CompFilter{{Name: "VTODO"}}},
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestCalendarQueryExpand checks CALDAV:expand (RFC 4791 §9.6.5): one
// component per instance in the window, in UTC, with RECURRENCE-ID and no
// recurrence properties.
func TestCalendarQueryExpand(t *testing.T) {
	s := caltest.New(t, "alice")
	weekly := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:standup\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART;TZID=Europe/Berlin:20260302T090000\r\nDTEND;TZID=Europe/Berlin:20260302T093000\r\nSUMMARY:Standup\r\n" +
		"RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20260316T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	wantStatus(t, put(t, s, "alice", personal+"standup.ics", weekly), http.StatusCreated)
	body := `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data><c:expand start="20260301T000000Z" end="20260405T000000Z"/></c:calendar-data></d:prop>` +
		`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260301T000000Z" end="20260405T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
	r := s.Do(t, "alice", "REPORT", personal, body, "Depth", "1")
	wantStatus(t, r, http.StatusMultiStatus)
	ms := caltest.ParseMultistatus(t, r.Body)
	if len(ms.Responses) != 1 {
		t.Fatalf("expand query: %d responses, want 1", len(ms.Responses))
	}
	data, _ := ms.Responses[0].Prop(nsCalDAV, "calendar-data")
	// Mondays 2, 9, 23, 30 March (16 March excluded); Berlin switches to
	// summer time on 29 March, so the last one starts at 07:00 UTC.
	want := []string{"RECURRENCE-ID:20260302T080000Z", "RECURRENCE-ID:20260309T080000Z",
		"RECURRENCE-ID:20260323T080000Z", "DTSTART:20260330T070000Z"}
	for _, w := range want {
		if !strings.Contains(data.Text, w) {
			t.Errorf("expanded data lacks %q:\n%s", w, data.Text)
		}
	}
	if n := strings.Count(data.Text, "BEGIN:VEVENT"); n != 4 {
		t.Errorf("expanded data has %d VEVENTs, want 4:\n%s", n, data.Text)
	}
	for _, gone := range []string{"RRULE", "EXDATE", "TZID"} {
		if strings.Contains(data.Text, gone) {
			t.Errorf("expanded data still has %s:\n%s", gone, data.Text)
		}
	}
}

// TestReviewFindings pins the fixes of a code review: each case failed
// before.
func TestReviewFindings(t *testing.T) {
	s := caltest.New(t, "alice")
	ev := event("r1", "x", "20260310T120000Z", "20260310T130000Z")
	wantStatus(t, put(t, s, "alice", personal+"r1.ics", ev), http.StatusCreated)
	wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/work/", ""), http.StatusCreated)

	t.Run("dead property value keeps its namespaces", func(t *testing.T) {
		body := `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/ns"><D:set><D:prop><Z:Author><Z:Name>Jim</Z:Name></Z:Author></D:prop></D:set></D:propertyupdate>`
		wantStatus(t, s.Do(t, "alice", "PROPPATCH", personal, body), http.StatusMultiStatus)
		r := propfind(t, s, "alice", personal, "0", `<z:Author xmlns:z="http://example.com/ns"/>`)
		p, ok := caltest.ParseMultistatus(t, r.Body).Responses[0].Prop("http://example.com/ns", "Author")
		if !ok || len(p.Children) != 1 || p.Children[0].XMLName.Space != "http://example.com/ns" || p.Children[0].Text != "Jim" {
			t.Fatalf("Author = %+v, want a Name child in http://example.com/ns holding Jim\n%s", p, r.Body)
		}
	})
	t.Run("dead property namespace with a brace", func(t *testing.T) {
		body := `<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:a}b"><d:set><d:prop><z:foo>v</z:foo></d:prop></d:set></d:propertyupdate>`
		wantStatus(t, s.Do(t, "alice", "PROPPATCH", personal, body), http.StatusMultiStatus)
		r := s.Do(t, "alice", "PROPFIND", personal, "", "Depth", "0")
		if p, ok := caltest.ParseMultistatus(t, r.Body).Responses[0].Prop("urn:a}b", "foo"); !ok || p.Text != "v" {
			t.Fatalf("allprop lacks {urn:a}b}foo = v:\n%s", r.Body)
		}
	})
	t.Run("dead property names are bounded", func(t *testing.T) {
		body := `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><foo xmlns="urn:` + strings.Repeat("a", 8000) + `">x</foo></d:prop></d:set></d:propertyupdate>`
		r := s.Do(t, "alice", "PROPPATCH", personal, body)
		wantStatus(t, r, http.StatusMultiStatus)
		if !strings.Contains(r.Body, " 507 ") {
			t.Fatalf("an 8 KB property name was stored:\n%.300s", r.Body)
		}
	})
	t.Run("MOVE honours If-Match on the source", func(t *testing.T) {
		r := s.Do(t, "alice", "MOVE", personal+"r1.ics", "", "Destination", "/dav/calendars/alice/work/r1.ics", "If-Match", `"nope"`)
		wantStatus(t, r, http.StatusPreconditionFailed)
		wantStatus(t, s.Do(t, "alice", http.MethodGet, personal+"r1.ics", ""), http.StatusOK)
		wantStatus(t, s.Do(t, "alice", http.MethodGet, "/dav/calendars/alice/work/r1.ics", ""), http.StatusNotFound)
	})
	t.Run("Destination on another server", func(t *testing.T) {
		r := s.Do(t, "alice", "COPY", personal+"r1.ics", "", "Destination", "http://elsewhere.example/dav/calendars/alice/work/r1.ics")
		wantStatus(t, r, http.StatusBadGateway)
	})
	t.Run("Destination through a proxy that rewrites Host", func(t *testing.T) {
		r := s.Do(t, "alice", "COPY", personal+"r1.ics", "", "Destination", "https://cal.example.com/dav/calendars/alice/work/r1.ics",
			"X-Forwarded-Host", "cal.example.com")
		wantStatus(t, r, http.StatusCreated)
		wantStatus(t, s.Do(t, "alice", http.MethodDelete, "/dav/calendars/alice/work/r1.ics", ""), http.StatusNoContent)
	})
	t.Run("control characters are refused", func(t *testing.T) {
		r := put(t, s, "alice", personal+"ctl.ics", event("ctl", "bell\x07", "20260310T120000Z", "20260310T130000Z"))
		wantCondition(t, r, http.StatusForbidden, nsCalDAV, "valid-calendar-data")
	})
	t.Run("GET with a failing If-Match", func(t *testing.T) {
		wantStatus(t, s.Do(t, "alice", http.MethodGet, personal+"r1.ics", "", "If-Match", `"nope"`), http.StatusPreconditionFailed)
	})
	t.Run("duplicate components of one UID", func(t *testing.T) {
		twoMasters := strings.Replace(ev, "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:r1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260311T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1)
		wantCondition(t, put(t, s, "alice", personal+"dup.ics", strings.Replace(twoMasters, "UID:r1", "UID:dup", -1)), http.StatusForbidden, nsCalDAV, "valid-calendar-object-resource")
		override := "BEGIN:VEVENT\r\nUID:rr\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260317T120000Z\r\nDTSTART:20260317T150000Z\r\nEND:VEVENT\r\n"
		twoOverrides := strings.Replace(event("rr", "x", "20260310T120000Z", "20260310T130000Z", "RRULE:FREQ=WEEKLY;COUNT=3"), "END:VCALENDAR", override+override+"END:VCALENDAR", 1)
		wantCondition(t, put(t, s, "alice", personal+"rr.ics", twoOverrides), http.StatusForbidden, nsCalDAV, "valid-calendar-object-resource")
	})
	t.Run("expand keeps a to-do's DUE per instance", func(t *testing.T) {
		task := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:chore\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20260105T090000Z\r\nDUE:20260105T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Chore\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
		wantStatus(t, put(t, s, "alice", personal+"chore.ics", task), http.StatusCreated)
		body := `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data><c:expand start="20260101T000000Z" end="20260110T000000Z"/></c:calendar-data></d:prop>` +
			`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"/></c:comp-filter></c:filter></c:calendar-query>`
		r := s.Do(t, "alice", "REPORT", personal, body, "Depth", "1")
		wantStatus(t, r, http.StatusMultiStatus)
		data, _ := caltest.ParseMultistatus(t, r.Body).Responses[0].Prop(nsCalDAV, "calendar-data")
		for _, due := range []string{"DUE:20260105T100000Z", "DUE:20260106T100000Z", "DUE:20260107T100000Z"} {
			if !strings.Contains(data.Text, due) {
				t.Errorf("expanded to-do lacks %s:\n%s", due, data.Text)
			}
		}
	})
	t.Run("DELETE a calendar with If-Match: *", func(t *testing.T) {
		wantStatus(t, s.Do(t, "alice", http.MethodDelete, "/dav/calendars/alice/work/", "", "If-Match", "*"), http.StatusNoContent)
	})
	t.Run("empty prop request still answers a propstat", func(t *testing.T) {
		r := s.Do(t, "alice", "PROPFIND", personal, `<d:propfind xmlns:d="DAV:"><d:prop/></d:propfind>`, "Depth", "0")
		wantStatus(t, r, http.StatusMultiStatus)
		if resp := caltest.ParseMultistatus(t, r.Body).Responses[0]; len(resp.Propstats) == 0 && resp.Status == "" {
			t.Fatalf("response without propstat or status (RFC 4918 §14.24):\n%s", r.Body)
		}
	})
	t.Run("malformed chunked body is the client's fault", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		auth := base64.StdEncoding.EncodeToString([]byte("alice:" + caltest.Password("alice")))
		fmt.Fprintf(conn, "PROPFIND %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nDepth: 0\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n", personal, auth)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("PROPFIND with a malformed chunk = %d, want 400", resp.StatusCode)
		}
	})
}

// TestPartialRetrieval checks calendar-data with comp/prop subsets
// (RFC 4791 §9.6.1): only what was asked for, plus what identifies the
// component.
func TestPartialRetrieval(t *testing.T) {
	s := caltest.New(t, "alice")
	full := event("part", "Summary kept", "20260310T120000Z", "20260310T130000Z",
		"LOCATION:Room dropped", "DESCRIPTION:Description dropped",
		"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nDESCRIPTION:alarm\r\nEND:VALARM")
	wantStatus(t, put(t, s, "alice", personal+"part.ics", full), http.StatusCreated)
	body := `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>` +
		`<c:calendar-data><c:comp name="VCALENDAR"><c:allprop/><c:comp name="VEVENT"><c:prop name="SUMMARY"/><c:prop name="DTSTART"/></c:comp></c:comp></c:calendar-data>` +
		`</d:prop><d:href>` + personal + `part.ics</d:href></c:calendar-multiget>`
	r := s.Do(t, "alice", "REPORT", personal, body, "Depth", "1")
	wantStatus(t, r, http.StatusMultiStatus)
	data, ok := caltest.ParseMultistatus(t, r.Body).Responses[0].Prop(nsCalDAV, "calendar-data")
	if !ok {
		t.Fatalf("no calendar-data:\n%s", r.Body)
	}
	for _, want := range []string{"SUMMARY:Summary kept", "DTSTART:20260310T120000Z", "UID:part", "PRODID:"} {
		if !strings.Contains(data.Text, want) {
			t.Errorf("partial data lacks %q:\n%s", want, data.Text)
		}
	}
	for _, gone := range []string{"LOCATION", "Description dropped", "VALARM", "DTEND"} {
		if strings.Contains(data.Text, gone) {
			t.Errorf("partial data still has %q:\n%s", gone, data.Text)
		}
	}
	t.Run("allcomp keeps the alarm", func(t *testing.T) {
		body := strings.Replace(body, `<c:prop name="SUMMARY"/>`, `<c:allcomp/><c:prop name="SUMMARY"/>`, 1)
		r := s.Do(t, "alice", "REPORT", personal, body, "Depth", "1")
		data, _ := caltest.ParseMultistatus(t, r.Body).Responses[0].Prop(nsCalDAV, "calendar-data")
		if !strings.Contains(data.Text, "BEGIN:VALARM") {
			t.Errorf("allcomp dropped the VALARM:\n%s", data.Text)
		}
	})
}

const berlinTZ = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n" +
	"BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n" +
	"BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\n" +
	"END:VTIMEZONE\r\nEND:VCALENDAR\r\n"

// TestFloatingTimesUseCalendarTimezone checks RFC 4791 §5.2.2 and §9.9:
// floating times are read in the calendar's calendar-timezone.
func TestFloatingTimesUseCalendarTimezone(t *testing.T) {
	s := caltest.New(t, "alice")
	set := func(tz string) *caltest.Response {
		body := `<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><c:calendar-timezone>` +
			strings.ReplaceAll(strings.ReplaceAll(tz, "&", "&amp;"), "<", "&lt;") + `</c:calendar-timezone></d:prop></d:set></d:propertyupdate>`
		return s.Do(t, "alice", "PROPPATCH", personal, body)
	}
	r := set("not a timezone")
	wantStatus(t, r, http.StatusMultiStatus)
	if st := caltest.ParseMultistatus(t, r.Body).Responses[0].PropStatus(nsCalDAV, "calendar-timezone"); !strings.Contains(st, " 403 ") {
		t.Fatalf("invalid calendar-timezone status = %q, want 403", st)
	}
	r = set(berlinTZ)
	if st := caltest.ParseMultistatus(t, r.Body).Responses[0].PropStatus(nsCalDAV, "calendar-timezone"); !strings.Contains(st, " 200 ") {
		t.Fatalf("calendar-timezone status = %q, want 200\n%s", st, r.Body)
	}
	tz, _ := caltest.ParseMultistatus(t, propfind(t, s, "alice", personal, "0", "<c:calendar-timezone/>").Body).Responses[0].Prop(nsCalDAV, "calendar-timezone")
	// XML normalises the raw CRLFs of the request to LF (XML 1.0 §2.11).
	if want := strings.ReplaceAll(berlinTZ, "\r\n", "\n"); tz.Text != want {
		t.Fatalf("calendar-timezone reads back as %q, want %q", tz.Text, want)
	}

	// 09:00 floating is 08:00 UTC in Berlin in March (CET, +01:00).
	wantStatus(t, put(t, s, "alice", personal+"float.ics", event("float", "x", "20260310T090000", "20260310T093000")), http.StatusCreated)
	for _, tc := range []struct {
		start, end string
		want       int
	}{
		{"20260310T080000Z", "20260310T081500Z", 1},
		{"20260310T090000Z", "20260310T091500Z", 0},
	} {
		r := s.Do(t, "alice", "REPORT", personal, calendarQuery(tc.start, tc.end), "Depth", "1")
		wantStatus(t, r, http.StatusMultiStatus)
		if got := len(hrefs(t, r.Body)); got != tc.want {
			t.Errorf("floating 09:00 Berlin vs [%s,%s): %d matches, want %d", tc.start, tc.end, got, tc.want)
		}
	}
}

func TestListingsAndPropname(t *testing.T) {
	s := caltest.New(t, "alice")
	wantStatus(t, s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/work/", ""), http.StatusCreated)

	t.Run("home lists its calendars", func(t *testing.T) {
		r := propfind(t, s, "alice", "/dav/calendars/alice/", "1", "<d:resourcetype/>", "<d:displayname/>")
		wantStatus(t, r, http.StatusMultiStatus)
		got := sorted(hrefs(t, r.Body))
		want := []string{"/dav/calendars/alice/", personal, "/dav/calendars/alice/work/"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("home Depth 1 = %v, want %v", got, want)
		}
	})
	t.Run("context path lists the user's collections only", func(t *testing.T) {
		r := propfind(t, s, "alice", "/dav/principals/", "1", "<d:resourcetype/>")
		wantStatus(t, r, http.StatusMultiStatus)
		if got := sorted(hrefs(t, r.Body)); fmt.Sprint(got) != fmt.Sprint([]string{"/dav/principals/", "/dav/principals/alice/"}) {
			t.Fatalf("principals Depth 1 = %v", got)
		}
	})
	t.Run("propname", func(t *testing.T) {
		r := s.Do(t, "alice", "PROPFIND", personal, `<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>`, "Depth", "0")
		wantStatus(t, r, http.StatusMultiStatus)
		resp := caltest.ParseMultistatus(t, r.Body).Responses[0]
		for _, p := range []struct{ space, local string }{{nsCS, "getctag"}, {nsDAV, "sync-token"}, {nsCalDAV, "supported-calendar-component-set"}} {
			if v, ok := resp.Prop(p.space, p.local); !ok || v.Text != "" || len(v.Children) != 0 {
				t.Errorf("propname lacks an empty %s element: %+v", p.local, v)
			}
		}
	})
}
