package ics

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// BenchmarkIndex measures what the index pass keeps, per component, for
// $ICS_BENCH_EVENTS generated events (default 100,000, with one override
// for 20 events): the Go heap still live at its peak (the components, the
// hashes of their UIDs and the order that links them into chains), and
// after it, for the import pass.
func BenchmarkIndex(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("ICS_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	var buf bytes.Buffer
	if err := writeBenchFile(&buf, n); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	comps := float64(bytes.Count(data, []byte("BEGIN:VEVENT\r\n")))
	live := func() int64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	for i := 0; i < b.N; i++ {
		before := live()
		ix := newIndex()
		if err := ix.scan(0, "bench.ics", bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
		perm := ix.sortByKey()
		peak := live()
		ix.link(perm)
		perm, ix.keys = nil, nil
		after := live()
		b.ReportMetric(float64(peak-before)/comps, "index-peak-B/component")
		b.ReportMetric(float64(after-before)/comps, "index-B/component")
		if ix.groups != n {
			b.Fatalf("%d chains, want %d", ix.groups, n)
		}
		runtime.KeepAlive(ix)
	}
	runtime.KeepAlive(data)
}
