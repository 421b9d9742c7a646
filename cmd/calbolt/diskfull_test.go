package main

// Disk full (issue 5, Faults): a write that finds no room answers 507
// Insufficient Storage with a message, stores nothing, leaves the sync token
// alone, and the server keeps answering reads; the file passes `calbolt
// check` and takes writes again once there is room.

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigEvent is a canonical event of about size bytes.
func bigEvent(uid string, size int) []byte {
	line := "COMMENT:" + strings.Repeat("x", 64) + "\r\n"
	pad := strings.Repeat(line, size/len(line))
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//fault tests//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\n" +
		"DTSTART:20250601T090000Z\r\nDTEND:20250601T100000Z\r\nSUMMARY:" + uid + "\r\n" + pad +
		"END:VEVENT\r\nEND:VCALENDAR\r\n")
}

// TestDiskFull fills a 4 MiB tmpfs holding the data directory: ENOSPC from
// bbolt's page writes.
func TestDiskFull(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
		t.Skipf("skipped: mounting a 4 MiB tmpfs to fill needs root with CAP_SYS_ADMIN (mount: %v)", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmounting the test's tmpfs %s: %v", mnt, err)
		}
	})
	dir := filepath.Join(mnt, "data")
	addUser(t, dir, "alice")
	s := startServer(t, dir)
	acked := fillUntilFull(t, s)

	// Room again (the tmpfs grows): the same process writes again, so a
	// failed commit left bbolt's in-memory state sound.
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=64m,mode=0700"); err != nil {
		t.Fatalf("growing the tmpfs: %v", err)
	}
	c := newClient()
	body := eventBody("after-room@calbolt.test", "written once there was room", 3)
	if st, _, b, err := send(c, http.MethodPut, s.url+"dav/calendars/alice/personal/after-room.ics", "alice", body,
		map[string]string{"Content-Type": "text/calendar"}); err != nil || st != http.StatusCreated {
		t.Fatalf("PUT once there is room = %d %v %s, want 201", st, err, b)
	}
	acked["after-room.ics"] = body
	s.stop()
	checkDataFile(t, dir)
	checkAcked(t, dir, nil, acked)
}

// TestFileSizeLimit runs the server under `prlimit --fsize` just above the
// data file's size: bbolt's growing truncate fails with EFBIG (which bbolt
// reports as text), and the kernel sends SIGXFSZ, which Go ignores unless
// asked (os/signal), so the server lives on.
func TestFileSizeLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skipf("skipped: prlimit (util-linux) is not installed: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	addUser(t, dir, "alice")
	fi, err := os.Stat(filepath.Join(dir, "calbolt.db"))
	if err != nil {
		t.Fatal(err)
	}
	limit := fi.Size() + 64<<10
	s := startServerWith(t, dir, nil, []string{"prlimit", "--fsize=" + strconv.FormatInt(limit, 10), "--"})
	acked := fillUntilFull(t, s)
	if fi, err := os.Stat(filepath.Join(dir, "calbolt.db")); err != nil || fi.Size() > limit {
		t.Errorf("data file after the failed growth: %v, %v; want at most %d bytes", fi.Size(), err, limit)
	}
	s.stop()
	checkDataFile(t, dir)
	// Without the limit, every acknowledged write is there and writes work.
	checkAcked(t, dir, nil, acked)
}

// fillUntilFull PUTs 256 KiB objects until one answers 507, then checks
// the answer and that reads, the sync token and an import behave. It
// returns the objects acknowledged, by name.
func fillUntilFull(t *testing.T, s *server) map[string][]byte {
	t.Helper()
	c := newClient()
	calURL := s.url + "dav/calendars/alice/personal/"
	acked := map[string][]byte{}
	put := func(name string, body []byte) (int, []byte) {
		t.Helper()
		st, _, b, err := send(c, http.MethodPut, calURL+name, "alice", body,
			map[string]string{"Content-Type": "text/calendar", "If-None-Match": "*"})
		if err != nil {
			t.Fatalf("PUT %s: %v\nserver log:\n%s", name, err, s.log())
		}
		if st == http.StatusCreated {
			acked[name] = body
		}
		return st, b
	}
	if st, b := put("keep.ics", eventBody("keep@calbolt.test", "kept through the disk filling up", 1)); st != http.StatusCreated {
		t.Fatalf("PUT keep.ics = %d %s", st, b)
	}
	token := syncToken(t, c, calURL)
	var (
		status int
		body   []byte
		tries  int
	)
	for tries = 0; tries < 400; tries++ {
		name := fmt.Sprintf("big-%03d.ics", tries)
		status, body = put(name, bigEvent(strings.TrimSuffix(name, ".ics")+"@calbolt.test", 256<<10))
		if status != http.StatusCreated {
			break
		}
		token = syncToken(t, c, calURL)
	}
	if status != http.StatusInsufficientStorage {
		t.Fatalf("PUT number %d = %d, want 507 once the disk is full\n%s\nserver log:\n%.3000s", tries+1, status, body, s.log())
	}
	t.Logf("the disk was full after %d objects of 256 KiB", tries)
	for _, line := range strings.Split(s.log(), "\n") {
		if strings.Contains(line, "out of space") {
			t.Logf("server log: %.300s", line)
		}
	}
	if !strings.Contains(string(body), "no room to store") {
		t.Errorf("507 body %q does not say what happened", body)
	}
	if strings.Contains(string(body), "calbolt.db") || strings.Contains(string(body), "/") {
		t.Errorf("507 body %q leaks a path", body)
	}
	// The server's log reaches the test through a pipe read by another
	// goroutine: give the line a moment to arrive.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.log(), "out of space for the data file") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.log(), "out of space for the data file") {
		t.Errorf("the server did not log the full disk for the operator")
	}
	if got := syncToken(t, c, calURL); got != token {
		t.Errorf("sync token after the failed PUT = %s, want it unchanged (%s)", got, token)
	}

	// An import that cannot fit answers 507 with its report.
	imp, _ := importFile(4000)
	st, _, b, err := send(c, http.MethodPost, s.url+"dav/calendars/alice/bulk/?create=1", "alice", imp,
		map[string]string{"Content-Type": "text/calendar"})
	if err != nil || st != http.StatusInsufficientStorage || !strings.Contains(string(b), "insufficient storage") {
		t.Errorf("import of 900 KiB onto the full disk = %d %v %.300s, want 507 with its report", st, err, b)
	}

	// Reads keep working: GET, PROPFIND, REPORT, /healthz.
	for name, want := range acked {
		st, _, got, err := send(c, http.MethodGet, calURL+name, "alice", nil, nil)
		if err != nil || st != http.StatusOK || string(got) != string(want) {
			t.Fatalf("GET %s on the full disk = %d %v (%d bytes), want 200 with its %d bytes", name, st, err, len(got), len(want))
		}
	}
	if n := countObjects(t, c, s, "personal"); n != len(acked) {
		t.Errorf("PROPFIND Depth 1 on the full disk lists %d objects, want %d", n, len(acked))
	}
	multiget := `<?xml version="1.0"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
		`<D:prop><D:getetag/><C:calendar-data/></D:prop><D:href>/dav/calendars/alice/personal/keep.ics</D:href></C:calendar-multiget>`
	st, _, b, err = send(c, "REPORT", calURL, "alice", []byte(multiget), map[string]string{"Content-Type": "application/xml"})
	if err != nil || st != http.StatusMultiStatus {
		t.Fatalf("REPORT calendar-multiget on the full disk = %d %v %s", st, err, b)
	}
	var ms struct {
		Data []string `xml:"response>propstat>prop>calendar-data"`
	}
	if err := xml.Unmarshal(b, &ms); err != nil || len(ms.Data) != 1 || ms.Data[0] != string(acked["keep.ics"]) {
		t.Errorf("calendar-multiget on the full disk = %v %q, want keep.ics's data", err, ms.Data)
	}
	query := `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
		`<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`
	st, _, b, err = send(c, "REPORT", calURL, "alice", []byte(query), map[string]string{"Content-Type": "application/xml", "Depth": "1"})
	if err != nil || st != http.StatusMultiStatus || strings.Count(string(b), "getetag>") < 2*len(acked) {
		t.Errorf("REPORT calendar-query on the full disk = %d %v %.300s", st, err, b)
	}
	if st, _, b, err := send(c, http.MethodGet, s.url+"healthz", "", nil, nil); err != nil || st != http.StatusOK {
		t.Errorf("GET /healthz on the full disk = %d %v %s", st, err, b)
	}
	return acked
}

// syncToken reads a calendar's DAV:sync-token with PROPFIND.
func syncToken(t *testing.T, c *http.Client, calURL string) string {
	t.Helper()
	st, _, b, err := send(c, "PROPFIND", calURL, "alice",
		[]byte(`<?xml version="1.0"?><propfind xmlns="DAV:"><prop><sync-token/></prop></propfind>`),
		map[string]string{"Depth": "0", "Content-Type": "application/xml"})
	if err != nil || st != http.StatusMultiStatus {
		t.Fatalf("PROPFIND sync-token = %d %v %s", st, err, b)
	}
	var ms struct {
		Token string `xml:"response>propstat>prop>sync-token"`
	}
	if err := xml.Unmarshal(b, &ms); err != nil || ms.Token == "" {
		t.Fatalf("PROPFIND sync-token: %v, no token in %s", err, b)
	}
	return ms.Token
}

// checkAcked restarts a server on dir (with env) and GETs every
// acknowledged object, then checks a write works, and stops it.
func checkAcked(t *testing.T, dir string, env []string, acked map[string][]byte) {
	t.Helper()
	s := startServerWith(t, dir, env, nil)
	c := newClient()
	calURL := s.url + "dav/calendars/alice/personal/"
	for name, want := range acked {
		st, _, got, err := send(c, http.MethodGet, calURL+name, "alice", nil, nil)
		if err != nil || st != http.StatusOK || string(got) != string(want) {
			t.Fatalf("GET %s after restart = %d %v, want the acknowledged %d bytes", name, st, err, len(want))
		}
	}
	if st, _, b, err := send(c, http.MethodPut, calURL+"after-restart.ics", "alice", bigEvent("after-restart@calbolt.test", 256<<10),
		map[string]string{"Content-Type": "text/calendar"}); err != nil || st != http.StatusCreated {
		t.Fatalf("PUT after restart = %d %v %s, want 201", st, err, b)
	}
	s.stop()
	checkDataFile(t, dir)
}
