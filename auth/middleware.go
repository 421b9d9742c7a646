package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure Middleware. A nil *Options and zero fields mean the
// defaults.
type Options struct {
	// Realm names the protection space in the challenge; clients such as
	// Thunderbird file saved passwords under it. Empty means DefaultRealm.
	Realm string
	// Logger receives failed logins (user name, client address, reason;
	// never passwords or the Authorization header). Nil means
	// slog.Default().
	Logger *slog.Logger
	// Anonymous, if set, lets requests for which it returns true through
	// without a user, provided they carry no Authorization header; requests
	// that do carry one are authenticated like any other. Use it for
	// OPTIONS and /.well-known.
	Anonymous func(*http.Request) bool
	// TrustProxyHeaders makes throttling identify clients by the last
	// address in X-Forwarded-For instead of the connection's address. Set
	// it only behind a reverse proxy that appends to that header; otherwise
	// clients can choose their own identity.
	TrustProxyHeaders bool
	// Throttle configures the slowing down and blocking of clients that
	// keep failing to log in.
	Throttle Throttle
	// CacheTTL is how long a successful verification is remembered; zero
	// means DefaultCacheTTL and a negative value disables the cache.
	CacheTTL time.Duration
	// CacheSize caps the number of remembered verifications; zero means
	// DefaultCacheSize.
	CacheSize int
	// MaxConcurrentVerifications caps the password verifications running
	// at once (each argon2id one holds its memory cost, 64 MiB by default);
	// others wait. Zero means runtime.GOMAXPROCS(0).
	MaxConcurrentVerifications int

	// now replaces time.Now in tests.
	now func() time.Time
	// dummyParams replace DefaultParams for the unknown-user hash in tests.
	dummyParams *Params
}

// Middleware defaults, used where an Options field is zero.
const (
	// DefaultRealm is the default Options.Realm.
	DefaultRealm = "calbolt"
	// DefaultCacheTTL is the default Options.CacheTTL.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultCacheSize is the default Options.CacheSize.
	DefaultCacheSize = 10_000
)

// Middleware returns a middleware that authenticates requests with HTTP
// Basic authentication (RFC 7617) against users and serves the wrapped
// handler with the user name in the request context (see UserFromContext).
// Requests without valid credentials get 401 Unauthorized with a Basic
// challenge, unless Options.Anonymous admits them; clients with too many
// recent failures get 429 Too Many Requests with Retry-After.
func Middleware(users UserLookup, opts *Options) func(http.Handler) http.Handler {
	return newAuthenticator(users, opts).wrap
}

// authenticator is the state behind one Middleware.
type authenticator struct {
	users      UserLookup
	log        *slog.Logger
	challenge  string
	anonymous  func(*http.Request) bool
	trustProxy bool
	cache      *credCache // nil when disabled
	limit      *limiter   // nil when disabled
	sem        chan struct{}
	// clientLocks serialise the password verifications of one client
	// (by a hash of its key), so that its failures are counted before its
	// next guess is checked: parallel guesses cannot overtake the throttle.
	clientLocks [64]chan struct{}
	now         func() time.Time
	dummy       func() string // hash verified for unknown users before any user was seen
	// seenHash is a stored hash of a real user, verified (and the outcome
	// ignored) for unknown users: it costs exactly what a known user's
	// verification costs, with nothing to compute first.
	seenHash atomic.Pointer[string]

	verifications atomic.Int64 // password verifications run, for tests
}

func newAuthenticator(users UserLookup, opts *Options) *authenticator {
	if opts == nil {
		opts = &Options{}
	}
	a := &authenticator{
		users:      users,
		log:        opts.Logger,
		anonymous:  opts.Anonymous,
		trustProxy: opts.TrustProxyHeaders,
		now:        opts.now,
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	a.challenge = `Basic realm="` + quoteEscape(realm) + `", charset="UTF-8"`
	if opts.CacheTTL >= 0 {
		ttl, size := opts.CacheTTL, opts.CacheSize
		if ttl == 0 {
			ttl = DefaultCacheTTL
		}
		if size <= 0 {
			size = DefaultCacheSize
		}
		a.cache = newCredCache(ttl, size)
	}
	if !opts.Throttle.Disabled {
		a.limit = newLimiter(opts.Throttle)
	}
	n := opts.MaxConcurrentVerifications
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	a.sem = make(chan struct{}, n)
	params := DefaultParams()
	if opts.dummyParams != nil {
		params = *opts.dummyParams
	}
	a.dummy = sync.OnceValue(func() string {
		h, err := HashPasswordWith("calbolt: no such user", params)
		if err != nil {
			panic(fmt.Sprintf("auth: dummy hash: %v", err))
		}
		return h
	})
	for i := range a.clientLocks {
		a.clientLocks[i] = make(chan struct{}, 1)
	}
	return a
}

// quoteEscape escapes s for an HTTP quoted-string (RFC 9110 §5.6.4).
func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// Reasons a login fails, for the log.
var (
	errUnknownUser   = errors.New("auth: unknown user")
	errWrongPassword = errors.New("auth: wrong password")
	errStoredHash    = errors.New("auth: stored password hash unusable")
)

func (a *authenticator) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers := r.Header.Values("Authorization")
		if len(headers) == 0 {
			if a.anonymous != nil && a.anonymous(r) {
				next.ServeHTTP(w, r)
				return
			}
			a.unauthorized(w)
			return
		}
		ctx := r.Context()
		client := clientKey(r, a.trustProxy)
		if a.limit != nil {
			if wait := a.limit.blocked(client, a.now()); wait > 0 {
				w.Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
				http.Error(w, "too many failed logins, try again later", http.StatusTooManyRequests)
				return
			}
		}
		user, delay, err := a.authenticate(ctx, headers, client)
		if err == nil {
			next.ServeHTTP(w, r.WithContext(WithUser(ctx, user)))
			return
		}
		var wait blockedError
		if errors.As(err, &wait) {
			w.Header().Set("Retry-After", strconv.FormatInt(int64((time.Duration(wait)+time.Second-1)/time.Second), 10))
			http.Error(w, "too many failed logins, try again later", http.StatusTooManyRequests)
			return
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// The client left while waiting for a verification slot.
			http.Error(w, "request canceled", http.StatusServiceUnavailable)
			return
		}
		level := slog.LevelInfo
		if errors.Is(err, errStoredHash) {
			level = slog.LevelError
		}
		a.log.LogAttrs(ctx, level, "auth: login failed",
			slog.String("user", user),
			slog.String("client", client),
			slog.String("reason", err.Error()))
		if err := sleepCtx(ctx, delay); err != nil {
			http.Error(w, "request canceled", http.StatusServiceUnavailable)
			return
		}
		a.unauthorized(w)
	})
}

func (a *authenticator) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", a.challenge)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// blockedError is how long a throttled client must wait.
type blockedError time.Duration

func (e blockedError) Error() string { return "auth: client blocked after repeated login failures" }

// authenticate checks the Basic credentials in headers (the request's
// Authorization header values) of client. It returns the user name it
// parsed, even on failure (for the log), how long to delay a failure, and
// nil or the reason for the failure (a blockedError when client is
// throttled). Credentials verified before are found in the cache without
// any throttling; a verification runs under client's lock, where the block
// is checked first and a failure is counted before the lock is released.
func (a *authenticator) authenticate(ctx context.Context, headers []string, client string) (string, time.Duration, error) {
	if len(headers) != 1 {
		return "", a.countFailure(ctx, client), errMultipleHeaders
	}
	user, password, err := parseBasic(headers[0])
	if err != nil {
		return "", a.countFailure(ctx, client), err
	}
	stored, lookupErr := a.users.PasswordHash(user)
	if lookupErr == nil {
		a.seenHash.Store(&stored)
	}
	var key [32]byte
	if lookupErr == nil && a.cache != nil {
		key = a.cache.key(user, password, stored)
		if a.cache.has(key, a.now()) {
			return user, 0, nil
		}
	}
	lock := a.clientLocks[fnv32(client)%uint32(len(a.clientLocks))]
	select {
	case lock <- struct{}{}:
	case <-ctx.Done():
		return user, 0, ctx.Err()
	}
	defer func() { <-lock }()
	if a.limit != nil {
		if wait := a.limit.blocked(client, a.now()); wait > 0 {
			return user, 0, blockedError(wait)
		}
	}
	err = a.verify(ctx, user, password, stored, lookupErr, key)
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return user, 0, err
	}
	return user, a.countFailure(ctx, client), err
}

// countFailure records a failed login of client and returns how long to
// delay its answer.
func (a *authenticator) countFailure(ctx context.Context, client string) time.Duration {
	if a.limit == nil {
		return 0
	}
	delay, blocked := a.limit.fail(client, a.now())
	if blocked {
		a.log.LogAttrs(ctx, slog.LevelWarn, "auth: blocking client after repeated login failures",
			slog.String("client", client))
	}
	return delay
}

// verify checks password against the stored hash (or, for an unknown user,
// against the dummy hash, spending the time a wrong password would so that
// response times do not tell which user names exist), holding one of the
// global verification slots.
func (a *authenticator) verify(ctx context.Context, user, password, stored string, lookupErr error, key [32]byte) error {
	if err := a.acquire(ctx); err != nil {
		return err
	}
	defer a.release()
	if lookupErr != nil {
		a.verifications.Add(1)
		dummy := a.seenHash.Load()
		if dummy == nil {
			d := a.dummy()
			dummy = &d
		}
		// The outcome is irrelevant.
		_, _ = VerifyPassword(*dummy, password)
		return fmt.Errorf("%w: %w", errUnknownUser, lookupErr)
	}
	// Another request with the same credentials may have verified them
	// while this one waited.
	if a.cache != nil && a.cache.has(key, a.now()) {
		return nil
	}
	a.verifications.Add(1)
	ok, err := VerifyPassword(stored, password)
	if err != nil {
		return fmt.Errorf("%w: %w", errStoredHash, err)
	}
	if !ok {
		return errWrongPassword
	}
	if a.cache != nil {
		a.cache.add(key, a.now())
	}
	return nil
}

// fnv32 hashes a client key onto a lock (FNV-1a).
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func (a *authenticator) acquire(ctx context.Context) error {
	select {
	case a.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *authenticator) release() { <-a.sem }
