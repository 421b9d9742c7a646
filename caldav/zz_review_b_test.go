package caldav_test

import (
	"testing"

	"github.com/calbolt/calbolt/internal/caltest"
)

func TestZZReviewB(t *testing.T) {
	s := caltest.New(t, "alice", "bob")
	// recurring VTODO with DUE, expand
	vt := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTODO\r\nUID:t1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\nDUE:20260105T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	r := put(t, s, "alice", personal+"t1.ics", vt)
	t.Logf("PUT todo %d %s", r.StatusCode, r.Body)
	q := `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data><c:expand start="20260101T000000Z" end="20260110T000000Z"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"><c:time-range start="20260101T000000Z" end="20260110T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
	r = s.Do(t, "alice", "REPORT", personal, q, "Depth", "1")
	t.Logf("REPORT expand todo %d %s", r.StatusCode, r.Body)

	// two masters same UID
	two := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:dup\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:dup\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260106T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	r = put(t, s, "alice", personal+"dup.ics", two)
	t.Logf("PUT two masters %d %s", r.StatusCode, r.Body)

	// root href
	r = propfind(t, s, "alice", "/", "0", "<d:current-user-principal/>")
	t.Logf("PROPFIND / %d %s", r.StatusCode, r.Body)

	// MOVE with If-Match mismatched
	r = put(t, s, "alice", personal+"e1.ics", event("e1", "s", "20260105T090000Z", "20260105T100000Z"))
	t.Logf("PUT e1 %d", r.StatusCode)
	r = s.Do(t, "alice", "MKCALENDAR", "/dav/calendars/alice/work/", "")
	t.Logf("MKCAL %d", r.StatusCode)
	r = s.Do(t, "alice", "MOVE", personal+"e1.ics", "", "Destination", s.URL+"/dav/calendars/alice/work/e1.ics", "If-Match", `"nope"`)
	t.Logf("MOVE If-Match wrong %d %s", r.StatusCode, r.Body)

	// empty prop
	r = s.Do(t, "alice", "PROPFIND", personal, `<propfind xmlns="DAV:"><prop/></propfind>`, "Depth", "0")
	t.Logf("PROPFIND empty prop %d %s", r.StatusCode, r.Body)
	// calendar-query allprop
	q = `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:allprop/><c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>`
	r = s.Do(t, "alice", "REPORT", personal, q, "Depth", "1")
	t.Logf("REPORT allprop %d %s", r.StatusCode, r.Body)
	// multiget with %40 encoded href
	r = put(t, s, "alice", personal+"a@b.ics", event("ab", "s", "20260105T090000Z", "20260105T100000Z"))
	t.Logf("PUT a@b %d loc=%s", r.StatusCode, r.Header.Get("Location"))
	mg := `<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><d:href>` + personal + `a%40b.ics</d:href><d:href>/dav/calendars/alice/personal/x%27y.ics</d:href></c:calendar-multiget>`
	r = s.Do(t, "alice", "REPORT", personal, mg, "Depth", "1")
	t.Logf("multiget %d %s", r.StatusCode, r.Body)
}
