package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Report rows of the mixed scenario only.
const (
	kindSeedPut       = "seed put"
	kindMixQuery      = "calendar-query"
	kindMixFreeBusy   = "free-busy"
	kindMixDelete     = "delete if-match"
	kindMixCreate     = "put create"
	kindContentionPut = "contention put"
	kindContentionGet = "contention get"
)

// The operations of the mix, in the order -mix lists them.
const (
	opSync     = "sync"
	opQuery    = "query"
	opMultiget = "multiget"
	opFreeBusy = "freebusy"
	opPut      = "put"
	opDelete   = "delete"
	opCreate   = "create"
)

var mixOps = []string{opSync, opQuery, opMultiget, opFreeBusy, opPut, opDelete, opCreate}

// weight is one operation's share of the mix.
type weight struct {
	op string
	n  int
}

// weights is a mix of operations, each picked with probability n/total.
type weights []weight

func defaultMix() weights {
	return weights{{opSync, 25}, {opQuery, 20}, {opMultiget, 20}, {opFreeBusy, 5}, {opPut, 20}, {opDelete, 5}, {opCreate, 5}}
}

func (w weights) String() string {
	parts := make([]string, len(w))
	for i, x := range w {
		parts[i] = x.op + "=" + strconv.Itoa(x.n)
	}
	return strings.Join(parts, ",")
}

// parseWeights reads a mix such as "sync=25,put=10": operations left out
// get weight 0.
func parseWeights(s string) (weights, error) {
	w := make(weights, len(mixOps))
	for i, op := range mixOps {
		w[i] = weight{op: op}
	}
	total := 0
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		op, num, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 || n > 1000 {
			return nil, fmt.Errorf("-mix: %q is not OP=WEIGHT with a weight from 0 to 1000", part)
		}
		i := indexOf(mixOps, op)
		if i < 0 {
			return nil, fmt.Errorf("-mix: unknown operation %q (want one of %s)", op, strings.Join(mixOps, ", "))
		}
		w[i].n = n
	}
	for _, x := range w {
		total += x.n
	}
	if total == 0 {
		return nil, errors.New("-mix: every weight is 0")
	}
	return w, nil
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// without returns w with op's weight set to 0.
func (w weights) without(op string) weights {
	out := make(weights, len(w))
	for i, x := range w {
		if x.op == op {
			x.n = 0
		}
		out[i] = x
	}
	return out
}

func (w weights) weight(op string) int {
	for _, x := range w {
		if x.op == op {
			return x.n
		}
	}
	return 0
}

// pick returns an operation drawn from the mix.
func (w weights) pick(r *rand.Rand) string {
	total := 0
	for _, x := range w {
		total += x.n
	}
	n := r.IntN(total)
	for _, x := range w {
		if n < x.n {
			return x.op
		}
		n -= x.n
	}
	panic("calbolt-load: weights.pick: unreachable")
}

// runMixed runs the load of issue 5 (see the usage text).
func runMixed(ctx context.Context, cfg *config, c *davClient, log *slog.Logger) (*report, error) {
	run := newCalendarRun(c, "mixed", cfg.seed, cfg.events)
	rep := &report{Calendar: run.path}
	rep.param("events", cfg.events)
	rep.param("clients", cfg.clients)
	rep.param("duration", cfg.duration)
	rep.param("rounds", cfg.rounds)
	rep.param("seed", cfg.seed)

	log.Info("creating calendar", "path", run.path)
	if err := run.create(ctx); err != nil {
		return rep, fmt.Errorf("create the load calendar: %w", err)
	}
	if !cfg.keep {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.timeout)
			defer cancel()
			if err := run.remove(cctx); err != nil {
				log.Warn("could not delete the load calendar", "path", run.path, "err", err)
			}
		}()
	}
	log.Info("seeding", "events", cfg.events, "clients", cfg.putClients)
	run.putAll(ctx, kindSeedPut, 0, cfg.events, cfg.putClients)
	if ctx.Err() != nil || c.rec.aborted() {
		return rep, nil
	}

	mix := cfg.mix
	if mix.weight(opFreeBusy) > 0 {
		if status, ok := probeFreeBusy(ctx, run); !ok {
			mix = mix.without(opFreeBusy)
			rep.note("free-busy-query answered %d at setup: left out of the mix", status)
		}
	}
	rep.param("mix", mix.String())

	log.Info("running the mix", "clients", cfg.clients, "duration", cfg.duration, "rate", cfg.rate)
	before := c.rec.requestCount()
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var wg sync.WaitGroup
	tokens := pace(ctx, cfg.rate, cfg.clients, deadline)
	if cfg.rate > 0 {
		rep.param("rate", fmt.Sprintf("%d req/s offered (latency measured from sending)", cfg.rate))
	}
	for id := range cfg.clients {
		mc := newMixClient(run, id, cfg.clients, cfg.seed)
		mc.tokens = tokens
		wg.Go(func() { mc.loop(ctx, mix, deadline) })
	}
	wg.Wait()
	wall := time.Since(start)
	for _, k := range []string{kindSyncInitial, kindSyncDelta, kindMixQuery, kindMultiget, kindMixFreeBusy, kindPutIfMatch, kindMixDelete, kindMixCreate} {
		c.rec.setWallIfSeen(k, wall)
	}
	rep.Rate = float64(c.rec.requestCount()-before) / wall.Seconds()
	rep.Rate = float64(int(rep.Rate*10)) / 10

	if cfg.rounds > 0 && ctx.Err() == nil && !c.rec.aborted() {
		log.Info("contention phase", "rounds", cfg.rounds, "writers", cfg.clients)
		cont, err := runContention(ctx, run, cfg.rounds, cfg.clients)
		rep.Contention = cont
		if err != nil {
			return rep, err
		}
	}

	reads := map[string]bool{kindSyncInitial: true, kindSyncDelta: true, kindMixQuery: true, kindMultiget: true, kindMixFreeBusy: true}
	writes := map[string]bool{kindPutIfMatch: true, kindMixDelete: true, kindMixCreate: true}
	rep.extraRows = func(rec *recorder) []kindReport {
		return []kindReport{
			mergeRows(rec, "all reads", wall, func(k string) bool { return reads[k] }),
			mergeRows(rec, "all writes", wall, func(k string) bool { return writes[k] }),
		}
	}
	return rep, nil
}

// probeFreeBusy sends one free-busy-query and reports whether the server
// answers it.
func probeFreeBusy(ctx context.Context, run *calendarRun) (int, bool) {
	status, err := run.c.probe(ctx, "REPORT", run.path, withDepth("1"), freeBusyBody(yearStart, yearStart.AddDate(0, 0, 7)))
	return status, err == nil && status == http.StatusOK
}

// mixClient is one client of the mix. It writes only the objects whose
// index is id modulo the number of clients, so none of its writes can lose
// a race and any 412 it gets is an error.
type mixClient struct {
	run   *calendarRun
	rng   *rand.Rand
	alive []int // own objects that exist
	dead  []int // own objects this client deleted
	token string
	// tokens, when not nil, paces the clients: one request per token.
	tokens <-chan struct{}
}

// pace returns a channel that yields rate tokens a second, shared by all
// clients, until the deadline: the offered load of an open system, so the
// latencies show what clients see at that load rather than at saturation.
// A backlog of at most one token per client builds up when all are busy.
// rate 0 means no pacing (nil).
func pace(ctx context.Context, rate, clients int, deadline time.Time) <-chan struct{} {
	if rate <= 0 {
		return nil
	}
	ch := make(chan struct{}, clients)
	go func() {
		defer close(ch)
		interval := time.Second / time.Duration(rate)
		next := time.Now()
		for time.Now().Before(deadline) && ctx.Err() == nil {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			select {
			case ch <- struct{}{}:
			default: // every client busy and the backlog full: the token is lost
			}
		}
	}()
	return ch
}

func newMixClient(run *calendarRun, id, clients int, seed uint64) *mixClient {
	mc := &mixClient{run: run, rng: rand.New(rand.NewPCG(seed, uint64(1000+id)))}
	for i := id; i < len(run.specs); i += clients {
		mc.alive = append(mc.alive, i)
	}
	return mc
}

// loop runs operations until the deadline, the end of ctx, or too many
// failures. A request under way at the deadline finishes.
func (mc *mixClient) loop(ctx context.Context, mix weights, deadline time.Time) {
	rec := mc.run.c.rec
	for time.Now().Before(deadline) && ctx.Err() == nil && !rec.aborted() {
		if mc.tokens != nil {
			if _, ok := <-mc.tokens; !ok {
				return
			}
		}
		switch mix.pick(mc.rng) {
		case opSync:
			mc.sync(ctx)
		case opQuery:
			week := yearStart.AddDate(0, 0, 7*mc.rng.IntN(52))
			_, _, _ = mc.run.multistatus(ctx, kindMixQuery, "REPORT", "1", calendarQueryBody(week, week.AddDate(0, 0, 7)))
		case opMultiget:
			mc.multiget(ctx)
		case opFreeBusy:
			week := yearStart.AddDate(0, 0, 7*mc.rng.IntN(52))
			_, _ = mc.run.c.do(ctx, request{
				kind: kindMixFreeBusy, method: "REPORT", path: mc.run.path, header: withDepth("1"),
				body: freeBusyBody(week, week.AddDate(0, 0, 7)), want: []int{http.StatusOK},
			})
		case opPut:
			mc.update(ctx)
		case opDelete:
			mc.delete(ctx)
		case opCreate:
			mc.create(ctx)
		}
	}
}

func (mc *mixClient) sync(ctx context.Context) {
	kind := kindSyncDelta
	if mc.token == "" {
		kind = kindSyncInitial
	}
	_, token, err := mc.run.multistatus(ctx, kind, "REPORT", "", syncCollectionBody(mc.token))
	if err != nil {
		mc.token = "" // start over
		return
	}
	if token == "" {
		mc.run.c.rec.fail(kind, "no DAV:sync-token in the answer")
	}
	mc.token = token
}

func (mc *mixClient) multiget(ctx context.Context) {
	n := min(10, len(mc.run.specs))
	hrefs := make([]string, n)
	for j := range hrefs {
		hrefs[j] = mc.run.objectPath(mc.rng.IntN(len(mc.run.specs)))
	}
	m, _, err := mc.run.multistatus(ctx, kindMultiget, "REPORT", "1", multigetBody(hrefs))
	if err != nil {
		return
	}
	// Other clients delete and re-create objects, so 404 is a fine answer.
	for _, x := range m {
		if x.status != http.StatusOK && x.status != http.StatusNotFound {
			mc.run.c.rec.failf(kindMultiget, "%s: status %d in the multistatus", x.path, x.status)
		}
	}
	if len(m) != n {
		mc.run.c.rec.failf(kindMultiget, "asked for %d hrefs, got %d responses", n, len(m))
	}
}

// update replaces one of the client's objects with If-Match.
func (mc *mixClient) update(ctx context.Context) {
	if len(mc.alive) == 0 {
		if len(mc.dead) > 0 {
			mc.create(ctx)
		}
		return
	}
	i := mc.alive[mc.rng.IntN(len(mc.alive))]
	_ = mc.run.put(ctx, kindPutIfMatch, i) // a failure is in the recorder
}

// delete removes one of the client's objects with If-Match, keeping at
// least one.
func (mc *mixClient) delete(ctx context.Context) {
	if len(mc.alive) < 2 {
		mc.update(ctx)
		return
	}
	j := mc.rng.IntN(len(mc.alive))
	i := mc.alive[j]
	_, err := mc.run.c.do(ctx, request{
		kind: kindMixDelete, method: http.MethodDelete, path: mc.run.objectPath(i),
		header: map[string]string{"If-Match": mc.run.etags[i]},
		want:   []int{http.StatusNoContent, http.StatusOK},
	})
	if err != nil {
		return
	}
	mc.run.etags[i] = ""
	mc.alive[j] = mc.alive[len(mc.alive)-1]
	mc.alive = mc.alive[:len(mc.alive)-1]
	mc.dead = append(mc.dead, i)
}

// create re-creates an object the client deleted, with If-None-Match: *.
func (mc *mixClient) create(ctx context.Context) {
	if len(mc.dead) == 0 {
		mc.update(ctx)
		return
	}
	i := mc.dead[len(mc.dead)-1]
	if err := mc.run.put(ctx, kindMixCreate, i); err != nil {
		return
	}
	mc.dead = mc.dead[:len(mc.dead)-1]
	mc.alive = append(mc.alive, i)
}
