package caldav_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/internal/caltest"
	"github.com/calbolt/calbolt/store"
)

// Issue 5, "Isolation": nobody reads or changes what is not theirs, and
// another user's resources answer exactly like resources that do not exist.

// bobMark is in every piece of bob's data: his event's UID, SUMMARY,
// DESCRIPTION and LOCATION, his calendar's display name and description and
// a dead property. No response to alice may contain it.
const bobMark = "BOBMARK-7f3a"

// isoFixture is a server where alice and bob each have data, and the
// strings that must never reach alice.
type isoFixture struct {
	s       *caltest.Server
	secrets []string // bobMark, bob's ETags, sync token and calendar ID
}

func newIsoFixture(t *testing.T, cfg caltest.Config) *isoFixture {
	t.Helper()
	s := caltest.NewWith(t, cfg, "alice", "bob")
	wantStatus(t, put(t, s, "alice", personal+"mine.ics", event("alice-1", "alice's own", "20260310T080000Z", "20260310T083000Z")), http.StatusCreated)
	bobCal := "/dav/calendars/bob/personal/"
	wantStatus(t, put(t, s, "bob", bobCal+"secret.ics", event(bobMark+"-uid", bobMark+"-summary", "20260310T120000Z", "20260310T130000Z",
		"DESCRIPTION:"+bobMark+"-description", "LOCATION:"+bobMark+"-location")), http.StatusCreated)
	wantStatus(t, put(t, s, "bob", bobCal+"todo.ics", todo(bobMark+"-todo", bobMark+"-todo-summary")), http.StatusCreated)
	pp := `<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:z="urn:example:z"><d:set><d:prop>` +
		`<d:displayname>` + bobMark + `-displayname</d:displayname><c:calendar-description>` + bobMark + `-calendar-description</c:calendar-description>` +
		`<z:note>` + bobMark + `-dead-property</z:note></d:prop></d:set></d:propertyupdate>`
	wantStatus(t, s.Do(t, "bob", "PROPPATCH", bobCal, pp), http.StatusMultiStatus)

	f := &isoFixture{s: s, secrets: []string{bobMark}}
	cal, err := s.DB.Calendar("bob", "personal")
	if err != nil {
		t.Fatal(err)
	}
	f.secrets = append(f.secrets, cal.SyncToken(), cal.ID)
	infos, err := s.DB.ObjectInfos("bob", "personal")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range infos {
		f.secrets = append(f.secrets, o.ETag)
	}
	return f
}

// noLeak fails when r's body or headers hold any of bob's data.
func (f *isoFixture) noLeak(t *testing.T, what string, r *caltest.Response) {
	t.Helper()
	var hdr strings.Builder
	for k, vs := range r.Header {
		fmt.Fprintf(&hdr, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	for _, s := range f.secrets {
		for place, text := range map[string]string{"body": r.Body, "headers": hdr.String()} {
			if strings.Contains(strings.ToLower(text), strings.ToLower(s)) {
				t.Fatalf("%s: response %s leaks bob's %q:\n%s\n%s", what, place, s, hdr.String(), r.Body)
			}
		}
	}
}

// storeState renders what the store holds for users: every calendar with
// its properties, sync sequence and modification time, and every object's
// name and ETag. Two equal states mean nothing was written.
func storeState(t *testing.T, db *store.DB, users ...string) string {
	t.Helper()
	var b strings.Builder
	for _, u := range users {
		cals, err := db.Calendars(u)
		if err != nil {
			t.Fatalf("Calendars(%s): %v", u, err)
		}
		for _, c := range cals {
			keys := make([]string, 0, len(c.DeadProps))
			for k := range c.DeadProps {
				keys = append(keys, k+"="+c.DeadProps[k])
			}
			sort.Strings(keys)
			fmt.Fprintf(&b, "%s/%s id=%s seq=%d objects=%d name=%q desc=%q color=%q tz=%d transp=%v comps=%v modified=%s dead=%v\n",
				u, c.Name, c.ID, c.SyncSeq, c.Objects, c.DisplayName, c.Description, c.Color, len(c.Timezone), c.Transparent,
				c.Components, c.Modified.Format(time.RFC3339Nano), keys)
			infos, err := db.ObjectInfos(u, c.Name)
			if err != nil {
				t.Fatalf("ObjectInfos(%s, %s): %v", u, c.Name, err)
			}
			for _, o := range infos {
				fmt.Fprintf(&b, "  %s etag=%s uid=%s\n", o.Name, o.ETag, o.UID)
			}
		}
		grants, err := db.Grants(u)
		if err != nil {
			t.Fatalf("Grants(%s): %v", u, err)
		}
		fmt.Fprintf(&b, "%s grants=%v\n", u, grants)
	}
	return b.String()
}

// isoRequest is one request alice sends to a path of the table.
type isoRequest struct {
	name    string
	method  string
	body    string
	headers []string
}

const (
	fbQueryBody  = `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260310T000000Z" end="20260311T000000Z"/></c:free-busy-query>`
	queryAllBody = `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>`
	syncBody     = `<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/><d:displayname/></d:prop></d:sync-collection>`
	propAllBody  = `<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:z="urn:example:z"><d:prop><d:displayname/><c:calendar-description/><d:sync-token/><cs:getctag/><d:getetag/><c:calendar-data/><z:note/><d:owner/><c:calendar-home-set/></d:prop></d:propfind>`
)

func multigetBody(hrefs ...string) string {
	var b strings.Builder
	b.WriteString(`<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>`)
	for _, h := range hrefs {
		b.WriteString("<d:href>" + h + "</d:href>")
	}
	b.WriteString("</c:calendar-multiget>")
	return b.String()
}

// isoRequests is every method the server answers, for path p.
func isoRequests(p string) []isoRequest {
	ct := []string{"Content-Type", "text/calendar; charset=utf-8"}
	xmlCT := "application/xml; charset=utf-8"
	return []isoRequest{
		{"GET", "GET", "", nil},
		{"HEAD", "HEAD", "", nil},
		{"PUT", "PUT", event("alice-put", "x", "20260310T090000Z", "20260310T100000Z"), ct},
		{"PUT If-Match *", "PUT", event("alice-put", "x", "20260310T090000Z", "20260310T100000Z"), append(slices.Clone(ct), "If-Match", "*")},
		{"DELETE", "DELETE", "", nil},
		{"PROPFIND allprop Depth 0", "PROPFIND", "", []string{"Depth", "0"}},
		{"PROPFIND Depth 1", "PROPFIND", propAllBody, []string{"Depth", "1", "Content-Type", xmlCT}},
		{"PROPFIND propname", "PROPFIND", `<d:propfind xmlns:d="DAV:"><d:propname/></d:propfind>`, []string{"Depth", "1"}},
		{"PROPPATCH", "PROPPATCH", `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>hacked</d:displayname></d:prop></d:set></d:propertyupdate>`, []string{"Content-Type", xmlCT}},
		{"PROPPATCH remove", "PROPPATCH", `<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:example:z"><d:remove><d:prop><z:note/></d:prop></d:remove></d:propertyupdate>`, nil},
		{"MKCALENDAR", "MKCALENDAR", "", nil},
		{"MKCOL", "MKCOL", `<d:mkcol xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop><d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop></d:set></d:mkcol>`, []string{"Content-Type", xmlCT}},
		{"MOVE", "MOVE", "", []string{"Destination", personal + "moved.ics"}},
		{"COPY", "COPY", "", []string{"Destination", personal + "copied.ics", "Overwrite", "T"}},
		{"OPTIONS", "OPTIONS", "", nil},
		{"POST event", "POST", event("alice-post", "x", "20260310T090000Z", "20260310T100000Z"), ct},
		{"POST free-busy request", "POST", fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1"), ct},
		{"REPORT calendar-query", "REPORT", queryAllBody, []string{"Depth", "1"}},
		{"REPORT calendar-multiget", "REPORT", multigetBody(p, strings.TrimSuffix(p, "/")+"/secret.ics"), []string{"Depth", "1"}},
		{"REPORT sync-collection", "REPORT", syncBody, []string{"Depth", "1"}},
		{"REPORT free-busy-query Depth 0", "REPORT", fbQueryBody, []string{"Depth", "0"}},
		{"REPORT free-busy-query Depth 1", "REPORT", fbQueryBody, []string{"Depth", "1"}},
		{"REPORT unknown", "REPORT", `<x:whatever xmlns:x="urn:x"/>`, nil},
	}
}

// comparableResponse reduces a response to what must not differ between another
// user's resource and a missing one: the status, the headers a client acts
// on, and the body with the request path written as {PATH}.
func comparableResponse(r *caltest.Response, path string, alsoReplace ...string) string {
	body := strings.ReplaceAll(r.Body, path, "{PATH}")
	for i := 0; i+1 < len(alsoReplace); i += 2 {
		body = strings.ReplaceAll(body, alsoReplace[i], alsoReplace[i+1])
	}
	var hdr []string
	for _, k := range []string{"Content-Type", "Allow", "DAV", "WWW-Authenticate", "ETag", "Location", "Retry-After", "Cache-Control"} {
		hdr = append(hdr, k+": "+strings.ReplaceAll(r.Header.Get(k), path, "{PATH}"))
	}
	return fmt.Sprintf("%d\n%s\n%s", r.StatusCode, strings.Join(hdr, "\n"), body)
}

// freeBusyException reports whether req on a path of kind is one of the
// deliberate exceptions: by default anyone may read anyone's busy time
// through the free-busy-query REPORT on their calendar or home.
func freeBusyException(req isoRequest, kind string) bool {
	switch kind {
	case "calendar", "home", "dot segments", "double slashes home":
		return strings.HasPrefix(req.name, "REPORT free-busy-query")
	}
	return false
}

func TestIsolationMatrix(t *testing.T) {
	f := newIsoFixture(t, caltest.Config{})
	s := f.s
	before := storeState(t, s.DB, "alice", "bob")

	// Each of bob's resources and what it must look like: the same path
	// for a user who does not exist, and for bob's missing names.
	targets := []struct {
		kind, bob, missing string
	}{
		{"principal", "/dav/principals/bob/", "/dav/principals/nobody/"},
		{"home", "/dav/calendars/bob/", "/dav/calendars/nobody/"},
		{"calendar", "/dav/calendars/bob/personal/", "/dav/calendars/nobody/personal/"},
		{"calendar", "/dav/calendars/bob/personal/", "/dav/calendars/bob/nosuch/"},
		{"object", "/dav/calendars/bob/personal/secret.ics", "/dav/calendars/nobody/personal/secret.ics"},
		{"object", "/dav/calendars/bob/personal/secret.ics", "/dav/calendars/bob/personal/nosuch.ics"},
		{"object", "/dav/calendars/bob/personal/secret.ics", "/dav/calendars/bob/nosuch/secret.ics"},
		{"inbox", "/dav/calendars/bob/inbox/", "/dav/calendars/nobody/inbox/"},
		{"outbox", "/dav/calendars/bob/outbox/", "/dav/calendars/nobody/outbox/"},
		{"missing calendar", "/dav/calendars/bob/nosuch/", "/dav/calendars/nobody/nosuch/"},
		{"missing object", "/dav/calendars/bob/personal/nosuch.ics", "/dav/calendars/nobody/personal/nosuch.ics"},
		// Another spelling of bob's paths resolves to them and is treated
		// the same.
		{"percent-encoded", "/dav/calendars/%62%6F%62/personal/secret%2Eics", "/dav/calendars/%6Eobody/personal/secret%2Eics"},
		{"dot segments", "/dav/calendars/alice/../bob/personal/", "/dav/calendars/alice/../nobody/personal/"},
		{"dot segments object", "/dav/calendars/alice/personal/../../bob/./personal/secret.ics", "/dav/calendars/alice/personal/../../nobody/./personal/secret.ics"},
		{"double slashes", "/dav//calendars//bob//personal//secret.ics", "/dav//calendars//nobody//personal//secret.ics"},
		{"double slashes home", "//dav/calendars/bob//", "//dav/calendars/nobody//"},
		// Names that are not bob's: upper case is another user, %2F stays
		// inside one segment.
		{"case-varied", "/dav/calendars/Bob/personal/secret.ics", "/dav/calendars/nobody/personal/secret.ics"},
		{"case-varied home", "/dav/calendars/BOB/", "/dav/calendars/nobody/"},
		{"%2F in a user", "/dav/calendars/bob%2Fpersonal/secret.ics", "/dav/calendars/nobody%2Fpersonal/secret.ics"},
		{"%2F in a calendar", "/dav/calendars/alice/..%2F..%2Fbob%2Fpersonal/secret.ics", "/dav/calendars/alice/..%2F..%2Fnobody%2Fpersonal/secret.ics"},
		{"%2F in an object", "/dav/calendars/alice/personal/..%2F..%2Fbob%2Fpersonal%2Fsecret.ics", "/dav/calendars/alice/personal/..%2F..%2Fnobody%2Fpersonal%2Fsecret.ics"},
	}
	n := 0
	for _, tg := range targets {
		for _, req := range isoRequests(tg.bob) {
			n++
			t.Run(tg.kind+" "+tg.missing+" "+req.name, func(t *testing.T) {
				got := s.Do(t, "alice", req.method, tg.bob, req.body, req.headers...)
				f.noLeak(t, req.method+" "+tg.bob, got)
				if freeBusyException(req, tg.kind) {
					return // TestIsolationFreeBusy
				}
				mreq := req
				if strings.HasPrefix(req.name, "REPORT calendar-multiget") {
					mreq = isoRequests(tg.missing)[slices.IndexFunc(isoRequests(tg.missing), func(r isoRequest) bool { return r.name == req.name })]
				}
				want := s.Do(t, "alice", mreq.method, tg.missing, mreq.body, mreq.headers...)
				if req.method != http.MethodOptions && got.StatusCode < 300 {
					t.Fatalf("%s %s = %d, want an error\n%s", req.method, tg.bob, got.StatusCode, got.Body)
				}
				if got.StatusCode >= 500 {
					t.Fatalf("%s %s = %d\n%s", req.method, tg.bob, got.StatusCode, got.Body)
				}
				// Paths in multiget bodies differ by more than the
				// request path: the hrefs name bob's and nobody's objects.
				gc := comparableResponse(got, tg.bob, tg.bob+"secret.ics", "{OBJ}", strings.TrimSuffix(tg.bob, "/")+"/secret.ics", "{OBJ}")
				wc := comparableResponse(want, tg.missing, tg.missing+"secret.ics", "{OBJ}", strings.TrimSuffix(tg.missing, "/")+"/secret.ics", "{OBJ}")
				if gc != wc {
					t.Fatalf("%s on bob's %s and on a missing one differ:\n--- %s\n%s\n--- %s\n%s", req.name, tg.kind, tg.bob, gc, tg.missing, wc)
				}
			})
		}
	}
	if n < 12*len(targets) {
		t.Fatalf("only %d cases", n)
	}
	if after := storeState(t, s.DB, "alice", "bob"); after != before {
		t.Fatalf("the store changed:\n--- before\n%s--- after\n%s", before, after)
	}
}

// TestIsolationOwnSpellings is the control of the matrix: other spellings of
// alice's own paths do reach her data, so the 404s above are isolation, not
// a path parser that rejects everything odd.
func TestIsolationOwnSpellings(t *testing.T) {
	f := newIsoFixture(t, caltest.Config{})
	for _, p := range []string{
		"/dav/calendars/alice/personal/mine.ics",
		"/dav/calendars/%61lice/personal/mine%2Eics",
		"/dav/calendars/bob/../alice/personal/mine.ics",
		"/dav/calendars/bob/personal/../../alice/./personal/mine.ics",
		"//dav//calendars/alice//personal//mine.ics",
	} {
		t.Run(p, func(t *testing.T) {
			r := f.s.Do(t, "alice", http.MethodGet, p, "")
			wantStatus(t, r, http.StatusOK)
			if !strings.Contains(r.Body, "UID:alice-1") {
				t.Fatalf("GET %s lacks alice's event:\n%s", p, r.Body)
			}
		})
	}
}

// TestIsolationIndirect reaches bob's data through request bodies and
// headers instead of the request path.
func TestIsolationIndirect(t *testing.T) {
	f := newIsoFixture(t, caltest.Config{})
	s := f.s
	before := storeState(t, s.DB, "alice", "bob")
	host := strings.TrimPrefix(s.URL, "http://")
	bobCal, err := s.DB.Calendar("bob", "personal")
	if err != nil {
		t.Fatal(err)
	}
	aliceCal, err := s.DB.Calendar("alice", "personal")
	if err != nil {
		t.Fatal(err)
	}
	type pair struct {
		name          string
		method, path  string
		gotBody       string
		wantBody      string // the same request naming what does not exist
		headers       []string
		wantHeaders   []string
		status        int
		cond          string // DAV:error child, if any
		norm1, norm2  string // replaced by {X} in the got and want bodies
		wantMultistat int    // number of 404 responses in a 207
	}
	objPath := personal + "mine.ics"
	cases := []pair{
		{name: "multiget hrefs into bob's calendar", method: "REPORT", path: personal,
			gotBody:  multigetBody("/dav/calendars/bob/personal/secret.ics", "/dav/calendars/bob/personal/todo.ics", "/dav/calendars/bob/personal/"),
			wantBody: multigetBody("/dav/calendars/nobody/personal/secret.ics", "/dav/calendars/nobody/personal/todo.ics", "/dav/calendars/nobody/personal/"),
			status:   http.StatusMultiStatus, norm1: "/bob/", norm2: "/nobody/", wantMultistat: 3},
		{name: "multiget hrefs into bob's calendar, dot segments and encoding", method: "REPORT", path: personal,
			gotBody:  multigetBody("/dav/calendars/alice/../bob/personal/secret.ics", "/dav/calendars/%62ob/personal/secret.ics", "//dav//calendars/bob//personal/secret.ics"),
			wantBody: multigetBody("/dav/calendars/alice/../bob/personal/nosuch.ics", "/dav/calendars/%62ob/personal/nosuch.ics", "//dav//calendars/bob//personal/nosuch.ics"),
			status:   http.StatusMultiStatus, norm1: "secret.ics", norm2: "nosuch.ics", wantMultistat: 3},
		{name: "multiget absolute hrefs naming this host", method: "REPORT", path: personal,
			gotBody:  multigetBody("http://" + host + "/dav/calendars/bob/personal/secret.ics"),
			wantBody: multigetBody("http://" + host + "/dav/calendars/bob/personal/nosuch.ics"),
			status:   http.StatusMultiStatus, norm1: "secret.ics", norm2: "nosuch.ics", wantMultistat: 1},
		{name: "multiget absolute hrefs naming another host", method: "REPORT", path: personal,
			gotBody:  multigetBody("http://evil.example/dav/calendars/alice/personal/mine.ics", "https://evil.example:8443/dav/calendars/bob/personal/secret.ics"),
			wantBody: multigetBody("http://evil.example/dav/calendars/alice/personal/mine.ics", "https://evil.example:8443/dav/calendars/bob/personal/nosuch.ics"),
			status:   http.StatusMultiStatus, norm1: "secret.ics", norm2: "nosuch.ics", wantMultistat: 2},
		{name: "multiget on bob's calendar with alice's hrefs", method: "REPORT", path: "/dav/calendars/bob/personal/",
			gotBody: multigetBody(objPath), wantBody: multigetBody(objPath), status: http.StatusNotFound},
		{name: "sync token of bob's calendar on alice's", method: "REPORT", path: personal,
			gotBody:  strings.Replace(syncBody, "<d:sync-token/>", "<d:sync-token>"+bobCal.SyncToken()+"</d:sync-token>", 1),
			wantBody: strings.Replace(syncBody, "<d:sync-token/>", "<d:sync-token>"+store.FormatSyncToken("0123456789abcdef", bobCal.SyncSeq)+"</d:sync-token>", 1),
			status:   http.StatusForbidden, cond: "valid-sync-token"},
		{name: "sync token of alice's calendar on bob's", method: "REPORT", path: "/dav/calendars/bob/personal/",
			gotBody:  strings.Replace(syncBody, "<d:sync-token/>", "<d:sync-token>"+aliceCal.SyncToken()+"</d:sync-token>", 1),
			wantBody: strings.Replace(syncBody, "<d:sync-token/>", "<d:sync-token>"+aliceCal.SyncToken()+"</d:sync-token>", 1),
			status:   http.StatusNotFound},
		{name: "MOVE into bob's calendar", method: "MOVE", path: objPath,
			headers: []string{"Destination", "/dav/calendars/bob/personal/stolen.ics"}, wantHeaders: []string{"Destination", "/dav/calendars/nobody/personal/stolen.ics"},
			status: http.StatusConflict},
		{name: "COPY over bob's object", method: "COPY", path: objPath,
			headers: []string{"Destination", "/dav/calendars/bob/personal/secret.ics", "Overwrite", "T"}, wantHeaders: []string{"Destination", "/dav/calendars/bob/personal/nosuch.ics", "Overwrite", "T"},
			status: http.StatusConflict},
		{name: "COPY over bob's object, Overwrite F", method: "COPY", path: objPath,
			headers: []string{"Destination", "/dav/calendars/bob/personal/secret.ics", "Overwrite", "F"}, wantHeaders: []string{"Destination", "/dav/calendars/bob/nosuch/secret.ics", "Overwrite", "F"},
			status: http.StatusConflict},
		{name: "MOVE into bob's calendar, absolute URL", method: "MOVE", path: objPath,
			headers: []string{"Destination", "http://" + host + "/dav/calendars/alice/../bob/personal/x.ics"}, wantHeaders: []string{"Destination", "http://" + host + "/dav/calendars/alice/../nobody/personal/x.ics"},
			status: http.StatusConflict},
		{name: "MOVE into bob's home", method: "MOVE", path: objPath,
			headers: []string{"Destination", "/dav/calendars/bob/x/"}, wantHeaders: []string{"Destination", "/dav/calendars/nobody/x/"},
			status: http.StatusForbidden},
		{name: "MOVE into bob's calendar with %2F", method: "MOVE", path: objPath,
			headers: []string{"Destination", "/dav/calendars/alice/personal/..%2F..%2Fbob%2Fpersonal%2Fx.ics"}, wantHeaders: []string{"Destination", "/dav/calendars/alice/personal/..%2F..%2Fnobody%2Fpersonal%2Fx.ics"},
			// A name in alice's own calendar, and names hold no "/".
			status: http.StatusBadRequest},
		{name: "MOVE to another host", method: "MOVE", path: objPath,
			headers: []string{"Destination", "http://evil.example/dav/calendars/alice/personal/x.ics"}, wantHeaders: []string{"Destination", "http://evil.example/dav/calendars/alice/personal/y.ics"},
			status: http.StatusBadGateway},
		{name: "MOVE out of bob's calendar", method: "MOVE", path: "/dav/calendars/bob/personal/secret.ics",
			headers: []string{"Destination", personal + "stolen.ics"}, wantHeaders: []string{"Destination", personal + "stolen.ics"},
			status: http.StatusNotFound},
		{name: "COPY out of bob's calendar", method: "COPY", path: "/dav/calendars/bob/personal/secret.ics",
			headers: []string{"Destination", personal + "stolen.ics"}, wantHeaders: []string{"Destination", personal + "stolen.ics"},
			status: http.StatusNotFound},
		{name: "COPY within bob's calendar", method: "COPY", path: "/dav/calendars/bob/personal/secret.ics",
			headers: []string{"Destination", "/dav/calendars/bob/personal/copy.ics"}, wantHeaders: []string{"Destination", "/dav/calendars/bob/personal/copy.ics"},
			status: http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := s.Do(t, "alice", c.method, c.path, c.gotBody, c.headers...)
			f.noLeak(t, c.name, got)
			if got.StatusCode != c.status {
				t.Fatalf("%s = %d, want %d\n%s", c.name, got.StatusCode, c.status, got.Body)
			}
			if c.cond != "" {
				wantCondition(t, got, c.status, nsDAV, c.cond)
			}
			if c.wantMultistat > 0 {
				ms := caltest.ParseMultistatus(t, got.Body)
				if len(ms.Responses) != c.wantMultistat {
					t.Fatalf("%d responses, want %d:\n%s", len(ms.Responses), c.wantMultistat, got.Body)
				}
				for _, r := range ms.Responses {
					if !strings.Contains(r.Status, " 404 ") || len(r.Propstats) != 0 {
						t.Fatalf("response for %s = %q with %d propstats, want a bare 404", r.Href, r.Status, len(r.Propstats))
					}
				}
			}
			want := s.Do(t, "alice", c.method, c.path, c.wantBody, c.wantHeaders...)
			gb, wb := got.Body, want.Body
			if c.norm1 != "" {
				gb, wb = strings.ReplaceAll(gb, c.norm1, "{X}"), strings.ReplaceAll(wb, c.norm2, "{X}")
			}
			if got.StatusCode != want.StatusCode || gb != wb {
				t.Fatalf("bob's and missing resources differ: %d / %d\n%s\n---\n%s", got.StatusCode, want.StatusCode, gb, wb)
			}
		})
	}
	if after := storeState(t, s.DB, "alice", "bob"); after != before {
		t.Fatalf("the store changed:\n--- before\n%s--- after\n%s", before, after)
	}
}

// TestIsolationFreeBusy tests the deliberate exception: by default anyone
// logged in may see anyone's busy time (never what the events are) through
// the free-busy-query REPORT, the scheduling outbox and /freebusy; with
// VisibilityGranted only those the owner granted it to.
func TestIsolationFreeBusy(t *testing.T) {
	const busy = "20260310T120000Z/20260310T130000Z"
	ct := []string{"Content-Type", "text/calendar; charset=utf-8"}
	type probe struct {
		name             string
		method, path     string
		body             string
		headers          []string
		missingPath      string // the same probe for a user who does not exist
		missingBody      string
		outbox           bool // answered 200 with per-recipient request-status
		freeBusyEndpoint bool
	}
	probes := []probe{
		{name: "REPORT on bob's calendar", method: "REPORT", path: "/dav/calendars/bob/personal/", body: fbQueryBody, missingPath: "/dav/calendars/nobody/personal/", missingBody: fbQueryBody},
		{name: "REPORT on bob's home, Depth 1", method: "REPORT", path: "/dav/calendars/bob/", body: fbQueryBody, headers: []string{"Depth", "1"}, missingPath: "/dav/calendars/nobody/", missingBody: fbQueryBody},
		{name: "outbox POST", method: "POST", path: "/dav/calendars/alice/outbox/", body: fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1"), headers: ct,
			missingPath: "/dav/calendars/alice/outbox/", missingBody: fbRequest("mailto:alice@127.0.0.1", "mailto:nobody@127.0.0.1"), outbox: true},
		{name: "/freebusy", method: "GET", path: "/freebusy/bob?start=2026-03-10T00:00:00Z&end=2026-03-11T00:00:00Z", missingPath: "/freebusy/nobody?start=2026-03-10T00:00:00Z&end=2026-03-11T00:00:00Z", freeBusyEndpoint: true},
		{name: "/freebusy?user=", method: "GET", path: "/freebusy?user=bob&start=2026-03-10T00:00:00Z&end=2026-03-11T00:00:00Z", missingPath: "/freebusy?user=nobody&start=2026-03-10T00:00:00Z&end=2026-03-11T00:00:00Z", freeBusyEndpoint: true},
	}
	visible := func(t *testing.T, f *isoFixture, p probe) {
		t.Helper()
		r := f.s.Do(t, "alice", p.method, p.path, p.body, p.headers...)
		f.noLeak(t, p.name, r)
		wantStatus(t, r, http.StatusOK)
		data := r.Body
		if p.outbox {
			var sr scheduleResponse
			if err := xml.Unmarshal([]byte(r.Body), &sr); err != nil || len(sr.Responses) != 1 || !strings.HasPrefix(sr.Responses[0].Status, "2.0") {
				t.Fatalf("outbox answer = %+v, %v, want one 2.0 response:\n%s", sr, err, r.Body)
			}
			data = sr.Responses[0].Data
		}
		lines := freeBusyLines(t, data)
		if len(lines) != 1 || !slices.Equal(lines[0], []string{"BUSY " + busy}) {
			t.Fatalf("%s busy time = %v, want [[BUSY %s]]\n%s", p.name, lines, busy, r.Body)
		}
	}
	hidden := func(t *testing.T, f *isoFixture, p probe) {
		t.Helper()
		got := f.s.Do(t, "alice", p.method, p.path, p.body, p.headers...)
		want := f.s.Do(t, "alice", p.method, p.missingPath, p.missingBody, p.headers...)
		f.noLeak(t, p.name, got)
		if strings.Contains(got.Body, "FREEBUSY:") || strings.Contains(got.Body, "FREEBUSY;") {
			t.Fatalf("%s shows busy time without a grant:\n%s", p.name, got.Body)
		}
		if p.outbox {
			var g, w scheduleResponse
			if xml.Unmarshal([]byte(got.Body), &g) != nil || xml.Unmarshal([]byte(want.Body), &w) != nil ||
				len(g.Responses) != 1 || len(w.Responses) != 1 || g.Responses[0].Status != w.Responses[0].Status || !strings.HasPrefix(g.Responses[0].Status, "3.7") {
				t.Fatalf("outbox: bob = %+v, nobody = %+v, want the same 3.7\n%s", g, w, got.Body)
			}
			return
		}
		if got.StatusCode != http.StatusNotFound || got.StatusCode != want.StatusCode ||
			strings.ReplaceAll(got.Body, "bob", "X") != strings.ReplaceAll(want.Body, "nobody", "X") {
			t.Fatalf("%s: bob = %d %q, nobody = %d %q: want the same 404", p.name, got.StatusCode, got.Body, want.StatusCode, want.Body)
		}
	}

	t.Run("visible to all by default", func(t *testing.T) {
		f := newIsoFixture(t, caltest.Config{})
		before := storeState(t, f.s.DB, "alice", "bob")
		for _, p := range probes {
			t.Run(p.name, func(t *testing.T) { visible(t, f, p) })
		}
		// Busy time is all: the event itself stays bob's.
		r := f.s.Do(t, "alice", "GET", "/dav/calendars/bob/personal/secret.ics", "")
		wantStatus(t, r, http.StatusNotFound)
		if after := storeState(t, f.s.DB, "alice", "bob"); after != before {
			t.Fatalf("the store changed:\n%s\n---\n%s", before, after)
		}
	})
	t.Run("granted only", func(t *testing.T) {
		f := newIsoFixture(t, caltest.Config{Visibility: busytime.VisibilityGranted})
		for _, p := range probes {
			t.Run("without a grant "+p.name, func(t *testing.T) { hidden(t, f, p) })
		}
		if err := f.s.DB.SetGrant("bob", store.Grant{Grantee: "alice", Access: store.AccessFreeBusy}); err != nil {
			t.Fatal(err)
		}
		for _, p := range probes {
			t.Run("with a grant "+p.name, func(t *testing.T) { visible(t, f, p) })
		}
		// A free-busy grant is not a read grant.
		for _, p := range []string{"/dav/calendars/bob/personal/secret.ics", "/dav/calendars/bob/personal/"} {
			r := f.s.Do(t, "alice", "REPORT", p, queryAllBody, "Depth", "1")
			f.noLeak(t, "calendar-query with a free-busy grant", r)
			wantStatus(t, r, http.StatusNotFound)
		}
	})
}

// TestIsolationUnauthenticated: without credentials every method on every
// path is answered 401 with a Basic challenge, except OPTIONS and the
// well-known URI.
func TestIsolationUnauthenticated(t *testing.T) {
	f := newIsoFixture(t, caltest.Config{})
	s := f.s
	before := storeState(t, s.DB, "alice", "bob")
	paths := []string{"/", "/dav/", "/dav/principals/", "/dav/principals/bob/", "/dav/calendars/bob/", "/dav/calendars/bob/personal/",
		"/dav/calendars/bob/personal/secret.ics", "/dav/calendars/bob/outbox/", "/dav/calendars/bob/inbox/", "/dav/calendars/nobody/",
		"/freebusy/bob", "/freebusy?user=bob", "/nowhere"}
	for _, p := range paths {
		for _, req := range isoRequests(p) {
			t.Run(req.name+" "+p, func(t *testing.T) {
				r := s.Do(t, "", req.method, p, req.body, req.headers...)
				f.noLeak(t, "anonymous "+req.method+" "+p, r)
				if req.method == http.MethodOptions {
					wantStatus(t, r, http.StatusOK)
					if r.Header.Get("DAV") == "" || r.Body != "" {
						t.Fatalf("anonymous OPTIONS: DAV %q body %q", r.Header.Get("DAV"), r.Body)
					}
					return
				}
				wantStatus(t, r, http.StatusUnauthorized)
				if got := r.Header.Get("WWW-Authenticate"); got != `Basic realm="calbolt", charset="UTF-8"` {
					t.Fatalf("WWW-Authenticate = %q", got)
				}
			})
		}
	}
	for _, m := range []string{"GET", "PROPFIND", "PUT", "DELETE"} {
		r := s.Do(t, "", m, "/.well-known/caldav", "")
		if r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/dav/" {
			t.Fatalf("anonymous %s /.well-known/caldav = %d %q, want 301 to /dav/", m, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if after := storeState(t, s.DB, "alice", "bob"); after != before {
		t.Fatalf("the store changed:\n%s\n---\n%s", before, after)
	}
}

// doAs sends a request with explicit credentials and times it.
func doAs(t *testing.T, s *caltest.Server, user, password, method, path string) (*http.Response, time.Duration) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Depth", "0")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, time.Since(start)
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// TestIsolationLoginTiming: a wrong password and an unknown user cost the
// same, one password verification, so the response time does not tell which
// user names exist. auth verifies an unknown user's password against the
// last real hash it looked up (or, before any, a dummy hash with
// DefaultParams). DefaultParams cost close to a second a verification under
// -race on two cores, so bob's hash uses a quarter of its memory and one
// pass; the floor below is measured, not guessed.
func TestIsolationLoginTiming(t *testing.T) {
	s := caltest.NewWith(t, caltest.Config{Throttle: auth.Throttle{Disabled: true}}, "bob")
	params := auth.DefaultParams()
	params.Memory, params.Time, params.Threads = params.Memory/4, 1, 1
	hash, err := auth.HashPasswordWith("bob's real password", params)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB.SetPasswordHash("bob", hash); err != nil {
		t.Fatal(err)
	}
	// Warm up: the first failure loads bob's hash.
	if r, _ := doAs(t, s, "bob", "wrong", "PROPFIND", "/dav/"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password = %d, want 401", r.StatusCode)
	}
	const tries = 5
	var wrong, unknown, verify []time.Duration
	for i := range tries {
		start := time.Now()
		if ok, err := auth.VerifyPassword(hash, "guess"); ok || err != nil {
			t.Fatalf("VerifyPassword = %v, %v", ok, err)
		}
		verify = append(verify, time.Since(start))
		for _, c := range []struct {
			user string
			into *[]time.Duration
		}{{"bob", &wrong}, {fmt.Sprintf("nobody%d", i), &unknown}} {
			r, d := doAs(t, s, c.user, "guess", "PROPFIND", "/dav/calendars/bob/")
			if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("%s with a wrong password = %d (challenge %q), want 401 with a challenge", c.user, r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
			*c.into = append(*c.into, d)
		}
	}
	mw, mu, mv := median(wrong), median(unknown), median(verify)
	t.Logf("median wrong password %v, unknown user %v, one verification %v", mw, mu, mv)
	// Both must include a verification; answering an unknown user
	// without one would take a fraction of it.
	if floor := mv / 4; mw < floor || mu < floor {
		t.Fatalf("median wrong password %v, unknown user %v: want both above %v (a quarter of a verification)", mw, mu, floor)
	}
	if ratio := float64(mu) / float64(mw); ratio < 0.5 || ratio > 2 {
		t.Fatalf("median unknown user %v vs wrong password %v: ratio %.2f, want within [0.5, 2]", mu, mw, ratio)
	}
	// The right password still works.
	if r, _ := doAs(t, s, "bob", "bob's real password", "PROPFIND", "/dav/calendars/bob/"); r.StatusCode != http.StatusMultiStatus {
		t.Fatalf("right password = %d, want 207", r.StatusCode)
	}
}

// TestIsolationThrottle: repeated failures from one address are slowed
// down, then refused with 429 and Retry-After, even with the right
// password, until the window ends.
func TestIsolationThrottle(t *testing.T) {
	const delay = 150 * time.Millisecond
	s := caltest.NewWith(t, caltest.Config{Throttle: auth.Throttle{DelayAfter: 2, BlockAfter: 4, Delay: delay, MaxDelay: delay, Window: time.Minute}}, "alice", "bob")
	if r, _ := doAs(t, s, "alice", caltest.Password("alice"), "PROPFIND", "/dav/calendars/alice/"); r.StatusCode != http.StatusMultiStatus {
		t.Fatalf("alice before any failure = %d, want 207", r.StatusCode)
	}
	var took []time.Duration
	for i, user := range []string{"bob", "nobody", "bob", "nobody"} {
		r, d := doAs(t, s, user, "guess", "PROPFIND", "/dav/calendars/bob/")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.StatusCode)
		}
		took = append(took, d)
	}
	t.Logf("failure times %v", took)
	if took[2] < delay || took[3] < delay {
		t.Errorf("failures 3 and 4 took %v, %v: want each delayed by %v", took[2], took[3], delay)
	}
	if took[0] >= delay {
		t.Errorf("failure 1 took %v: want no delay", took[0])
	}
	for _, c := range []struct{ user, password string }{{"bob", "guess"}, {"alice", caltest.Password("alice")}, {"bob", caltest.Password("bob")}} {
		r, _ := doAs(t, s, c.user, c.password, "PROPFIND", "/dav/calendars/"+c.user+"/")
		if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s after 4 failures = %d (Retry-After %q), want 429 with Retry-After", c.user, r.StatusCode, r.Header.Get("Retry-After"))
		}
	}
	// Without credentials the answer is still the challenge; OPTIONS and
	// the well-known URI stay open.
	wantStatus(t, s.Do(t, "", "PROPFIND", "/dav/", ""), http.StatusUnauthorized)
	wantStatus(t, s.Do(t, "", "OPTIONS", "/dav/", ""), http.StatusOK)
	wantStatus(t, s.Do(t, "", "GET", "/.well-known/caldav", ""), http.StatusMovedPermanently)
}
