package caldav

import (
	"net/http"
	"strconv"
	"strings"
)

// serveGet answers GET and HEAD. Objects are served as stored, with their
// strong ETag; a calendar as one .ics of all its objects (import.go);
// other collections answer a short note for people who open the URL in a
// browser.
func (h *handler) serveGet(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	if res.kind == kindCalendar {
		return h.serveExport(w, r, res)
	}
	if res.kind != kindObject {
		t, err := h.load(r, res, false)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			msg := "calbolt: this is a CalDAV collection; add " + t.res.href() + " to a CalDAV client.\n"
			_, _ = w.Write([]byte(msg))
		}
		return nil
	}
	o, err := h.db.Object(res.user, res.calendar, res.object)
	if err != nil {
		return err
	}
	// RFC 7232 §3.1: If-Match on a GET fails when no listed tag matches.
	if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" && !etagListHas(im, o.ETag) {
		return errPrecondition
	}
	etag := quoteETag(o.ETag)
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", httpDate(o.Modified))
	if inm := r.Header.Get("If-None-Match"); inm != "" && (strings.TrimSpace(inm) == "*" || etagListHas(inm, o.ETag) || weakListHas(inm, o.ETag)) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", objectContentType(&o))
	w.Header().Set("Content-Length", strconv.Itoa(len(o.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(o.Data)
	}
	return nil
}

// weakListHas applies the weak comparison If-None-Match uses on GET
// (RFC 7232 §3.2).
func weakListHas(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == quoteETag(etag) {
			return true
		}
	}
	return false
}
