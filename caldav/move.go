package caldav

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/calbolt/calbolt/store"
)

// serveMove answers MOVE and COPY (RFC 4918 §9.8, §9.9) of a calendar object
// between the user's own calendars, as Thunderbird and Apple Calendar do to
// move an event. The source check, the destination's Overwrite check and
// the UID rule in the destination calendar run in one store transaction.
// Calendars themselves cannot be moved or copied.
func (h *handler) serveMove(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	if res.kind != kindObject {
		if _, err := h.load(r, res, false); err != nil {
			return err
		}
		return errorf(http.StatusForbidden, "only calendar objects can be moved or copied")
	}
	destHeader := r.Header.Get("Destination")
	destPath, ok := hrefPath(destHeader, r)
	if !ok {
		if u, err := url.Parse(destHeader); err == nil && u.Host != "" {
			// RFC 4918 §9.9.4: a destination on another server.
			return errorf(http.StatusBadGateway, "the Destination is on another server")
		}
		return errorf(http.StatusBadRequest, "missing or invalid Destination header")
	}
	dest := parsePath(destPath)
	if dest.kind != kindObject || dest.user != userOf(r) {
		// Another user's space answers as a missing parent, whether it
		// exists or not.
		if dest.kind == kindObject {
			return errorf(http.StatusConflict, "the destination calendar does not exist")
		}
		return errorf(http.StatusForbidden, "the destination must be a calendar object URL")
	}
	if dest == res {
		return errorf(http.StatusForbidden, "source and destination are the same")
	}
	var dstCond store.Condition
	switch strings.ToUpper(strings.TrimSpace(r.Header.Get("Overwrite"))) {
	case "", "T":
	case "F":
		dstCond.IfNoneMatch = true
	default:
		return errorf(http.StatusBadRequest, "invalid Overwrite header")
	}
	// RFC 7232 §3: If-Match and If-None-Match apply to the request URI,
	// the source; the store checks them in the move's transaction.
	srcCond, err := h.condition(r, res)
	if err != nil {
		return err
	}
	dcal, err := h.db.Calendar(dest.user, dest.calendar)
	if err != nil {
		if isNotFound(err) {
			return errorf(http.StatusConflict, "the destination calendar does not exist")
		}
		return err
	}
	o, err := h.db.Object(res.user, res.calendar, res.object)
	if err != nil {
		return err
	}
	if !supports(&dcal, o.Component) {
		return precondition(http.StatusForbidden, "c:supported-calendar-component",
			"the destination calendar does not accept "+o.Component)
	}
	created, err := h.db.MoveObject(res.user, res.calendar, res.object, dest.calendar, dest.object,
		r.Method == "COPY", srcCond, dstCond)
	if err != nil {
		return err
	}
	if created {
		w.Header().Set("Location", dest.href())
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}
