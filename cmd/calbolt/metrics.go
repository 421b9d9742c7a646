package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/calbolt/calbolt/store"
)

// davMethods are the request methods counted by name; any other is
// counted as "unknown", so clients cannot grow the label set.
var davMethods = []string{"PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL", "MOVE", "COPY"}

// metrics are the server's Prometheus metrics, in a registry of their own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newMetrics(db *store.DB) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "calbolt_http_requests_total",
			Help: "HTTP requests answered, by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "calbolt_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "calbolt_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
	}
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "calbolt_store_size_bytes",
		Help: "Size of the data file (it grows as needed and never shrinks).",
	}, func() float64 {
		fi, err := os.Stat(db.Path())
		if err != nil {
			return 0
		}
		return float64(fi.Size())
	})
	users := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "calbolt_users",
		Help: "User accounts in the store.",
	}, func() float64 {
		us, err := db.Users()
		if err != nil {
			return 0
		}
		return float64(len(us))
	})
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, size, users,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// instrument counts and times every request next answers.
func (m *metrics) instrument(next http.Handler) http.Handler {
	opt := promhttp.WithExtraMethods(davMethods...)
	return promhttp.InstrumentHandlerInFlight(m.inFlight,
		promhttp.InstrumentHandlerDuration(m.duration,
			promhttp.InstrumentHandlerCounter(m.requests, next, opt), opt))
}

// serveMetrics serves GET /metrics on addr until ctx ends. The address is
// the operator's choice (keep it off the internet: request counts and
// process details are for the operator's eyes).
func (m *metrics) serve(ctx context.Context, addr string, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second, // a GET has no body
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics server stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr(), nil
}
