package caldav_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/internal/caltest"
)

// Issue 5, "Bad input": every limit a client can push is bounded and
// answered with a clear status — the RFC's precondition element where one
// exists, a message otherwise — and leaves the store as it was.

// vcal wraps content lines in a VCALENDAR with CRLF line ends.
func vcal(lines ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n"
}

// vevent is a VEVENT with UID uid starting 2026-03-10 and the extra lines.
func vevent(uid string, extra ...string) string {
	return strings.Join(append([]string{"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z",
		"DTSTART:20260310T090000Z", "DTEND:20260310T100000Z", "SUMMARY:x"}, append(extra, "END:VEVENT")...), "\r\n")
}

// dates lists n DATE-TIME values a day apart from 2026-01-01.
func dates(n int) string {
	var b strings.Builder
	t := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(t.AddDate(0, 0, i).Format("20060102T150405Z"))
	}
	return b.String()
}

// query is a calendar-query whose VEVENT comp-filter holds inner.
func query(prop, inner string) string {
	return `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>` + prop + `</d:prop>` +
		`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">` + inner + `</c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
}

func fbQuery(start, end string) string {
	return `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="` + start + `" end="` + end + `"/></c:free-busy-query>`
}

// rawResponse sends a hand-written HTTP/1.1 request (for bodies net/http
// will not send: lying lengths, broken chunking, headers of any size),
// closes the write side and reads the answer. A server that hangs fails the
// test after a few seconds.
func rawResponse(t *testing.T, s *caltest.Server, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	// A request whose body is shorter than it says ends in EOF, as when a
	// client goes away; a complete one keeps the connection open, since
	// the server cancels a request whose client half-closes (and a failed
	// login's delay would then end in 503, not 401).
	if incomplete(req) {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return resp.StatusCode, string(b)
}

// incomplete reports whether a raw request's body is shorter than its
// headers promise.
func incomplete(raw string) bool {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return true
	}
	_, err = io.Copy(io.Discard, req.Body)
	return err != nil
}

func basicAuth(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+caltest.Password(user)))
}

type badCase struct {
	name    string
	method  string
	path    string
	body    string
	headers []string
	raw     string // a whole hand-written request instead of method/path/body
	user    string // "" means alice; "-" means no credentials

	status int
	cond   string // "c:name" or "d:name": the DAV:error precondition
	msg    string // otherwise a substring of the plain-text or JSON message
}

func TestBadInput(t *testing.T) {
	// Throttling off: the malformed Authorization cases are failures, and
	// the rest of the table must not be slowed or blocked by them.
	s := caltest.NewWith(t, caltest.Config{Throttle: auth.Throttle{Disabled: true}}, "alice", "bob")
	obj := personal + "x.ics"
	wantStatus(t, put(t, s, "alice", personal+"daily.ics", vcal(vevent("daily", "RRULE:FREQ=DAILY;COUNT=5000"))), http.StatusCreated)
	wantStatus(t, put(t, s, "alice", personal+"mine.ics", event("mine", "mine", "20260310T080000Z", "20260310T083000Z")), http.StatusCreated)
	wantStatus(t, put(t, s, "bob", "/dav/calendars/bob/personal/b.ics", event("b", "b", "20260310T080000Z", "20260310T083000Z")), http.StatusCreated)

	ct := []string{"Content-Type", "text/calendar; charset=utf-8"}
	host := strings.TrimPrefix(s.URL, "http://")
	authz := "Authorization: " + basicAuth("alice") + "\r\n"

	bigXML := `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop>` + strings.Repeat("<!-- padding -->", (4<<20)/16+1) + `</d:propfind>`
	deepXML := `<d:propfind xmlns:d="DAV:"><d:prop>` + strings.Repeat("<x>", 31) + strings.Repeat("</x>", 31) + `</d:prop></d:propfind>`
	manyXML := `<d:propfind xmlns:d="DAV:"><d:prop>` + strings.Repeat("<d:displayname/>", 50001) + `</d:prop></d:propfind>`
	hrefs := make([]string, 10001)
	for i := range hrefs {
		hrefs[i] = fmt.Sprintf("%sh%d.ics", personal, i)
	}
	var filter strings.Builder
	for i := range 201 {
		fmt.Fprintf(&filter, `<c:prop-filter name="X-%d"><c:is-not-defined/></c:prop-filter>`, i)
	}
	var fbAttendees []string
	for i := range 101 {
		fbAttendees = append(fbAttendees, fmt.Sprintf("mailto:u%d@example.com", i))
	}

	cases := []badCase{
		// Sizes.
		{name: "PUT over max-resource-size", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("big", "DESCRIPTION:"+strings.Repeat("a", 1<<20))),
			status: http.StatusForbidden, cond: "c:max-resource-size"},
		{name: "PUT declaring a Content-Length over max-resource-size", path: obj,
			raw:    "PUT " + obj + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Type: text/calendar\r\nContent-Length: 5000000\r\n\r\nBEGIN:VCALENDAR\r\n",
			status: http.StatusForbidden, cond: "c:max-resource-size"},
		{name: "PUT chunked over max-resource-size", path: obj,
			raw: "PUT " + obj + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Type: text/calendar\r\nTransfer-Encoding: chunked\r\n\r\n" +
				strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", 64<<10, strings.Repeat("a", 64<<10)), 17) + "0\r\n\r\n",
			status: http.StatusForbidden, cond: "c:max-resource-size"},
		{name: "PROPFIND XML over 4 MiB", method: "PROPFIND", path: personal, body: bigXML, headers: []string{"Depth", "0"},
			status: http.StatusRequestEntityTooLarge, msg: "exceeds the server's limits"},
		{name: "PROPPATCH XML deeper than 32", method: "PROPPATCH", path: personal,
			body:   `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>` + strings.Repeat("<x>", 30) + strings.Repeat("</x>", 30) + `</d:prop></d:set></d:propertyupdate>`,
			status: http.StatusRequestEntityTooLarge, msg: "exceeds the server's limits"},
		{name: "PROPFIND XML deeper than 32", method: "PROPFIND", path: personal, body: deepXML, headers: []string{"Depth", "0"},
			status: http.StatusRequestEntityTooLarge, msg: "exceeds the server's limits"},
		{name: "PROPFIND with more than 50,000 elements", method: "PROPFIND", path: personal, body: manyXML, headers: []string{"Depth", "0"},
			status: http.StatusRequestEntityTooLarge, msg: "exceeds the server's limits"},
		{name: "multiget of 10,001 hrefs", method: "REPORT", path: personal, body: multigetBody(hrefs...),
			status: http.StatusRequestEntityTooLarge, msg: "too many hrefs"},
		{name: "outbox POST over 256 KiB", method: "POST", path: "/dav/calendars/alice/outbox/", headers: ct,
			body:   fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1") + strings.Repeat("X-PAD:"+strings.Repeat("p", 70)+"\r\n", 4000),
			status: http.StatusRequestEntityTooLarge, msg: "too large"},
		{name: "outbox POST to 101 recipients", method: "POST", path: "/dav/calendars/alice/outbox/", headers: ct,
			body:   fbRequest("mailto:alice@127.0.0.1", fbAttendees...),
			status: http.StatusForbidden, cond: "c:max-recipients"},

		// Filters and time ranges.
		{name: "filter of more than 200 nodes", method: "REPORT", path: personal, body: query("", filter.String()), headers: []string{"Depth", "1"},
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "text-match longer than 1024", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body:   query("", `<c:prop-filter name="SUMMARY"><c:text-match>`+strings.Repeat("m", 1025)+`</c:text-match></c:prop-filter>`),
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "unsupported collation", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body:   query("", `<c:prop-filter name="SUMMARY"><c:text-match collation="i;klingon">x</c:text-match></c:prop-filter>`),
			status: http.StatusForbidden, cond: "c:supported-collation"},
		{name: "calendar-query without a filter", method: "REPORT", path: personal,
			body:   `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop></c:calendar-query>`,
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "time-range reversed", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body:   query("", `<c:time-range start="20270101T000000Z" end="20260101T000000Z"/>`),
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "time-range not UTC", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body:   query("", `<c:time-range start="20260101T000000" end="2027-01-01"/>`),
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "time-range in year 99999", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body:   query("", `<c:time-range start="20260101T000000Z" end="999991231T000000Z"/>`),
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "expand reversed", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body:   query(`<c:calendar-data><c:expand start="20270101T000000Z" end="20260101T000000Z"/></c:calendar-data>`, ""),
			status: http.StatusForbidden, cond: "c:valid-filter"},
		{name: "free-busy over 400 days", method: "REPORT", path: personal, body: fbQuery("20260101T000000Z", "20270206T000000Z"),
			status: http.StatusForbidden, msg: "at most 400 days"},
		{name: "free-busy reversed", method: "REPORT", path: personal, body: fbQuery("20270101T000000Z", "20260101T000000Z"),
			status: http.StatusForbidden, msg: "must end after it starts"},
		{name: "free-busy from year 0 to 9999", method: "REPORT", path: "/dav/calendars/alice/", headers: []string{"Depth", "1"},
			body:   fbQuery("00000101T000000Z", "99991231T000000Z"),
			status: http.StatusForbidden, msg: "at most 400 days"},
		{name: "free-busy without a time-range", method: "REPORT", path: personal,
			body:   `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"/>`,
			status: http.StatusBadRequest, msg: "needs a time-range"},
		{name: "/freebusy over 400 days", method: "GET", path: "/freebusy/alice?start=2026-01-01T00:00:00Z&end=2028-01-01T00:00:00Z",
			status: http.StatusBadRequest, msg: "400 days"},
		{name: "outbox free-busy request over 400 days", method: "POST", path: "/dav/calendars/alice/outbox/", headers: ct,
			body:   strings.Replace(fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1"), "DTEND:20260311T000000Z", "DTEND:20280311T000000Z", 1),
			status: http.StatusForbidden, cond: "c:valid-scheduling-message"},
		{name: "sync-collection with a garbage token", method: "REPORT", path: personal,
			body:   strings.Replace(syncBody, "<d:sync-token/>", "<d:sync-token>http://evil.example/../../etc/passwd</d:sync-token>", 1),
			status: http.StatusForbidden, cond: "d:valid-sync-token"},
		{name: "sync-collection with a negative limit", method: "REPORT", path: personal,
			body:   `<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:limit><d:nresults>-1</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>`,
			status: http.StatusBadRequest, msg: "nresults"},

		// Recurrence.
		{name: "RRULE COUNT beyond 10,000", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("count", "RRULE:FREQ=DAILY;COUNT=10001")),
			status: http.StatusForbidden, cond: "c:max-instances"},
		{name: "FREQ=SECONDLY", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("secondly", "RRULE:FREQ=SECONDLY")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "FREQ=MINUTELY forever", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("minutely", "RRULE:FREQ=MINUTELY;INTERVAL=1")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "BYSETPOS over every second of a year", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("setpos", "RRULE:FREQ=YEARLY;BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12;BYMONTHDAY=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE="+strings.TrimSuffix(strings.Repeat("0,", 1), ",")+",1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59;BYSETPOS=-1")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "1,001 RDATEs", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("rdates", "RDATE:"+dates(1001))),
			status: http.StatusForbidden, cond: "c:max-instances"},
		{name: "1,001 EXDATEs", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("exdates", "RRULE:FREQ=DAILY;COUNT=2000", "EXDATE:"+dates(1001))),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "INTERVAL beyond the limit", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("interval", "RRULE:FREQ=DAILY;INTERVAL=99999999999999999999")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "expand a daily rule from year 1 to 9999", method: "REPORT", path: personal, headers: []string{"Depth", "1"},
			body: query(`<c:calendar-data><c:expand start="00010101T000000Z" end="99991231T000000Z"/></c:calendar-data>`,
				`<c:time-range start="00010101T000000Z" end="99991231T000000Z"/>`),
			status: http.StatusMultiStatus},

		// Malformed and hostile iCalendar.
		{name: "unbalanced BEGIN/END", method: "PUT", path: obj, headers: ct,
			body:   "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260310T090000Z\r\nEND:VCALENDAR\r\n",
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "END without BEGIN", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("u"), "END:VTODO"),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "bad UTF-8", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("utf8", "LOCATION:caf\xe9 \xff\xfe")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "NUL byte", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("nul", "DESCRIPTION:a\x00b")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "DTSTART in year 0", method: "PUT", path: obj, headers: ct,
			body:   vcal(strings.Replace(vevent("year0"), "DTSTART:20260310T090000Z", "DTSTART:00000101T000000Z", 1)),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "DTEND in year 99999", method: "PUT", path: obj, headers: ct,
			body:   vcal(strings.Replace(vevent("year99999"), "DTEND:20260310T100000Z", "DTEND:999990310T100000Z", 1)),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "unknown TZID without VTIMEZONE", method: "PUT", path: obj, headers: ct,
			body:   vcal(strings.Replace(vevent("tzid"), "DTSTART:20260310T090000Z", "DTSTART;TZID=Mars/Olympus_Mons:20260310T090000", 1)),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "empty body", method: "PUT", path: obj, headers: ct,
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "two VCALENDARs", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("one")) + vcal(vevent("two")),
			status: http.StatusForbidden, cond: "c:valid-calendar-data"},
		{name: "METHOD in a PUT", method: "PUT", path: obj, headers: ct,
			body:   strings.Replace(vcal(vevent("method")), "VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST", 1),
			status: http.StatusForbidden, cond: "c:valid-calendar-object-resource"},
		{name: "components with different UIDs", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent("one"), vevent("two")),
			status: http.StatusForbidden, cond: "c:valid-calendar-object-resource"},
		{name: "no component", method: "PUT", path: obj, headers: ct,
			body:   vcal("X-NOTHING:here"),
			status: http.StatusForbidden, cond: "c:valid-calendar-object-resource"},
		{name: "PUT of JSON", method: "PUT", path: obj, headers: []string{"Content-Type", "application/json"}, body: `{"uid":"x"}`,
			status: http.StatusUnsupportedMediaType, cond: "c:supported-calendar-data"},
		{name: "UID of 5,000 bytes", method: "PUT", path: obj, headers: ct,
			body:   vcal(vevent(strings.Repeat("u", 5000))),
			status: http.StatusForbidden, cond: "c:valid-calendar-object-resource"},

		// Depth.
		{name: "PROPFIND Depth 2", method: "PROPFIND", path: personal, headers: []string{"Depth", "2"},
			status: http.StatusBadRequest, msg: "invalid Depth"},
		{name: "PROPFIND Depth -1", method: "PROPFIND", path: personal, headers: []string{"Depth", "-1"},
			status: http.StatusBadRequest, msg: "invalid Depth"},
		{name: "PROPFIND Depth infinity", method: "PROPFIND", path: "/dav/calendars/alice/", headers: []string{"Depth", "infinity"},
			status: http.StatusForbidden, cond: "d:propfind-finite-depth"},
		{name: "PROPFIND Depth garbage", method: "PROPFIND", path: personal, headers: []string{"Depth", "1; drop table"},
			status: http.StatusBadRequest, msg: "invalid Depth"},
		{name: "calendar-query Depth garbage", method: "REPORT", path: personal, headers: []string{"Depth", "∞"},
			body:   query("", ""),
			status: http.StatusBadRequest, msg: "invalid Depth"},

		// XML that is not what it claims.
		{name: "XML with an entity declaration", method: "PROPFIND", path: personal, headers: []string{"Depth", "0"},
			body:   `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&b;</d:displayname></d:prop></d:propfind>`,
			status: http.StatusBadRequest, msg: "malformed XML"},
		{name: "XML in another charset", method: "PROPPATCH", path: personal,
			body:   `<?xml version="1.0" encoding="ISO-8859-1"?><d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>caf` + "\xe9" + `</d:displayname></d:prop></d:set></d:propertyupdate>`,
			status: http.StatusBadRequest, msg: "malformed XML"},
		{name: "PROPPATCH without a body", method: "PROPPATCH", path: personal,
			status: http.StatusBadRequest, msg: "malformed XML"},
		{name: "REPORT of an unknown kind", method: "REPORT", path: personal, body: `<x:report xmlns:x="urn:x"/>`,
			status: http.StatusForbidden, cond: "d:supported-report"},
		{name: "MKCALENDAR with a form body", method: "MKCALENDAR", path: "/dav/calendars/alice/new/",
			headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, body: "a=b",
			status: http.StatusUnsupportedMediaType, msg: "XML body"},
		{name: "MOVE with Overwrite garbage", method: "MOVE", path: personal + "mine.ics",
			headers: []string{"Destination", personal + "moved.ics", "Overwrite", "maybe"},
			status:  http.StatusBadRequest, msg: "Overwrite"},
		{name: "MOVE without Destination", method: "MOVE", path: personal + "mine.ics",
			status: http.StatusBadRequest, msg: "Destination"},

		// Authorization headers.
		{name: "Authorization Bearer", method: "PROPFIND", path: personal, user: "-", headers: []string{"Authorization", "Bearer abc.def.ghi"},
			status: http.StatusUnauthorized, msg: "unauthorized"},
		{name: "Authorization Basic, bad base64", method: "PROPFIND", path: personal, user: "-", headers: []string{"Authorization", "Basic !!!not-base64!!!"},
			status: http.StatusUnauthorized, msg: "unauthorized"},
		{name: "Authorization Basic, no colon", method: "PROPFIND", path: personal, user: "-", headers: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))},
			status: http.StatusUnauthorized, msg: "unauthorized"},
		{name: "Authorization Basic, empty user", method: "PROPFIND", path: personal, user: "-", headers: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+caltest.Password("alice")))},
			status: http.StatusUnauthorized, msg: "unauthorized"},
		{name: "Authorization Basic, NUL in the user", method: "PROPFIND", path: personal, user: "-", headers: []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice\x00:"+caltest.Password("alice")))},
			status: http.StatusUnauthorized, msg: "unauthorized"},
		{name: "Authorization of 60 KB", method: "PROPFIND", path: personal, user: "-", headers: []string{"Authorization", "Basic " + strings.Repeat("QUFB", 15000)},
			status: http.StatusUnauthorized, msg: "unauthorized"},
		{name: "two Authorization headers", path: personal,
			raw:    "PROPFIND " + personal + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + authz + "Depth: 0\r\nContent-Length: 0\r\n\r\n",
			status: http.StatusUnauthorized, msg: "unauthorized"},

		// Forms (CSRF): a browser sends these cross-site without asking.
		{name: "form POST to a calendar", method: "POST", path: personal, headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			body: "data=" + strings.ReplaceAll(vcal(vevent("csrf")), "\r\n", "%0D%0A"), status: http.StatusUnsupportedMediaType, msg: "text/calendar"},
		{name: "multipart POST to a calendar", method: "POST", path: personal, headers: []string{"Content-Type", "multipart/form-data; boundary=XX"},
			body: "--XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.ics\"\r\nContent-Type: text/calendar\r\n\r\n" + vcal(vevent("csrf")) + "\r\n--XX--\r\n", status: http.StatusUnsupportedMediaType, msg: "text/calendar"},
		{name: "text/plain POST to a calendar", method: "POST", path: personal, headers: []string{"Content-Type", "text/plain"},
			body: vcal(vevent("csrf")), status: http.StatusUnsupportedMediaType, msg: "text/calendar"},
		{name: "POST to a calendar without Content-Type", path: personal,
			raw:    "POST " + personal + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(vcal(vevent("csrf")))) + vcal(vevent("csrf")),
			status: http.StatusUnsupportedMediaType, msg: "text/calendar"},
		{name: "text/plain PUT to a calendar", method: "PUT", path: personal, headers: []string{"Content-Type", "text/plain"},
			body: vcal(vevent("csrf")), status: http.StatusUnsupportedMediaType, msg: "text/calendar"},
		{name: "form POST to the outbox", method: "POST", path: "/dav/calendars/alice/outbox/", headers: []string{"Content-Type", "application/x-www-form-urlencoded"},
			body: "x=" + fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1"), status: http.StatusUnsupportedMediaType, cond: "c:supported-calendar-data"},
		{name: "multipart POST to the outbox", method: "POST", path: "/dav/calendars/alice/outbox/", headers: []string{"Content-Type", "multipart/form-data; boundary=XX"},
			body: "--XX\r\n\r\n" + fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1") + "\r\n--XX--\r\n", status: http.StatusUnsupportedMediaType, cond: "c:supported-calendar-data"},
		{name: "text/plain POST to the outbox", method: "POST", path: "/dav/calendars/alice/outbox/", headers: []string{"Content-Type", "text/plain"},
			body: fbRequest("mailto:alice@127.0.0.1", "mailto:bob@127.0.0.1"), status: http.StatusUnsupportedMediaType, cond: "c:supported-calendar-data"},
		{name: "outbox VEVENT invitation", method: "POST", path: "/dav/calendars/alice/outbox/", headers: ct,
			body:   strings.Replace(vcal(vevent("invite", "ORGANIZER:mailto:alice@127.0.0.1", "ATTENDEE:mailto:bob@127.0.0.1")), "VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST", 1),
			status: http.StatusForbidden, cond: "c:valid-scheduling-message"},
		{name: "outbox request with someone else's ORGANIZER", method: "POST", path: "/dav/calendars/alice/outbox/", headers: ct,
			body:   fbRequest("mailto:bob@127.0.0.1", "mailto:bob@127.0.0.1"),
			status: http.StatusForbidden, cond: "c:organizer-allowed"},

		// Imports that would create a calendar the store cannot name
		// (these answered 500 before).
		{name: "import creating a calendar named with NUL", method: "POST", path: "/dav/calendars/alice/a%00b/?create=1", headers: ct,
			body: vcal(vevent("imp")), status: http.StatusBadRequest, msg: "invalid calendar name"},
		{name: "import creating a calendar named with %2F", method: "POST", path: "/dav/calendars/alice/x%2Fy/?create=1", headers: ct,
			body: vcal(vevent("imp")), status: http.StatusBadRequest, msg: "invalid calendar name"},
		{name: "import PUT creating a calendar with a 300-byte name", method: "PUT", path: "/dav/calendars/alice/" + strings.Repeat("n", 300) + "/?create=1", headers: ct,
			body: vcal(vevent("imp")), status: http.StatusBadRequest, msg: "invalid calendar name"},

		// Bodies that lie about themselves.
		{name: "chunked PUT with a bad chunk size", path: obj,
			raw:    "PUT " + obj + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Type: text/calendar\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nBEGIN:VCALENDAR\r\n0\r\n\r\n",
			status: http.StatusBadRequest, msg: "could not read"},
		{name: "chunked PUT cut short", path: obj,
			raw:    "PUT " + obj + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Type: text/calendar\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + vcal(vevent("short"))[:100],
			status: http.StatusBadRequest, msg: "could not read"},
		{name: "chunked PROPPATCH with a bad chunk size", path: personal,
			raw:    "PROPPATCH " + personal + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Transfer-Encoding: chunked\r\n\r\n10\r\n<d:propertyupdate\r\nxyz\r\n",
			status: http.StatusBadRequest, msg: "could not read"},
		{name: "PUT with a Content-Length larger than the body", path: obj,
			raw:    "PUT " + obj + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Type: text/calendar\r\nContent-Length: 2000\r\n\r\n" + vcal(vevent("short")),
			status: http.StatusBadRequest, msg: "could not read"},
		{name: "PROPPATCH with a Content-Length larger than the body", path: personal,
			raw:    "PROPPATCH " + personal + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Length: 2000\r\n\r\n" + `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>x</d:displayname></d:prop></d:set></d:propertyupdate>`,
			status: http.StatusBadRequest, msg: "could not read"},
		{name: "import with a Content-Length larger than the body", path: personal,
			raw:    "POST " + personal + " HTTP/1.1\r\nHost: " + host + "\r\n" + authz + "Content-Type: text/calendar\r\nContent-Length: 5000\r\n\r\n" + vcal(vevent("short")),
			status: http.StatusBadRequest, msg: "could not read"},
	}

	before := storeState(t, s.DB, "alice", "bob")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var status int
			var body, ctype string
			if c.raw != "" {
				status, body = rawResponse(t, s, c.raw)
			} else {
				user := c.user
				switch user {
				case "":
					user = "alice"
				case "-":
					user = ""
				}
				r := s.Do(t, user, c.method, c.path, c.body, c.headers...)
				status, body, ctype = r.StatusCode, r.Body, r.Header.Get("Content-Type")
				if status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("401 without a WWW-Authenticate challenge")
				}
			}
			if status != c.status {
				t.Fatalf("status %d, want %d\n%.600s", status, c.status, body)
			}
			switch {
			case c.cond != "":
				space, local, _ := strings.Cut(c.cond, ":")
				space = map[string]string{"c": nsCalDAV, "d": nsDAV}[space]
				if got := caltest.ErrorCondition(body); got.Space != space || got.Local != local {
					t.Fatalf("precondition %v, want {%s}%s\n%.600s", got, space, local, body)
				}
			case c.status == http.StatusMultiStatus:
				caltest.ParseMultistatus(t, body)
			default:
				if !strings.Contains(body, c.msg) || len(body) > 2000 {
					t.Fatalf("body %.600q, want a short message with %q", body, c.msg)
				}
				if ctype != "" && !strings.HasPrefix(ctype, "text/plain") && !strings.HasPrefix(ctype, "application/json") {
					t.Fatalf("Content-Type %q for an error message", ctype)
				}
			}
			if after := storeState(t, s.DB, "alice", "bob"); after != before {
				t.Fatalf("the store changed:\n--- before\n%s--- after\n%s", before, after)
			}
		})
	}
	if len(cases) < 40 {
		t.Fatalf("%d cases, issue 5 asks for at least forty", len(cases))
	}
	// And the server still serves.
	wantStatus(t, s.Do(t, "alice", "GET", personal+"mine.ics", ""), http.StatusOK)
}
