package caldav

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/store"
)

// FuzzParseObject feeds arbitrary bodies to the PUT validation path. It
// must never panic, and whatever it accepts must parse again to the same
// UID and component with a sane span, so a stored object can always be
// served and queried.
func FuzzParseObject(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "recur", "*.ics"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260101T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nDUE;VALUE=DATE:20260101\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"))
	f.Add([]byte("\xef\xbb\xbfBEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART;TZID=W. Europe Standard Time:20260101T100000\nEND:VEVENT\nEND:VCALENDAR\n"))
	cal := &store.Calendar{Name: "c", Components: []string{"VEVENT", "VTODO", "VJOURNAL"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		obj, err := parseObject(body, cal)
		if err != nil {
			if _, ok := err.(*httpError); !ok {
				t.Fatalf("parseObject error %T %v, want an *httpError", err, err)
			}
			return
		}
		if obj.UID == "" || obj.Component == "" {
			t.Fatalf("accepted an object without UID or component: %+v", obj)
		}
		if obj.Span.End <= obj.Span.Start {
			t.Fatalf("accepted an object with an empty span %+v", obj.Span)
		}
		again, err := parseObject(obj.Data, cal)
		if err != nil {
			t.Fatalf("stored bytes do not validate again: %v\n%q", err, obj.Data)
		}
		if again.UID != obj.UID || again.Component != obj.Component {
			t.Fatalf("re-parse gives %s/%s, want %s/%s", again.UID, again.Component, obj.UID, obj.Component)
		}
	})
}

// FuzzReportQuery feeds arbitrary calendar-query bodies through the bounded
// reader, the XML decoder and the filter builder: no panic, and every error
// is one the client is answered with.
func FuzzReportQuery(f *testing.F) {
	f.Add(`<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260101T000000Z" end="20260102T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`)
	f.Add(`<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"><c:prop-filter name="SUMMARY"><c:text-match collation="i;octet" negate-condition="yes">x</c:text-match><c:param-filter name="X"><c:is-not-defined/></c:param-filter></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`)
	f.Add(`<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range end="20260102T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`)
	f.Fuzz(func(t *testing.T, body string) {
		r, err := http.NewRequest("REPORT", "/dav/calendars/a/c/", strings.NewReader(body))
		if err != nil {
			return
		}
		raw, err := readXMLBody(r)
		if err != nil || raw == nil {
			return
		}
		var req calendarQueryReq
		if err := decodeXML(raw, &req); err != nil {
			return
		}
		if req.Filter == nil || req.Filter.CompFilter == nil {
			return
		}
		var b filterBuilder
		f, err := b.comp(req.Filter.CompFilter)
		if err != nil {
			if _, ok := err.(*httpError); !ok {
				t.Fatalf("filter error %T %v, want an *httpError", err, err)
			}
			return
		}
		if b.nodes > maxFilterNodes {
			t.Fatalf("built a filter of %d nodes, limit %d", b.nodes, maxFilterNodes)
		}
		if f.Name == "" {
			t.Fatalf("comp-filter without a name accepted")
		}
	})
}
