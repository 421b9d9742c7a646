package caldav

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/calbolt/calbolt/busytime"
)

// freeBusyPath is the plain HTTP free-busy endpoint for scripts and for
// clients that fetch published free-busy by URL (Outlook's Internet
// Free/Busy asks for "<user>.ifb").
const freeBusyPath = "/freebusy"

// serveFreeBusyHTTP answers GET /freebusy?user=A&user=B… and
// GET /freebusy/A (or /freebusy/A.ifb) with busy time as text/calendar
// (one VFREEBUSY per user) or, when the client accepts application/json
// (or asks format=json), as JSON with each user's and the merged busy
// time; with duration=… it adds the free slots common to all of them
// (JSON only). The parameters are busytime.ParseQuery's. It answers what
// the free-busy-query REPORT answers for the same data: both ask busytime.
func (h *handler) serveFreeBusyHTTP(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return errorf(http.StatusMethodNotAllowed, "the free-busy endpoint answers GET")
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), freeBusyPath)
	var users []string
	ifb := false
	if rest = strings.Trim(rest, "/"); rest != "" {
		if strings.Contains(rest, "/") {
			return errNotFound
		}
		name, err := url.PathUnescape(rest)
		if err != nil {
			return errNotFound
		}
		if strings.HasSuffix(name, ".ifb") || strings.HasSuffix(name, ".vfb") {
			name, ifb = name[:len(name)-4], true
		}
		users = []string{name}
	}
	q, err := busytime.ParseQuery(r.URL.Query(), users, time.Now())
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	ans, err := h.fb.Answer(userOf(r), q, r.Host)
	switch {
	case errors.Is(err, busytime.ErrNotFound):
		return errorf(http.StatusNotFound, "no such user, or their free-busy time is not shared with you")
	case busytime.IsQueryError(err):
		return errorf(http.StatusBadRequest, err.Error())
	case err != nil:
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !ifb && (q.SlotLength > 0 || wantsJSON(r)) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodHead {
			return nil
		}
		return ans.WriteJSON(w)
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	if r.Method == http.MethodHead {
		return nil
	}
	return ans.WriteICS(w, time.Now())
}

// wantsJSON reports whether the request asks for JSON: format=json, or an
// Accept header that names application/json before text/calendar.
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json":
		return true
	case "ics", "ical", "icalendar":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json":
			return true
		case "text/calendar":
			return false
		}
	}
	return false
}
