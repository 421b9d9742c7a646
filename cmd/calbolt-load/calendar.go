package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Report rows both scenarios have.
const (
	kindMkcalendar  = "mkcalendar"
	kindDeleteCal   = "delete calendar"
	kindSyncInitial = "sync initial"
	kindSyncDelta   = "sync delta"
	kindPutIfMatch  = "put if-match"
	kindMultiget    = "multiget"
)

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
	stamp := r.stamp
	if rev > 0 {
		stamp = time.Now().UTC().Truncate(time.Second)
	}
	resp, err := r.c.do(ctx, request{
		kind: kind, method: http.MethodPut, path: r.objectPath(i),
		header: putHeaders(etag), body: r.specs[i].ics(rev, "", stamp),
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

// multistatus sends body with method (REPORT or PROPFIND) to the calendar
// and returns the members the 207 answer names and its sync-token.
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
