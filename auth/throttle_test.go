package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestThrottleBlocksAndRecovers(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	clock := newFakeClock()
	opts := testOptions(clock, nil)
	opts.Throttle = Throttle{Delay: -1, DelayAfter: 2, BlockAfter: 4, Window: time.Minute}
	h := Middleware(users, opts)(whoami)
	const attacker, other = "198.51.100.7:4000", "203.0.113.9:5000"

	type step struct {
		name       string
		advance    time.Duration
		remote     string
		authz      []string
		wantCode   int
		retryAfter string
	}
	steps := []step{
		{"failure 1", 0, attacker, []string{basic("alice", "guess1")}, 401, ""},
		{"failure 2", 0, attacker, []string{basic("mallory", "guess2")}, 401, ""},
		{"failure 3 (malformed)", 0, attacker, []string{"Basic !!!"}, 401, ""},
		{"failure 4 reaches the limit", 0, attacker, []string{basic("alice", "guess4")}, 401, ""},
		{"blocked", 0, attacker, []string{basic("alice", "guess5")}, 429, "60"},
		{"blocked even with the right password", 10 * time.Second, attacker, []string{basic("alice", "secret")}, 429, "50"},
		{"blocked from another port", 0, "198.51.100.7:4001", []string{basic("alice", "secret")}, 429, "50"},
		{"requests without credentials still get the challenge", 0, attacker, nil, 401, ""},
		{"other clients unaffected", 0, other, []string{basic("alice", "secret")}, 200, ""},
		{"blocked until the window ends", 49 * time.Second, attacker, []string{basic("alice", "secret")}, 429, "1"},
		{"window over", time.Second, attacker, []string{basic("alice", "secret")}, 200, ""},
		{"count restarted", 0, attacker, []string{basic("alice", "guess6")}, 401, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clock.advance(s.advance)
			res := serve(h, http.MethodGet, s.remote, s.authz...)
			if res.code != s.wantCode {
				t.Fatalf("status = %d (%q), want %d", res.code, res.body, s.wantCode)
			}
			if got := res.hdr.Get("Retry-After"); got != s.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, s.retryAfter)
			}
		})
	}
}

// TestThrottleSuccessDoesNotReset: a login that succeeds must not clear the
// client's failures, or anyone holding one account could interleave it
// with guesses at another and never be blocked.
func TestThrottleSuccessDoesNotReset(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret", "mallory": "own-password"})
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle = Throttle{Delay: -1, BlockAfter: 3}
	h := Middleware(users, opts)(whoami)
	steps := []struct {
		user, pw string
		want     int
	}{
		{"alice", "x", 401},
		{"alice", "y", 401},
		{"mallory", "own-password", 200},
		{"alice", "z", 401}, // the third failure reaches the limit
		{"mallory", "own-password", 429},
		{"alice", "secret", 429},
	}
	for i, s := range steps {
		if res := serve(h, http.MethodGet, "", basic(s.user, s.pw)); res.code != s.want {
			t.Fatalf("request %d (%s/%s): status = %d, want %d", i+1, s.user, s.pw, res.code, s.want)
		}
	}
}

// TestThrottleParallelGuesses: guesses sent at once are verified one after
// another per client, so the block applies after BlockAfter of them however
// many arrive together.
func TestThrottleParallelGuesses(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle = Throttle{Delay: -1, BlockAfter: 5}
	opts.MaxConcurrentVerifications = 4
	h := Middleware(users, opts)(whoami)
	const n = 40
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- serve(h, http.MethodGet, "198.51.100.7:4000", basic("alice", fmt.Sprint("guess", i))).code
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[401] != 5 || count[429] != n-5 {
		t.Fatalf("%d parallel guesses: %v, want 5 × 401 and %d × 429", n, count, n-5)
	}
}

func TestThrottleDisabled(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle = Throttle{Disabled: true, BlockAfter: 1}
	h := Middleware(users, opts)(whoami)
	for range 5 {
		serve(h, http.MethodGet, "", basic("alice", "x"))
	}
	if res := serve(h, http.MethodGet, "", basic("alice", "secret")); res.code != 200 {
		t.Fatalf("status = %d, want 200", res.code)
	}
}

func TestLimiterDelay(t *testing.T) {
	l := newLimiter(Throttle{})
	now := newFakeClock().now()
	want := []time.Duration{
		0, 0, 0, 0, 0, // DefaultDelayAfter failures are free
		250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond,
		time.Second, 1250 * time.Millisecond, 1500 * time.Millisecond, 1750 * time.Millisecond,
		2 * time.Second, 2 * time.Second, 2 * time.Second, // capped at DefaultMaxDelay
		2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second,
	}
	for i, w := range want {
		d, blocked := l.fail("c", now)
		if d != w {
			t.Errorf("failure %d: delay = %v, want %v", i+1, d, w)
		}
		if wantBlocked := i+1 == DefaultBlockAfter; blocked != wantBlocked {
			t.Errorf("failure %d: blocked = %v, want %v", i+1, blocked, wantBlocked)
		}
	}
	if got := l.blocked("c", now); got != DefaultThrottleWindow {
		t.Errorf("blocked = %v, want %v", got, DefaultThrottleWindow)
	}
	if got := l.blocked("other", now); got != 0 {
		t.Errorf("blocked(other) = %v, want 0", got)
	}
}

func TestLimiterBounded(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(Throttle{MaxClients: 10})
	for i := range 100 {
		l.fail(fmt.Sprint("client", i), clock.now())
		if n := l.len(); n > 10 {
			t.Fatalf("after %d clients len = %d, want <= 10", i+1, n)
		}
	}
	// Expired windows go first.
	clock.advance(DefaultThrottleWindow)
	for i := range 10 {
		l.fail(fmt.Sprint("fresh", i), clock.now())
	}
	if n := l.len(); n != 10 {
		t.Fatalf("len = %d, want 10", n)
	}
	for i := range 10 {
		if _, ok := l.clients[fmt.Sprint("fresh", i)]; !ok {
			t.Errorf("fresh%d evicted", i)
		}
	}
}

// The throttling delay ends early when the client goes away.
func TestThrottleDelayCanceled(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle = Throttle{DelayAfter: 1, Delay: time.Hour, MaxDelay: time.Hour}
	h := Middleware(users, opts)(whoami)
	serve(h, http.MethodGet, "", basic("alice", "x")) // free failure
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	r.Header.Set("Authorization", basic("alice", "x"))
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), r)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("request took %v despite its context ending after 20ms", d)
	}
}

func TestThrottleDelayApplied(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle = Throttle{DelayAfter: 1, Delay: 30 * time.Millisecond}
	h := Middleware(users, opts)(whoami)
	serve(h, http.MethodGet, "", basic("alice", "x"))
	start := time.Now()
	checkUnauthorized(t, serve(h, http.MethodGet, "", basic("alice", "x")))
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("second failure answered after %v, want >= 30ms", d)
	}
}

func TestSleepCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx(canceled, 1h) = %v, want context.Canceled", err)
	}
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Errorf("sleepCtx(1ms) = %v, want nil", err)
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct {
		name       string
		remote     string
		xff        []string
		trustProxy bool
		want       string
	}{
		{"ipv4", "192.0.2.1:1234", nil, false, "192.0.2.1"},
		{"ipv6 reduced to /64", "[2001:db8:1:2:3:4:5:6]:443", nil, false, "2001:db8:1:2::/64"},
		{"ipv4-mapped ipv6", "[::ffff:192.0.2.1]:80", nil, false, "192.0.2.1"},
		{"ipv6 with zone", "[fe80::1%eth0]:80", nil, false, "fe80::/64"},
		{"no port", "192.0.2.1", nil, false, "192.0.2.1"},
		{"not an address", "pipe", nil, false, "pipe"},
		{"forwarded-for ignored by default", "192.0.2.1:1", []string{"203.0.113.5"}, false, "192.0.2.1"},
		{"forwarded-for trusted", "192.0.2.1:1", []string{"203.0.113.5"}, true, "203.0.113.5"},
		{"last forwarded-for entry", "192.0.2.1:1", []string{"10.0.0.1, 203.0.113.5"}, true, "203.0.113.5"},
		{"last forwarded-for header", "192.0.2.1:1", []string{"10.0.0.1", "203.0.113.6"}, true, "203.0.113.6"},
		{"forwarded-for with port", "192.0.2.1:1", []string{"203.0.113.5:999"}, true, "203.0.113.5"},
		{"forwarded-for ipv6", "192.0.2.1:1", []string{"2001:db8::1"}, true, "2001:db8::/64"},
		{"forwarded-for garbage", "192.0.2.1:1", []string{"unknown"}, true, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientKey(r, tt.trustProxy); got != tt.want {
				t.Errorf("clientKey(%q, %q) = %q, want %q", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
}

func TestThrottleTrustProxyHeaders(t *testing.T) {
	users := newFakeUsers(t, map[string]string{"alice": "secret"})
	opts := testOptions(newFakeClock(), nil)
	opts.Throttle = Throttle{Delay: -1, BlockAfter: 1}
	opts.TrustProxyHeaders = true
	h := Middleware(users, opts)(whoami)
	send := func(xff string) int {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "127.0.0.1:9999" // the proxy
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("Authorization", basic("alice", "x"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if got := send("203.0.113.1"); got != 401 {
		t.Fatalf("first failure: %d, want 401", got)
	}
	if got := send("203.0.113.1"); got != 429 {
		t.Errorf("same client again: %d, want 429", got)
	}
	if got := send("203.0.113.2"); got != 401 {
		t.Errorf("other client behind the same proxy: %d, want 401", got)
	}
}
