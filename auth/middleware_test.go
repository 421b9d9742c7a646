package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var errNoSuchUser = errors.New("test: user not found")

// fakeUsers is a UserLookup over a map of user → stored hash.
type fakeUsers struct {
	mu     sync.Mutex
	hashes map[string]string
}

func newFakeUsers(t testing.TB, passwords map[string]string) *fakeUsers {
	t.Helper()
	u := &fakeUsers{hashes: make(map[string]string)}
	for name, pw := range passwords {
		u.hashes[name] = mustHash(t, pw, testParams)
	}
	return u
}

func (u *fakeUsers) PasswordHash(name string) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	h, ok := u.hashes[name]
	if !ok {
		return "", fmt.Errorf("lookup %q: %w", name, errNoSuchUser)
	}
	return h, nil
}

func (u *fakeUsers) set(name, hash string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hashes[name] = hash
}

// fakeClock is a settable clock for Options.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testOptions returns Options with cheap dummy hashing, no throttling
// delays, a fake clock and a logger writing to buf.
func testOptions(clock *fakeClock, buf *bytes.Buffer) *Options {
	var w io.Writer = io.Discard
	if buf != nil {
		w = buf
	}
	return &Options{
		Logger:      slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Throttle:    Throttle{Delay: -1},
		now:         clock.now,
		dummyParams: &testParams,
	}
}

// whoami answers 200 with the authenticated user, or "-" for none.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	user, ok := UserFromContext(r.Context())
	if !ok {
		user = "-"
	}
	io.WriteString(w, user)
})

type result struct {
	code int
	body string
	hdr  http.Header
}

func serve(h http.Handler, method, remote string, authz ...string) result {
	r := httptest.NewRequest(method, "/dav/", nil)
	if remote != "" {
		r.RemoteAddr = remote
	}
	for _, a := range authz {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return result{w.Code, w.Body.String(), w.Result().Header}
}

func basic(user, password string) string { return "Basic " + b64(user+":"+password) }

const wantChallenge = `Basic realm="calbolt", charset="UTF-8"`

func checkUnauthorized(t *testing.T, res result) {
	t.Helper()
	if res.code != http.StatusUnauthorized {
		t.Fatalf("status = %d (body %q), want 401", res.code, res.body)
	}
	if got := res.hdr.Get("WWW-Authenticate"); got != wantChallenge {
		t.Errorf("WWW-Authenticate = %q, want %q", got, wantChallenge)
	}
	if !strings.HasPrefix(res.hdr.Get("Content-Type"), "text/plain") || len(res.body) > 100 {
		t.Errorf("body = %q (%s), want a short plain-text body", res.body, res.hdr.Get("Content-Type"))
	}
}

func TestMiddlewareNoCredentials(t *testing.T) {
	h := Middleware(newFakeUsers(t, nil), testOptions(newFakeClock(), nil))(whoami)
	checkUnauthorized(t, serve(h, http.MethodGet, ""))
}

func TestMiddlewareRealm(t *testing.T) {
	tests := []struct {
		realm, want string
	}{
		{"", `Basic realm="calbolt", charset="UTF-8"`},
		{"Example CalDAV", `Basic realm="Example CalDAV", charset="UTF-8"`},
		{`say "hi" \o/`, `Basic realm="say \"hi\" \\o/", charset="UTF-8"`},
	}
	for _, tt := range tests {
		t.Run(tt.realm, func(t *testing.T) {
			opts := testOptions(newFakeClock(), nil)
			opts.Realm = tt.realm
			res := serve(Middleware(newFakeUsers(t, nil), opts)(whoami), http.MethodGet, "")
			if got := res.hdr.Get("WWW-Authenticate"); got != tt.want {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMiddlewareNilOptions(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	h := Middleware(users, nil)(whoami)
	if res := serve(h, http.MethodGet, "", basic("alice", "secret")); res.code != 200 || res.body != "alice" {
		t.Fatalf("good credentials: %d %q, want 200 alice", res.code, res.body)
	}
}

func TestMiddlewareCredentials(t *testing.T) {
	users := newFakeUsers(t, map[string]string{
		"alice":             "secret",
		"bob@example.com":   "pa:ss:word",
		"zoë":               "pässwörd",
		"carol":             "correct horse",
		"imported-by-email": "x",
	})
	tests := []struct {
		name   string
		authz  string
		wantOK bool
		user   string
	}{
		{"good", basic("alice", "secret"), true, "alice"},
		{"user with at and password with colons", basic("bob@example.com", "pa:ss:word"), true, "bob@example.com"},
		{"utf-8", basic("zoë", "pässwörd"), true, "zoë"},
		{"lowercase scheme", "basic " + b64("carol:correct horse"), true, "carol"},
		{"extra spaces", "Basic    " + b64("carol:correct horse") + "  ", true, "carol"},
		{"wrong password", basic("alice", "Secret"), false, ""},
		{"password prefix", basic("alice", "secre"), false, ""},
		{"empty password", basic("alice", ""), false, ""},
		{"unknown user", basic("mallory", "secret"), false, ""},
		{"user case matters", basic("Alice", "secret"), false, ""},
		{"other user's password", basic("alice", "pa:ss:word"), false, ""},
	}
	h := Middleware(users, testOptions(newFakeClock(), nil))(whoami)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(h, http.MethodGet, "", tt.authz)
			if !tt.wantOK {
				checkUnauthorized(t, res)
				return
			}
			if res.code != http.StatusOK || res.body != tt.user {
				t.Fatalf("got %d %q, want 200 %q", res.code, res.body, tt.user)
			}
		})
	}
}

func TestMiddlewareMalformedHeaders(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	good := b64("alice:secret")
	tests := []struct {
		name  string
		authz []string
	}{
		{"scheme only", []string{"Basic"}},
		{"not base64", []string{"Basic !!!"}},
		{"bearer", []string{"Bearer x"}},
		{"bearer with good token", []string{"Bearer " + good}},
		{"base64 without colon", []string{"Basic " + b64("alicesecret")}},
		{"empty user", []string{"Basic " + b64(":secret")}},
		{"very long header", []string{"Basic " + b64("alice:secret"+strings.Repeat("x", 1<<16))}},
		{"non-UTF-8", []string{"Basic " + b64("alice:secret\xff")}},
		{"control character", []string{"Basic " + b64("alice:secret\x00")}},
		{"no space", []string{"Basic" + good}},
		{"token split by space", []string{"Basic " + good[:4] + " " + good[4:]}},
		{"auth-params", []string{`Basic realm="calbolt"`}},
		{"empty header", []string{""}},
		{"two headers", []string{"Basic " + good, "Basic " + good}},
		{"two schemes in one header", []string{"Basic " + good + ", Bearer x"}},
	}
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle.Disabled = true
	h := Middleware(users, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("handler called for %q", r.Header.Values("Authorization"))
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkUnauthorized(t, serve(h, http.MethodGet, "", tt.authz...))
		})
	}
}

func TestMiddlewareAnonymous(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.Anonymous = func(r *http.Request) bool { return r.Method == http.MethodOptions }
	h := Middleware(users, opts)(whoami)
	tests := []struct {
		name     string
		method   string
		authz    []string
		wantCode int
		wantBody string
	}{
		{"anonymous without credentials", http.MethodOptions, nil, 200, "-"},
		{"anonymous with good credentials", http.MethodOptions, []string{basic("alice", "secret")}, 200, "alice"},
		{"anonymous with wrong password", http.MethodOptions, []string{basic("alice", "wrong")}, 401, ""},
		{"anonymous with malformed header", http.MethodOptions, []string{"Basic !!!"}, 401, ""},
		{"not anonymous", http.MethodGet, nil, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(h, tt.method, "", tt.authz...)
			if tt.wantCode == http.StatusUnauthorized {
				checkUnauthorized(t, res)
				return
			}
			if res.code != tt.wantCode || res.body != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", res.code, res.body, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestMiddlewareCache(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret", "bob": "hunter2"})
	clock := newFakeClock()
	opts := testOptions(clock, nil)
	opts.CacheTTL = time.Minute
	a := newAuthenticator(users, opts)
	h := a.wrap(whoami)

	// Each step sends one request and states whether it must run a
	// password verification.
	steps := []struct {
		name       string
		do         func()
		authz      string
		wantCode   int
		wantVerify bool
	}{
		{"first login verifies", nil, basic("alice", "secret"), 200, true},
		{"second login is cached", nil, basic("alice", "secret"), 200, false},
		{"other user verifies", nil, basic("bob", "hunter2"), 200, true},
		{"wrong password verifies and fails", nil, basic("alice", "nope"), 401, true},
		{"wrong password is not cached", nil, basic("alice", "nope"), 401, true},
		{"still cached before TTL", func() { clock.advance(59 * time.Second) }, basic("alice", "secret"), 200, false},
		{"expired after TTL", func() { clock.advance(time.Second) }, basic("alice", "secret"), 200, true},
		{"cached again", nil, basic("alice", "secret"), 200, false},
		{"password change invalidates", func() { users.set("alice", mustHash(t, "newpass", testParams)) }, basic("alice", "secret"), 401, true},
		{"new password verifies", nil, basic("alice", "newpass"), 200, true},
		{"new password cached", nil, basic("alice", "newpass"), 200, false},
		{"rehash of same password invalidates", func() { users.set("alice", mustHash(t, "newpass", testParams)) }, basic("alice", "newpass"), 200, true},
		{"deleted user fails without cache", func() {
			users.mu.Lock()
			delete(users.hashes, "alice")
			users.mu.Unlock()
		}, basic("alice", "newpass"), 401, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.do != nil {
				s.do()
			}
			before := a.verifications.Load()
			res := serve(h, http.MethodGet, "", s.authz)
			if res.code != s.wantCode {
				t.Fatalf("status = %d, want %d", res.code, s.wantCode)
			}
			if verified := a.verifications.Load() > before; verified != s.wantVerify {
				t.Errorf("verified = %v, want %v", verified, s.wantVerify)
			}
		})
	}
}

func TestMiddlewareCacheDisabled(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.CacheTTL = -1
	a := newAuthenticator(users, opts)
	h := a.wrap(whoami)
	for range 3 {
		if res := serve(h, http.MethodGet, "", basic("alice", "secret")); res.code != 200 {
			t.Fatalf("status = %d, want 200", res.code)
		}
	}
	if got := a.verifications.Load(); got != 3 {
		t.Errorf("verifications = %d, want 3", got)
	}
}

func TestCredCacheBounded(t *testing.T) {
	clock := newFakeClock()
	c := newCredCache(time.Minute, 10)
	for i := range 100 {
		c.add(c.key(fmt.Sprint("user", i), "pw", "hash"), clock.now())
		if n := c.len(); n > 10 {
			t.Fatalf("after %d adds len = %d, want <= 10", i+1, n)
		}
	}
	last := c.key("user99", "pw", "hash")
	if !c.has(last, clock.now()) {
		t.Errorf("most recent entry missing")
	}
	clock.advance(time.Minute)
	if c.has(last, clock.now()) {
		t.Errorf("entry present after TTL")
	}
}

func TestCredCacheKey(t *testing.T) {
	c := newCredCache(time.Minute, 10)
	base := c.key("alice", "pw", "hash")
	for _, k := range [][3]string{
		{"alice", "pw", "hash2"},
		{"alice", "pw2", "hash"},
		{"alice2", "pw", "hash"},
		{"alicep", "w", "hash"},
	} {
		if c.key(k[0], k[1], k[2]) == base {
			t.Errorf("key(%q) equals key(alice, pw, hash)", k)
		}
	}
	if other := newCredCache(time.Minute, 10); other.key("alice", "pw", "hash") == base {
		t.Errorf("two caches share a key secret")
	}
}

// Unknown users cost a verification (against the dummy hash), like a wrong
// password, so response times do not reveal which users exist.
func TestMiddlewareUnknownUserVerifies(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	a := newAuthenticator(users, testOptions(newFakeClock(), nil))
	h := a.wrap(whoami)
	for i, authz := range []string{basic("mallory", "x"), basic("mallory", "x"), basic("alice", "x")} {
		checkUnauthorized(t, serve(h, http.MethodGet, "", authz))
		if got := a.verifications.Load(); got != int64(i+1) {
			t.Errorf("after request %d verifications = %d, want %d", i+1, got, i+1)
		}
	}
}

func TestMiddlewareBadStoredHash(t *testing.T) {
	users := newFakeUsers(t, nil)
	users.set("alice", "$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Odkw9q5MmZVTnFlDs3GCvg")
	var buf bytes.Buffer
	h := Middleware(users, testOptions(newFakeClock(), &buf))(whoami)
	checkUnauthorized(t, serve(h, http.MethodGet, "", basic("alice", "secret")))
	if !strings.Contains(buf.String(), "level=ERROR") {
		t.Errorf("log = %q, want an ERROR line for the unusable stored hash", buf.String())
	}
}

func TestMiddlewareLogsNoSecrets(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	var buf bytes.Buffer
	opts := testOptions(newFakeClock(), &buf)
	opts.Throttle = Throttle{Delay: -1, DelayAfter: 1, BlockAfter: 3}
	h := Middleware(users, opts)(whoami)
	for _, pw := range []string{"Tr0ub4dor&3", "Tr0ub4dor&3", "Tr0ub4dor&3", "secret"} {
		serve(h, http.MethodGet, "", basic("alice", pw))
	}
	serve(h, http.MethodGet, "", basic("mallory", "Tr0ub4dor&3"))
	serve(h, http.MethodGet, "", "Basic "+b64("nocolonTr0ub4dor&3"))
	log := buf.String()
	if !strings.Contains(log, "login failed") {
		t.Fatalf("log = %q, want failed logins", log)
	}
	for _, secret := range []string{"Tr0ub4dor", "secret", b64("alice:Tr0ub4dor&3")} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %q:\n%s", secret, log)
		}
	}
}

func TestMiddlewareCanceledWhileWaiting(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.MaxConcurrentVerifications = 1
	a := newAuthenticator(users, opts)
	h := a.wrap(whoami)
	a.sem <- struct{}{} // every verification slot busy
	defer a.release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	r.Header.Set("Authorization", basic("alice", "secret"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", w.Code)
	}
	if a.verifications.Load() != 0 {
		t.Errorf("a verification ran without a slot")
	}
}

func TestMiddlewareConcurrent(t *testing.T) {
	passwords := map[string]string{}
	for i := range 8 {
		passwords[fmt.Sprint("user", i)] = fmt.Sprint("pw", i)
	}
	users := newFakeUsers(t, passwords)
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle.Disabled = true
	opts.CacheSize = 4 // force evictions
	a := newAuthenticator(users, opts)
	h := a.wrap(whoami)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				n := (g + i) % 8
				user := fmt.Sprint("user", n)
				pw := fmt.Sprint("pw", n)
				wantOK := i%3 != 0
				if !wantOK {
					pw += "x"
				}
				res := serve(h, http.MethodGet, fmt.Sprintf("192.0.2.%d:1", g), basic(user, pw))
				if wantOK && (res.code != 200 || res.body != user) {
					t.Errorf("%s good: got %d %q", user, res.code, res.body)
				}
				if !wantOK && res.code != 401 {
					t.Errorf("%s bad: got %d", user, res.code)
				}
			}
		})
	}
	wg.Wait()
	if n := a.cache.len(); n > 4 {
		t.Errorf("cache len = %d, want <= 4", n)
	}
}

func BenchmarkMiddlewareCached(b *testing.B) {
	users := newFakeUsers(b, nil)
	users.set("alice", mustHash(b, "secret", DefaultParams()))
	h := Middleware(users, &Options{Logger: slog.New(slog.DiscardHandler)})(whoami)
	authz := basic("alice", "secret")
	if res := serve(h, http.MethodGet, "", authz); res.code != 200 {
		b.Fatalf("status = %d", res.code)
	}
	r := httptest.NewRequest(http.MethodGet, "/dav/", nil)
	r.Header.Set("Authorization", authz)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status = %d", w.Code)
		}
	}
}
