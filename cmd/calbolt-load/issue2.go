package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Report rows of the issue2 scenario.
const (
	kindMkcalendar  = "mkcalendar"
	kindPropfind    = "propfind depth 1"
	kindQueryWeek   = "calendar-query week"
	kindSyncInitial = "sync initial"
	kindPutIfMatch  = "put if-match"
	kindSyncDelta   = "sync delta"
	kindMultiget    = "multiget"
	kindDeleteCal   = "delete calendar"
)

// queryWeek is the week the issue2 calendar-query asks for: the middle of
// the generated year.
func queryWeek() (start, end time.Time) {
	start = yearStart.AddDate(0, 0, 7*26)
	return start, start.AddDate(0, 0, 7)
}

// calendarRun is the state of one calendar a scenario fills: the events,
// their current revision and etag.
type calendarRun struct {
	c     *davClient
	name  string // calendar name
	path  string // calendar path, with a trailing slash
	stamp time.Time
	specs []eventSpec
	// etags[i] and revs[i] belong to specs[i]; each is written by one
	// goroutine at a time (the scenarios partition the indexes).
	etags []string
	revs  []int
}

func newCalendarRun(c *davClient, prefix string, seed uint64, events int) *calendarRun {
	now := time.Now().UTC()
	name := prefix + "-" + now.Format("20060102-150405.000")
	name = strings.ReplaceAll(name, ".", "-")
	run := &calendarRun{
		c:     c,
		name:  name,
		path:  c.calendarPath(name),
		stamp: now.Truncate(time.Second),
		specs: make([]eventSpec, events),
		etags: make([]string, events),
		revs:  make([]int, events),
	}
	for i := range run.specs {
		run.specs[i] = newEventSpec(seed, name, i)
	}
	return run
}

func (r *calendarRun) objectPath(i int) string { return r.path + r.specs[i].name }

func (r *calendarRun) create(ctx context.Context) error {
	_, err := r.c.do(ctx, request{
		kind: kindMkcalendar, method: "MKCALENDAR", path: r.path,
		header: xmlReport, body: mkcalendarBody("calbolt-load " + r.name),
		want: []int{http.StatusCreated},
	})
	return err
}

func (r *calendarRun) remove(ctx context.Context) error {
	_, err := r.c.do(ctx, request{
		kind: kindDeleteCal, method: http.MethodDelete, path: r.path,
		want: []int{http.StatusOK, http.StatusNoContent},
	})
	return err
}

// put writes specs[i] at its next revision, creating it when it has no
// etag and replacing it with If-Match otherwise, and keeps the new etag.
func (r *calendarRun) put(ctx context.Context, kind string, i int) error {
	etag := r.etags[i]
	want := []int{http.StatusCreated}
	rev := r.revs[i]
	if etag != "" {
		want = []int{http.StatusNoContent, http.StatusOK}
		rev++
	}
	resp, err := r.c.do(ctx, request{
		kind: kind, method: http.MethodPut, path: r.objectPath(i),
		header: putHeaders(etag), body: r.specs[i].ics(rev, "", r.stamp),
		want: want,
	})
	if err != nil {
		return err
	}
	r.revs[i] = rev
	r.etags[i] = resp.header.Get("ETag")
	if r.etags[i] == "" {
		// Our objects are complete, so the server should store them as
		// sent and say which ETag they got (RFC 4791 §5.3.4).
		r.c.rec.failf(kind, "PUT %s: %d without an ETag header", r.objectPath(i), resp.status)
		return fmt.Errorf("PUT %s: no ETag", r.objectPath(i))
	}
	return nil
}

// putAll PUTs specs[from:to] with n concurrent clients and records the
// phase's duration as kind's wall time. It stops early when ctx ends or
// too many requests failed.
func (r *calendarRun) putAll(ctx context.Context, kind string, from, to, n int) {
	if from >= to {
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			for i := range next {
				_ = r.put(ctx, kind, i) // a failure is in the recorder
			}
		})
	}
feed:
	for i := from; i < to; i++ {
		if r.c.rec.aborted() {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	r.c.rec.setWall(kind, time.Since(start))
}

// report runs body as a REPORT (or PROPFIND) on the calendar and parses
// the multistatus.
func (r *calendarRun) multistatus(ctx context.Context, kind, method, depth string, body []byte) ([]member, string, error) {
	h := xmlReport
	if depth != "" {
		h = withDepth(depth)
	}
	resp, err := r.c.do(ctx, request{
		kind: kind, method: method, path: r.path, header: h, body: body,
		want: []int{http.StatusMultiStatus},
	})
	if err != nil {
		return nil, "", err
	}
	ms, err := parseMultistatus(resp.body)
	if err != nil {
		r.c.rec.fail(kind, err.Error())
		return nil, "", err
	}
	members, err := ms.members()
	if err != nil {
		r.c.rec.fail(kind, err.Error())
		return nil, "", err
	}
	return members, strings.TrimSpace(ms.SyncToken), nil
}

// expectMembers records a failure of kind unless members are exactly the
// objects want (by index), each with status 200, and no others. The
// calendar itself, which PROPFIND depth 1 lists, is ignored.
// With checkETags, each member's etag must also be the one the last PUT of
// it answered.
func (r *calendarRun) expectMembers(kind string, members []member, want []int, checkETags bool) bool {
	wantPaths := make(map[string]int, len(want))
	for _, i := range want {
		wantPaths[r.objectPath(i)] = i
	}
	var missing, extra, bad []string
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if m.path == r.path || m.path+"/" == r.path {
			continue
		}
		i, ok := wantPaths[m.path]
		switch {
		case !ok:
			extra = append(extra, m.path)
		case seen[m.path]:
			extra = append(extra, m.path+" (twice)")
		case m.status != http.StatusOK:
			bad = append(bad, fmt.Sprintf("%s (status %d)", m.path, m.status))
		case checkETags && m.etag != r.etags[i]:
			bad = append(bad, fmt.Sprintf("%s (etag %s, PUT answered %s)", m.path, m.etag, r.etags[i]))
		}
		seen[m.path] = true
	}
	for p := range wantPaths {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	if len(missing)+len(extra)+len(bad) == 0 {
		return true
	}
	r.c.rec.failf(kind, "got %d members, want %d: %d missing %s, %d unexpected %s, %d wrong %s",
		len(seen), len(want), len(missing), firstFew(missing), len(extra), firstFew(extra), len(bad), firstFew(bad))
	return false
}

func firstFew(s []string) string {
	slices.Sort(s)
	if len(s) > 3 {
		return fmt.Sprint(s[:3], "…")
	}
	return fmt.Sprint(s)
}

// runIssue2 runs the benchmark of issue 2 (see the usage text).
func runIssue2(ctx context.Context, cfg *config, c *davClient, log *slog.Logger) (*report, error) {
	run := newCalendarRun(c, "bench", cfg.seed, cfg.events)
	rep := &report{Calendar: run.path}
	rep.param("events", cfg.events)
	rep.param("put-split", fmt.Sprintf("%d at 1 client, %d at %d clients", cfg.putSplit, cfg.events-cfg.putSplit, cfg.putClients))
	rep.param("repeat", cfg.repeat)
	rep.param("changes", cfg.changes)
	rep.param("seed", cfg.seed)
	qStart, qEnd := queryWeek()
	rep.param("query week", icalUTC(qStart)+"/"+icalUTC(qEnd))

	log.Info("creating calendar", "path", run.path)
	if err := run.create(ctx); err != nil {
		return rep, fmt.Errorf("create the benchmark calendar: %w", err)
	}
	if !cfg.keep {
		defer func() {
			// A fresh context: an interrupted run still cleans up.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.timeout)
			defer cancel()
			if err := run.remove(cctx); err != nil {
				log.Warn("could not delete the benchmark calendar", "path", run.path, "err", err)
			}
		}()
	}

	var size int
	for i := range min(100, len(run.specs)) {
		size += len(run.specs[i].ics(0, "", run.stamp))
	}
	rep.note("generated events average %d bytes", size/min(100, len(run.specs)))

	kindPut1 := "put c=1"
	kindPutN := fmt.Sprintf("put c=%d", cfg.putClients)
	log.Info("PUT at 1 client", "events", cfg.putSplit)
	run.putAll(ctx, kindPut1, 0, cfg.putSplit, 1)
	log.Info("PUT concurrently", "events", cfg.events-cfg.putSplit, "clients", cfg.putClients)
	run.putAll(ctx, kindPutN, cfg.putSplit, cfg.events, cfg.putClients)
	if ctx.Err() != nil || c.rec.aborted() {
		return rep, nil
	}

	all := make([]int, cfg.events)
	var inWeek []int
	for i := range all {
		all[i] = i
		if run.specs[i].overlaps(qStart, qEnd) {
			inWeek = append(inWeek, i)
		}
	}
	rep.param("week matches", len(inWeek))

	rng := rand.New(rand.NewPCG(cfg.seed, 0x15502))
	for k := range cfg.repeat {
		if ctx.Err() != nil || c.rec.aborted() {
			break
		}
		log.Info("read and sync sequence", "round", k+1, "of", cfg.repeat)
		if m, _, err := run.multistatus(ctx, kindPropfind, "PROPFIND", "1", []byte(propfindETags)); err == nil {
			run.expectMembers(kindPropfind, m, all, true)
		}
		if m, _, err := run.multistatus(ctx, kindQueryWeek, "REPORT", "1", calendarQueryBody(qStart, qEnd)); err == nil {
			run.expectMembers(kindQueryWeek, m, inWeek, true)
		}
		m, token, err := run.multistatus(ctx, kindSyncInitial, "REPORT", "", syncCollectionBody(""))
		if err != nil {
			continue
		}
		run.expectMembers(kindSyncInitial, m, all, true)
		if token == "" {
			c.rec.fail(kindSyncInitial, "no DAV:sync-token in the answer")
			continue
		}

		var changed []int
		for _, i := range rng.Perm(cfg.events)[:cfg.changes] {
			// A failed PUT is recorded; the delta sync must then not list it.
			if run.put(ctx, kindPutIfMatch, i) == nil {
				changed = append(changed, i)
			}
		}
		slices.Sort(changed)
		m, token2, err := run.multistatus(ctx, kindSyncDelta, "REPORT", "", syncCollectionBody(token))
		if err != nil {
			continue
		}
		run.expectMembers(kindSyncDelta, m, changed, true)
		if token2 == "" || token2 == token {
			c.rec.failf(kindSyncDelta, "sync-token %q after changes, was %q", token2, token)
		}

		hrefs := make([]string, len(changed))
		for j, i := range changed {
			hrefs[j] = run.objectPath(i)
		}
		if m, _, err := run.multistatus(ctx, kindMultiget, "REPORT", "1", multigetBody(hrefs)); err == nil {
			if run.expectMembers(kindMultiget, m, changed, true) {
				run.expectRevisions(kindMultiget, m)
			}
		}
	}
	return rep, nil
}

// expectRevisions records a failure for each member whose calendar data or
// etag is not the revision the run last wrote.
func (r *calendarRun) expectRevisions(kind string, members []member) {
	byPath := make(map[string]int, len(r.specs))
	for i := range r.specs {
		byPath[r.objectPath(i)] = i
	}
	for _, m := range members {
		i, ok := byPath[m.path]
		if !ok {
			continue
		}
		want := fmt.Sprintf("(rev %d)", r.revs[i])
		if !strings.Contains(unfold(m.data), want) {
			r.c.rec.failf(kind, "%s: calendar-data is not the last revision written %s", m.path, want)
		}
	}
}

// unfold undoes RFC 5545 line folding; XML decoding may have turned the
// CRLFs into LFs.
func unfold(s string) string {
	return strings.NewReplacer("\r\n ", "", "\r\n\t", "", "\n ", "", "\n\t", "").Replace(s)
}
