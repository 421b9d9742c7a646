package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"
)

// errNotLoopback is returned for a URL or a connection whose host is not a
// loopback address.
var errNotLoopback = errors.New("calbolt-load only loads loopback addresses (127.0.0.0/8, ::1, localhost)")

// checkLoopbackURL accepts an http or https URL whose host is a loopback IP
// address or the name localhost, and nothing else: no user info, no other
// names, however they resolve.
func checkLoopbackURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("-url %q: scheme must be http or https", raw)
	}
	if u.User != nil {
		return fmt.Errorf("-url %q: give credentials with -user and -password-file, not in the URL", raw)
	}
	if u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("-url %q: no host", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("-url %q: host %q refused: %w", raw, u.Hostname(), errNotLoopback)
	}
	return nil
}

// isLoopbackHost reports whether host (without port or brackets) is the
// name localhost or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if strings.Contains(host, "%") {
		return false // a zone: ::1%eth0 is not what anyone means
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly is a net.Dialer Control function: it refuses to connect to
// any address that is not loopback, whatever a name resolved to.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("dial %s %s: %w", network, address, errNotLoopback)
	}
	return nil
}

// davClient sends the CalDAV requests of a scenario to one server as one
// user and records every answer in a recorder.
type davClient struct {
	hc       *http.Client
	base     string // scheme://host[:port][/prefix], without a trailing slash
	user     string
	password string
	rec      *recorder
}

// newDAVClient returns a client for the server at rawURL that keeps up to
// concurrency idle connections, so that many goroutines reuse them.
func newDAVClient(rawURL, user, password string, concurrency int, timeout time.Duration, rec *recorder) (*davClient, error) {
	if err := checkLoopbackURL(rawURL); err != nil {
		return nil, err
	}
	u, _ := url.Parse(rawURL)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	tr := &http.Transport{
		Proxy:                 nil, // never through a proxy: the server is on this machine
		DialContext:           dialer.DialContext,
		MaxIdleConns:          concurrency + 4,
		MaxIdleConnsPerHost:   concurrency + 4,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // measure the bytes the server sends
		ResponseHeaderTimeout: timeout,
	}
	hc := &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("unexpected redirect to %s", req.URL.Redacted())
		},
	}
	base := u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	return &davClient{hc: hc, base: base, user: user, password: password, rec: rec}, nil
}

func (c *davClient) close() { c.hc.CloseIdleConnections() }

// as returns a client that sends the same requests to the same server, as
// user (with the same password), recording into the same recorder.
func (c *davClient) as(user string) *davClient {
	cp := *c
	cp.user = user
	return &cp
}

// calendarPath returns the path of the user's calendar name, with a
// trailing slash.
func (c *davClient) calendarPath(name string) string {
	return "/dav/calendars/" + url.PathEscape(c.user) + "/" + url.PathEscape(name) + "/"
}

// request is one HTTP request of a scenario.
type request struct {
	kind   string // the report row it counts in
	method string
	path   string // absolute path below the base URL
	header map[string]string
	body   []byte
	stream io.Reader // the body when it is streamed instead (body is then ignored)
	want   []int     // statuses that count as success
}

// response is what came back, body read to the end.
type response struct {
	status int
	header http.Header
	body   []byte
	dur    time.Duration // from sending the request to the last byte of the body
}

// do sends req and records its latency and size under req.kind. A transport
// error or a status outside req.want is recorded as a failure of that kind
// and returned; the response is returned too when there was one.
func (c *davClient) do(ctx context.Context, req request) (*response, error) {
	var rd io.Reader = bytes.NewReader(req.body)
	if req.stream != nil {
		rd = req.stream // sent chunked: its length is not known
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.base+req.path, rd)
	if err != nil {
		return nil, err
	}
	if req.body == nil && req.stream == nil {
		hr.Body = http.NoBody
	}
	hr.SetBasicAuth(c.user, c.password)
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	start := time.Now()
	hresp, err := c.hc.Do(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err() // the run is stopping; not the server's fault
		}
		err = fmt.Errorf("%s %s: %w", req.method, req.path, err)
		c.rec.fail(req.kind, err.Error())
		return nil, err
	}
	body, err := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	resp := &response{status: hresp.StatusCode, header: hresp.Header, body: body, dur: time.Since(start)}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = fmt.Errorf("%s %s: reading the body: %w", req.method, req.path, err)
		c.rec.fail(req.kind, err.Error())
		return resp, err
	}
	c.rec.observe(req.kind, resp.dur, len(body), resp.status)
	if !slices.Contains(req.want, resp.status) {
		err = fmt.Errorf("%s %s: status %d, want %v: %s", req.method, req.path, resp.status, req.want, snippet(body))
		c.rec.fail(req.kind, err.Error())
		return resp, err
	}
	return resp, nil
}

// probe sends a request and returns its status without recording it: for
// finding out what the server supports.
func (c *davClient) probe(ctx context.Context, method, path string, header map[string]string, body []byte) (int, error) {
	hr, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	hr.SetBasicAuth(c.user, c.password)
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// waitReady waits up to d for the server to answer any HTTP request on
// /healthz, so a script can start the load right after the server.
func (c *davClient) waitReady(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		_, err := c.probe(ctx, http.MethodGet, "/healthz", nil, nil)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			return fmt.Errorf("server not reachable after %s (-wait): %w", d, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// snippet returns the start of a response body on one line, for error
// messages.
func snippet(b []byte) string {
	const n = 240
	s := string(b)
	if strings.HasPrefix(s, "<?xml") {
		if _, rest, ok := strings.Cut(s, "?>"); ok {
			s = rest
		}
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// Request bodies and helpers for the CalDAV methods the scenarios use.

const propfindETags = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`

func mkcalendarBody(displayName string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:set><d:prop>
  <d:displayname>` + xmlEscape(displayName) + `</d:displayname>
  <c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
 </d:prop></d:set>
</c:mkcalendar>`)
}

// calendarQueryBody asks for the etags of the events with an instance in
// [start, end) (RFC 4791 §7.8, §9.9).
func calendarQueryBody(start, end time.Time) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:prop><d:getetag/></d:prop>
 <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
  <c:time-range start="` + icalUTC(start) + `" end="` + icalUTC(end) + `"/>
 </c:comp-filter></c:comp-filter></c:filter>
</c:calendar-query>`)
}

// syncCollectionBody asks for the members changed since token (RFC 6578
// §3.2); an empty token asks for all of them.
func syncCollectionBody(token string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:"><d:sync-token>` + xmlEscape(token) + `</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`)
}

// multigetBody asks for the etag and data of each href (RFC 4791 §7.9).
func multigetBody(hrefs []string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>`)
	for _, h := range hrefs {
		b.WriteString("<d:href>" + xmlEscape(h) + "</d:href>")
	}
	b.WriteString("</c:calendar-multiget>")
	return []byte(b.String())
}

// freeBusyBody asks for the busy time in [start, end) (RFC 4791 §7.10).
func freeBusyBody(start, end time.Time) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>
<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="` + icalUTC(start) + `" end="` + icalUTC(end) + `"/></c:free-busy-query>`)
}

// xmlEscape escapes s for XML character data or an attribute value.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

func icalUTC(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

var xmlReport = map[string]string{"Content-Type": `application/xml; charset="utf-8"`}

func withDepth(depth string) map[string]string {
	return map[string]string{"Content-Type": `application/xml; charset="utf-8"`, "Depth": depth}
}

// putHeaders returns the headers of a PUT that creates (etag "") or
// replaces (If-Match etag) an object.
func putHeaders(etag string) map[string]string {
	h := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	if etag == "" {
		h["If-None-Match"] = "*"
	} else {
		h["If-Match"] = etag
	}
	return h
}
