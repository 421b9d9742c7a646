package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxErrorSamples is how many failure messages a report keeps.
const maxErrorSamples = 10

// recorder collects the outcome of every request, by kind. It is safe for
// concurrent use.
type recorder struct {
	log       *slog.Logger
	verbose   bool
	maxErrors int

	mu      sync.Mutex
	kinds   map[string]*kindStats
	order   []string // kinds in the order they first appeared
	errors  int
	samples []string
}

// kindStats is what the recorder knows of one kind of request.
type kindStats struct {
	lat    []time.Duration
	bytes  int64
	errors int
	status map[int]int
	wall   time.Duration // time the kind's phase took, when it had one of its own
}

func newRecorder(maxErrors int, log *slog.Logger, verbose bool) *recorder {
	return &recorder{log: log, verbose: verbose, maxErrors: maxErrors, kinds: map[string]*kindStats{}}
}

func (r *recorder) kind(name string) *kindStats {
	k := r.kinds[name]
	if k == nil {
		k = &kindStats{status: map[int]int{}}
		r.kinds[name] = k
		r.order = append(r.order, name)
	}
	return k
}

// observe records one answered request.
func (r *recorder) observe(kind string, d time.Duration, size, status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kind(kind)
	k.lat = append(k.lat, d)
	k.bytes += int64(size)
	k.status[status]++
}

// fail records a failure of kind: a request without an answer, an answer
// with the wrong status, or one that contradicts what the scenario knows
// the server holds.
func (r *recorder) fail(kind, msg string) {
	r.mu.Lock()
	r.kind(kind).errors++
	r.errors++
	n := r.errors
	if len(r.samples) < maxErrorSamples {
		r.samples = append(r.samples, kind+": "+msg)
	}
	r.mu.Unlock()
	if n <= 10 || r.verbose {
		r.log.Warn("request failed", "kind", kind, "err", msg)
	}
}

// failf is fail with a format.
func (r *recorder) failf(kind, format string, args ...any) {
	r.fail(kind, fmt.Sprintf(format, args...))
}

// setWall records how long the phase that ran only kind took, which turns
// its count into a rate.
func (r *recorder) setWall(kind string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kind(kind).wall = d
}

// requestCount returns how many requests got an answer so far.
func (r *recorder) requestCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.kinds {
		n += len(k.lat)
	}
	return n
}

// setWallIfSeen is setWall for a kind that may not have run at all.
func (r *recorder) setWallIfSeen(kind string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := r.kinds[kind]; k != nil {
		k.wall = d
	}
}

func (r *recorder) errorCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errors
}

// aborted reports whether more requests failed than the run allows.
func (r *recorder) aborted() bool { return r.errorCount() >= r.maxErrors }

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value at or below which p percent of
// the values fall. It returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ms is a duration in milliseconds, for JSON.
type ms float64

func millis(d time.Duration) ms { return ms(math.Round(float64(d)/1e3) / 1e3) }

// seconds is a duration in seconds, for JSON.
type seconds float64

func (s seconds) String() string {
	return time.Duration(float64(s) * 1e9).Round(time.Millisecond).String()
}

// kindReport is one row of a report.
type kindReport struct {
	Kind     string      `json:"kind"`
	Count    int         `json:"count"`
	Errors   int         `json:"errors"`
	Status   map[int]int `json:"status"`
	Rate     float64     `json:"req_per_sec,omitempty"`
	P50      ms          `json:"p50_ms"`
	P95      ms          `json:"p95_ms"`
	P99      ms          `json:"p99_ms"`
	Max      ms          `json:"max_ms"`
	AvgBytes int64       `json:"avg_bytes"`
}

// param is one setting of the run, printed in the report's head.
type param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// memReport is the server's resident memory while the run went on.
type memReport struct {
	PID      int   `json:"pid"`
	Samples  int   `json:"samples"`
	PeakRSS  int64 `json:"peak_rss_bytes"`
	FinalRSS int64 `json:"final_rss_bytes"`
	HWM      int64 `json:"vm_hwm_bytes"` // the kernel's own peak, over the process's life
}

// report is what a run prints.
type report struct {
	Command      string       `json:"command"`
	Scenario     string       `json:"scenario"`
	URL          string       `json:"url"`
	User         string       `json:"user"`
	Calendar     string       `json:"calendar"`
	CPUs         int          `json:"cpus"` // of the machine the load ran on
	Started      time.Time    `json:"started"`
	Elapsed      seconds      `json:"elapsed_sec"`
	Params       []param      `json:"params"`
	Kinds        []kindReport `json:"kinds"`
	Requests     int          `json:"requests"`
	Errors       int          `json:"errors"`
	Status5xx    int          `json:"status_5xx"`
	Rate         float64      `json:"req_per_sec,omitempty"` // mixed: all requests over the mix phase
	Contention   *contention  `json:"contention,omitempty"`
	ServerMemory *memReport   `json:"server_memory,omitempty"`
	Notes        []string     `json:"notes,omitempty"`
	ErrorSamples []string     `json:"error_samples,omitempty"`

	// extraRows, if set, adds rows computed from the recorder after the
	// per-kind ones.
	extraRows func(*recorder) []kindReport
}

// contention is the outcome of the mixed scenario's contention phase.
type contention struct {
	Rounds      int `json:"rounds"`
	Writers     int `json:"writers"`
	Wins        int `json:"wins"`
	Conflicts   int `json:"conflicts_412"`
	LostUpdates int `json:"lost_updates"`
	NoWinner    int `json:"rounds_without_winner"`
}

func (rep *report) param(name string, value any) {
	rep.Params = append(rep.Params, param{name, fmt.Sprint(value)})
}

func (rep *report) note(format string, args ...any) {
	rep.Notes = append(rep.Notes, fmt.Sprintf(format, args...))
}

// fill copies the recorder's figures into rep: one row per kind, in the
// order the kinds first ran, then the extra rows.
func (rep *report) fill(rec *recorder) {
	if rep.extraRows != nil {
		defer func() { rep.Kinds = append(rep.Kinds, rep.extraRows(rec)...) }()
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, name := range rec.order {
		rep.Kinds = append(rep.Kinds, kindRow(name, rec.kinds[name]))
	}
	rep.Requests, rep.Errors, rep.Status5xx = 0, rec.errors, 0
	for _, k := range rec.kinds {
		rep.Requests += len(k.lat)
		for code, n := range k.status {
			if code >= 500 {
				rep.Status5xx += n
			}
		}
	}
	rep.ErrorSamples = slices.Clone(rec.samples)
}

// kindRow summarizes one kind's samples.
func kindRow(name string, k *kindStats) kindReport {
	lat := slices.Clone(k.lat)
	slices.Sort(lat)
	row := kindReport{
		Kind:   name,
		Count:  len(lat),
		Errors: k.errors,
		Status: k.status,
		P50:    millis(percentile(lat, 50)),
		P95:    millis(percentile(lat, 95)),
		P99:    millis(percentile(lat, 99)),
		Max:    millis(percentile(lat, 100)),
	}
	if len(lat) > 0 {
		row.AvgBytes = k.bytes / int64(len(lat))
	}
	if k.wall > 0 {
		row.Rate = math.Round(float64(len(lat))/k.wall.Seconds()*10) / 10
	}
	return row
}

// mergeRows returns a row named name over the samples of every kind for
// which in says yes; the mixed scenario uses it for "all reads" and "all
// writes".
func mergeRows(rec *recorder, name string, wall time.Duration, in func(kind string) bool) kindReport {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	all := &kindStats{status: map[int]int{}, wall: wall}
	for _, kind := range rec.order {
		if !in(kind) {
			continue
		}
		k := rec.kinds[kind]
		all.lat = append(all.lat, k.lat...)
		all.bytes += k.bytes
		all.errors += k.errors
		for code, n := range k.status {
			all.status[code] += n
		}
	}
	return kindRow(name, all)
}

// write prints rep as a table, or as JSON.
func (rep *report) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "calbolt-load %s: %s as %s, calendar %s\n", rep.Scenario, rep.URL, rep.User, rep.Calendar)
	fmt.Fprintf(&b, "started %s, took %s, %d CPUs\n", rep.Started.Format(time.RFC3339), rep.Elapsed, rep.CPUs)
	fmt.Fprintf(&b, "  %-16s %s\n", "command", rep.Command)
	for _, p := range rep.Params {
		fmt.Fprintf(&b, "  %-16s %s\n", p.Name, p.Value)
	}
	b.WriteString("\n")
	kw := len("kind")
	for _, k := range rep.Kinds {
		kw = max(kw, len(k.Kind))
	}
	fmt.Fprintf(&b, "%-*s %8s %6s %8s %8s %8s %8s %8s %9s\n", kw, "kind", "count", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "avg bytes")
	for _, k := range rep.Kinds {
		rate := "-"
		if k.Rate > 0 {
			rate = fmt.Sprintf("%.1f", k.Rate)
		}
		fmt.Fprintf(&b, "%-*s %8d %6d %8s %8.2f %8.2f %8.2f %8.2f %9d\n",
			kw, k.Kind, k.Count, k.Errors, rate, k.P50, k.P95, k.P99, k.Max, k.AvgBytes)
	}
	fmt.Fprintf(&b, "\nrequests %d, errors %d, 5xx %d", rep.Requests, rep.Errors, rep.Status5xx)
	if rep.Rate > 0 {
		fmt.Fprintf(&b, ", %.1f req/s over the mix", rep.Rate)
	}
	b.WriteString("\n")
	if c := rep.Contention; c != nil {
		fmt.Fprintf(&b, "contention: %d rounds of %d writers: %d wins, %d answered 412, %d lost updates, %d rounds without a winner\n",
			c.Rounds, c.Writers, c.Wins, c.Conflicts, c.LostUpdates, c.NoWinner)
	}
	if m := rep.ServerMemory; m != nil {
		fmt.Fprintf(&b, "server memory (pid %d, %d samples): peak RSS %s, final RSS %s, VmHWM %s\n",
			m.PID, m.Samples, mib(m.PeakRSS), mib(m.FinalRSS), mib(m.HWM))
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if len(rep.ErrorSamples) > 0 {
		fmt.Fprintf(&b, "first failures:\n")
		for _, s := range rep.ErrorSamples {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
