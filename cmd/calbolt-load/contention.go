package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// runContention creates one object and then, rounds times, has writers
// clients PUT it at once, all with the If-Match of the current version.
// RFC 7232 §3.1 allows exactly one of them to succeed; the rest must get
// 412. A round with more than one success, or whose stored object is not
// the one the winner wrote, counts as a lost update.
func runContention(ctx context.Context, run *calendarRun, rounds, writers int) (*contention, error) {
	c := run.c
	spec := newEventSpec(0, run.name, len(run.specs))
	spec.name = "contention.ics"
	path := run.path + spec.name
	resp, err := c.do(ctx, request{
		kind: kindContentionPut, method: http.MethodPut, path: path,
		header: putHeaders(""), body: spec.ics(0, "created", run.stamp),
		want: []int{http.StatusCreated},
	})
	if err != nil {
		return nil, fmt.Errorf("create the contention object: %w", err)
	}
	etag := resp.header.Get("ETag")
	if etag == "" {
		c.rec.failf(kindContentionPut, "PUT %s: 201 without an ETag header", path)
		return nil, fmt.Errorf("the server gave the contention object no ETag")
	}

	res := &contention{Writers: writers}
	tag := func(round, w int) string { return fmt.Sprintf("round %d writer %d", round, w) }
	for round := 1; round <= rounds && ctx.Err() == nil && !c.rec.aborted(); round++ {
		statuses := make([]int, writers)
		etags := make([]string, writers)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for w := range writers {
			body := spec.ics(round, tag(round, w), run.stamp)
			wg.Go(func() {
				<-gate
				resp, err := c.do(ctx, request{
					kind: kindContentionPut, method: http.MethodPut, path: path,
					header: putHeaders(etag), body: body,
					want: []int{http.StatusNoContent, http.StatusOK, http.StatusPreconditionFailed},
				})
				if err == nil {
					statuses[w] = resp.status
					etags[w] = resp.header.Get("ETag")
				}
			})
		}
		close(gate)
		wg.Wait()
		res.Rounds++

		var winners []int
		for w, s := range statuses {
			switch {
			case s >= 200 && s < 300:
				winners = append(winners, w)
			case s == http.StatusPreconditionFailed:
				res.Conflicts++
			}
		}
		res.Wins += len(winners)
		switch {
		case len(winners) == 0:
			res.NoWinner++
			c.rec.failf(kindContentionPut, "round %d: no writer of %d succeeded", round, writers)
		case len(winners) > 1:
			res.LostUpdates += len(winners) - 1
			c.rec.failf(kindContentionPut, "round %d: %d writers succeeded with the same If-Match, want 1: lost updates", round, len(winners))
		}

		got, err := c.do(ctx, request{kind: kindContentionGet, method: http.MethodGet, path: path, want: []int{http.StatusOK}})
		if err != nil {
			return res, fmt.Errorf("read the contention object: %w", err)
		}
		etag = got.header.Get("ETag")
		if etag == "" {
			c.rec.failf(kindContentionGet, "GET %s: no ETag header", path)
			return res, fmt.Errorf("the server gave the contention object no ETag")
		}
		if len(winners) == 1 {
			w := winners[0]
			if !strings.Contains(unfold(string(got.body)), "["+tag(round, w)+"]") {
				res.LostUpdates++
				c.rec.failf(kindContentionGet, "round %d: the stored object is not the one writer %d was told it wrote: lost update", round, w)
			} else if etags[w] != "" && etags[w] != etag {
				c.rec.failf(kindContentionGet, "round %d: GET answered ETag %s, the winning PUT %s", round, etag, etags[w])
			}
		}
	}
	return res, nil
}
