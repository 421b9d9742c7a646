package caldav_test

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/internal/caltest"
)

func wellFormed(body string) error {
	d := xml.NewDecoder(strings.NewReader(body))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return err
		}
	}
}

func TestZZReviewDeadPropNS(t *testing.T) {
	s := caltest.New(t, "alice")
	// prefix declared on root, used in value
	body := `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/ns"><D:set><D:prop><Z:Author><Z:Name>Jim</Z:Name></Z:Author></D:prop></D:set></D:propertyupdate>`
	r := s.Do(t, "alice", "PROPPATCH", personal, body, "Content-Type", "application/xml")
	t.Logf("PROPPATCH1 %d %s", r.StatusCode, r.Body)
	r = s.Do(t, "alice", "PROPFIND", personal, `<?xml version="1.0"?><propfind xmlns="DAV:"><prop><Author xmlns="http://example.com/ns"/></prop></propfind>`, "Depth", "0")
	t.Logf("PROPFIND1 %d %s wellformed=%v", r.StatusCode, r.Body, wellFormed(r.Body))
	// default namespace value
	body = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><foo xmlns="http://example.com/ns2"><bar>baz</bar></foo></D:prop></D:set></D:propertyupdate>`
	r = s.Do(t, "alice", "PROPPATCH", personal, body, "Content-Type", "application/xml")
	t.Logf("PROPPATCH2 %d %s", r.StatusCode, r.Body)
	r = s.Do(t, "alice", "PROPFIND", personal, `<?xml version="1.0"?><propfind xmlns="DAV:"><prop><foo xmlns="http://example.com/ns2"/></prop></propfind>`, "Depth", "0")
	t.Logf("PROPFIND2 %d %s wellformed=%v", r.StatusCode, r.Body, wellFormed(r.Body))
	// prefix d rebound
	body = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:d="urn:mine"><D:set><D:prop><d:foo><d:inner/></d:foo></D:prop></D:set></D:propertyupdate>`
	r = s.Do(t, "alice", "PROPPATCH", personal, body, "Content-Type", "application/xml")
	t.Logf("PROPPATCH3 %d %s", r.StatusCode, r.Body)
	r = s.Do(t, "alice", "PROPFIND", personal, `<?xml version="1.0"?><propfind xmlns="DAV:"><prop><foo xmlns="urn:mine"/></prop></propfind>`, "Depth", "0")
	t.Logf("PROPFIND3 %d %s wellformed=%v", r.StatusCode, r.Body, wellFormed(r.Body))
	// depth 1 allprop on home: poisoned?
	r = s.Do(t, "alice", "PROPFIND", "/dav/calendars/alice/", "", "Depth", "1")
	t.Logf("PROPFIND home allprop %d wellformed=%v", r.StatusCode, wellFormed(r.Body))
	if err := wellFormed(r.Body); err != nil {
		t.Errorf("not well formed: %v", err)
	}
}

func TestZZReviewDeadPropNameSize(t *testing.T) {
	s := caltest.New(t, "alice")
	ns := "urn:" + strings.Repeat("a", 3<<20)
	body := `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><foo xmlns="` + ns + `">x</foo></D:prop></D:set></D:propertyupdate>`
	r := s.Do(t, "alice", "PROPPATCH", personal, body, "Content-Type", "application/xml")
	t.Logf("PROPPATCH big ns %d len=%d", r.StatusCode, len(r.Body))
	r = s.Do(t, "alice", "PROPFIND", personal, "", "Depth", "0")
	t.Logf("PROPFIND allprop %d len=%d", r.StatusCode, len(r.Body))
	r = s.Do(t, "alice", "PROPFIND", "/dav/calendars/alice/", `<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>`, "Depth", "1")
	_ = http.StatusOK
}
