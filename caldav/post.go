package caldav

import "net/http"

// servePost dispatches POST by the kind of resource: the scheduling outbox
// takes free-busy requests (schedule_outbox.go), a calendar a whole .ics
// to import (import.go).
func (h *handler) servePost(w http.ResponseWriter, r *http.Request, res resource) error {
	switch res.kind {
	case kindOutbox:
		return h.serveOutbox(w, r, res)
	case kindCalendar:
		return h.serveImport(w, r, res)
	}
	if err := h.access(r, res); err != nil {
		return err
	}
	if _, err := h.load(r, res, false); err != nil {
		return err
	}
	return errMethod
}
