package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var metricsRE = regexp.MustCompile(`msg="serving metrics" url=(\S+)`)

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, "--metrics-addr", "127.0.0.1:0")
	m := metricsRE.FindStringSubmatch(s.log())
	if m == nil {
		t.Fatalf("no metrics URL in the log:\n%s", s.log())
	}
	password := passwordRE.FindStringSubmatch(s.log())[1]
	c := newClient()
	for range 3 {
		do(t, c, "PROPFIND", s.url+"dav/principals/admin/", "admin", password, propfindPrincipal, map[string]string{"Depth": "0"})
	}
	do(t, c, "BREW", s.url+"dav/", "admin", password, "", nil)
	do(t, c, http.MethodGet, s.url+"dav/", "", "", "", nil)

	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	value := func(series string) float64 {
		t.Helper()
		for _, line := range strings.Split(body, "\n") {
			if rest, ok := strings.CutPrefix(line, series+" "); ok {
				v, err := strconv.ParseFloat(rest, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return v
			}
		}
		t.Errorf("no series %s in the metrics", series)
		return 0
	}
	if v := value(`calbolt_http_requests_total{code="207",method="propfind"}`); v != 3 {
		t.Errorf("PROPFIND 207 count = %v, want 3", v)
	}
	if v := value(`calbolt_http_requests_total{code="401",method="get"}`); v != 1 {
		t.Errorf("GET 401 count = %v, want 1", v)
	}
	// A method nobody knows is counted without its name.
	if v := value(`calbolt_http_requests_total{code="501",method="unknown"}`); v != 1 {
		t.Errorf("unknown-method count = %v, want 1", v)
	}
	if strings.Contains(strings.ToLower(body), "brew") {
		t.Errorf("a client-chosen method became a label")
	}
	if v := value(`calbolt_http_request_duration_seconds_count{method="propfind"}`); v != 3 {
		t.Errorf("PROPFIND duration count = %v, want 3", v)
	}
	if v := value(`calbolt_store_size_bytes`); v < 4096 {
		t.Errorf("store size = %v, want the file's size", v)
	}
	if v := value(`calbolt_users`); v != 1 {
		t.Errorf("users = %v, want 1", v)
	}
	value(`go_goroutines`)
	s.stop()
}
