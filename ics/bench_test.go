package ics

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calbolt/calbolt/store"
)

// writeBenchFile writes a Google-like export of n events to w: one in five
// recurring (weekly, daily or monthly, some with an override placed at the
// end of the file, as Google does), all in Europe/Berlin.
func writeBenchFile(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:bench\r\nX-WR-TIMEZONE:Europe/Berlin\r\n")
	bw.WriteString(strings.ReplaceAll(`BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
`, "\n", "\r\n"))
	base := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	rules := []string{"FREQ=WEEKLY;BYDAY=MO,WE;COUNT=52", "FREQ=DAILY;UNTIL=20261231T000000Z", "FREQ=MONTHLY;BYMONTHDAY=15", "FREQ=WEEKLY;INTERVAL=2"}
	var overrides []string
	for i := range n {
		start := base.Add(time.Duration(i%20000) * 97 * time.Minute)
		uid := fmt.Sprintf("bench%07d-k3j4h5g6f7d8s9a0@google.com", i)
		fmt.Fprintf(bw, "BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:%s\r\nDTEND;TZID=Europe/Berlin:%s\r\n",
			start.Format("20060102T150405"), start.Add(time.Hour).Format("20060102T150405"))
		if i%5 == 0 {
			fmt.Fprintf(bw, "RRULE:%s\r\n", rules[(i/5)%len(rules)])
			if (i/5)%4 == 0 {
				o := start.AddDate(0, 0, 7)
				overrides = append(overrides, fmt.Sprintf("BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:%s\r\nDTEND;TZID=Europe/Berlin:%s\r\nDTSTAMP:20260101T120000Z\r\nUID:%s\r\nRECURRENCE-ID;TZID=Europe/Berlin:%s\r\nSUMMARY:Moved occurrence %d\r\nEND:VEVENT\r\n",
					o.Add(2*time.Hour).Format("20060102T150405"), o.Add(3*time.Hour).Format("20060102T150405"), uid, o.Format("20060102T150405"), i))
			}
		}
		fmt.Fprintf(bw, "DTSTAMP:20260101T120000Z\r\nUID:%s\r\nCREATED:20251201T101010Z\r\nDESCRIPTION:Event number %d with a description long enough to be folded by a\r\n  real exporter\\, as Google does at 75 octets.\r\nLAST-MODIFIED:20251201T101010Z\r\nLOCATION:Room %d\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nSUMMARY:Event %d\r\nTRANSP:OPAQUE\r\n", uid, i, i%50, i)
		if i%3 == 0 {
			bw.WriteString("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Ana;X-NUM-GUESTS=0:mailto:ana@example.com\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:This is an event reminder\r\nTRIGGER:-P0DT0H10M0S\r\nEND:VALARM\r\n")
		}
		bw.WriteString("END:VEVENT\r\n")
	}
	for _, o := range overrides {
		bw.WriteString(o)
	}
	bw.WriteString("END:VCALENDAR\r\n")
	return bw.Flush()
}

// peakRSS returns the process's peak resident set size in bytes (Linux
// VmHWM), or 0; resetPeakRSS starts a new peak.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// peaks are the high-water marks of an import, sampled every 5ms.
type peaks struct {
	heapObjects uint64 // live and not yet swept objects of the Go heap
	heapInuse   uint64 // runtime.MemStats.HeapInuse: spans in use by the heap
	sys         uint64 // runtime.MemStats.Sys: all the memory the Go runtime mapped
	rssAnon     int64  // resident anonymous memory (the Go heap, stacks, bbolt's own buffers)
	rssFile     int64  // resident file-backed memory: mostly bbolt's mmap of the data file
}

// sampleMemory records peaks every 5ms until stop is called. Unlike the
// RSS, the heap figures leave out bbolt's memory map of the data file.
func sampleMemory(p *peaks) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/heap/unused:bytes"},
			{Name: "/memory/classes/total:bytes"},
		}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			p.heapObjects = max(p.heapObjects, s[0].Value.Uint64())
			p.heapInuse = max(p.heapInuse, s[0].Value.Uint64()+s[1].Value.Uint64())
			p.sys = max(p.sys, s[2].Value.Uint64())
			anon, file := rssSplit()
			p.rssAnon, p.rssFile = max(p.rssAnon, anon), max(p.rssFile, file)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// rssSplit returns the process's resident anonymous and file-backed
// memory in bytes (Linux RssAnon and RssFile), or zeros.
func rssSplit() (anon, file int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		for _, f := range []struct {
			key string
			v   *int64
		}{{"RssAnon:", &anon}, {"RssFile:", &file}} {
			if rest, ok := strings.CutPrefix(line, f.key); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				*f.v = kb << 10
			}
		}
	}
	return anon, file
}

func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkImport imports one generated file of N events into a fresh
// store with fsync on, reporting events/s, the file's size, the process's
// peak RSS split into anonymous memory and file pages (bbolt's mmap), and
// the Go heap's peaks: compare 10k with 100k events (and
// $ICS_BENCH_EVENTS, when set) to see memory stay flat in the file's size
// (make bench-import).
func BenchmarkImport(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if n, err := strconv.Atoi(os.Getenv("ICS_BENCH_EVENTS")); err == nil && n > 0 && !slices.Contains(sizes, n) {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			path := filepath.Join(dir, "bench.ics")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := writeBenchFile(f, n); err != nil {
				b.Fatal(err)
			}
			size, _ := f.Seek(0, io.SeekEnd)
			var elapsed time.Duration
			var peak int64
			var p peaks
			for i := 0; i < b.N; i++ {
				db, err := store.Open(filepath.Join(dir, fmt.Sprintf("db%d", i)), nil)
				if err != nil {
					b.Fatal(err)
				}
				db.CreateUser(store.User{Name: "alice", PasswordHash: "x"})
				db.CreateCalendar("alice", store.Calendar{Name: "work"})
				runtime.GC()
				resetPeakRSS()
				stop := sampleMemory(&p)
				start := time.Now()
				rep, err := Import(context.Background(), db, "alice", "work", []Input{{Name: path, R: f, Size: size}}, nil)
				elapsed += time.Since(start)
				stop()
				peak = max(peak, peakRSS())
				if err != nil || rep.Objects != n || rep.Created != n {
					b.Fatalf("import of %d events: %+v, %v", n, rep, err)
				}
				db.Close()
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(size)/(1<<20), "file-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(p.heapObjects)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(p.heapInuse)/(1<<20), "peak-HeapInuse-MiB")
			b.ReportMetric(float64(p.sys)/(1<<20), "peak-Sys-MiB")
			b.ReportMetric(float64(p.rssAnon)/(1<<20), "peak-RssAnon-MiB")
			b.ReportMetric(float64(p.rssFile)/(1<<20), "peak-RssFile-MiB")
		})
	}
}

// TestBenchFile checks the benchmark's input is what it claims: n
// resources, one in five recurring, all accepted.
func TestBenchFile(t *testing.T) {
	var buf bytes.Buffer
	if err := writeBenchFile(&buf, 100); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=52") + strings.Count(buf.String(), "RRULE:FREQ=DAILY") +
		strings.Count(buf.String(), "RRULE:FREQ=MONTHLY") + strings.Count(buf.String(), "RRULE:FREQ=WEEKLY;INTERVAL=2"); got != 20 {
		t.Fatalf("%d recurring events of 100, want 20", got)
	}
	db := openStore(t)
	rep, err := importString(t, db, buf.String(), nil)
	if err != nil || rep.Objects != 100 || rep.Rejected != 0 || rep.Components != 105 {
		t.Fatalf("import of the bench file = %+v, %v; want 100 objects from 105 components", rep, err)
	}
}

// TestWriteBenchFile writes the benchmark's input to $ICS_BENCH_FILE
// ($ICS_BENCH_EVENTS events, default 100,000) for timing the import
// command itself (make bench-import); without the variable it is skipped.
func TestWriteBenchFile(t *testing.T) {
	path := os.Getenv("ICS_BENCH_FILE")
	if path == "" {
		t.Skip("ICS_BENCH_FILE not set")
	}
	n := 100_000
	if s := os.Getenv("ICS_BENCH_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("ICS_BENCH_EVENTS: %v", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeBenchFile(f, n); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
