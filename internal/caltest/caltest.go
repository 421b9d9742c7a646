// Package caltest runs a real calbolt server for tests: the production
// handler behind httptest on loopback, a real bbolt file in a temporary
// directory, real password hashes and Basic authentication. It exists so
// that every package's end-to-end tests share one way to start a server.
package caltest

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-webdav"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/caldav"
	"github.com/calbolt/calbolt/store"
)

// Server is a running calbolt test server.
type Server struct {
	*httptest.Server
	DB *store.DB
}

// cheapParams keep test hashes fast; production uses auth.DefaultParams.
var cheapParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password returns the password New gives user.
func Password(user string) string { return user + "-secret" }

// New starts a server whose store has the given users, each with password
// Password(user) and a calendar "personal". It stops when the test ends and
// checks the store's invariants then.
func New(t testing.TB, users ...string) *Server {
	t.Helper()
	return NewWith(t, Config{}, users...)
}

// Config varies the server New starts.
type Config struct {
	// Visibility is the free-busy policy (default: any authenticated
	// user sees anyone's busy time).
	Visibility busytime.Visibility
	// Throttle configures the login throttling (default: auth's defaults,
	// which delay an address after 5 failures a minute and refuse it with
	// 429 after 20).
	Throttle auth.Throttle
}

// NewWith is New with a Config.
func NewWith(t testing.TB, cfg Config, users ...string) *Server {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "calbolt.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	for _, u := range users {
		hash, err := auth.HashPasswordWith(Password(u), cheapParams)
		if err != nil {
			t.Fatalf("HashPasswordWith: %v", err)
		}
		if err := db.CreateUser(store.User{Name: u, PasswordHash: hash}); err != nil {
			t.Fatalf("CreateUser(%s): %v", u, err)
		}
		if _, err := db.CreateCalendar(u, store.Calendar{Name: "personal", DisplayName: "Personal",
			Components: []string{"VEVENT", "VTODO"}}); err != nil {
			t.Fatalf("CreateCalendar(%s): %v", u, err)
		}
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	h := caldav.NewHandler(db, &caldav.Options{
		Logger:   logger,
		FreeBusy: busytime.New(db, &busytime.Options{Logger: logger, Visibility: cfg.Visibility}),
		Authenticate: auth.Middleware(db, &auth.Options{
			Logger:   logger,
			Throttle: cfg.Throttle,
			Anonymous: func(r *http.Request) bool {
				return r.Method == http.MethodOptions
			},
		}),
	})
	s := &Server{Server: httptest.NewServer(h), DB: db}
	t.Cleanup(func() {
		s.Close()
		for _, err := range db.Check() {
			t.Errorf("store invariant: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Response is a response with its body read.
type Response struct {
	*http.Response
	Body string
}

// Do sends one request as user ("" for none) and reads the response.
// headers alternate name, value.
func (s *Server) Do(t testing.TB, user, method, path, body string, headers ...string) *Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if user != "" {
		req.SetBasicAuth(user, Password(user))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return &Response{Response: resp, Body: string(b)}
}

// Client returns go-webdav's CalDAV client logged in as user.
func (s *Server) Client(t testing.TB, user string) *gocaldav.Client {
	t.Helper()
	c, err := gocaldav.NewClient(webdav.HTTPClientWithBasicAuth(http.DefaultClient, user, Password(user)), s.URL)
	if err != nil {
		t.Fatalf("caldav.NewClient: %v", err)
	}
	return c
}

// Multistatus is a decoded DAV:multistatus.
type Multistatus struct {
	Responses []MSResponse `xml:"DAV: response"`
	SyncToken string       `xml:"DAV: sync-token"`
}

// MSResponse is one DAV:response.
type MSResponse struct {
	Href      string     `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []Propstat `xml:"DAV: propstat"`
	Error     *RawXML    `xml:"DAV: error"`
}

// Propstat is one DAV:propstat.
type Propstat struct {
	Prop struct {
		Props []RawXML `xml:",any"`
	} `xml:"DAV: prop"`
	Status string `xml:"DAV: status"`
}

// RawXML is an element with its text and children.
type RawXML struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []RawXML   `xml:",any"`
}

// Has reports whether x has a child element named space/local.
func (x RawXML) Has(space, local string) bool {
	for _, c := range x.Children {
		if c.XMLName.Space == space && c.XMLName.Local == local {
			return true
		}
	}
	return false
}

// ParseMultistatus decodes a 207 body.
func ParseMultistatus(t testing.TB, body string) *Multistatus {
	t.Helper()
	var ms Multistatus
	if err := xml.Unmarshal([]byte(body), &ms); err != nil {
		t.Fatalf("decoding multistatus: %v\n%s", err, body)
	}
	return &ms
}

// Prop returns the property space/local with status 200 in r, and whether
// it was there.
func (r MSResponse) Prop(space, local string) (RawXML, bool) {
	for _, ps := range r.Propstats {
		if !strings.Contains(ps.Status, " 200 ") {
			continue
		}
		for _, p := range ps.Prop.Props {
			if p.XMLName.Space == space && p.XMLName.Local == local {
				return p, true
			}
		}
	}
	return RawXML{}, false
}

// PropStatus returns the status line of the propstat holding space/local.
func (r MSResponse) PropStatus(space, local string) string {
	for _, ps := range r.Propstats {
		for _, p := range ps.Prop.Props {
			if p.XMLName.Space == space && p.XMLName.Local == local {
				return ps.Status
			}
		}
	}
	return ""
}

// Response returns the response for href, or false.
func (m *Multistatus) Response(href string) (MSResponse, bool) {
	for _, r := range m.Responses {
		if r.Href == href {
			return r, true
		}
	}
	return MSResponse{}, false
}

// ErrorCondition decodes a DAV:error body and returns the name of its first
// child element (the precondition), or "" when the body is not one.
func ErrorCondition(body string) xml.Name {
	var e RawXML
	if err := xml.NewDecoder(bytes.NewReader([]byte(body))).Decode(&e); err != nil {
		return xml.Name{}
	}
	if e.XMLName != (xml.Name{Space: "DAV:", Local: "error"}) || len(e.Children) == 0 {
		return xml.Name{}
	}
	return e.Children[0].XMLName
}

// Context returns a context for client calls.
func Context() context.Context { return context.Background() }
