package caldav

import "net/http"

// davCompliance is the DAV header (RFC 4918 §10.1): class 1, class 3
// (RFC 4918 without locking), calendar-access (RFC 4791 §5.1) and
// extended-mkcol (RFC 5689 §3). Only what calbolt really does.
const davCompliance = "1, 3, calendar-access, extended-mkcol"

// allowHeader lists the methods a kind of resource answers.
func allowHeader(k kind) string {
	switch k {
	case kindObject:
		return "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MOVE, COPY"
	case kindCalendar:
		return "OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL"
	case kindHome:
		return "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL"
	default:
		return "OPTIONS, GET, HEAD, PROPFIND, REPORT"
	}
}

// serveOptions answers OPTIONS without credentials: Thunderbird probes the
// calendar home's capabilities this way. It reveals only what any
// CalDAV server of this version supports, never whether a resource exists.
func (h *handler) serveOptions(w http.ResponseWriter, r *http.Request) {
	res := parsePath(r.URL.EscapedPath())
	w.Header().Set("DAV", davCompliance)
	w.Header().Set("Allow", allowHeader(res.kind))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
