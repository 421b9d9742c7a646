// Command calbolt-load drives a running calbolt server over loopback with a
// bounded CalDAV workload (RFC 4791, RFC 6578) and prints what it measured:
// request counts, errors, throughput and latency percentiles per kind of
// request.
//
// It only ever talks to a loopback address: the -url host must be
// 127.0.0.0/8, ::1 or localhost, and every connection it dials is checked
// against the same rule.
//
// Scenarios:
//
//   - issue2: the benchmark of issue 2 — PUT throughput at 1 and 8 clients
//     into a fresh calendar, then PROPFIND depth 1, a one-week
//     calendar-query, an initial sync-collection, ten changes and a delta
//     sync, repeated.
//   - mixed: the load of issue 5 — many clients running a weighted mix of
//     sync, calendar-query, multiget, free-busy, PUT with If-Match and DELETE
//     for a bounded time, then a contention phase in which every client
//     writes the same object and exactly one may win each round.
//   - freebusy: the free-busy benchmark of issue 3 — -fb-users users, each
//     with -fb-calendars calendars of -events objects of internal/busygen
//     (one in five recurring with overrides and EXDATEs), imported with one
//     POST per calendar; then the free-busy-query REPORT on a calendar home
//     (Depth: 1) for a week, a month and a year, the scheduling outbox POST
//     (RFC 6638) for all users over a month, free slots for five users, and
//     a concurrent phase of REPORTs and outbox POSTs while one writer
//     changes objects. The REPORT, the outbox and GET /freebusy must give
//     the same busy periods. Every user logs in with the same password; for
//     the default -fb-users 10 they are -user and load1 … load9, which
//     run-local.sh (make load SCENARIO=freebusy) creates.
//
// Run "calbolt-load -help" for the flags. A whole run, from a fresh data
// directory (the server's request log is quiet at warn level, which keeps
// it off the measurement):
//
//	go build -o bin/calbolt ./cmd/calbolt
//	go build -o bin/calbolt-load ./cmd/calbolt-load
//	d=$(mktemp -d)
//	printf 'load-password\n' > "$d/pw"
//	bin/calbolt user add alice --data "$d/data" < "$d/pw"
//	bin/calbolt serve --addr 127.0.0.1:8008 --data "$d/data" --log-level warn &
//	bin/calbolt-load -url http://127.0.0.1:8008 -user alice -password-file "$d/pw" \
//	    -scenario issue2 -server-pid $!
//	kill %1
//
// The freebusy scenario logs in as more users (-fb-users; by default
// load1 … load9 besides -user), all with the same password: add them like
// alice before starting the server, or let cmd/calbolt-load/run-local.sh
// (make load SCENARIO=freebusy) do it all.
//
// The load command waits up to -wait for the server to accept connections,
// so it can start right after the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK     = 0 // every request got the answer it should
	exitFailed = 1 // the run could not start, or some request failed
	exitUsage  = 2 // the command line was wrong
)

// Bounds on what one run may ask of a server.
const (
	maxEvents      = 200000
	maxRepeat      = 1000
	maxClients     = 1000
	maxDuration    = 30 * time.Minute
	maxConcurrency = 256
	maxRounds      = 10000
)

// passwordEnv is the environment variable read when -password-file is not given.
const passwordEnv = "CALBOLT_LOAD_PASSWORD"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// config is one run's parsed command line.
type config struct {
	url        string
	user       string
	password   string
	scenario   string
	events     int
	putSplit   int // events PUT by a single client before the concurrent part
	putClients int
	repeat     int
	changes    int
	clients    int
	duration   time.Duration
	rate       int      // mixed: offered requests per second; 0 = as fast as the clients go
	fbUsers    []string // freebusy: the users, -user first
	fbCals     int      // freebusy: calendars per user
	writeRate  int      // freebusy: writer PUTs per second in the concurrent phase
	fbMonths   int      // freebusy: the concurrent phase asks for months drawn from this many, from June 2026
	mix        weights
	rounds     int
	timeout    time.Duration
	wait       time.Duration
	seed       uint64
	keep       bool
	serverPID  int
	maxErrors  int
	jsonOut    bool
	verbose    bool
}

// optInt is an int flag whose default depends on other flags; it
// remembers whether it was set.
type optInt struct {
	n   int
	set bool
}

func (o *optInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.n)
}

func (o *optInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not an integer")
	}
	o.n, o.set = n, true
	return nil
}

// optDuration is a duration flag whose default depends on the scenario.
type optDuration struct {
	d   time.Duration
	set bool
}

func (o *optDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("not a duration such as 30s or 5m")
	}
	o.d, o.set = d, true
	return nil
}

// Bounds of the freebusy scenario.
const (
	maxFBUsers     = 100 // the server's cap on the recipients of one outbox POST
	maxFBCalendars = 20
	maxFBEvents    = 2000000 // users × calendars × events
	maxWriteRate   = 1000
)

const usageHead = `calbolt-load drives a running calbolt server over loopback and reports what it measured.

Usage:
  calbolt-load -url http://127.0.0.1:8008 -user NAME -password-file FILE -scenario NAME [flags]

The password comes from -password-file (first line) or from the environment
variable ` + passwordEnv + `; never from a flag. The -url host must be a loopback
address (127.0.0.0/8, ::1, localhost): this tool refuses to load any other host.

Scenarios:
  issue2   The benchmark of issue 2. MKCALENDAR bench-<timestamp>, then PUT -events
           events (20% weekly recurring with an EXDATE, spread over one year, about
           600 bytes each with SUMMARY, DESCRIPTION, LOCATION): the first -put-split
           by one client, the rest by -put-clients clients, each rate reported.
           Then -repeat times: PROPFIND depth 1 (getetag) of the calendar, a
           calendar-query for one week, an initial sync-collection, -changes PUTs
           with If-Match, a sync-collection from the previous token (which must
           return exactly the changed hrefs) and a calendar-multiget of them.
           Every answer is checked: member counts, the week's matches (computed
           locally from the generated events), the delta's hrefs.
  mixed    The load of issue 5. MKCALENDAR mixed-<timestamp>, seed -events events
           (default 1000), then -clients clients for -duration run the -mix of
           sync-collection (delta from each client's own token), calendar-query
           (a random week), calendar-multiget (10 hrefs), free-busy-query (left
           out with a note if the server does not answer it), PUT with If-Match,
           DELETE with If-Match and re-create with If-None-Match. Each client
           writes only its own share of the objects, so any 412 there is an
           error. Then -rounds contention rounds: all clients PUT the same
           object with the same If-Match; exactly one must get 2xx and the
           others 412, and the stored object must be the winner's (otherwise
           a lost update is counted).
  freebusy The free-busy benchmark of issue 3. -fb-users users (default 10: -user
           and load1 … load9, all logging in with the password of -user; make load
           SCENARIO=freebusy creates them), each with -fb-calendars calendars
           fbload-0, fbload-1, … of -events objects (default 3 × 10000) from
           internal/busygen, the generator of the Go free-busy benchmarks: one in
           five recurring with an EXDATE, a moved and a cancelled instance, some
           tentative, transparent or in Europe/Berlin time. Each calendar is
           filled by one streamed import POST (?create=1) whose JSON report must
           count every object; the populate rate (events/s) is a row. Then, as
           -user, -repeat times each (the first, cold request in a row of its
           own): the free-busy-query REPORT on the calendar home with Depth: 1
           (all calendars merged) for a week, a month and a year of 2026; the
           RFC 6638 outbox POST of a VFREEBUSY REQUEST from -user (ORGANIZER the
           first calendar-user-address-set href of its principal) to every user
           for June, which must answer request-status 2.0 and FREEBUSY lines for
           each; free slots of an hour in 09:00-17:00 Europe/Berlin common to the
           first five users in June (GET /freebusy?users=…&duration=PT1H, JSON
           with a "slots" array). The REPORT must give the same FREEBUSY lines
           as GET /freebusy/<user>, and the outbox the same as GET
           /freebusy?users=… for each recipient. Last, -clients clients (default
           8) for -duration (default 30s) send month REPORTs on random users'
           homes and outbox POSTs from random users, half and half, for a
           random one of -fb-months months, while one writer PUTs changes
           (If-Match) into -user's first calendar at -write-rate per second.

Every scenario deletes its calendars at the end unless -keep is given, and
exits 1 if any request had an unexpected status (5xx, or a protocol mismatch).

Flags:
`

// parseFlags turns args into a config. getenv supplies the password
// fallback.
func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (*config, error) {
	cfg := &config{mix: defaultMix()}
	fs := flag.NewFlagSet("calbolt-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	var (
		passwordFile, mix, fbUsers string
		events, putSplit, clients  optInt
		duration                   optDuration
	)
	fs.StringVar(&cfg.url, "url", "http://127.0.0.1:8008", "server base `URL`; its host must be a loopback address")
	fs.StringVar(&cfg.user, "user", "", "user `NAME` to log in as (required); the load runs in a new calendar of this user")
	fs.StringVar(&passwordFile, "password-file", "", "`FILE` whose first line is the password (default: $"+passwordEnv+")")
	fs.StringVar(&cfg.scenario, "scenario", "", "scenario to run: issue2, mixed or freebusy (required)")
	fs.Var(&events, "events", "`N` events to create in the calendar (default 10000 for issue2, 1000 for mixed); freebusy: in each calendar (default 10000)")
	fs.Var(&putSplit, "put-split", "issue2: the first `N` events are PUT by one client, the rest by -put-clients (default 20% of -events)")
	fs.IntVar(&cfg.putClients, "put-clients", 8, "issue2: concurrent clients for the PUTs after -put-split; freebusy: imports at a time")
	fs.IntVar(&cfg.repeat, "repeat", 20, "issue2: how many times to run the read and sync sequence; freebusy: how many times to send each measured request")
	fs.IntVar(&cfg.changes, "changes", 10, "issue2: objects changed between the initial and the delta sync")
	fs.Var(&clients, "clients", "mixed, freebusy: `N` concurrent clients (default 50 for mixed, 8 for freebusy)")
	fs.Var(&duration, "duration", "mixed, freebusy: `D`, how long the concurrent phase runs, at most 30m (default 5m for mixed, 30s for freebusy)")
	fs.StringVar(&fbUsers, "fb-users", "10", "freebusy: the users, all with the password of -user: a number `N` (-user and load1 … load<N-1>) or a comma-separated list of names (-user is put first if the list lacks it); at most 100")
	fs.IntVar(&cfg.fbCals, "fb-calendars", 3, "freebusy: calendars per user")
	fs.IntVar(&cfg.writeRate, "write-rate", 5, "freebusy: PUTs per second of the writer during the concurrent phase (0: no writer)")
	fs.IntVar(&cfg.fbMonths, "fb-months", 12, "freebusy: the concurrent phase asks for a random one of `N` months of 2026 from June (June to December, then January…); 1 asks for June only, the month the sequence before warmed")
	fs.IntVar(&cfg.rate, "rate", 0, "mixed: offer this many requests per `second` in all, paced (0: every client as fast as it can, i.e. saturation)")
	fs.StringVar(&mix, "mix", cfg.mix.String(), "mixed: relative weights of the request kinds")
	fs.IntVar(&cfg.rounds, "rounds", 20, "mixed: contention rounds (0 to skip the contention phase)")
	fs.DurationVar(&cfg.timeout, "timeout", time.Minute, "timeout of one request")
	fs.DurationVar(&cfg.wait, "wait", 10*time.Second, "how long to wait for the server to accept connections before giving up")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated events and of every random choice")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the calendars the run created instead of deleting them")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "`PID` of the server process, if it runs on this machine: its resident memory is sampled and reported")
	fs.IntVar(&cfg.maxErrors, "max-errors", 100, "stop the run after this many failed requests")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the report as JSON instead of a table")
	fs.BoolVar(&cfg.verbose, "v", false, "log every failed request, not only the first ones")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (every option is a flag)", fs.Arg(0))
	}

	if err := checkLoopbackURL(cfg.url); err != nil {
		return nil, err
	}
	if cfg.user == "" {
		return nil, errors.New("-user is required")
	}
	cfg.clients, cfg.duration = 50, 5*time.Minute
	switch cfg.scenario {
	case "issue2":
		cfg.events = 10000
	case "mixed":
		cfg.events = 1000
	case "freebusy":
		cfg.events = 10000
		cfg.clients, cfg.duration = 8, 30*time.Second
	case "":
		return nil, errors.New("-scenario is required: issue2, mixed or freebusy")
	default:
		return nil, fmt.Errorf("unknown scenario %q: want issue2, mixed or freebusy", cfg.scenario)
	}
	if clients.set {
		cfg.clients = clients.n
	}
	if duration.set {
		cfg.duration = duration.d
	}
	w, err := parseWeights(mix)
	if err != nil {
		return nil, err
	}
	cfg.mix = w
	if events.set {
		cfg.events = events.n
	}

	checks := []struct {
		name      string
		v, lo, hi int
	}{
		{"-events", cfg.events, 1, maxEvents},
		{"-put-clients", cfg.putClients, 1, maxConcurrency},
		{"-repeat", cfg.repeat, 1, maxRepeat},
		{"-changes", cfg.changes, 1, 1000},
		{"-clients", cfg.clients, 1, maxClients},
		{"-rounds", cfg.rounds, 0, maxRounds},
		{"-rate", cfg.rate, 0, 100000},
		{"-max-errors", cfg.maxErrors, 1, 1 << 30},
		{"-fb-calendars", cfg.fbCals, 1, maxFBCalendars},
		{"-write-rate", cfg.writeRate, 0, maxWriteRate},
		{"-fb-months", cfg.fbMonths, 1, 12},
	}
	for _, c := range checks {
		if c.v < c.lo || c.v > c.hi {
			return nil, fmt.Errorf("%s %d out of range [%d, %d]", c.name, c.v, c.lo, c.hi)
		}
	}
	if cfg.changes > cfg.events {
		return nil, fmt.Errorf("-changes %d exceeds -events %d", cfg.changes, cfg.events)
	}
	if cfg.scenario == "mixed" && cfg.events < cfg.clients {
		return nil, fmt.Errorf("mixed: -events %d must be at least -clients %d (each client writes its own share)", cfg.events, cfg.clients)
	}
	if cfg.scenario == "freebusy" {
		users, err := parseFBUsers(fbUsers, cfg.user)
		if err != nil {
			return nil, err
		}
		cfg.fbUsers = users
		if n := len(users) * cfg.fbCals * cfg.events; n > maxFBEvents {
			return nil, fmt.Errorf("freebusy: %d users × %d calendars × %d events is %d events, more than %d", len(users), cfg.fbCals, cfg.events, n, maxFBEvents)
		}
	}
	cfg.putSplit = cfg.events / 5
	if putSplit.set {
		cfg.putSplit = putSplit.n
	}
	if cfg.putSplit < 0 || cfg.putSplit > cfg.events {
		return nil, fmt.Errorf("-put-split %d out of range [0, -events]", cfg.putSplit)
	}
	if cfg.duration <= 0 || cfg.duration > maxDuration {
		return nil, fmt.Errorf("-duration %s out of range (0, %s]", cfg.duration, maxDuration)
	}
	if cfg.timeout <= 0 {
		return nil, fmt.Errorf("-timeout %s must be positive", cfg.timeout)
	}
	if cfg.wait < 0 || cfg.wait > 10*time.Minute {
		return nil, fmt.Errorf("-wait %s out of range [0, 10m]", cfg.wait)
	}

	switch {
	case passwordFile != "":
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			return nil, fmt.Errorf("read -password-file: %w", err)
		}
		cfg.password, _, _ = strings.Cut(string(b), "\n")
		cfg.password = strings.TrimSuffix(cfg.password, "\r")
	case getenv(passwordEnv) != "":
		cfg.password = getenv(passwordEnv)
	default:
		return nil, fmt.Errorf("no password: give -password-file or set %s", passwordEnv)
	}
	return cfg, nil
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parseFlags(args, stderr, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "calbolt-load: %v\n", err)
		return exitUsage
	}
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	rep, err := runScenario(ctx, cfg, log)
	if rep != nil {
		rep.Command = commandLine(args)
		if werr := rep.write(stdout, cfg.jsonOut); werr != nil {
			fmt.Fprintf(stderr, "calbolt-load: write report: %v\n", werr)
			return exitFailed
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "calbolt-load: %v\n", err)
		return exitFailed
	}
	if rep.Errors > 0 {
		fmt.Fprintf(stderr, "calbolt-load: %d requests failed\n", rep.Errors)
		return exitFailed
	}
	return exitOK
}

// commandLine quotes args back into the line that reproduces the run.
func commandLine(args []string) string {
	parts := []string{"calbolt-load"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// runScenario runs cfg.scenario and returns its report. A report comes back
// whenever the scenario got far enough to have measured something, even
// with an error.
func runScenario(ctx context.Context, cfg *config, log *slog.Logger) (*report, error) {
	concurrency := cfg.putClients
	switch cfg.scenario {
	case "mixed":
		concurrency = cfg.clients
	case "freebusy":
		concurrency = cfg.clients + 2 // and the writer
	}
	rec := newRecorder(cfg.maxErrors, log, cfg.verbose)
	c, err := newDAVClient(cfg.url, cfg.user, cfg.password, concurrency, cfg.timeout, rec)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.waitReady(ctx, cfg.wait); err != nil {
		return nil, err
	}

	var mem *memSampler
	if cfg.serverPID > 0 {
		mem = startMemSampler(cfg.serverPID, time.Second)
	}
	started := time.Now()
	var rep *report
	switch cfg.scenario {
	case "issue2":
		rep, err = runIssue2(ctx, cfg, c, log)
	case "mixed":
		rep, err = runMixed(ctx, cfg, c, log)
	case "freebusy":
		rep, err = runFreeBusy(ctx, cfg, c, log)
	}
	if rep == nil {
		return nil, err
	}
	rep.Scenario = cfg.scenario
	rep.URL = cfg.url
	rep.User = cfg.user
	rep.Started = started.UTC().Truncate(time.Second)
	rep.Elapsed = seconds(time.Since(started).Seconds())
	rep.CPUs = runtime.NumCPU()
	rep.fill(rec)
	if mem != nil {
		rep.ServerMemory = mem.stop()
	}
	if err == nil && rec.aborted() {
		err = fmt.Errorf("stopped after %d failed requests (-max-errors)", rec.errorCount())
	}
	if err == nil && ctx.Err() != nil {
		err = errors.New("interrupted; the report covers what ran")
	}
	return rep, err
}
