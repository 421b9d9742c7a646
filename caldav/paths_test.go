package caldav

import "testing"

func TestParsePath(t *testing.T) {
	cases := []struct {
		in   string
		want resource
	}{
		{"/", resource{kind: kindServerRoot}},
		{"/dav", resource{kind: kindRoot}},
		{"/dav/", resource{kind: kindRoot}},
		{"/dav/principals/", resource{kind: kindPrincipals}},
		{"/dav/principals/alice/", resource{kind: kindPrincipal, user: "alice"}},
		{"/dav/principals/alice", resource{kind: kindPrincipal, user: "alice"}},
		{"/dav/calendars/", resource{kind: kindCalendars}},
		{"/dav/calendars/alice/", resource{kind: kindHome, user: "alice"}},
		{"/dav/calendars/alice/work/", resource{kind: kindCalendar, user: "alice", calendar: "work"}},
		{"/dav/calendars/alice/work/a.ics", resource{kind: kindObject, user: "alice", calendar: "work", object: "a.ics"}},
		{"/dav/calendars/alice//work//a.ics", resource{kind: kindObject, user: "alice", calendar: "work", object: "a.ics"}},
		{"/dav/calendars/a%40b.example/work/x%20y.ics", resource{kind: kindObject, user: "a@b.example", calendar: "work", object: "x y.ics"}},
		{"/dav/calendars/alice/work/a%2Fb.ics", resource{kind: kindObject, user: "alice", calendar: "work", object: "a/b.ics"}},
		{"/dav/calendars/bob/../alice/", resource{kind: kindHome, user: "alice"}},
		{"/dav/calendars/bob/%2e%2e/alice/", resource{kind: kindHome, user: "alice"}},
		{"/dav/calendars/alice/./work/", resource{kind: kindCalendar, user: "alice", calendar: "work"}},
		{"/../../dav/calendars/alice/", resource{kind: kindHome, user: "alice"}},
		{"/..", resource{kind: kindServerRoot}},
		{"/DAV/calendars/alice/", resource{}},
		{"/dav/Calendars/alice/", resource{}},
		{"/dav/calendars/alice/work/a.ics/extra", resource{}},
		{"/dav/calendars/alice/work/%zz", resource{}},
		{"/other", resource{}},
		{"relative", resource{}},
		{"", resource{}},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			if got := parsePath(tc.in); got != tc.want {
				t.Fatalf("parsePath(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzParsePath checks that any path resolves without panicking and that
// a resolved resource's canonical href resolves to itself.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/dav/calendars/alice/work/a.ics", "/dav/principals/a%40b/", "/dav/calendars/x/../y/%2F/", "//dav//calendars"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := parsePath(p)
		if r.kind == kindNone {
			return
		}
		for _, s := range []string{r.user, r.calendar, r.object} {
			if s == "." || s == ".." {
				t.Fatalf("parsePath(%q) kept a dot segment: %+v", p, r)
			}
		}
		if back := parsePath(r.href()); back != r {
			t.Fatalf("parsePath(%q) = %+v, but its href %q resolves to %+v", p, r, r.href(), back)
		}
	})
}

func TestEscape(t *testing.T) {
	cases := []struct{ in, want string }{
		{`"abc"`, `&quot;abc&quot;`},
		{"a&b<c>d", "a&amp;b&lt;c&gt;d"},
		{"line1\r\nline2", "line1&#xD;\nline2"},
		{"bell\x07", "bell\uFFFD"},
		{"plain text", "plain text"},
		{"it's", "it's"},
	}
	for _, tc := range cases {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
