// Package auth authenticates calbolt's users. It stores passwords as salted
// argon2id hashes (RFC 9106) in the PHC string format, still verifies bcrypt
// hashes of imported accounts, and provides an HTTP middleware for the Basic
// authentication scheme (RFC 7617) that puts the authenticated user name in
// the request context, caches verified credentials so that clients sending
// them on every request do not pay for argon2id each time, and throttles
// clients that keep failing to log in.
//
// The package does not know the store: it declares the one method it needs,
// UserLookup, which *store.DB satisfies.
package auth

import "context"

// UserLookup finds a user's stored password hash, as made by HashPassword.
// It returns an error for unknown users (the store's wraps its not-found
// sentinel); Middleware treats every error as a failed login. *store.DB
// satisfies it.
type UserLookup interface {
	PasswordHash(name string) (string, error)
}

type ctxKey struct{}

// WithUser returns ctx carrying the authenticated user name.
func WithUser(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, ctxKey{}, name)
}

// UserFromContext returns the authenticated user name in ctx and whether
// there is one.
func UserFromContext(ctx context.Context) (string, bool) {
	name, ok := ctx.Value(ctxKey{}).(string)
	return name, ok && name != ""
}
