package caldav_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/internal/caltest"
)

// Calendar properties a client sets are capped: they go into every
// listing.
func TestPropertyCaps(t *testing.T) {
	s := caltest.New(t, "alice")
	set := func(prop, value string) *caltest.Response {
		return s.Do(t, "alice", "PROPPATCH", "/dav/calendars/alice/personal/",
			`<d:propertyupdate xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>`+
				prop[:strings.Index(prop, ">")+1]+value+"</"+prop[1:strings.Index(prop, ">")+1]+`</d:prop></d:set></d:propertyupdate>`)
	}
	before, _ := s.DB.Calendar("alice", "personal")
	for _, tt := range []struct{ prop, value string }{
		{"<d:displayname>", strings.Repeat("n", 2000)},
		{"<c:calendar-description>", strings.Repeat("d", 20<<10)},
	} {
		r := set(tt.prop, tt.value)
		wantStatus(t, r, http.StatusMultiStatus)
		if !strings.Contains(r.Body, "403") {
			t.Errorf("PROPPATCH %s of %d bytes:\n%.300s\nwant 403 in the propstat", tt.prop, len(tt.value), r.Body)
		}
	}
	after, _ := s.DB.Calendar("alice", "personal")
	if after.DisplayName != before.DisplayName || after.Description != before.Description {
		t.Errorf("an over-long property was stored: %q / %d bytes", after.DisplayName, len(after.Description))
	}
	wantStatus(t, set("<d:displayname>", strings.Repeat("n", 1000)), http.StatusMultiStatus)
	if after, _ := s.DB.Calendar("alice", "personal"); len(after.DisplayName) != 1000 {
		t.Errorf("a 1000-byte display name was refused")
	}
}
