package caldav

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/calbolt/calbolt/store"
)

// httpError is an error with the response it deserves: a status, and for
// WebDAV/CalDAV preconditions (RFC 4918 §16, RFC 4791 §1.3) the condition
// element to put in a DAV:error body.
type httpError struct {
	status int
	cond   string // rendered precondition element inside DAV:error, e.g. "<c:valid-calendar-data/>"
	msg    string // short human-readable text, safe to show a client
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, msg string) *httpError { return &httpError{status: status, msg: msg} }

// precondition builds a precondition failure; cond is the element's local
// name in the CalDAV namespace ("c:") or DAV namespace ("d:"), e.g.
// "c:valid-calendar-data".
func precondition(status int, cond, msg string) *httpError {
	return &httpError{status: status, cond: "<" + cond + "/>", msg: msg}
}

var (
	errNotFound       = errorf(http.StatusNotFound, "not found")
	errMethod         = errorf(http.StatusMethodNotAllowed, "method not allowed on this resource")
	errPrecondition   = errorf(http.StatusPreconditionFailed, "precondition failed: the resource changed or exists")
	errUnauthorized   = errorf(http.StatusUnauthorized, "authentication required")
	errBadRequestXML  = errorf(http.StatusBadRequest, "malformed XML request body")
	errRequestTooBig  = errorf(http.StatusRequestEntityTooLarge, "request body or XML exceeds the server's limits")
	errFiniteDepth    = precondition(http.StatusForbidden, "d:propfind-finite-depth", "Depth: infinity is not supported")
	errBadDepth       = errorf(http.StatusBadRequest, "invalid Depth header")
	errInvalidToken   = precondition(http.StatusForbidden, "d:valid-sync-token", "the sync token is not valid for this collection")
	errUnsupportedRep = precondition(http.StatusForbidden, "d:supported-report", "this report is not supported on this resource")
	errNoSpace        = errorf(http.StatusInsufficientStorage, "the server has no room to store this (its disk is full); nothing was changed, and reads still work")
)

// writeError maps err to a response. Errors the client caused carry their
// own status; store sentinels map to theirs; anything else is logged and
// answered with a bare 500 so that no internal detail reaches the client.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var uc *store.UIDConflictError
	switch {
	case errors.Is(err, errClientGone):
		// The response is under way and nobody reads it any more.
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "client went away",
			slog.String("method", r.Method), slog.String("path", r.URL.Path))
		return
	case errors.As(err, &he):
	case errors.As(err, &uc):
		// RFC 4791 §5.3.2.1: the DAV:href of the resource holding the UID.
		he = &httpError{
			status: http.StatusConflict,
			cond:   "<c:no-uid-conflict>" + hrefXML(objectHref(userOf(r), uc.Calendar, uc.Name)) + "</c:no-uid-conflict>",
			msg:    "another resource in this calendar has the same UID",
		}
	case errors.Is(err, store.ErrNotFound):
		he = errNotFound
	case errors.Is(err, store.ErrPreconditionFailed):
		he = errPrecondition
	case errors.Is(err, store.ErrInvalidSyncToken):
		he = errInvalidToken
	case errors.Is(err, store.ErrInvalidName):
		he = errorf(http.StatusBadRequest, "invalid resource name")
	case errors.Is(err, store.ErrExists):
		he = errMethod
	case errors.Is(err, errBadXML):
		he = errBadRequestXML
	case errors.Is(err, errXMLLimits):
		he = errRequestTooBig
	case store.IsNoSpace(err):
		// RFC 4918 §11.5. The operator has to act: log it like a 500.
		h.log.LogAttrs(r.Context(), slog.LevelError, "out of space for the data file",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		he = errNoSpace
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
		he = errorf(http.StatusInternalServerError, "internal server error")
	}
	if he.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="calbolt", charset="UTF-8"`)
	}
	if he.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", allowHeader(parsePath(r.URL.EscapedPath()).kind))
	}
	if he.cond != "" {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(he.status)
		// RFC 4918 §16: DAV:error may carry more than the condition; a
		// calbolt:message says in words what the condition means here.
		msg := ""
		if he.msg != "" {
			msg = `<cb:message xmlns:cb="` + nsCalbolt + `">` + escape(he.msg) + `</cb:message>`
		}
		_, _ = w.Write([]byte(xmlHeader + "<d:error" + nsDecls + ">" + he.cond + msg + "</d:error>\n"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(he.status)
	_, _ = w.Write([]byte("calbolt: " + he.msg + "\n"))
}
