package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calbolt/calbolt/internal/busygen"
)

// The windows the freebusy scenario asks for: those of the Go benchmarks
// (caldav/freebusy_bench_test.go), in the year busygen fills.
var (
	fbWeek  = [2]time.Time{time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)}
	fbMonth = [2]time.Time{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	fbYear  = [2]time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
)

// fbSlotsUsers is how many users the free-slots request names.
const fbSlotsUsers = 5

// Report rows of the freebusy scenario only (the ones naming a number of
// users are built with it).
const (
	kindFBPrincipal = "propfind principal"
	kindFBImport    = "import calendar"
	kindFBPopulate  = "populate (events/s)"
	kindFBEtags     = "propfind etags"
	kindFBWrite     = "mix put if-match"
	kindFBMixReport = "mix fb report month"
)

// fbUser is one user of the freebusy scenario.
type fbUser struct {
	name    string
	c       *davClient // logged in as name
	address string     // first calendar-user-address-set href
}

func (u *fbUser) home() string { return "/dav/calendars/" + url.PathEscape(u.name) + "/" }

func (u *fbUser) outbox() string { return u.home() + "outbox/" }

// fbCalendarName is the name of a user's c-th calendar.
func fbCalendarName(c int) string { return "fbload-" + strconv.Itoa(c) }

// fbPrefix is the UID prefix of the c-th calendar's objects, as in the Go
// benchmarks.
func fbPrefix(c int) string { return "c" + strconv.Itoa(c) }

// parseFBUsers reads -fb-users: a number N (user, then load1 … load<N-1>)
// or a list of names, with user put first.
func parseFBUsers(spec, user string) ([]string, error) {
	spec = strings.TrimSpace(spec)
	if n, err := strconv.Atoi(spec); err == nil {
		if n < 1 || n > maxFBUsers {
			return nil, fmt.Errorf("-fb-users %d out of range [1, %d]", n, maxFBUsers)
		}
		users := []string{user}
		for i := 1; len(users) < n; i++ {
			if name := "load" + strconv.Itoa(i); name != user {
				users = append(users, name)
			}
		}
		return users, nil
	}
	users := []string{user}
	for name := range strings.SplitSeq(spec, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, fmt.Errorf("-fb-users %q: an empty name", spec)
		case strings.ContainsAny(name, "/ \t\r\n") || name == "." || name == "..":
			return nil, fmt.Errorf("-fb-users: %q is not a user name", name)
		case name == user:
			continue
		case slices.Contains(users, name):
			return nil, fmt.Errorf("-fb-users: %q twice", name)
		}
		users = append(users, name)
	}
	if len(users) > maxFBUsers {
		return nil, fmt.Errorf("-fb-users: %d users, at most %d", len(users), maxFBUsers)
	}
	return users, nil
}

// fbRun is the state of one freebusy run.
type fbRun struct {
	cfg   *config
	log   *slog.Logger
	rec   *recorder
	users []*fbUser
	objs  [][]string // objs[c]: the objects of every user's c-th calendar
}

// runFreeBusy runs the free-busy benchmark of issue 3 (see the usage text).
func runFreeBusy(ctx context.Context, cfg *config, c *davClient, log *slog.Logger) (*report, error) {
	r := &fbRun{cfg: cfg, log: log, rec: c.rec}
	for _, name := range cfg.fbUsers {
		r.users = append(r.users, &fbUser{name: name, c: c.as(name)})
	}
	n := len(r.users)
	rep := &report{Calendar: fmt.Sprintf("%s{%s…%s} of %d users", r.users[0].home(), fbCalendarName(0), fbCalendarName(cfg.fbCals-1), n)}
	rep.param("users", strings.Join(cfg.fbUsers, ","))
	rep.param("calendars", fmt.Sprintf("%d per user, %d events each (internal/busygen, seeds %d…%d), %d events in all",
		cfg.fbCals, cfg.events, cfg.seed, cfg.seed+uint64(cfg.fbCals)-1, n*cfg.fbCals*cfg.events))
	rep.param("imports", fmt.Sprintf("%d at a time", cfg.putClients))
	rep.param("repeat", cfg.repeat)
	rep.param("windows", fmt.Sprintf("week %s, month %s, year %s", fbWindow(fbWeek), fbWindow(fbMonth), fbWindow(fbYear)))
	rep.param("concurrent", fmt.Sprintf("%d clients for %s, months drawn from %d of 2026 from June, writer %d PUT/s into %s%s",
		cfg.clients, cfg.duration, cfg.fbMonths, cfg.writeRate, r.users[0].home(), fbCalendarName(0)))
	rep.param("seed", cfg.seed)

	log.Info("reading the users' calendar user addresses", "users", n)
	for _, u := range r.users {
		addr, err := r.principalAddress(ctx, u)
		if err != nil {
			return rep, err
		}
		u.address = addr
	}

	if !cfg.keep {
		defer r.cleanup(ctx)
	}
	if err := r.populate(ctx, rep); err != nil || ctx.Err() != nil || r.rec.aborted() {
		return rep, err
	}

	me := r.users[0]
	for _, w := range []struct {
		name string
		w    [2]time.Time
	}{{"week", fbWeek}, {"month", fbMonth}, {"year", fbYear}} {
		if r.stopped(ctx) {
			return rep, nil
		}
		log.Info("free-busy-query REPORT on the calendar home", "window", w.name, "repeat", cfg.repeat)
		r.reportSequence(ctx, me, w.name, w.w)
	}
	if r.stopped(ctx) {
		return rep, nil
	}
	log.Info("outbox POST", "recipients", n, "repeat", cfg.repeat)
	r.outboxSequence(ctx)
	if r.stopped(ctx) {
		return rep, nil
	}
	log.Info("free slots", "users", min(fbSlotsUsers, n), "repeat", cfg.repeat)
	r.slotsSequence(ctx)
	if r.stopped(ctx) {
		return rep, nil
	}

	log.Info("concurrent phase", "clients", cfg.clients, "duration", cfg.duration, "write-rate", cfg.writeRate)
	wall := r.concurrent(ctx)
	for _, k := range []string{kindFBMixReport, r.kindMixOutbox(), kindFBWrite} {
		r.rec.setWallIfSeen(k, wall)
	}
	if r.stopped(ctx) {
		return rep, nil
	}
	// After the writes, the REPORT and the endpoint must still agree.
	r.compareReportAndGet(ctx, me, "month after writes", fbMonth)
	return rep, nil
}

func (r *fbRun) stopped(ctx context.Context) bool { return ctx.Err() != nil || r.rec.aborted() }

func fbWindow(w [2]time.Time) string { return icalUTC(w[0]) + "/" + icalUTC(w[1]) }

func (r *fbRun) kindMixOutbox() string {
	return fmt.Sprintf("mix fb outbox %d users month", len(r.users))
}

const propfindAddressSet = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-user-address-set/></d:prop></d:propfind>`

// addressSetMultistatus is the part of a PROPFIND answer naming
// calendar-user-address-set (RFC 6638 §2.4.1).
type addressSetMultistatus struct {
	XMLName   xml.Name `xml:"DAV: multistatus"`
	Responses []struct {
		Propstats []struct {
			Status string `xml:"DAV: status"`
			// No namespace in a path: encoding/xml would ask it of every
			// element on the path, and this one mixes DAV: and CalDAV.
			Hrefs []string `xml:"prop>calendar-user-address-set>href"`
		} `xml:"DAV: propstat"`
	} `xml:"DAV: response"`
}

// principalAddress reads the first href of u's calendar-user-address-set
// with a PROPFIND on u's principal, logged in as u.
func (r *fbRun) principalAddress(ctx context.Context, u *fbUser) (string, error) {
	p := "/dav/principals/" + url.PathEscape(u.name) + "/"
	resp, err := u.c.do(ctx, request{
		kind: kindFBPrincipal, method: "PROPFIND", path: p, header: withDepth("0"),
		body: []byte(propfindAddressSet), want: []int{http.StatusMultiStatus},
	})
	if err != nil {
		if resp != nil && resp.status == http.StatusUnauthorized {
			return "", fmt.Errorf("user %s cannot log in with the password of -user %s: every -fb-users user needs it (calbolt user add %s)", u.name, r.cfg.user, u.name)
		}
		return "", fmt.Errorf("PROPFIND the principal of %s: %w", u.name, err)
	}
	var ms addressSetMultistatus
	if err := xml.Unmarshal(resp.body, &ms); err != nil {
		r.rec.failf(kindFBPrincipal, "PROPFIND %s: %v", p, err)
		return "", fmt.Errorf("PROPFIND %s: %w", p, err)
	}
	for _, x := range ms.Responses {
		for _, ps := range x.Propstats {
			if statusCode(ps.Status) == http.StatusOK && len(ps.Hrefs) > 0 {
				return strings.TrimSpace(ps.Hrefs[0]), nil
			}
		}
	}
	r.rec.failf(kindFBPrincipal, "PROPFIND %s: no calendar-user-address-set href in %s", p, snippet(resp.body))
	return "", fmt.Errorf("principal %s has no calendar-user-address-set", u.name)
}

// importReport is the part of the server's JSON import report
// (ics.Report) the scenario checks.
type importReport struct {
	Objects    int             `json:"objects"`
	Created    int             `json:"created"`
	Updated    int             `json:"updated"`
	Unchanged  int             `json:"unchanged"`
	Rejected   int             `json:"rejected"`
	Rejections json.RawMessage `json:"rejections"`
	Error      string          `json:"error"`
}

// populate fills every user's calendars through the server's import, one
// streamed POST per calendar, cfg.putClients at a time.
func (r *fbRun) populate(ctx context.Context, rep *report) error {
	cfg := r.cfg
	r.objs = make([][]string, cfg.fbCals)
	var size int
	for c := range r.objs {
		r.objs[c] = busygen.Objects(cfg.seed+uint64(c), fbPrefix(c), cfg.events)
		for _, o := range r.objs[c] {
			size += len(o)
		}
	}
	total := len(r.users) * cfg.fbCals * cfg.events
	r.log.Info("importing", "calendars", len(r.users)*cfg.fbCals, "events", total, "at a time", cfg.putClients)

	type job struct {
		u *fbUser
		c int
	}
	jobs := make(chan job)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		again   int
	)
	start := time.Now()
	for range min(cfg.putClients, len(r.users)*cfg.fbCals) {
		wg.Go(func() {
			for j := range jobs {
				rp, err := r.importCalendar(ctx, j.u, j.c)
				if err != nil {
					continue
				}
				mu.Lock()
				created += rp.Created
				again += rp.Updated + rp.Unchanged
				mu.Unlock()
			}
		})
	}
feed:
	for _, u := range r.users {
		for c := range cfg.fbCals {
			if r.stopped(ctx) {
				break feed
			}
			jobs <- job{u, c}
		}
	}
	close(jobs)
	wg.Wait()
	wall := time.Since(start)
	r.rec.setWall(kindFBImport, wall)
	rate := float64(total) / wall.Seconds()
	rep.note("populate: %d events (%.1f MB of iCalendar) in %d calendars by import POSTs, %d at a time, in %s: %.0f events/s; %d created, %d already there",
		total, float64(size*len(r.users))/1e6, len(r.users)*cfg.fbCals, cfg.putClients, wall.Round(time.Millisecond), rate, created, again)
	rep.extraRows = func(*recorder) []kindReport {
		return []kindReport{{Kind: kindFBPopulate, Count: total, Status: map[int]int{}, Rate: float64(int(rate*10)) / 10}}
	}
	return nil
}

// importCalendar POSTs the objects of calendar c to u's calendar, creating
// it if need be, and checks that the report counts every object.
func (r *fbRun) importCalendar(ctx context.Context, u *fbUser, c int) (*importReport, error) {
	objs := r.objs[c]
	p := u.home() + url.PathEscape(fbCalendarName(c)) + "/?create=1"
	pr, pw := io.Pipe()
	go func() {
		for _, o := range objs {
			if _, err := io.WriteString(pw, o); err != nil {
				return // the request ended: the reader is closed
			}
		}
		pw.Close()
	}()
	resp, err := u.c.do(ctx, request{
		kind: kindFBImport, method: http.MethodPost, path: p,
		header: map[string]string{"Content-Type": "text/calendar; charset=utf-8"},
		stream: pr, want: []int{http.StatusCreated, http.StatusOK},
	})
	pr.CloseWithError(errors.New("the import request ended"))
	if err != nil {
		return nil, err
	}
	var rp importReport
	if err := json.Unmarshal(resp.body, &rp); err != nil {
		r.rec.failf(kindFBImport, "POST %s: the answer is not a JSON import report: %v: %s", p, err, snippet(resp.body))
		return nil, err
	}
	n := len(objs)
	if rp.Objects != n || rp.Rejected != 0 || rp.Error != "" || rp.Created+rp.Updated+rp.Unchanged != n ||
		(resp.status == http.StatusCreated && rp.Created != n) {
		r.rec.failf(kindFBImport, "POST %s (%d objects): status %d, objects %d, created %d, updated %d, unchanged %d, rejected %d, error %q, rejections %s",
			p, n, resp.status, rp.Objects, rp.Created, rp.Updated, rp.Unchanged, rp.Rejected, rp.Error, snippet(rp.Rejections))
		return nil, errors.New("import incomplete")
	}
	return &rp, nil
}

// cleanup deletes the calendars the run filled, with a fresh context so
// that an interrupted run cleans up too.
func (r *fbRun) cleanup(ctx context.Context) {
	r.log.Info("deleting the calendars", "calendars", len(r.users)*r.cfg.fbCals)
	for _, u := range r.users {
		for c := range r.cfg.fbCals {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.timeout)
			_, err := u.c.do(cctx, request{
				kind: kindDeleteCal, method: http.MethodDelete, path: u.home() + url.PathEscape(fbCalendarName(c)) + "/",
				want: []int{http.StatusOK, http.StatusNoContent, http.StatusNotFound},
			})
			cancel()
			if err != nil {
				r.log.Warn("could not delete a calendar", "user", u.name, "calendar", fbCalendarName(c), "err", err)
			}
		}
	}
}

// first returns kind for the first of a repeated request, and kind
// otherwise.
func first(kind string, i int) string {
	if i == 0 {
		return kind + " (first)"
	}
	return kind
}

// fbReport sends a free-busy-query REPORT for w to u's calendar home with
// Depth: 1 and returns the FREEBUSY lines of the answer, after checking it
// is one VCALENDAR with one VFREEBUSY.
func (r *fbRun) fbReport(ctx context.Context, kind string, asker *davClient, u *fbUser, w [2]time.Time) ([]string, bool) {
	resp, err := asker.do(ctx, request{
		kind: kind, method: "REPORT", path: u.home(), header: withDepth("1"),
		body: freeBusyBody(w[0], w[1]), want: []int{http.StatusOK},
	})
	if err != nil {
		return nil, false
	}
	where := fmt.Sprintf("REPORT free-busy-query %s on %s", fbWindow(w), u.home())
	return r.checkVFreeBusy(kind, where, resp)
}

// checkVFreeBusy checks that resp is text/calendar with exactly one
// VFREEBUSY and returns its FREEBUSY lines.
func (r *fbRun) checkVFreeBusy(kind, where string, resp *response) ([]string, bool) {
	if mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type")); mt != "text/calendar" {
		r.rec.failf(kind, "%s: Content-Type %q, want text/calendar", where, resp.header.Get("Content-Type"))
		return nil, false
	}
	blocks := vfreebusyBlocks(string(resp.body))
	if len(blocks) != 1 {
		r.rec.failf(kind, "%s: %d VFREEBUSY components, want 1: %s", where, len(blocks), snippet(resp.body))
		return nil, false
	}
	return blocks[0].freebusy, true
}

// fbGet asks GET /freebusy for users over w as iCalendar and returns the
// VFREEBUSY components of the answer.
func (r *fbRun) fbGet(ctx context.Context, kind string, users []*fbUser, w [2]time.Time) ([]vfreebusy, string, bool) {
	q := url.Values{"start": {icalUTC(w[0])}, "end": {icalUTC(w[1])}}
	p := "/freebusy/"
	if len(users) == 1 {
		p += url.PathEscape(users[0].name)
	} else {
		names := make([]string, len(users))
		for i, u := range users {
			names[i] = u.name
		}
		p = "/freebusy"
		q.Set("users", strings.Join(names, ","))
	}
	p += "?" + q.Encode()
	resp, err := r.users[0].c.do(ctx, request{
		kind: kind, method: http.MethodGet, path: p,
		header: map[string]string{"Accept": "text/calendar"}, want: []int{http.StatusOK},
	})
	if err != nil {
		return nil, p, false
	}
	if mt, _, _ := mime.ParseMediaType(resp.header.Get("Content-Type")); mt != "text/calendar" {
		r.rec.failf(kind, "GET %s: Content-Type %q, want text/calendar", p, resp.header.Get("Content-Type"))
		return nil, p, false
	}
	blocks := vfreebusyBlocks(string(resp.body))
	if len(blocks) != len(users) {
		r.rec.failf(kind, "GET %s: %d VFREEBUSY components, want %d", p, len(blocks), len(users))
		return nil, p, false
	}
	return blocks, p, true
}

// reportSequence sends the REPORT for w on u's home cfg.repeat times and
// compares its answer with GET /freebusy/<u>.
func (r *fbRun) reportSequence(ctx context.Context, u *fbUser, name string, w [2]time.Time) {
	kind := "fb report " + name
	var want []string
	for i := range r.cfg.repeat {
		if r.stopped(ctx) {
			return
		}
		got, ok := r.fbReport(ctx, first(kind, i), u.c, u, w)
		if !ok {
			continue
		}
		if want == nil {
			want = got
			if len(got) == 0 {
				r.rec.failf(first(kind, i), "REPORT %s on %s: no FREEBUSY line, but the calendars are full", fbWindow(w), u.home())
			}
			continue
		}
		if d := diffLines(want, got); d != "" {
			r.rec.failf(kind, "REPORT %s on %s: the answer changed without a write: %s", fbWindow(w), u.home(), d)
		}
	}
	if want != nil {
		r.compareLines(ctx, "fb get "+name, u, w, want, "the REPORT")
	}
}

// compareReportAndGet sends one REPORT for w on u's home and compares it
// with GET /freebusy/<u>.
func (r *fbRun) compareReportAndGet(ctx context.Context, u *fbUser, name string, w [2]time.Time) {
	got, ok := r.fbReport(ctx, "fb report "+name, u.c, u, w)
	if ok {
		r.compareLines(ctx, "fb get "+name, u, w, got, "the REPORT")
	}
}

// compareLines fetches GET /freebusy/<u> for w and records a failure of
// kind unless its FREEBUSY lines are want, which source answered.
func (r *fbRun) compareLines(ctx context.Context, kind string, u *fbUser, w [2]time.Time, want []string, source string) {
	blocks, p, ok := r.fbGet(ctx, kind, []*fbUser{u}, w)
	if !ok {
		return
	}
	if d := diffLines(want, blocks[0].freebusy); d != "" {
		r.rec.failf(kind, "GET %s and %s on %s disagree (%d and %d FREEBUSY lines): %s",
			p, source, u.home(), len(blocks[0].freebusy), len(want), d)
	}
}

// outboxBody is a free-busy request (RFC 5546 §3.3.1, RFC 6638 §5) from
// org to every user, for w.
func (r *fbRun) outboxBody(org *fbUser, w [2]time.Time, uid string) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//calbolt-load//EN\r\nMETHOD:REQUEST\r\n")
	b.WriteString("BEGIN:VFREEBUSY\r\nUID:" + uid + "\r\nDTSTAMP:" + icalUTC(time.Now()) + "\r\n")
	b.WriteString("DTSTART:" + icalUTC(w[0]) + "\r\nDTEND:" + icalUTC(w[1]) + "\r\n")
	b.WriteString(fold("ORGANIZER:"+org.address) + "\r\n")
	for _, u := range r.users {
		b.WriteString(fold("ATTENDEE:"+u.address) + "\r\n")
	}
	b.WriteString("END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
	return []byte(b.String())
}

// scheduleResponse is a CALDAV:schedule-response (RFC 6638 §10.1).
type scheduleResponse struct {
	XMLName   xml.Name `xml:"urn:ietf:params:xml:ns:caldav schedule-response"`
	Responses []struct {
		Recipient string `xml:"recipient>href"`
		Status    string `xml:"urn:ietf:params:xml:ns:caldav request-status"`
		Data      string `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	} `xml:"urn:ietf:params:xml:ns:caldav response"`
}

// outbox POSTs a free-busy request for w from org to every user and checks
// the answer: one response per user, each 2.0 with a VFREEBUSY holding
// FREEBUSY lines. It returns each recipient's FREEBUSY lines by address.
func (r *fbRun) outbox(ctx context.Context, kind string, org *fbUser, w [2]time.Time, uid string) (map[string][]string, bool) {
	resp, err := org.c.do(ctx, request{
		kind: kind, method: http.MethodPost, path: org.outbox(),
		header: map[string]string{"Content-Type": "text/calendar; charset=utf-8"},
		body:   r.outboxBody(org, w, uid), want: []int{http.StatusOK},
	})
	if err != nil {
		return nil, false
	}
	where := "POST " + org.outbox()
	var sr scheduleResponse
	if err := xml.Unmarshal(resp.body, &sr); err != nil {
		r.rec.failf(kind, "%s: not a schedule-response: %v: %s", where, err, snippet(resp.body))
		return nil, false
	}
	if len(sr.Responses) != len(r.users) {
		r.rec.failf(kind, "%s: %d responses for %d recipients", where, len(sr.Responses), len(r.users))
		return nil, false
	}
	got := make(map[string][]string, len(sr.Responses))
	for _, x := range sr.Responses {
		addr := strings.ToLower(strings.TrimSpace(x.Recipient))
		if !strings.HasPrefix(strings.TrimSpace(x.Status), "2.0") {
			r.rec.failf(kind, "%s: recipient %s: request-status %q, want 2.0", where, x.Recipient, x.Status)
			return nil, false
		}
		blocks := vfreebusyBlocks(x.Data)
		if len(blocks) != 1 || len(blocks[0].freebusy) == 0 {
			r.rec.failf(kind, "%s: recipient %s: %d VFREEBUSY components, want 1 with FREEBUSY lines: %s", where, x.Recipient, len(blocks), snippet([]byte(x.Data)))
			return nil, false
		}
		got[addr] = blocks[0].freebusy
	}
	for _, u := range r.users {
		if _, ok := got[strings.ToLower(u.address)]; !ok {
			r.rec.failf(kind, "%s: no response for recipient %s", where, u.address)
			return nil, false
		}
	}
	return got, true
}

// outboxSequence POSTs the month request from the first user to all
// cfg.repeat times, and compares the first answer with GET /freebusy for
// all users.
func (r *fbRun) outboxSequence(ctx context.Context) {
	kind := fmt.Sprintf("fb outbox %d users month", len(r.users))
	var want map[string][]string
	for i := range r.cfg.repeat {
		if r.stopped(ctx) {
			return
		}
		got, ok := r.outbox(ctx, first(kind, i), r.users[0], fbMonth, fmt.Sprintf("calbolt-load-%d@fb", i))
		if ok && want == nil {
			want = got
		}
	}
	if want == nil {
		return
	}
	getKind := fmt.Sprintf("fb get %d users month", len(r.users))
	blocks, p, ok := r.fbGet(ctx, getKind, r.users, fbMonth)
	if !ok {
		return
	}
	for _, b := range blocks {
		lines, found := want[strings.ToLower(b.organizer)]
		if !found {
			r.rec.failf(getKind, "GET %s: a VFREEBUSY for %q, whom the outbox did not answer for", p, b.organizer)
			continue
		}
		if d := diffLines(lines, b.freebusy); d != "" {
			r.rec.failf(getKind, "GET %s and the outbox POST disagree for %s (%d and %d FREEBUSY lines): %s",
				p, b.organizer, len(b.freebusy), len(lines), d)
		}
	}
}

// slotsSequence asks for free slots common to the first five users in June
// cfg.repeat times.
func (r *fbRun) slotsSequence(ctx context.Context) {
	n := min(fbSlotsUsers, len(r.users))
	names := make([]string, n)
	for i := range names {
		names[i] = r.users[i].name
	}
	q := url.Values{
		"users": {strings.Join(names, ",")}, "start": {"2026-06-01"}, "end": {"2026-07-01"},
		"duration": {"PT1H"}, "hours": {"09:00-17:00"}, "tz": {"Europe/Berlin"},
	}
	p := "/freebusy?" + q.Encode()
	kind := fmt.Sprintf("fb slots %d users month", n)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		r.log.Warn("no time zone data for Europe/Berlin: the free slots are not checked against the busy time", "err", err)
		berlin = nil
	}
	for i := range r.cfg.repeat {
		if r.stopped(ctx) {
			return
		}
		k := first(kind, i)
		resp, err := r.users[0].c.do(ctx, request{kind: k, method: http.MethodGet, path: p, want: []int{http.StatusOK}})
		if err != nil {
			continue
		}
		var ans slotsAnswer
		if err := json.Unmarshal(resp.body, &ans); err != nil {
			r.rec.failf(k, "GET %s: not JSON: %v: %s", p, err, snippet(resp.body))
			continue
		}
		if len(ans.Users) != n {
			r.rec.failf(k, "GET %s: %d users in the answer, want %d", p, len(ans.Users), n)
			continue
		}
		// The slots follow from the merged busy time of the same answer.
		var want []period
		if berlin != nil {
			want = freeSlots(ans.Merged, ans.Start, ans.End, berlin, 9*time.Hour, 17*time.Hour, time.Hour)
		}
		switch {
		case ans.Slots == nil:
			var keys map[string]json.RawMessage
			_ = json.Unmarshal(resp.body, &keys) // it parsed above
			r.rec.failf(k, "GET %s: no \"slots\" array in the answer, only %s (the merged busy time in it leaves %d free slots of an hour)",
				p, strings.Join(slices.Sorted(maps.Keys(keys)), ", "), len(want))
		case berlin != nil && !slices.EqualFunc(*ans.Slots, want, period.equal):
			r.rec.failf(k, "GET %s: %d slots, but the merged busy time of the answer leaves %d: %s",
				p, len(*ans.Slots), len(want), diffPeriods(want, *ans.Slots))
		}
	}
}

// period is a span of time in a JSON answer of GET /freebusy.
type period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Type  string    `json:"type,omitempty"`
}

func (p period) equal(q period) bool { return p.Start.Equal(q.Start) && p.End.Equal(q.End) }

// slotsAnswer is the part of the JSON answer of GET /freebusy the scenario
// checks.
type slotsAnswer struct {
	Start  time.Time         `json:"start"`
	End    time.Time         `json:"end"`
	Users  []json.RawMessage `json:"users"`
	Merged []period          `json:"merged"`
	Slots  *[]period         `json:"slots"`
}

// freeSlots returns the free time of at least minLen within [start, end)
// and within working hours [from, to) after local midnight in loc, Monday
// to Friday, given busy periods sorted by start (merged, so their types
// do not matter: any type blocks).
func freeSlots(busy []period, start, end time.Time, loc *time.Location, from, to, minLen time.Duration) []period {
	out := []period{}
	s := start.In(loc)
	for day := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc); day.Before(end); day = day.AddDate(0, 0, 1) {
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		y, m, d := day.Date()
		ws := time.Date(y, m, d, 0, 0, 0, 0, loc).Add(from)
		we := time.Date(y, m, d, 0, 0, 0, 0, loc).Add(to)
		if ws.Before(start) {
			ws = start
		}
		if we.After(end) {
			we = end
		}
		cur := ws
		for _, b := range busy {
			if !b.End.After(cur) || !b.Start.Before(we) {
				continue
			}
			if b.Start.Sub(cur) >= minLen {
				out = append(out, period{Start: cur.UTC(), End: b.Start.UTC()})
			}
			if b.End.After(cur) {
				cur = b.End
			}
		}
		if we.Sub(cur) >= minLen {
			out = append(out, period{Start: cur.UTC(), End: we.UTC()})
		}
	}
	return out
}

func diffPeriods(want, got []period) string {
	f := func(ps []period) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = icalUTC(p.Start) + "/" + icalUTC(p.End)
		}
		return out
	}
	return diffLines(f(want), f(got))
}

// concurrent runs cfg.clients clients sending month REPORTs and outbox
// POSTs for cfg.duration, while one writer changes objects of the first
// user's first calendar at cfg.writeRate per second. It returns the
// phase's wall time.
func (r *fbRun) concurrent(ctx context.Context) time.Duration {
	var w *fbWriter
	if r.cfg.writeRate > 0 {
		w = r.newWriter(ctx)
		if w == nil {
			return 0
		}
	}
	start := time.Now()
	deadline := start.Add(r.cfg.duration)
	var wg sync.WaitGroup
	for id := range r.cfg.clients {
		rng := rand.New(rand.NewPCG(r.cfg.seed, uint64(3000+id)))
		wg.Go(func() {
			for k := 0; time.Now().Before(deadline) && !r.stopped(ctx); k++ {
				month := time.Date(2026, time.Month(1+(5+rng.IntN(r.cfg.fbMonths))%12), 1, 0, 0, 0, 0, time.UTC)
				win := [2]time.Time{month, month.AddDate(0, 1, 0)}
				u := r.users[rng.IntN(len(r.users))]
				if rng.IntN(2) == 0 {
					r.fbReport(ctx, kindFBMixReport, u.c, u, win)
				} else {
					r.outbox(ctx, r.kindMixOutbox(), u, win, fmt.Sprintf("calbolt-load-mix-%d-%d@fb", id, k))
				}
			}
		})
	}
	if w != nil {
		wg.Go(func() { w.loop(ctx, deadline, r.cfg.writeRate) })
	}
	wg.Wait()
	return time.Since(start)
}

// fbWriter changes objects of one calendar with If-Match PUTs.
type fbWriter struct {
	r     *fbRun
	u     *fbUser
	cal   string // calendar path
	objs  []string
	etags map[int]string // object index → etag, for the objects it may change
	names map[int]string // object index → resource name
	idx   []int          // the keys of etags
	revs  map[int]int
	rng   *rand.Rand
}

// newWriter lists the first user's first calendar with a PROPFIND and
// returns a writer for its objects that are single, busy, confirmed
// events (so a write may toggle STATUS:TENTATIVE).
func (r *fbRun) newWriter(ctx context.Context) *fbWriter {
	u := r.users[0]
	w := &fbWriter{
		r: r, u: u, cal: u.home() + url.PathEscape(fbCalendarName(0)) + "/", objs: r.objs[0],
		etags: map[int]string{}, names: map[int]string{}, revs: map[int]int{},
		rng: rand.New(rand.NewPCG(r.cfg.seed, 0xfb)),
	}
	resp, err := u.c.do(ctx, request{
		kind: kindFBEtags, method: "PROPFIND", path: w.cal, header: withDepth("1"),
		body: []byte(propfindETags), want: []int{http.StatusMultiStatus},
	})
	if err != nil {
		return nil
	}
	ms, err := parseMultistatus(resp.body)
	var members []member
	if err == nil {
		members, err = ms.members()
	}
	if err != nil {
		r.rec.failf(kindFBEtags, "PROPFIND %s: %v", w.cal, err)
		return nil
	}
	count := 0
	prefix := fbPrefix(0) + "-"
	for _, m := range members {
		if strings.TrimSuffix(m.path, "/") == strings.TrimSuffix(w.cal, "/") {
			continue
		}
		count++
		// busygen's UIDs are <prefix>-<i>@busy.test; the import names an
		// object by its UID when that is a safe name.
		name := path.Base(m.path)
		num, ok := strings.CutPrefix(strings.TrimSuffix(name, "@busy.test.ics"), prefix)
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || i >= len(w.objs) || m.etag == "" {
			continue
		}
		if i%5 != 0 && i%23 != 5 && i%23 != 11 {
			w.etags[i], w.names[i] = m.etag, name
			w.idx = append(w.idx, i)
		}
	}
	if count != len(w.objs) {
		r.rec.failf(kindFBEtags, "PROPFIND %s: %d members, the import stored %d", w.cal, count, len(w.objs))
	}
	if len(w.idx) == 0 {
		r.rec.failf(kindFBEtags, "PROPFIND %s: no member named like an imported object (%s<i>@busy.test.ics): no writer", w.cal, prefix)
		return nil
	}
	slices.Sort(w.idx)
	return w
}

// loop PUTs one change every 1/rate seconds until the deadline.
func (w *fbWriter) loop(ctx context.Context, deadline time.Time, rate int) {
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for time.Now().Before(deadline) && !w.r.stopped(ctx) && len(w.idx) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !time.Now().Before(deadline) {
			return
		}
		w.write(ctx)
	}
}

// write changes one object: a new SUMMARY, and STATUS:TENTATIVE on every
// other revision, so its busy type changes too.
func (w *fbWriter) write(ctx context.Context) {
	i := w.idx[w.rng.IntN(len(w.idx))]
	rev := w.revs[i] + 1
	data := strings.Replace(w.objs[i], "\r\nSUMMARY:", fmt.Sprintf("\r\nSUMMARY:(change %d) ", rev), 1)
	if rev%2 == 1 {
		data = strings.Replace(data, "END:VEVENT\r\n", "STATUS:TENTATIVE\r\nEND:VEVENT\r\n", 1)
	}
	p := w.cal + url.PathEscape(w.names[i])
	resp, err := w.u.c.do(ctx, request{
		kind: kindFBWrite, method: http.MethodPut, path: p, header: putHeaders(w.etags[i]),
		body: []byte(data), want: []int{http.StatusNoContent, http.StatusOK},
	})
	if err != nil {
		return
	}
	etag := resp.header.Get("ETag")
	if etag == "" {
		w.r.rec.failf(kindFBWrite, "PUT %s: %d without an ETag header", p, resp.status)
		delete(w.etags, i)
		w.idx = slices.DeleteFunc(w.idx, func(j int) bool { return j == i })
		return
	}
	w.etags[i], w.revs[i] = etag, rev
}

// vfreebusy is one VFREEBUSY component of an iCalendar text.
type vfreebusy struct {
	organizer string
	freebusy  []string // its FREEBUSY lines, unfolded, in order
}

// vfreebusyBlocks returns the VFREEBUSY components of an iCalendar text
// (whose CRLFs XML decoding may have turned into LFs).
func vfreebusyBlocks(text string) []vfreebusy {
	var out []vfreebusy
	var cur *vfreebusy
	for line := range strings.SplitSeq(unfold(text), "\n") {
		line = strings.TrimRight(line, "\r")
		name := strings.ToUpper(propName(line))
		switch {
		case name == "BEGIN" && strings.EqualFold(line, "BEGIN:VFREEBUSY"):
			out = append(out, vfreebusy{})
			cur = &out[len(out)-1]
		case name == "END" && strings.EqualFold(line, "END:VFREEBUSY"):
			cur = nil
		case cur == nil:
		case name == "FREEBUSY":
			cur.freebusy = append(cur.freebusy, line)
		case name == "ORGANIZER":
			cur.organizer = propValue(line)
		}
	}
	return out
}

// propName returns the name of a content line: up to the first ';' or ':'.
func propName(line string) string {
	if i := strings.IndexAny(line, ";:"); i >= 0 {
		return line[:i]
	}
	return line
}

// propValue returns the value of a content line: after the first ':' that
// is not inside a quoted parameter value.
func propValue(line string) string {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return line[i+1:]
			}
		}
	}
	return ""
}

// diffLines describes how got differs from want, or returns "" when they
// are equal.
func diffLines(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return fmt.Sprintf("first difference at line %d: %q, not %q", i+1, got[i], want[i])
		}
	}
	if len(got) < len(want) {
		return fmt.Sprintf("%d lines, not %d: %q missing", len(got), len(want), want[len(got)])
	}
	return fmt.Sprintf("%d lines, not %d: %q extra", len(got), len(want), got[len(want)])
}
