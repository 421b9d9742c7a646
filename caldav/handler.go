// Package caldav is calbolt's HTTP face: CalDAV (RFC 4791) on WebDAV
// (RFC 4918), with discovery (RFC 6764, RFC 5397), extended MKCOL (RFC 5689)
// and sync-collection (RFC 6578). It is the only package that knows status
// codes and DAV XML.
//
// go-webdav's caldav.Handler gets too much wrong for a production server
// (see ../shared/DESIGN.md), so this package owns the dispatcher — one file
// per method or REPORT — and uses go-webdav for its vocabulary: the query
// model (gocaldav.CompFilter, PropFilter, TextMatch, CalendarCompRequest)
// and conditional-header parsing (webdav.ConditionalMatch).
package caldav

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/store"
)

// Options configure NewHandler. A nil *Options means the defaults.
type Options struct {
	// Logger receives one line per request and request errors; nil means
	// slog.Default().
	Logger *slog.Logger
	// Authenticate wraps the handlers that need a user (everything but
	// OPTIONS and /.well-known/caldav); it must put the user in the request
	// context with auth.WithUser. Nil means every such request gets 401.
	Authenticate func(http.Handler) http.Handler
	// MaxResourceSize caps one calendar object in bytes; zero means
	// DefaultMaxResourceSize.
	MaxResourceSize int64
	// MaxImportSize caps one .ics body POSTed to a calendar to import it;
	// zero means DefaultMaxImportSize.
	MaxImportSize int64
	// FreeBusy answers free-busy lookups (the REPORT, the scheduling
	// outbox and /freebusy); nil means busytime.New(db) with its
	// defaults.
	FreeBusy *busytime.Service
}

// DefaultMaxResourceSize is the default cap on one calendar object.
const DefaultMaxResourceSize = 1 << 20

type handler struct {
	db        *store.DB
	instances *instanceCache // calendar-query's fast path (query_instances.go)
	fb        *busytime.Service
	log       *slog.Logger
	maxSize   int64
	// maxImport caps an import body (import.go).
	maxImport int64
	authed    http.Handler
}

// NewHandler returns the CalDAV handler serving db under "/".
func NewHandler(db *store.DB, opts *Options) http.Handler {
	if opts == nil {
		opts = &Options{}
	}
	h := &handler{db: db, instances: newInstanceCache(), log: opts.Logger, maxSize: opts.MaxResourceSize, fb: opts.FreeBusy}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.fb == nil {
		h.fb = busytime.New(db, &busytime.Options{Logger: h.log})
	}
	if h.maxSize <= 0 {
		h.maxSize = DefaultMaxResourceSize
	}
	if h.maxImport = opts.MaxImportSize; h.maxImport <= 0 {
		h.maxImport = DefaultMaxImportSize
	}
	h.authed = http.HandlerFunc(h.serveDAV)
	if opts.Authenticate != nil {
		h.authed = opts.Authenticate(h.authed)
	}
	return http.HandlerFunc(h.serveHTTP)
}

// reqInfo travels in the request context so the access log can name the
// user the authentication layer found.
type reqInfo struct{ user string }

type reqInfoKey struct{}

func (h *handler) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &reqInfo{}
	r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec.status == 0 {
				h.writeError(rec, r, fmt.Errorf("panic: %v", v))
			}
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.code()),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("user", info.user),
			slog.String("remote", r.RemoteAddr),
		)
	}()

	// RFC 6764 §5: the well-known URI redirects to the context path, for
	// every method and without credentials.
	if p := strings.TrimSuffix(r.URL.Path, "/"); p == wellKnownPath {
		http.Redirect(rec, r, contextPath, http.StatusMovedPermanently)
		return
	}
	h.authed.ServeHTTP(rec, r)
}

// userOf returns the authenticated user of r, or "".
func userOf(r *http.Request) string {
	u, _ := auth.UserFromContext(r.Context())
	return u
}

// serveDAV dispatches an authenticated (or anonymous OPTIONS) request.
func (h *handler) serveDAV(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		h.serveOptions(w, r)
		return
	}
	user := userOf(r)
	if user == "" {
		h.writeError(w, r, errUnauthorized)
		return
	}
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		info.user = user
	}
	if p := r.URL.EscapedPath(); p == freeBusyPath || strings.HasPrefix(p, freeBusyPath+"/") {
		if err := h.serveFreeBusyHTTP(w, r); err != nil {
			h.writeError(w, r, err)
		}
		return
	}
	res := parsePath(r.URL.EscapedPath())
	var err error
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		err = h.serveGet(w, r, res)
	case http.MethodPut:
		err = h.servePut(w, r, res)
	case http.MethodDelete:
		err = h.serveDelete(w, r, res)
	case "PROPFIND":
		err = h.servePropfind(w, r, res)
	case "PROPPATCH":
		err = h.serveProppatch(w, r, res)
	case "MKCALENDAR", "MKCOL":
		err = h.serveMkcalendar(w, r, res)
	case "REPORT":
		err = h.serveReport(w, r, res)
	case "MOVE", "COPY":
		err = h.serveMove(w, r, res)
	case http.MethodPost:
		err = h.servePost(w, r, res)
	case "LOCK", "UNLOCK", "ACL", "SEARCH", "BIND", "UNBIND", "REBIND", "MKWORKSPACE", "VERSION-CONTROL", "CHECKIN", "CHECKOUT":
		// Known WebDAV extensions calbolt does not implement.
		err = errorf(http.StatusNotImplemented, r.Method+" is not implemented")
	default:
		err = errorf(http.StatusNotImplemented, "unknown method")
	}
	if err != nil {
		h.writeError(w, r, err)
	}
}

// access resolves res for user: another user's resources answer exactly as
// resources that do not exist, so nobody can probe for them.
func (h *handler) access(r *http.Request, res resource) error {
	switch res.kind {
	case kindNone:
		return errNotFound
	case kindPrincipal, kindHome, kindCalendar, kindObject, kindInbox, kindOutbox:
		if res.user != userOf(r) {
			return errNotFound
		}
	}
	return nil
}

// statusRecorder remembers the status and size of a response for the
// access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// depth parses the Depth header (RFC 4918 §10.2). A missing header means
// def.
func depth(r *http.Request, def int) (int, error) {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Depth"))) {
	case "":
		return def, nil
	case "0":
		return 0, nil
	case "1":
		return 1, nil
	case "infinity":
		return -1, nil
	}
	return 0, errBadDepth
}

// preferMinimal reports whether the client asked to leave out 404 propstats
// (RFC 8144 "Brief: t" and RFC 7240 "Prefer: return=minimal"), as Apple's
// clients do.
func preferMinimal(r *http.Request) bool {
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Brief")), "t") {
		return true
	}
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=minimal") {
				return true
			}
		}
	}
	return false
}
