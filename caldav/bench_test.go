package caldav_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calbolt/calbolt/internal/caltest"
)

// The benchmarks of issue 2: a calendar of 10,000 events (one in five
// weekly recurring), served over loopback HTTP by the real handler and a
// real bbolt file (fsync off, as everywhere in caltest: the figures measure
// calbolt, not the disk). Run with:
//
//	go test -run '^$' -bench . -benchtime 20x ./caldav/
const benchEvents = 10000

// benchEvent returns event i: an hour somewhere in 2026, every fifth one
// weekly for ten weeks with one exception.
func benchEvent(i int) string {
	start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i%365)*24*time.Hour + time.Duration(i%9)*time.Hour)
	var extra []string
	if i%5 == 0 {
		extra = append(extra, "RRULE:FREQ=WEEKLY;COUNT=10", "EXDATE:"+start.Add(14*24*time.Hour).Format("20060102T150405Z"))
	}
	extra = append(extra, "LOCATION:Room "+fmt.Sprint(i%40), "DESCRIPTION:Benchmark event number "+fmt.Sprint(i)+" with a plausible description.")
	return event(fmt.Sprintf("bench-%d@calbolt.test", i), fmt.Sprintf("Meeting %d", i),
		start.Format("20060102T150405Z"), start.Add(time.Hour).Format("20060102T150405Z"), extra...)
}

// seeded returns a server whose alice/personal holds n events.
func seeded(b *testing.B, n int) *caltest.Server {
	b.Helper()
	s := caltest.New(b, "alice")
	client := s.Server.Client()
	for i := range n {
		mustDo(b, client, putReq(b, s, fmt.Sprintf("%sev%d.ics", personal, i), benchEvent(i)), http.StatusCreated)
	}
	return s
}

func benchReq(b *testing.B, s *caltest.Server, method, path, body string) *http.Request {
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth("alice", caltest.Password("alice"))
	return req
}

func putReq(b *testing.B, s *caltest.Server, path, body string) *http.Request {
	req := benchReq(b, s, http.MethodPut, path, body)
	req.Header.Set("Content-Type", "text/calendar")
	return req
}

func mustDo(b *testing.B, c *http.Client, req *http.Request, want int) int64 {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s %s = %d, want %d", req.Method, req.URL.Path, resp.StatusCode, want)
	}
	return n
}

func BenchmarkPut(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			s := caltest.New(b, "alice")
			client := s.Server.Client()
			var next atomic.Int64
			// RunParallel starts parallelism × GOMAXPROCS goroutines.
			b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1))
					mustDo(b, client, putReq(b, s, fmt.Sprintf("%sev%d.ics", personal, i), benchEvent(i)), http.StatusCreated)
				}
			})
		})
	}
}

func BenchmarkRead10k(b *testing.B) {
	s := seeded(b, benchEvents)
	client := s.Server.Client()

	b.Run("propfind-depth1", func(b *testing.B) {
		var size int64
		for b.Loop() {
			req := benchReq(b, s, "PROPFIND", personal, `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/></d:prop></d:propfind>`)
			req.Header.Set("Depth", "1")
			size = mustDo(b, client, req, http.StatusMultiStatus)
		}
		b.ReportMetric(float64(size), "resp-bytes")
	})
	b.Run("calendar-query-week", func(b *testing.B) {
		for b.Loop() {
			req := benchReq(b, s, "REPORT", personal, calendarQuery("20260601T000000Z", "20260608T000000Z"))
			req.Header.Set("Depth", "1")
			mustDo(b, client, req, http.StatusMultiStatus)
		}
	})
	b.Run("sync-initial", func(b *testing.B) {
		for b.Loop() {
			mustDo(b, client, benchReq(b, s, "REPORT", personal, syncReport("", 0)), http.StatusMultiStatus)
		}
	})
	b.Run("sync-after-10-changes", func(b *testing.B) {
		resp, err := client.Do(benchReq(b, s, "REPORT", personal, syncReport("", 0)))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		token := caltest.ParseMultistatus(b, string(body)).SyncToken
		for i := range 10 {
			changed := strings.Replace(benchEvent(i), "SUMMARY:Meeting", "SUMMARY:Moved meeting", 1)
			mustDo(b, client, putReq(b, s, fmt.Sprintf("%sev%d.ics", personal, i), changed), http.StatusNoContent)
		}
		for b.Loop() {
			mustDo(b, client, benchReq(b, s, "REPORT", personal, syncReport(token, 0)), http.StatusMultiStatus)
		}
	})
}
