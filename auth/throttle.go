package auth

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Throttle configures how Middleware slows down and then refuses clients
// that keep failing to log in. Failures are counted per client address in a
// fixed window that starts at the client's first failure. A successful
// login does not clear the count: otherwise anyone holding one account
// could interleave logins with guesses at another and never be blocked.
// The zero value means the defaults.
type Throttle struct {
	// Disabled turns throttling off.
	Disabled bool
	// DelayAfter is how many failures a client may have in the window
	// before each further failed response is delayed; zero means 5.
	DelayAfter int
	// BlockAfter is how many failures a client may have in the window
	// before its requests with credentials are answered 429 Too Many
	// Requests until the window ends; zero means 20.
	BlockAfter int
	// Window is how long failures are counted; zero means one minute.
	Window time.Duration
	// Delay is added per failure beyond DelayAfter; zero means 250ms and a
	// negative value means no delay.
	Delay time.Duration
	// MaxDelay caps the delay of one response; zero means two seconds.
	MaxDelay time.Duration
	// MaxClients caps how many client addresses are tracked; zero means
	// 100,000. When full, expired and then arbitrary entries are dropped.
	MaxClients int
}

// Default throttling settings, used where a Throttle field is zero.
const (
	// DefaultDelayAfter is the default Throttle.DelayAfter.
	DefaultDelayAfter = 5
	// DefaultBlockAfter is the default Throttle.BlockAfter.
	DefaultBlockAfter = 20
	// DefaultThrottleWindow is the default Throttle.Window.
	DefaultThrottleWindow = time.Minute
	// DefaultDelay is the default Throttle.Delay.
	DefaultDelay = 250 * time.Millisecond
	// DefaultMaxDelay is the default Throttle.MaxDelay.
	DefaultMaxDelay = 2 * time.Second
	// DefaultMaxClients is the default Throttle.MaxClients.
	DefaultMaxClients = 100_000
)

func (t Throttle) withDefaults() Throttle {
	if t.DelayAfter <= 0 {
		t.DelayAfter = DefaultDelayAfter
	}
	if t.BlockAfter <= 0 {
		t.BlockAfter = DefaultBlockAfter
	}
	if t.Window <= 0 {
		t.Window = DefaultThrottleWindow
	}
	if t.Delay == 0 {
		t.Delay = DefaultDelay
	}
	if t.MaxDelay <= 0 {
		t.MaxDelay = DefaultMaxDelay
	}
	if t.MaxClients <= 0 {
		t.MaxClients = DefaultMaxClients
	}
	return t
}

// limiter counts failed logins per client.
type limiter struct {
	cfg Throttle

	mu      sync.Mutex
	clients map[string]failures
	swept   time.Time // last full sweep of expired entries
}

type failures struct {
	start time.Time // first failure of the current window
	n     int
}

func newLimiter(cfg Throttle) *limiter {
	return &limiter{cfg: cfg.withDefaults(), clients: make(map[string]failures)}
}

// blocked returns how long client must wait before trying again, or zero.
func (l *limiter) blocked(client string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.clients[client]
	if !ok || f.n < l.cfg.BlockAfter {
		return 0
	}
	return max(f.start.Add(l.cfg.Window).Sub(now), 0)
}

// fail records a failed login by client at now. It returns how long to
// delay the response and whether this failure reached the block limit.
func (l *limiter) fail(client string, now time.Time) (delay time.Duration, nowBlocked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.clients[client]
	if !ok {
		l.makeRoom(now)
	}
	if !ok || now.Sub(f.start) >= l.cfg.Window {
		f = failures{start: now}
	}
	f.n++
	l.clients[client] = f
	if excess := f.n - l.cfg.DelayAfter; excess > 0 && l.cfg.Delay > 0 {
		delay = l.cfg.MaxDelay
		if excess < int(l.cfg.MaxDelay/l.cfg.Delay) {
			delay = time.Duration(excess) * l.cfg.Delay
		}
	}
	return delay, f.n == l.cfg.BlockAfter
}

// makeRoom ensures there is space for one more client: it drops expired
// windows (at most once per window, so a table full of live entries does
// not cost a sweep per insert) and then, if still full, arbitrary entries.
// The caller holds l.mu.
func (l *limiter) makeRoom(now time.Time) {
	if len(l.clients) < l.cfg.MaxClients {
		return
	}
	if now.Sub(l.swept) >= l.cfg.Window {
		l.swept = now
		for c, f := range l.clients {
			if now.Sub(f.start) >= l.cfg.Window {
				delete(l.clients, c)
			}
		}
	}
	for c := range l.clients {
		if len(l.clients) < l.cfg.MaxClients {
			break
		}
		delete(l.clients, c)
	}
}

func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// clientKey names the client of r for throttling: the host of
// r.RemoteAddr, or with trustProxy the last address in X-Forwarded-For (the
// one the trusted proxy in front appended; earlier entries are whatever the
// client sent). IPv6 addresses are reduced to their /64, which a single
// client usually controls in full.
func clientKey(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if key, ok := addrKey(strings.TrimSpace(last)); ok {
				return key
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if key, ok := addrKey(host); ok {
		return key
	}
	return host
}

func addrKey(s string) (string, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return "", false
		}
		addr = ap.Addr()
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, err := addr.Prefix(64)
		if err != nil {
			return "", false
		}
		return p.String(), true
	}
	return addr.String(), true
}

// sleepCtx waits for d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
