package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeHeaderLimit checks the header bound of issue 5 on the real
// server (httptest's servers do not set MaxHeaderBytes): request headers
// beyond 64 KiB are refused with 431 before any handler runs, and the server
// keeps serving.
func TestServeHeaderLimit(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	c := newClient()
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"32 KiB of headers", 32 << 10, http.StatusUnauthorized},
		{"100 KiB of headers", 100 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, c, "PROPFIND", s.url+"dav/", "", "", "", map[string]string{"X-Pad": strings.Repeat("p", tc.size)})
			if resp.StatusCode != tc.want {
				t.Fatalf("PROPFIND with %d bytes of headers = %d, want %d\n%.200s", tc.size, resp.StatusCode, tc.want, body)
			}
		})
	}
	resp, body := do(t, c, http.MethodGet, s.url+"healthz", "", "", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz after oversized headers = %d %q, want 200", resp.StatusCode, body)
	}
	s.stop()
}
