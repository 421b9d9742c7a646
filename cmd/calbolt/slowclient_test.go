package main

// Slow clients (issue 5, Faults): hundreds of connections that send nothing,
// half a request line or headers a line at a time (slowloris) do not starve
// real clients, and the server closes them after --read-header-timeout.

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowConns opens n connections to addr, a third of each kind: silent,
// half a request line, and slowloris (a header line every 300ms until the
// server hangs up). stop ends the slowloris writers.
func slowConns(t *testing.T, addr string, n int) (conns []net.Conn, stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { conn.Close() })
		conns = append(conns, conn)
		switch i % 3 {
		case 0: // silent
		case 1:
			if _, err := conn.Write([]byte("PROPFIND /dav/calendars/al")); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", addr); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(300 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-done:
						return
					case <-tick.C:
						if _, err := conn.Write([]byte("X-Slow: yes\r\n")); err != nil {
							return
						}
					}
				}
			}()
		}
	}
	var once sync.Once
	return conns, func() { once.Do(func() { close(done); wg.Wait() }) }
}

// closedBy waits until deadline for the server to close each connection
// and returns how many it left open and when the last one closed.
func closedBy(conns []net.Conn, deadline time.Time) (open int, last time.Time) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn.SetReadDeadline(deadline)
			buf := make([]byte, 512)
			var err error
			for err == nil {
				_, err = conn.Read(buf)
			}
			mu.Lock()
			defer mu.Unlock()
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				open++
				return
			}
			last = time.Now()
		}()
	}
	wg.Wait()
	return open, last
}

// maxOpenFiles reads a process's soft and hard RLIMIT_NOFILE.
func maxOpenFiles(t *testing.T, pid int) (soft, hard string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	m := regexp.MustCompile(`(?m)^Max open files\s+(\S+)\s+(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no open-files line in /proc/%d/limits:\n%s", pid, b)
	}
	return string(m[1]), string(m[2])
}

// TestSlowClients holds 300 slow connections open while a real client
// makes requests on fresh connections: each is answered within 400ms.
// After --read-header-timeout (2s here) the server has closed every slow
// connection. The server starts with a soft open-files limit of 1024 under
// a hard one of 8192 and runs with about 8192 (Go raises the soft limit at
// startup since 1.19).
func TestSlowClients(t *testing.T) {
	const (
		slow              = 300
		readHeaderTimeout = 2 * time.Second
		maxLatency        = 400 * time.Millisecond
	)
	dir := filepath.Join(t.TempDir(), "data")
	addUser(t, dir, "alice")
	var wrapper []string
	if _, err := exec.LookPath("prlimit"); err == nil {
		wrapper = []string{"prlimit", "--nofile=1024:8192", "--"}
	}
	s := startServerWith(t, dir, nil, wrapper, "--read-header-timeout", readHeaderTimeout.String(), "--metrics-addr", "127.0.0.1:0")
	if wrapper != nil {
		// Go 1.26 raises the soft limit to the hard one minus one (see
		// syscall/rlimit.go).
		if soft, hard := maxOpenFiles(t, s.cmd.Process.Pid); (soft != "8191" && soft != "8192") || hard != "8192" {
			t.Errorf("server's open-files limit = %s soft, %s hard; want the soft limit raised from 1024 to about 8192", soft, hard)
		}
	}
	calURL := s.url + "dav/calendars/alice/personal/"
	real := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	syncToken(t, real, calURL) // the password hash is verified once, then cached

	addr := strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/")
	opened := time.Now()
	conns, stop := slowConns(t, addr, slow)
	defer stop()
	t.Logf("%d slow connections opened in %v", slow, time.Since(opened).Round(time.Millisecond))

	var worst time.Duration
	for i := 0; time.Since(opened) < readHeaderTimeout-500*time.Millisecond; i++ {
		start := time.Now()
		if i%2 == 0 {
			syncToken(t, real, calURL)
		} else if st, _, b, err := send(real, http.MethodGet, s.url+"healthz", "", nil, nil); err != nil || st != http.StatusOK {
			t.Fatalf("GET /healthz among slow connections = %d %v %s", st, err, b)
		}
		d := time.Since(start)
		worst = max(worst, d)
		if d > maxLatency {
			t.Errorf("request %d among %d slow connections took %v, want at most %v", i, slow, d, maxLatency)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("slowest real request among the slow connections: %v", worst.Round(time.Microsecond))

	open, last := closedBy(conns, opened.Add(readHeaderTimeout+2*time.Second))
	if open > 0 {
		t.Errorf("%d of %d slow connections still open %v after they were opened; want all closed after --read-header-timeout %v",
			open, slow, readHeaderTimeout+2*time.Second, readHeaderTimeout)
	}
	t.Logf("the server closed the last slow connection %v after they were opened", last.Sub(opened).Round(time.Millisecond))
	stop()

	// The metrics listener bounds headers too.
	m := regexp.MustCompile(`msg="serving metrics" url=(\S+)`).FindStringSubmatch(s.log())
	if m == nil {
		t.Fatalf("no metrics URL in the log:\n%s", s.log())
	}
	st, _, _, err := send(real, http.MethodGet, m[1], "", nil, map[string]string{"X-Pad": strings.Repeat("p", 100<<10)})
	if err != nil || st != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("GET /metrics with 100 KiB of headers = %d %v, want 431", st, err)
	}
	s.stop()
}

// TestSlowClientsAtFDLimit shows what happens when the slow connections
// exhaust the process's open files (a hard limit of 64, which the server
// cannot raise): accept fails with EMFILE, net/http logs it and retries
// with a backoff of at most a second, new connections wait in the kernel's
// listen queue, and each --read-header-timeout frees a wave of slots. A
// real client is answered late but answered, and the server lives on.
func TestSlowClientsAtFDLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skipf("skipped: prlimit (util-linux) is not installed: %v", err)
	}
	const (
		slow              = 120
		readHeaderTimeout = time.Second
	)
	dir := filepath.Join(t.TempDir(), "data")
	addUser(t, dir, "alice")
	s := startServerWith(t, dir, nil, []string{"prlimit", "--nofile=64:64", "--"}, "--read-header-timeout", readHeaderTimeout.String())
	addr := strings.TrimSuffix(strings.TrimPrefix(s.url, "http://"), "/")
	opened := time.Now()
	conns, stop := slowConns(t, addr, slow)
	defer stop()

	real := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	st, _, b, err := send(real, http.MethodGet, s.url+"healthz", "", nil, nil)
	waited := time.Since(start)
	if err != nil || st != http.StatusOK {
		t.Fatalf("GET /healthz at the open-files limit = %d %v %s, want 200 in the end", st, err, b)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.log(), "too many open files") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the log comes through a pipe
	}
	if !strings.Contains(s.log(), "too many open files") {
		t.Errorf("the server never hit its open-files limit (no EMFILE in its log); the test proves nothing")
	}
	t.Logf("at the open-files limit (64) with %d slow connections, a real request waited %v (--read-header-timeout %v)",
		slow, waited.Round(time.Millisecond), readHeaderTimeout)
	if open, _ := closedBy(conns, opened.Add(time.Duration(slow/20+3)*readHeaderTimeout)); open > 0 {
		t.Errorf("%d slow connections still open", open)
	}
	stop()
	if st, _, _, err := send(real, http.MethodGet, s.url+"healthz", "", nil, nil); err != nil || st != http.StatusOK {
		t.Errorf("GET /healthz after the slow connections = %d %v", st, err)
	}
	s.stop()
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		t.Errorf("server exit: %v", s.err)
	}
}
