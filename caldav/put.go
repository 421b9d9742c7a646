package caldav

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/emersion/go-webdav"

	"github.com/calbolt/calbolt/store"
)

// servePut stores a calendar object resource (RFC 4791 §5.3.2). The
// If-Match / If-None-Match check and the UID rule run inside the store's
// write transaction, so two clients racing on one object cannot both win.
func (h *handler) servePut(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	if res.kind == kindCalendar {
		// A whole .ics PUT to a calendar is an import, as a POST is.
		return h.serveImport(w, r, res)
	}
	if res.kind != kindObject {
		return errMethod
	}
	cal, err := h.db.Calendar(res.user, res.calendar)
	if err != nil {
		if isNotFound(err) {
			// RFC 4918 §9.7.1: no collection to put into.
			return errorf(http.StatusConflict, "the calendar does not exist")
		}
		return err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !strings.EqualFold(mt, "text/calendar") {
			return precondition(http.StatusUnsupportedMediaType, "c:supported-calendar-data",
				"calendar object resources must be text/calendar")
		}
	}
	tooBig := precondition(http.StatusForbidden, "c:max-resource-size",
		"the resource exceeds the server's max-resource-size of "+strconv.FormatInt(h.maxSize, 10)+" bytes")
	if r.ContentLength > h.maxSize {
		return tooBig
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooBig
		}
		return errorf(http.StatusBadRequest, "could not read the request body")
	}
	cond, err := h.condition(r, res)
	if err != nil {
		return err
	}
	obj, err := parseObject(body, &cal)
	if err != nil {
		return err
	}
	stored, created, err := h.db.PutObject(res.user, res.calendar, store.Object{
		Name:      res.object,
		UID:       obj.UID,
		Component: obj.Component,
		Span:      obj.Span,
		Data:      obj.Data,
	}, cond)
	if err != nil {
		return err
	}
	// RFC 4791 §5.3.4: an ETag only when the stored bytes are the ones the
	// client sent; otherwise the client must fetch the repaired object.
	if obj.Verbatim {
		w.Header().Set("ETag", quoteETag(stored.ETag))
	}
	if created {
		w.Header().Set("Location", res.href())
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// condition reads If-Match and If-None-Match (RFC 7232 §3.1, §3.2) for a
// write to res. "If-None-Match: *" becomes a store condition; an If-Match
// list is resolved against the current ETag here and then re-checked by the
// store inside its transaction, so the write stays atomic. A weak ETag never
// matches (RFC 7232 §2.3.2: strong comparison).
func (h *handler) condition(r *http.Request, res resource) (store.Condition, error) {
	var cond store.Condition
	if inm := strings.TrimSpace(r.Header.Get("If-None-Match")); inm != "" {
		if inm != "*" {
			// An If-None-Match list on a write: fail if the current ETag
			// is in it.
			cur, err := h.db.Object(res.user, res.calendar, res.object)
			if err == nil && etagListHas(inm, cur.ETag) {
				return cond, errPrecondition
			}
		} else {
			cond.IfNoneMatch = true
		}
	}
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	switch {
	case im == "":
	case im == "*":
		cond.IfMatch = "*"
	case strings.Contains(im, ","):
		cur, err := h.db.Object(res.user, res.calendar, res.object)
		if err != nil || !etagListHas(im, cur.ETag) {
			return cond, errPrecondition
		}
		cond.IfMatch = cur.ETag
	default:
		etag, err := webdav.ConditionalMatch(im).ETag()
		if err != nil || strings.HasPrefix(im, "W/") {
			return cond, errPrecondition
		}
		cond.IfMatch = etag
	}
	return cond, nil
}

// etagListHas reports whether a comma-separated entity-tag list holds etag
// (strong comparison).
func etagListHas(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		if strings.HasPrefix(t, "W/") {
			continue
		}
		if v, err := webdav.ConditionalMatch(t).ETag(); err == nil && v == etag {
			return true
		}
	}
	return false
}
