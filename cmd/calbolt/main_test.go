package main

// End-to-end tests: they build the binary once and drive it as a person or
// a service manager would, with real data files in temporary directories.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/store"
)

// binPath is the calbolt binary TestMain builds for the whole run.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "calbolt-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "calbolt")
	// go test puts its own go first in PATH.
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building calbolt: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testEnv is the test process's environment without CALBOLT_ variables, so
// a developer's settings cannot leak into the binary under test.
func testEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALBOLT_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// result is what one run of the binary produced.
type result struct {
	stdout, stderr string
	code           int
}

// calbolt runs the binary with args and stdin (and extra environment
// variables "K=V"), and waits for it at most a minute.
func calbolt(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = testEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatalf("calbolt %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustRun runs the binary and fails the test unless it exits 0.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	res := calbolt(t, stdin, nil, args...)
	if res.code != 0 {
		t.Fatalf("calbolt %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string // in stdout
	}{
		{[]string{"--help"}, []string{"Usage:", "serve", "user add", "user passwd", "user list", "user delete", "backup", "check", "version"}},
		{[]string{"-h"}, []string{"Usage:", "serve"}},
		{[]string{"help"}, []string{"Usage:", "serve"}},
		{[]string{"serve", "--help"}, []string{"Usage: calbolt serve", "--addr", "127.0.0.1:8008", "CALBOLT_ADDR",
			"--data", "./data", "CALBOLT_DATA", "--tls-cert", "CALBOLT_TLS_CERT", "--tls-key", "CALBOLT_TLS_KEY",
			"--log-level", "CALBOLT_LOG_LEVEL", "--log-format", "CALBOLT_LOG_FORMAT",
			"--max-resource-size", "1048576", "CALBOLT_MAX_RESOURCE_SIZE", "--initial-user", "CALBOLT_INITIAL_USER", "Examples:"}},
		{[]string{"help", "serve"}, []string{"Usage: calbolt serve", "--addr"}},
		{[]string{"user", "--help"}, []string{"Usage: calbolt user", "user add", "user passwd", "user list", "user delete"}},
		{[]string{"help", "user", "add"}, []string{"Usage: calbolt user add", "--email", "--data"}},
		{[]string{"user", "add", "--help"}, []string{"Usage: calbolt user add", "--email", "--data", "CALBOLT_DATA", "Examples:"}},
		{[]string{"user", "add", "alice", "-h"}, []string{"Usage: calbolt user add"}},
		{[]string{"user", "passwd", "--help"}, []string{"Usage: calbolt user passwd", "--data"}},
		{[]string{"user", "list", "--help"}, []string{"Usage: calbolt user list", "--data"}},
		{[]string{"user", "delete", "--help"}, []string{"Usage: calbolt user delete", "--yes", "--data"}},
		{[]string{"backup", "--help"}, []string{"Usage: calbolt backup", "--data", "FILE", "Examples:"}},
		{[]string{"check", "--help"}, []string{"Usage: calbolt check", "--data", "Examples:"}},
		{[]string{"version", "--help"}, []string{"Usage: calbolt version"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := calbolt(t, "", nil, tt.args...)
			if res.code != 0 {
				t.Fatalf("exit %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("help does not mention %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	res := mustRun(t, "", "version")
	if !strings.HasPrefix(res.stdout, "calbolt ") {
		t.Errorf("version = %q, want it to start with %q", res.stdout, "calbolt ")
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  []string
		args []string
		want string // in stderr
	}{
		{"no command", nil, nil, "Usage:"},
		{"unknown command", nil, []string{"frobnicate"}, `calbolt: unknown command "frobnicate"`},
		{"typo", nil, []string{"serv"}, `did you mean "serve"`},
		{"flag before command", nil, []string{"--addr", ":1"}, "flags go after the command"},
		{"unknown flag", nil, []string{"serve", "--data", dir, "--bogus"}, "flag provided but not defined: -bogus"},
		{"tls cert without key", nil, []string{"serve", "--data", dir, "--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{"tls key from env", []string{"CALBOLT_TLS_KEY=key.pem"}, []string{"serve", "--data", dir}, "--tls-cert and --tls-key go together"},
		{"bad log level", nil, []string{"serve", "--data", dir, "--log-level", "loud"}, "must be one of debug, info, warn, error"},
		{"bad log format from env", []string{"CALBOLT_LOG_FORMAT=xml"}, []string{"serve", "--data", dir}, "$CALBOLT_LOG_FORMAT"},
		{"bad size", nil, []string{"serve", "--data", dir, "--max-resource-size", "0"}, "--max-resource-size"},
		{"serve argument", nil, []string{"serve", "--data", dir, "extra"}, "takes no arguments"},
		{"user without command", nil, []string{"user"}, "Usage: calbolt user"},
		{"unknown user command", nil, []string{"user", "frob"}, `unknown command "user frob"`},
		{"user add without name", nil, []string{"user", "add", "--data", dir}, "needs a user NAME"},
		{"user add two names", nil, []string{"user", "add", "a", "b", "--data", dir}, "takes one NAME"},
		{"bad email", nil, []string{"user", "add", "alice", "--data", dir, "--email", "not an address"}, "not a plain email address"},
		{"backup without file", nil, []string{"backup", "--data", dir}, "needs exactly one FILE"},
		{"help for unknown", nil, []string{"help", "frob"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := calbolt(t, "", tt.env, tt.args...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2", res.code)
			}
			if !strings.Contains(res.stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, res.stderr)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("usage errors created files in the data directory: %v", entries)
	}
}

// openTestStore opens the data file of dir in the test process, for checks
// that the binary does not print. The binary must not be running on it.
func openTestStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, "calbolt.db"), &store.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUserAddList(t *testing.T) {
	dir := t.TempDir()
	res := mustRun(t, "correct horse battery\r\n", "user", "add", "alice", "--email", "alice@example.com", "--data", dir)
	if !strings.Contains(res.stdout, `created user "alice"`) {
		t.Errorf("user add said %q", res.stdout)
	}
	if strings.Contains(res.stdout+res.stderr, "correct horse") {
		t.Errorf("user add printed the password:\n%s%s", res.stdout, res.stderr)
	}

	res = mustRun(t, "", "user", "list", "--data", dir)
	if !regexp.MustCompile(`(?m)^alice\s+alice@example.com\s+1\s`).MatchString(res.stdout) {
		t.Errorf("user list =\n%s\nwant a line for alice with her email and 1 calendar", res.stdout)
	}

	// The data directory comes from CALBOLT_DATA when --data is not given,
	// and --data wins over it.
	res = calbolt(t, "", []string{"CALBOLT_DATA=" + dir}, "user", "list")
	if res.code != 0 || !strings.Contains(res.stdout, "alice") {
		t.Errorf("CALBOLT_DATA=dir user list: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res = calbolt(t, "", []string{"CALBOLT_DATA=" + t.TempDir()}, "user", "list", "--data", dir)
	if res.code != 0 || !strings.Contains(res.stdout, "alice") {
		t.Errorf("CALBOLT_DATA=other user list --data dir: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}

	res = calbolt(t, "another password\n", nil, "user", "add", "alice", "--data", dir)
	if res.code != 1 || !strings.Contains(res.stderr, `calbolt: user "alice" already exists`) {
		t.Errorf("second user add alice: exit %d, stderr %q; want exit 1 and a clear error", res.code, res.stderr)
	}

	db := openTestStore(t, dir)
	u, err := db.User("alice")
	if err != nil {
		t.Fatalf("User(alice): %v", err)
	}
	if ok, err := auth.VerifyPassword(u.PasswordHash, "correct horse battery"); !ok || err != nil {
		t.Errorf("VerifyPassword(alice's hash, the password from stdin) = %v, %v; want true (\\r\\n stripped)", ok, err)
	}
	if u.Email != "alice@example.com" {
		t.Errorf("alice's email = %q, want %q", u.Email, "alice@example.com")
	}
	cals, err := db.Calendars("alice")
	if err != nil {
		t.Fatalf("Calendars(alice): %v", err)
	}
	if len(cals) != 1 || cals[0].Name != "personal" || cals[0].DisplayName != "Personal" ||
		!slices.Equal(cals[0].Components, []string{"VEVENT", "VTODO"}) {
		t.Errorf("alice's calendars = %+v, want one: personal, Personal, VEVENT+VTODO", cals)
	}
}

func TestUserAddBadPassword(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, stdin, want string
	}{
		{"empty input", "", "no input"},
		{"empty line", "\n", "empty password"},
		{"too short", "short\n", "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := calbolt(t, tt.stdin, nil, "user", "add", "bob", "--data", dir)
			if res.code != 1 || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", res.code, res.stderr, tt.want)
			}
		})
	}
	res := calbolt(t, "", nil, "user", "list", "--data", dir)
	if strings.Contains(res.stdout, "bob") {
		t.Errorf("bob was created after failed attempts:\n%s", res.stdout)
	}
}

func TestUserAddBadNameFirst(t *testing.T) {
	for _, name := range []string{"bob smith", ".hidden", "a/b", strings.Repeat("x", 65)} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			// No password on stdin: the name must be refused before one is asked for.
			res := calbolt(t, "", nil, "user", "add", name, "--data", dir)
			if res.code != 1 || !strings.Contains(res.stderr, "invalid user name") || !strings.Contains(res.stderr, "A-Z a-z 0-9") {
				t.Errorf("exit %d, stderr %q; want exit 1 stating the user-name rule", res.code, res.stderr)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused user add left %s behind (stat: %v)", dir, err)
			}
		})
	}
}

func TestUserAddControlCharPassword(t *testing.T) {
	res := calbolt(t, "twelve-chars\u0085x\n", nil, "user", "add", "bob", "--data", t.TempDir())
	if res.code != 1 || !strings.Contains(res.stderr, "control characters") {
		t.Errorf("exit %d, stderr %q; want a refusal of the C1 control character", res.code, res.stderr)
	}
}

func TestUserPasswd(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "first password\n", "user", "add", "alice", "--data", dir)
	hashOf := func() string {
		t.Helper()
		db, err := store.Open(filepath.Join(dir, "calbolt.db"), &store.Options{Timeout: time.Second, ReadOnly: true})
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		defer db.Close()
		h, err := db.PasswordHash("alice")
		if err != nil {
			t.Fatalf("PasswordHash(alice): %v", err)
		}
		return h
	}
	before := hashOf()
	res := mustRun(t, "second password\n", "user", "passwd", "alice", "--data", dir)
	if !strings.Contains(res.stdout, `changed the password of "alice"`) {
		t.Errorf("user passwd said %q", res.stdout)
	}
	after := hashOf()
	if after == before {
		t.Fatal("user passwd left the hash unchanged")
	}
	if ok, _ := auth.VerifyPassword(after, "second password"); !ok {
		t.Error("the new hash does not match the new password")
	}
	if ok, _ := auth.VerifyPassword(after, "first password"); ok {
		t.Error("the new hash still matches the old password")
	}

	res = calbolt(t, "third password\n", nil, "user", "passwd", "nobody", "--data", dir)
	if res.code != 1 || !strings.Contains(res.stderr, `no user "nobody"`) {
		t.Errorf("user passwd nobody: exit %d, stderr %q; want exit 1 and a clear error", res.code, res.stderr)
	}
	res = calbolt(t, "", nil, "user", "passwd", "alice", "--data", t.TempDir())
	if res.code != 1 || !strings.Contains(res.stderr, "no calbolt data file at") {
		t.Errorf("user passwd on an empty data directory: exit %d, stderr %q; want exit 1 and a clear error", res.code, res.stderr)
	}
}

func TestUserDelete(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "alice's password\n", "user", "add", "alice", "--data", dir)
	mustRun(t, "bob's password\n", "user", "add", "bob", "--data", dir)

	res := calbolt(t, "n\n", nil, "user", "delete", "alice", "--data", dir)
	if res.code != 1 || !strings.Contains(res.stderr, "not confirmed") {
		t.Errorf("user delete answered n: exit %d, stderr %q; want exit 1, not confirmed", res.code, res.stderr)
	}
	if res := mustRun(t, "", "user", "list", "--data", dir); !strings.Contains(res.stdout, "alice") {
		t.Fatalf("alice deleted without confirmation:\n%s", res.stdout)
	}
	mustRun(t, "y\n", "user", "delete", "alice", "--data", dir)
	mustRun(t, "", "user", "delete", "bob", "--yes", "--data", dir)
	res = mustRun(t, "", "user", "list", "--data", dir)
	if strings.Contains(res.stdout, "alice") || strings.Contains(res.stdout, "bob") {
		t.Errorf("users left after delete:\n%s", res.stdout)
	}
	res = calbolt(t, "", nil, "user", "delete", "alice", "--yes", "--data", dir)
	if res.code != 1 || !strings.Contains(res.stderr, `no user "alice"`) {
		t.Errorf("deleting a deleted user: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestBackupCheck(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "alice's password\n", "user", "add", "alice", "--data", dir)
	out := filepath.Join(t.TempDir(), "backup.db")
	res := mustRun(t, "", "backup", "--data", dir, out)
	if !strings.Contains(res.stdout, "wrote") {
		t.Errorf("backup said %q", res.stdout)
	}
	// Backing up again replaces the file.
	mustRun(t, "", "backup", "--data", dir, out)
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*tmp*")); len(m) > 0 {
		t.Errorf("temporary files left behind: %v", m)
	}
	res = mustRun(t, "", "check", out)
	if !strings.Contains(res.stdout, "ok") {
		t.Errorf("check of the backup said %q", res.stdout)
	}
	mustRun(t, "", "check", "--data", dir)

	// The backup is a working data file.
	restored := t.TempDir()
	if err := os.Rename(out, filepath.Join(restored, "calbolt.db")); err != nil {
		t.Fatal(err)
	}
	if res := mustRun(t, "", "user", "list", "--data", restored); !strings.Contains(res.stdout, "alice") {
		t.Errorf("restored backup lacks alice:\n%s", res.stdout)
	}

	res = calbolt(t, "", nil, "backup", "--data", dir, filepath.Join(dir, "calbolt.db"))
	if res.code != 2 || !strings.Contains(res.stderr, "is the data file itself") {
		t.Errorf("backup onto the data file: exit %d, stderr %q", res.code, res.stderr)
	}
	res = calbolt(t, "", nil, "check", filepath.Join(dir, "missing.db"))
	if res.code != 1 || !strings.Contains(res.stderr, "no calbolt data file") {
		t.Errorf("check of a missing file: exit %d, stderr %q", res.code, res.stderr)
	}
}

// server is a running "calbolt serve".
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string // base URL from the "listening" log line
	done chan struct{}
	err  error // from Wait, once done is closed

	mu     sync.Mutex
	stderr strings.Builder
}

var listeningRE = regexp.MustCompile(`msg=listening url=(\S+)`)

// startServer starts "calbolt serve" on a free loopback port with the data
// directory dir and waits until it logs the URL it listens on.
func startServer(t *testing.T, dir string, args ...string) *server {
	t.Helper()
	return startServerWith(t, dir, nil, nil, args...)
}

// startServerWith is startServer with extra environment variables "K=V"
// and, when wrapper is not empty, a command that runs the binary (such as
// "prlimit --fsize=N"): wrapper[0] is started with the rest of wrapper, the
// binary and its arguments. The wrapper must exec the binary, so that the
// server's process is the one started.
func startServerWith(t *testing.T, dir string, env, wrapper []string, args ...string) *server {
	t.Helper()
	args = append([]string{binPath, "serve", "--addr", "127.0.0.1:0", "--data", dir}, args...)
	if len(wrapper) > 0 {
		args = slices.Concat(wrapper, args)
	}
	s := &server{t: t, cmd: exec.Command(args[0], args[1:]...), done: make(chan struct{})}
	s.cmd.Env = testEnv(env...)
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, pipe)
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
			return
		default:
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.url = <-urls:
	case <-s.done:
		t.Fatalf("calbolt serve exited before listening: %v\n%s", s.err, s.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("calbolt serve did not log its URL within 30s:\n%s", s.log())
	}
	return s
}

// log returns what the server wrote to stderr so far.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// stop sends SIGTERM and requires a prompt exit with status 0.
func (s *server) stop() {
	s.t.Helper()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("calbolt serve still running 10s after SIGTERM:\n%s", s.log())
	}
	if s.err != nil {
		s.t.Errorf("calbolt serve after SIGTERM: %v, want exit 0\n%s", s.err, s.log())
	}
	if d := time.Since(start); d > 5*time.Second {
		s.t.Errorf("calbolt serve took %v to stop", d)
	}
}

// do sends a request to the server and returns the response with its body
// read.
func do(t *testing.T, c *http.Client, method, url, user, password, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, string(b)
}

// newClient returns a client that shows redirects instead of following
// them.
func newClient() *http.Client {
	return &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

var passwordRE = regexp.MustCompile(`(?m)^\s*Password:\s+(\S+)\s*$`)

const propfindPrincipal = `<?xml version="1.0" encoding="utf-8"?>
<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`

func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dir)
	noRedirects := newClient()
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") || !strings.HasSuffix(s.url, "/") {
		t.Fatalf("logged url = %q, want http://127.0.0.1:PORT/", s.url)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v; want mode 0700", fi.Mode(), err)
	}

	// The first-run block: user, password, account and principal URLs.
	out := s.log()
	m := passwordRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no password in the first-run output:\n%s", out)
	}
	password := m[1]
	if len(password) != 20 {
		t.Errorf("generated password %q has %d characters, want 20", password, len(password))
	}
	for _, want := range []string{"User:      admin", s.url + "\n", s.url + "dav/principals/admin/", "--tls-cert"} {
		if !strings.Contains(out, want) {
			t.Errorf("first-run output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, password); n != 1 {
		t.Errorf("the password appears %d times in the output, want once:\n%s", n, out)
	}

	resp, body := do(t, noRedirects, http.MethodGet, s.url+"healthz", "", "", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", resp.StatusCode, body)
	}

	// What runs without credentials: OPTIONS (Thunderbird probes the home
	// that way) and the well-known redirect; everything else gets a
	// challenge in the calbolt realm.
	resp, _ = do(t, noRedirects, http.MethodOptions, s.url+"dav/calendars/admin/", "", "", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("DAV"), "calendar-access") {
		t.Errorf("OPTIONS without credentials = %d, DAV %q; want 200 with calendar-access", resp.StatusCode, resp.Header.Get("DAV"))
	}
	resp, _ = do(t, noRedirects, http.MethodGet, s.url+".well-known/caldav", "", "", "", nil)
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") == "" {
		t.Errorf("GET /.well-known/caldav without credentials = %d, Location %q; want a redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = do(t, noRedirects, "PROPFIND", s.url, "", "", propfindPrincipal, map[string]string{"Depth": "0"})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="calbolt"`) {
		t.Errorf("PROPFIND / without credentials = %d, WWW-Authenticate %q; want 401 in realm calbolt",
			resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, body = do(t, noRedirects, "PROPFIND", s.url, "admin", password, propfindPrincipal,
		map[string]string{"Depth": "0", "Content-Type": "application/xml; charset=utf-8"})
	if resp.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPFIND / with the printed credentials = %d, want 207\n%s", resp.StatusCode, body)
	}

	s.stop()
	if !strings.Contains(s.log(), "store closed") {
		t.Errorf("shutdown not logged:\n%s", s.log())
	}

	// A restart finds the user: no first-run block, same password.
	s = startServer(t, dir)
	if out := s.log(); strings.Contains(out, "Password") || strings.Contains(out, password) {
		t.Errorf("the first-run block was printed again:\n%s", out)
	}
	resp, _ = do(t, noRedirects, http.MethodGet, s.url+"healthz", "", "", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz after restart = %d, want 200", resp.StatusCode)
	}
	resp, body = do(t, noRedirects, "PROPFIND", s.url, "admin", password, propfindPrincipal, map[string]string{"Depth": "0"})
	if resp.StatusCode != http.StatusMultiStatus {
		t.Errorf("PROPFIND / after restart = %d, want 207\n%s", resp.StatusCode, body)
	}
	s.stop()
}

func TestServeLocked(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)
	const wantUser = "is in use by a running calbolt server; stop it first"
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"user add", "a password\n", []string{"user", "add", "bob"}, wantUser},
		{"user list", "", []string{"user", "list"}, wantUser},
		{"user passwd", "a password\n", []string{"user", "passwd", "admin"}, wantUser},
		{"user delete", "", []string{"user", "delete", "admin", "--yes"}, wantUser},
		{"second server", "", []string{"serve", "--addr", "127.0.0.1:0"}, "is in use by a running calbolt server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := calbolt(t, tt.stdin, nil, append(tt.args, "--data", dir)...)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v, want a prompt error", d)
			}
			if res.code != 1 {
				t.Errorf("exit %d, want 1", res.code)
			}
			path := filepath.Join(dir, "calbolt.db")
			if !strings.Contains(res.stderr, "calbolt: the data file "+path+" "+tt.want) {
				t.Errorf("stderr = %q, want it to say the file %s %s", res.stderr, path, tt.want)
			}
		})
	}
	s.stop()
	if res := mustRun(t, "", "user", "list", "--data", dir); !strings.Contains(res.stdout, "admin") {
		t.Errorf("user list after the server stopped:\n%s", res.stdout)
	}
}

func TestServeEnv(t *testing.T) {
	// Flags fall back to their environment variables.
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "serve")
	cmd.Env = testEnv("CALBOLT_ADDR=127.0.0.1:0", "CALBOLT_DATA="+dir,
		"CALBOLT_LOG_FORMAT=json", "CALBOLT_INITIAL_USER=carol")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), `"msg":"listening"`) {
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve: %v\n%s", err, log.String())
	}
	out := log.String()
	if !regexp.MustCompile(`"msg":"listening","url":"http://127\.0\.0\.1:\d+/"`).MatchString(out) {
		t.Errorf("no JSON listening line with a loopback URL:\n%s", out)
	}
	if !strings.Contains(out, "User:      carol") {
		t.Errorf("CALBOLT_INITIAL_USER=carol not used:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "calbolt.db")); err != nil {
		t.Errorf("CALBOLT_DATA not used: %v", err)
	}
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	s := startServer(t, t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.url, "https://127.0.0.1:") {
		t.Fatalf("logged url = %q, want https://127.0.0.1:PORT/", s.url)
	}
	if out := s.log(); strings.Contains(out, "no credentials over plain HTTP") {
		t.Errorf("the plain-HTTP note was printed for an HTTPS server:\n%s", out)
	}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, body := do(t, c, http.MethodGet, s.url+"healthz", "", "", "", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /healthz over TLS = %d %q, want 200 ok", resp.StatusCode, body)
	}
	s.stop()
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns their files and a pool trusting the certificate.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "calbolt test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
