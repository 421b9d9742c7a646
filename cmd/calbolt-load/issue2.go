package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"
)

// Report rows of the issue2 scenario only.
const (
	kindPropfind  = "propfind depth 1"
	kindQueryWeek = "calendar-query week"
)

// queryWeek is the week the issue2 calendar-query asks for: the middle of
// the generated year.
func queryWeek() (start, end time.Time) {
	start = yearStart.AddDate(0, 0, 7*26)
	return start, start.AddDate(0, 0, 7)
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
