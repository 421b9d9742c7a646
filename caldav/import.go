package caldav

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/calbolt/calbolt/ics"
	"github.com/calbolt/calbolt/store"
)

// DefaultMaxImportSize is the default cap on one imported .ics body.
const DefaultMaxImportSize = 256 << 20

// importTimeout is how long an import request may take to arrive and be
// answered; the server's own timeouts are made for single objects.
const importTimeout = time.Hour

// serveImport imports a whole iCalendar file POSTed (or PUT) to a calendar
// collection, with ics.Import — the code `calbolt import` runs — and
// answers its report as JSON:
//
//   - 200 when the import ran and accepted something, or found nothing
//     to refuse (201 when it created the calendar, with ?create=1);
//   - 422 when every object was refused, or a ?strict=1 import refused
//     one (then nothing was written);
//   - 413 for a body over the import limit, 415 for anything but
//     text/calendar: browsers send forms (urlencoded, multipart,
//     text/plain) cross-site without asking, so refusing them is the
//     CSRF guard;
//   - 500 with the report so far when writing failed (507 when the disk
//     was full): the chunks it counts are stored, and sending the file
//     again completes the import.
//
// ?dry-run=1 reports without writing. An import adds and updates objects;
// it never deletes the ones the file lacks.
func (h *handler) serveImport(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "text/calendar") {
		return errorf(http.StatusUnsupportedMediaType, "an import takes a text/calendar body")
	}
	q := r.URL.Query()
	opts := &ics.Options{
		DryRun:        flagParam(q.Get("dry-run")),
		Strict:        flagParam(q.Get("strict")),
		Create:        flagParam(q.Get("create")),
		MaxObjectSize: h.maxSize,
	}
	if !opts.Create {
		if _, err := h.db.Calendar(res.user, res.calendar); err != nil {
			return err
		}
	}
	tooBig := errorf(http.StatusRequestEntityTooLarge,
		"the import exceeds the server's limit of "+strconv.FormatInt(h.maxImport, 10)+" bytes")
	if r.ContentLength > h.maxImport {
		return tooBig
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(importTimeout))

	in, release, err := ics.Spool(http.MaxBytesReader(w, r.Body, h.maxImport+1), "", h.maxImport, "")
	defer func() {
		if err := release(); err != nil {
			h.log.Warn("removing an import's temporary file", "err", err)
		}
	}()
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, ics.ErrTooLarge), errors.As(err, &mbe):
		return tooBig
	case err != nil:
		return errorf(http.StatusBadRequest, "could not read the request body")
	}
	rep, err := ics.Import(r.Context(), h.db, res.user, res.calendar, []ics.Input{in}, opts)
	status := http.StatusOK
	switch {
	case errors.Is(err, ics.ErrStrict), errors.Is(err, ics.ErrNoCalendarData):
		status = http.StatusUnprocessableEntity
	case err != nil && r.Context().Err() != nil:
		return errClientGone
	case errors.Is(err, store.ErrInvalidName) && opts.Create && !rep.CalendarCreated:
		// ?create=1 with a name the store refuses: nothing was written.
		return errorf(http.StatusBadRequest, "invalid calendar name")
	case store.IsNoSpace(err):
		h.log.LogAttrs(r.Context(), slog.LevelError, "import failed: out of space for the data file",
			slog.String("path", r.URL.Path), slog.Any("err", err))
		rep.Error = "insufficient storage: the server's disk is full; the objects counted as created or updated are stored; send the file again when there is room"
		status = http.StatusInsufficientStorage
	case err != nil:
		h.log.LogAttrs(r.Context(), slog.LevelError, "import failed",
			slog.String("path", r.URL.Path), slog.Any("err", err))
		rep.Error = "internal server error: the objects counted as created or updated are stored; send the file again to complete the import"
		status = http.StatusInternalServerError
	case rep.Objects == 0 && rep.Rejected > 0:
		status = http.StatusUnprocessableEntity
	case rep.CalendarCreated:
		w.Header().Set("Location", res.href())
		status = http.StatusCreated
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "import",
		slog.String("calendar", res.calendar), slog.Bool("dryRun", rep.DryRun),
		slog.Int("created", rep.Created), slog.Int("updated", rep.Updated),
		slog.Int("unchanged", rep.Unchanged), slog.Int("rejected", rep.Rejected))
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return nil
}

// flagParam reads a boolean query parameter: "1", "true", "yes" or "on".
func flagParam(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// serveExport answers GET and HEAD on a calendar collection with the whole
// calendar as one iCalendar file (ics.Export), streamed. Its strong ETag
// changes with every change to the calendar's members or its name,
// description or time zone.
func (h *handler) serveExport(w http.ResponseWriter, r *http.Request, res resource) error {
	cal, err := h.db.Calendar(res.user, res.calendar)
	if err != nil {
		return err
	}
	etag := ics.ExportETag(cal)
	if im := strings.TrimSpace(r.Header.Get("If-Match")); im != "" && !etagListHas(im, etag) {
		return errPrecondition
	}
	w.Header().Set("ETag", quoteETag(etag))
	w.Header().Set("Last-Modified", httpDate(cal.Modified))
	if inm := r.Header.Get("If-None-Match"); inm != "" && (strings.TrimSpace(inm) == "*" || weakListHas(inm, etag)) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+exportFileName(res.calendar)+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(importTimeout))
	if err := ics.Export(w, h.db, res.user, cal); err != nil {
		// The status is sent: all that is left is to cut the response
		// short, so the client sees a truncated body, not a whole one.
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "export cut short",
			slog.String("path", r.URL.Path), slog.Any("err", err))
		panic(http.ErrAbortHandler)
	}
	return nil
}

// exportFileName is a safe file name for the export of a calendar.
func exportFileName(calendar string) string {
	var b strings.Builder
	for _, c := range calendar {
		if c < 0x80 && (c == '-' || c == '_' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + ".ics"
}
