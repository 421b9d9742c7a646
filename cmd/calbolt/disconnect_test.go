package main

// Client disconnect mid-upload (issue 5, Faults): a client announces a body
// (Content-Length), sends part of it and hangs up. Nothing may be stored,
// even when the part sent is a complete, valid object or file; no sync
// token moves, no calendar appears, no spooled temporary file is left, and
// the server keeps serving.

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDisconnectMidUpload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addUser(t, dir, "alice")
	spool := t.TempDir() // the server's TMPDIR, where imports over 1 MiB are spooled
	s := startServerWith(t, dir, []string{"TMPDIR=" + spool}, nil)
	c := newClient()
	calURL := s.url + "dav/calendars/alice/personal/"
	if st, _, b, err := send(c, http.MethodPut, calURL+"there.ics", "alice", eventBody("there@calbolt.test", "there before", 0),
		map[string]string{"Content-Type": "text/calendar"}); err != nil || st != http.StatusCreated {
		t.Fatalf("PUT there.ics = %d %v %s", st, err, b)
	}

	event := eventBody("gone@calbolt.test", "never stored", 1)
	small, _ := importFile(50)    // spooled in memory
	large, _ := importFile(12000) // 2.6 MiB: spooled to a file in TMPDIR
	tests := []struct {
		name, method, path string
		body               []byte // what is sent before hanging up
		length             int    // the Content-Length announced
	}{
		{"PUT half an object", http.MethodPut, "personal/gone.ics", event[:len(event)/2], len(event)},
		{"PUT a whole object, more announced", http.MethodPut, "personal/gone.ics", event, len(event) + 100},
		{"PUT headers only", http.MethodPut, "personal/gone.ics", nil, len(event)},
		{"import a whole small file, more announced", http.MethodPost, "personal/", small, 2 * len(small)},
		{"import half a large file", http.MethodPost, "personal/", large[:len(large)/2], len(large)},
		{"import a whole large file, more announced", http.MethodPost, "personal/", large, len(large) + 1},
		{"import with create, half sent", http.MethodPost, "fresh/?create=1", small[:len(small)/2], len(small)},
		{"import with create, whole file sent", http.MethodPost, "fresh/?create=1", large, len(large) + 10},
		{"PUT import, half sent", http.MethodPut, "personal/", large[:len(large)/2], len(large)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := syncToken(t, c, calURL)
			u, err := url.Parse(s.url + "dav/calendars/alice/" + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			mark := len(s.log())
			hangUp(t, u, tt.method, tt.body, tt.length)

			// The server logs the request when its handler is done.
			logLine := fmt.Sprintf("msg=request method=%s path=%s ", tt.method, u.Path)
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(s.log()[mark:], logLine) {
				if time.Now().After(deadline) {
					t.Fatalf("no log line %q within 10s:\n%s", logLine, s.log()[mark:])
				}
				time.Sleep(10 * time.Millisecond)
			}
			if after := syncToken(t, c, calURL); after != before {
				t.Errorf("sync token moved from %s to %s", before, after)
			}
			if n := countObjects(t, c, s, "personal"); n != 1 {
				t.Errorf("personal holds %d objects, want only there.ics", n)
			}
			if st, _, _, err := send(c, http.MethodGet, calURL+"gone.ics", "alice", nil, nil); err != nil || st != http.StatusNotFound {
				t.Errorf("GET gone.ics = %d %v, want 404", st, err)
			}
			if st, _, _, err := send(c, "PROPFIND", s.url+"dav/calendars/alice/fresh/", "alice", nil, map[string]string{"Depth": "0"}); err != nil || st != http.StatusNotFound {
				t.Errorf("PROPFIND fresh/ = %d %v, want 404: no calendar created", st, err)
			}
			if left, _ := os.ReadDir(spool); len(left) > 0 {
				t.Errorf("temporary files left in the server's TMPDIR: %v", left)
			}
		})
	}

	// Still serving: a whole upload works.
	if st, _, b, err := send(c, http.MethodPut, calURL+"gone.ics", "alice", event,
		map[string]string{"Content-Type": "text/calendar"}); err != nil || st != http.StatusCreated {
		t.Fatalf("PUT gone.ics in full afterwards = %d %v %s, want 201", st, err, b)
	}
	s.stop()
	checkDataFile(t, dir)
}

// hangUp sends a request announcing length bytes of body, sends body (which
// may be shorter) and closes the connection without reading an answer.
func hangUp(t *testing.T, u *url.URL, method string, body []byte, length int) {
	t.Helper()
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth := base64.StdEncoding.EncodeToString([]byte("alice:" + crashPassword))
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"+
		"Content-Type: text/calendar\r\nContent-Length: %d\r\n\r\n", method, u.RequestURI(), u.Host, auth, length)
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	// Let the server read what was sent before the hang-up: an RST (close
	// with unread data in our receive buffer) could otherwise cut it off
	// early, and the test wants the server to see the body end short.
	time.Sleep(50 * time.Millisecond)
}
