// Package auth stores passwords as slow salted hashes (argon2id) and
// authenticates HTTP requests with Basic authentication (RFC 7617), putting
// the authenticated user name in the request context.
package auth

import (
	"context"
	"net/http"
)

// UserLookup finds a user's stored password hash; it returns an error
// wrapping a not-found sentinel for unknown users. *store.DB satisfies it.
type UserLookup interface {
	PasswordHash(name string) (string, error)
}

type ctxKey struct{}

// WithUser returns ctx carrying the authenticated user name.
func WithUser(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, ctxKey{}, name)
}

// UserFromContext returns the authenticated user name in ctx.
func UserFromContext(ctx context.Context) (string, bool) {
	name, ok := ctx.Value(ctxKey{}).(string)
	return name, ok && name != ""
}

// Middleware is a placeholder: not implemented yet.
func Middleware(users UserLookup, opts *Options) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler { return h }
}

// Options configure Middleware.
type Options struct{}
