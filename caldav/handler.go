// Package caldav is calbolt's HTTP face: CalDAV (RFC 4791) on WebDAV
// (RFC 4918), with discovery (RFC 6764, RFC 5397) and sync-collection
// (RFC 6578). It is the only package that knows status codes and DAV XML.
package caldav

import (
	"log/slog"
	"net/http"

	"github.com/calbolt/calbolt/store"
)

// Options configure NewHandler. A nil *Options means the defaults.
type Options struct {
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
	// Authenticate wraps the handlers that need a user (everything but
	// OPTIONS and /.well-known/caldav); it must put the user in the request
	// context with auth.WithUser. Nil serves nothing that needs a user.
	Authenticate func(http.Handler) http.Handler
	// MaxResourceSize caps one calendar object in bytes; zero means
	// DefaultMaxResourceSize.
	MaxResourceSize int64
}

// DefaultMaxResourceSize is the default cap on one calendar object.
const DefaultMaxResourceSize = 1 << 20

// NewHandler returns the CalDAV handler serving db under "/".
func NewHandler(db *store.DB, opts *Options) http.Handler {
	return http.NotFoundHandler()
}
