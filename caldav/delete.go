package caldav

import (
	"net/http"
	"strings"
)

// serveDelete deletes an object (honouring If-Match inside the store's
// transaction) or a whole calendar with everything in it.
func (h *handler) serveDelete(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	switch res.kind {
	case kindObject:
		cond, err := h.condition(r, res)
		if err != nil {
			return err
		}
		if cond.IfNoneMatch {
			// "If-None-Match: *" on DELETE can only fail if the object
			// exists, and deleting a missing one is a 404 anyway.
			if _, err := h.db.Object(res.user, res.calendar, res.object); err == nil {
				return errPrecondition
			}
		}
		if err := h.db.DeleteObject(res.user, res.calendar, res.object, cond); err != nil {
			return err
		}
	case kindCalendar:
		if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" && im != "*" {
			// Calendars carry no ETag, so only "*" (any current
			// representation) can match (RFC 7232 §3.1).
			if _, err := h.db.Calendar(res.user, res.calendar); err != nil {
				return err
			}
			return errPrecondition
		}
		if err := h.db.DeleteCalendar(res.user, res.calendar); err != nil {
			return err
		}
	default:
		if _, err := h.load(r, res, false); err != nil {
			return err
		}
		return errorf(http.StatusForbidden, "this collection cannot be deleted")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
