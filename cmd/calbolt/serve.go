package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/calbolt/calbolt/auth"
	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/caldav"
	"github.com/calbolt/calbolt/store"
)

const (
	// defaultAddr is loopback on the port Apple's clients try for plain
	// HTTP (8443 is the one they try for HTTPS).
	defaultAddr = "127.0.0.1:8008"
	// shutdownTimeout bounds how long in-flight requests may run after
	// SIGINT or SIGTERM.
	shutdownTimeout = 20 * time.Second
	// authRealm is the Basic-auth realm; Thunderbird files saved passwords
	// under it.
	authRealm = "calbolt"
)

// serveConfig is what the serve flags set.
type serveConfig struct {
	addr            string
	data            string
	tlsCert         string
	tlsKey          string
	logLevel        *choiceValue
	logFormat       *choiceValue
	maxResourceSize int64
	maxImportSize   int64
	initialUser     string
	fbVisibility    *choiceValue
	fbCache         int
	metricsAddr     string
	// readHeaderTimeout bounds how long a connection may take to send a
	// request's headers; idle and slowloris connections close after it.
	readHeaderTimeout time.Duration
}

func (a *app) serveCommand() *command {
	cfg := &serveConfig{
		logLevel:     newChoice("info", "debug", "info", "warn", "error"),
		logFormat:    newChoice("text", "text", "json"),
		fbVisibility: newChoice("all", "all", "granted"),
	}
	fs := newFlagSet("serve")
	fs.StringVar(&cfg.addr, "addr", defaultAddr, "`host:port` to listen on; port 0 picks a free port")
	fs.StringVar(&cfg.data, "data", defaultDataDir, "data `directory`; the store is the file calbolt.db in it (created 0700)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate `file` (needs --tls-key)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.Var(cfg.logLevel, "log-level", "log `level`: debug, info, warn or error")
	fs.Var(cfg.logFormat, "log-format", "log `format`: text or json")
	fs.Int64Var(&cfg.maxResourceSize, "max-resource-size", caldav.DefaultMaxResourceSize, "largest calendar object a client may store, in `bytes`")
	fs.Int64Var(&cfg.maxImportSize, "max-import-size", caldav.DefaultMaxImportSize, "largest .ics file a client may POST to a calendar to import it, in `bytes` (spooled to a temporary file)")
	fs.StringVar(&cfg.initialUser, "initial-user", "admin", "`name` of the account created when the store has no users")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`host:port`/metrics (off when empty; keep it private)")
	fs.DurationVar(&cfg.readHeaderTimeout, "read-header-timeout", 10*time.Second, "how long a client may take to send a request's headers (`duration`); connections that send nothing or dribble (slowloris) are closed after it")
	fs.IntVar(&cfg.fbCache, "freebusy-cache", busytime.DefaultCacheSize, "busy `periods` the free-busy cache keeps (about 60 bytes each; 0 turns it off)")
	fs.Var(cfg.fbVisibility, "freebusy-visibility", "who sees a user's busy times (never what the events are): `all` signed-in users, or only those granted with 'calbolt share'")
	return &command{
		name:    "serve",
		args:    "[flags]",
		summary: "run the CalDAV server",
		help: `
Serve CalDAV on --addr from the store in --data until SIGINT or SIGTERM, then
let in-flight requests finish (up to 20s) and close the store. If the store
has no users yet, serve creates one (--initial-user) with a random password
and a calendar named "personal", and prints them once with the URL to type
into clients. GET /healthz answers "ok" while the store is usable. Apple
Calendar sends no credentials over plain HTTP: give it HTTPS with --tls-cert
and --tls-key. Logs go to standard error.`,
		examples: []string{
			"calbolt serve",
			"calbolt serve --addr 0.0.0.0:8008 --data /var/lib/calbolt",
			"calbolt serve --addr 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem",
			"CALBOLT_LOG_FORMAT=json calbolt serve",
		},
		flags: fs,
		env: map[string]string{
			"addr":                "CALBOLT_ADDR",
			"data":                "CALBOLT_DATA",
			"tls-cert":            "CALBOLT_TLS_CERT",
			"tls-key":             "CALBOLT_TLS_KEY",
			"log-level":           "CALBOLT_LOG_LEVEL",
			"log-format":          "CALBOLT_LOG_FORMAT",
			"max-resource-size":   "CALBOLT_MAX_RESOURCE_SIZE",
			"max-import-size":     "CALBOLT_MAX_IMPORT_SIZE",
			"initial-user":        "CALBOLT_INITIAL_USER",
			"freebusy-visibility": "CALBOLT_FREEBUSY_VISIBILITY",
			"freebusy-cache":      "CALBOLT_FREEBUSY_CACHE",
			"metrics-addr":        "CALBOLT_METRICS_ADDR",
			"read-header-timeout": "CALBOLT_READ_HEADER_TIMEOUT",
		},
		run: func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("serve", "serve takes no arguments, got %q", args[0])
			}
			return a.serve(ctx, cfg)
		},
	}
}

// serve runs the server until ctx is done.
func (a *app) serve(ctx context.Context, cfg *serveConfig) error {
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return usagef("serve", "--tls-cert and --tls-key go together: give both (HTTPS) or neither (HTTP)")
	}
	if cfg.maxResourceSize <= 0 {
		return usagef("serve", "--max-resource-size must be a positive number of bytes, got %d", cfg.maxResourceSize)
	}
	if cfg.maxImportSize <= 0 {
		return usagef("serve", "--max-import-size must be a positive number of bytes, got %d", cfg.maxImportSize)
	}
	if cfg.fbCache < 0 {
		return usagef("serve", "--freebusy-cache must be 0 (off) or a positive number of periods, got %d", cfg.fbCache)
	}
	if cfg.initialUser == "" {
		return usagef("serve", "--initial-user must not be empty")
	}
	if cfg.readHeaderTimeout <= 0 {
		return usagef("serve", "--read-header-timeout must be a positive duration, got %s", cfg.readHeaderTimeout)
	}
	log := newLogger(a.stderr, cfg.logLevel.value, cfg.logFormat.value)

	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("loading the TLS certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	path, err := dataFile(cfg.data, true)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(cfg.data); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the data directory is open to other users; it holds password hashes (chmod 700 it)",
			"dir", cfg.data, "mode", fi.Mode().Perm().String())
	}
	db, err := openStore(path, false, log, "only one server can use a data file at a time")
	if err != nil {
		return err
	}
	log.Info("store opened", "path", path)
	stopAdmin, err := serveAdmin(cfg.data, db, log)
	if err != nil {
		return errors.Join(err, closeStore(db))
	}
	defer stopAdmin()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return errors.Join(fmt.Errorf("listening: %w", err), closeStore(db))
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	base := baseURL(scheme, ln.Addr())

	acct, err := firstRun(db, cfg.initialUser)
	if err != nil {
		return errors.Join(err, ln.Close(), closeStore(db))
	}
	if acct != nil {
		printFirstRun(a.stderr, acct, base, tlsConfig != nil)
		log.Info("created the first user and calendar", "user", acct.name, "calendar", defaultCalendar)
	}

	m := newMetrics(db)
	if cfg.metricsAddr != "" {
		maddr, err := m.serve(ctx, cfg.metricsAddr, log)
		if err != nil {
			return errors.Join(err, ln.Close(), closeStore(db))
		}
		log.Info("serving metrics", "url", "http://"+maddr.String()+"/metrics")
	}
	srv := &http.Server{
		Handler:           newRouter(db, log, cfg, m),
		ReadHeaderTimeout: cfg.readHeaderTimeout,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			// The certificate is in TLSConfig already; ServeTLS adds h2.
			served <- srv.ServeTLS(ln, "", "")
			return
		}
		served <- srv.Serve(ln)
	}()
	log.Info("listening", "url", base, "addr", ln.Addr().String())

	select {
	case err := <-served:
		return errors.Join(fmt.Errorf("serving: %w", err), closeStore(db))
	case <-ctx.Done():
	}
	log.Info("shutting down: waiting for in-flight requests", "timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("in-flight requests did not finish in time; closing their connections", "err", err)
		srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("server stopped with an error", "err", err)
	}
	stopAdmin() // before the store closes under it
	if err := closeStore(db); err != nil {
		return err
	}
	log.Info("stopped; store closed", "path", path)
	return nil
}

// newRouter routes GET /healthz to the health check and everything else to
// the CalDAV handler, which serves the whole URL space (/, /.well-known/caldav,
// /dav/...) and logs each request itself.
//
// Every request is counted and timed in m.
func newRouter(db *store.DB, log *slog.Logger, cfg *serveConfig, m *metrics) http.Handler {
	authenticate := auth.Middleware(db, &auth.Options{
		Realm:  authRealm,
		Logger: log,
		// Thunderbird probes capabilities with OPTIONS without credentials,
		// and the well-known redirect comes before any login (RFC 6764).
		Anonymous: func(r *http.Request) bool {
			return r.Method == http.MethodOptions || r.URL.Path == "/.well-known/caldav"
		},
	})
	dav := caldav.NewHandler(db, &caldav.Options{
		Logger:          log,
		Authenticate:    authenticate,
		MaxResourceSize: cfg.maxResourceSize,
		MaxImportSize:   cfg.maxImportSize,
		FreeBusy:        freeBusyService(db, log, cfg.fbVisibility.value, cfg.fbCache),
	})
	health := healthHandler(db, log)
	return m.instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			health.ServeHTTP(w, r)
			return
		}
		dav.ServeHTTP(w, r)
	}))
}

// freeBusyService answers free-busy lookups under the visibility policy
// ("all" or "granted").
func freeBusyService(db *store.DB, log *slog.Logger, visibility string, cacheSize int) *busytime.Service {
	v := busytime.VisibilityAuthenticated
	if visibility == "granted" {
		v = busytime.VisibilityGranted
	}
	if cacheSize == 0 {
		cacheSize = -1 // off; busytime reads 0 as its default
	}
	return busytime.New(db, &busytime.Options{Visibility: v, Logger: log, CacheSize: cacheSize})
}

// healthHandler answers "ok" when a read transaction on the store succeeds
// (so not after the store is closed), 503 otherwise.
func healthHandler(db *store.DB, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		if _, err := db.Users(); err != nil {
			log.Warn("health check failed", "err", err)
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
}

// newLogger returns the slog logger every package gets. level and format
// were validated by their flags.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	default:
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// baseURL is the server's root URL for people to type: the bound address,
// with a wildcard host (0.0.0.0, ::) replaced by this machine's name.
func baseURL(scheme string, addr net.Addr) string {
	host, port := addr.String(), ""
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		host = tcp.IP.String()
		if tcp.IP.IsUnspecified() {
			host = "localhost"
			if name, err := os.Hostname(); err == nil && name != "" {
				host = name
			}
		}
	} else if h, p, err := net.SplitHostPort(addr.String()); err == nil {
		host, port = h, p
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}
