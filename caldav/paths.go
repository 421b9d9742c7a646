package caldav

import (
	"net/http"
	"net/url"
	"strings"
)

// The URL space. A client given only the server's root URL finds the rest
// through /.well-known/caldav (RFC 6764) and DAV:current-user-principal
// (RFC 5397):
//
//	/                                  server root: current-user-principal
//	/dav/                              context path (well-known target)
//	/dav/principals/<user>/            principal
//	/dav/calendars/<user>/             calendar home
//	/dav/calendars/<user>/<cal>/       calendar collection
//	/dav/calendars/<user>/<cal>/<obj>  calendar object resource
const (
	wellKnownPath  = "/.well-known/caldav"
	contextPath    = "/dav/"
	principalsPath = "/dav/principals/"
	calendarsPath  = "/dav/calendars/"
)

// kind classifies a resolved request path.
type kind int

const (
	kindNone       kind = iota // nothing lives here
	kindServerRoot             // "/"
	kindRoot                   // "/dav/", the context path
	kindPrincipals             // "/dav/principals/"
	kindCalendars              // "/dav/calendars/"
	kindPrincipal
	kindHome
	kindCalendar
	kindObject
	kindInbox  // the scheduling inbox (RFC 6638 §2.2), "<home>/inbox/"
	kindOutbox // the scheduling outbox (RFC 6638 §2.1), "<home>/outbox/"
)

// resource is a request path resolved to what it names. It says nothing
// about existence or access: those are checked against the store with the
// authenticated user.
type resource struct {
	kind     kind
	user     string // owner, for principal/home/calendar/object
	calendar string // for calendar/object
	object   string // for object
}

// parsePath resolves an escaped URL path (r.URL.EscapedPath()). Each
// segment is unescaped on its own, so "%2F" stays inside a name instead of
// splitting it. Dot segments are resolved (so "/dav/calendars/bob/../alice/"
// names alice's home, which the access check then treats like any other
// path of alice's) and empty segments are ignored. Paths are
// case-sensitive; a segment that does not unescape names nothing.
func parsePath(escaped string) resource {
	if escaped == "" || escaped[0] != '/' {
		return resource{}
	}
	var segs []string
	for _, raw := range strings.Split(escaped, "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return resource{}
		}
		switch seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	switch {
	case len(segs) == 0:
		return resource{kind: kindServerRoot}
	case segs[0] != "dav":
		return resource{}
	case len(segs) == 1:
		return resource{kind: kindRoot}
	}
	switch segs[1] {
	case "principals":
		switch len(segs) {
		case 2:
			return resource{kind: kindPrincipals}
		case 3:
			return resource{kind: kindPrincipal, user: segs[2]}
		}
	case "calendars":
		switch len(segs) {
		case 2:
			return resource{kind: kindCalendars}
		case 3:
			return resource{kind: kindHome, user: segs[2]}
		case 4:
			switch segs[3] {
			case inboxName:
				return resource{kind: kindInbox, user: segs[2]}
			case outboxName:
				return resource{kind: kindOutbox, user: segs[2]}
			}
			return resource{kind: kindCalendar, user: segs[2], calendar: segs[3]}
		case 5:
			if segs[3] == inboxName || segs[3] == outboxName {
				// The inbox stays empty (invitations are not delivered)
				// and the outbox holds nothing by definition.
				return resource{}
			}
			return resource{kind: kindObject, user: segs[2], calendar: segs[3], object: segs[4]}
		}
	}
	return resource{}
}

// hrefPath parses an href from a request body or header (multiget,
// Destination): an absolute URL or an absolute path, percent-encoded. It
// returns the escaped path for parsePath, or false when the href is not on
// this server. An absolute URL must name the host the request was sent to:
// its Host header or, behind a reverse proxy that rewrites Host, one of its
// X-Forwarded-Host values.
func hrefPath(href string, r *http.Request) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", false
	}
	if u.Host != "" && !isOwnHost(u.Host, r) {
		return "", false
	}
	p := u.EscapedPath()
	if p == "" || p[0] != '/' {
		return "", false
	}
	return p, true
}

func isOwnHost(host string, r *http.Request) bool {
	if strings.EqualFold(host, r.Host) {
		return true
	}
	for _, v := range r.Header.Values("X-Forwarded-Host") {
		for _, h := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(h), host) {
				return true
			}
		}
	}
	return false
}

func principalHref(user string) string {
	return principalsPath + url.PathEscape(user) + "/"
}

func homeHref(user string) string {
	return calendarsPath + url.PathEscape(user) + "/"
}

func calendarHref(user, cal string) string {
	return homeHref(user) + url.PathEscape(cal) + "/"
}

// The scheduling collections' names in the calendar home; no calendar may
// take them.
const (
	inboxName  = "inbox"
	outboxName = "outbox"
)

func inboxHref(user string) string  { return calendarHref(user, inboxName) }
func outboxHref(user string) string { return calendarHref(user, outboxName) }

func objectHref(user, cal, obj string) string {
	return calendarHref(user, cal) + url.PathEscape(obj)
}

// href returns the canonical, percent-encoded path of r.
func (r resource) href() string {
	switch r.kind {
	case kindServerRoot:
		return "/"
	case kindRoot:
		return contextPath
	case kindPrincipals:
		return principalsPath
	case kindCalendars:
		return calendarsPath
	case kindPrincipal:
		return principalHref(r.user)
	case kindHome:
		return homeHref(r.user)
	case kindCalendar:
		return calendarHref(r.user, r.calendar)
	case kindInbox:
		return inboxHref(r.user)
	case kindOutbox:
		return outboxHref(r.user)
	case kindObject:
		return objectHref(r.user, r.calendar, r.object)
	}
	return "/"
}
