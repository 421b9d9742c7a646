package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEndToEnd builds ./cmd/calbolt (or takes the binary named by
// $CALBOLT_LOAD_TEST_SERVER), starts it on a free loopback port with a
// fresh data directory and three users, and runs every scenario, small,
// against it.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	dir := t.TempDir()
	bin := os.Getenv("CALBOLT_LOAD_TEST_SERVER") // a prebuilt calbolt, if given
	if bin == "" {
		goBin, err := exec.LookPath("go")
		if err != nil {
			t.Skip("no go command to build the server with")
		}
		bin = filepath.Join(dir, "calbolt")
		build := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/calbolt")
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/calbolt: %v\n%s", err, out)
		}
	}

	data := filepath.Join(dir, "data")
	const password = "load-test-password"
	// alice, and the other two users of -fb-users 3.
	for _, name := range []string{"alice", "load1", "load2"} {
		add := exec.CommandContext(ctx, bin, "user", "add", name, "--data", data)
		add.Stdin = strings.NewReader(password + "\n")
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("calbolt user add %s: %v\n%s", name, err, out)
		}
	}
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	url, pid := startServer(t, ctx, bin, data)

	t.Run("issue2", func(t *testing.T) {
		rep := runJSON(t, ctx, "-url", url, "-user", "alice", "-password-file", pwFile,
			"-scenario", "issue2", "-events", "200", "-repeat", "2", "-server-pid", pid)
		want := map[string]int{
			"put c=1": 40, "put c=8": 160, kindPropfind: 2, kindQueryWeek: 2,
			kindSyncInitial: 2, kindPutIfMatch: 20, kindSyncDelta: 2, kindMultiget: 2,
		}
		for _, k := range rep.Kinds {
			if n, ok := want[k.Kind]; ok && k.Count != n {
				t.Errorf("%s: count %d, want %d", k.Kind, k.Count, n)
			}
			delete(want, k.Kind)
		}
		if len(want) > 0 {
			t.Errorf("report lacks rows %v", want)
		}
	})
	t.Run("mixed", func(t *testing.T) {
		rep := runJSON(t, ctx, "-url", url, "-user", "alice", "-password-file", pwFile,
			"-scenario", "mixed", "-events", "40", "-clients", "4", "-duration", "2s", "-rounds", "5")
		if c := rep.Contention; c == nil || c.Rounds != 5 || c.Wins != 5 || c.LostUpdates != 0 {
			t.Errorf("contention = %+v, want 5 rounds, 5 wins, no lost update", c)
		}
	})
	t.Run("freebusy", func(t *testing.T) {
		rep := runJSON(t, ctx, "-url", url, "-user", "alice", "-password-file", pwFile,
			"-scenario", "freebusy", "-fb-users", "3", "-events", "200", "-repeat", "2",
			"-clients", "2", "-duration", "2s", "-write-rate", "20")
		want := map[string]int{
			kindFBPrincipal: 3, kindFBImport: 9, kindFBPopulate: 3 * 3 * 200,
			"fb report week (first)": 1, "fb report week": 1, "fb get week": 1,
			"fb report month (first)": 1, "fb report month": 1, "fb get month": 1,
			"fb report year (first)": 1, "fb report year": 1, "fb get year": 1,
			"fb outbox 3 users month (first)": 1, "fb outbox 3 users month": 1, "fb get 3 users month": 1,
			"fb slots 3 users month (first)": 1, "fb slots 3 users month": 1,
			kindFBEtags: 1, kindDeleteCal: 9,
			"fb report month after writes": 1, "fb get month after writes": 1,
		}
		mixed := map[string]bool{kindFBMixReport: true, "mix fb outbox 3 users month": true, kindFBWrite: true}
		for _, k := range rep.Kinds {
			if n, ok := want[k.Kind]; ok && k.Count != n {
				t.Errorf("%s: count %d, want %d", k.Kind, k.Count, n)
			}
			if mixed[k.Kind] && k.Count == 0 {
				t.Errorf("%s: no request in the concurrent phase", k.Kind)
			}
			delete(want, k.Kind)
			delete(mixed, k.Kind)
		}
		if len(want)+len(mixed) > 0 {
			t.Errorf("report lacks rows %v %v", want, mixed)
		}
	})
}

// runJSON runs calbolt-load with args and -json, fails the test unless it
// exits 0 with no failed request, and returns its report.
func runJSON(t *testing.T, ctx context.Context, args ...string) *report {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, append(args, "-json"), &stdout, &stderr, func(string) string { return "" })
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("calbolt-load %q: exit %d, report not JSON: %v\nstdout:\n%s\nstderr:\n%s", args, code, err, stdout.String(), stderr.String())
	}
	if code != exitOK || rep.Errors != 0 || rep.Status5xx != 0 {
		t.Fatalf("calbolt-load %q: exit %d, %d errors, %d 5xx, want 0, 0, 0\nfailures: %s\nstderr:\n%s",
			args, code, rep.Errors, rep.Status5xx, strings.Join(rep.ErrorSamples, "\n"), stderr.String())
	}
	return &rep
}

// startServer runs "calbolt serve" on a free loopback port and returns its
// base URL, read from the url= field of its log, and its process id. The
// server is stopped with SIGTERM when the test ends.
func startServer(t *testing.T, ctx context.Context, bin, data string) (url, pid string) {
	t.Helper()
	srv := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("calbolt serve: %v", err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(25 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
	})

	// The first line with url= names the address; later lines are request
	// logs, drained so the server never blocks on a full pipe.
	type started struct{ url, log string }
	found := make(chan started, 1)
	go func() {
		re := regexp.MustCompile(`url=(http://127\.0\.0\.1:[0-9]+)/`)
		var head strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- started{url: m[1]}
				_, _ = io.Copy(io.Discard, stderr)
				return
			}
			head.WriteString(sc.Text() + "\n")
		}
		found <- started{log: head.String()}
	}()
	select {
	case s := <-found:
		if s.url == "" {
			t.Fatalf("calbolt serve exited without logging url=:\n%s", s.log)
		}
		return s.url, strconv.Itoa(srv.Process.Pid)
	case <-time.After(15 * time.Second):
		t.Fatalf("calbolt serve logged no url= within 15s")
	}
	return "", ""
}
