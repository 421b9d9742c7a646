package caldav

import "net/http"

// davCompliance is the DAV header (RFC 4918 §10.1): class 1, class 3
// (RFC 4918 without locking), calendar-access (RFC 4791 §5.1),
// extended-mkcol (RFC 5689 §3) and calendar-schedule: the scheduling
// outbox answers free-busy requests (RFC 6638 §5), which is what makes
// Thunderbird offer its attendee availability grid. Not
// calendar-auto-schedule: calbolt does not deliver invitations, and a
// client told otherwise would stop sending them by mail. Only what calbolt
// really does.
const davCompliance = "1, 3, calendar-access, extended-mkcol, calendar-schedule"

// allowHeader lists the methods a kind of resource answers.
func allowHeader(k kind) string {
	switch k {
	case kindObject:
		return "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MOVE, COPY"
	case kindCalendar:
		return "OPTIONS, GET, HEAD, PUT, POST, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL"
	case kindHome:
		return "OPTIONS, GET, HEAD, PROPFIND, PROPPATCH, REPORT, MKCALENDAR, MKCOL"
	case kindOutbox:
		return "OPTIONS, GET, HEAD, POST, PROPFIND"
	case kindInbox:
		return "OPTIONS, GET, HEAD, PROPFIND"
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
