package caldav_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/internal/caltest"
	"github.com/calbolt/calbolt/store"
)

// The free-busy benchmarks of issue 3: users u0…u9, each with 3 calendars
// of 10,000 events (one in five recurring, with EXDATEs and overrides; see
// caltest.BusyObjects), over loopback HTTP with the real handler and bbolt
// file, and in process through busytime. Run with:
//
//	go test -run '^$' -bench FreeBusy -benchtime 200x ./caldav/
//
// Setting up the 300,000 objects takes about half a minute. Each figure is
// per request after one untimed request has filled the cache; "cold" runs
// with the cache off (the cost after a restart), and "after-write" changes
// one event before each request, so the calendar's merged busy time is
// rebuilt from the per-object cache every time (the cost under writes).
const (
	fbUsers        = 10
	fbCalendars    = 3
	fbEventsPerCal = 10000
)

var fbBench struct {
	once sync.Once
	s    *caltest.Server
}

func fbServer(b *testing.B) *caltest.Server {
	fbBench.once.Do(func() {
		users := make([]string, fbUsers)
		for i := range users {
			users[i] = fmt.Sprintf("u%d", i)
		}
		// The server outlives this benchmark: it is shared by all of
		// them, so it must not be cleaned up with the first.
		s := caltest.New(&keepAlive{B: b}, users...)
		cals := make([][]store.Object, fbCalendars)
		for c := range cals {
			cals[c] = caltest.BusyObjects(b, uint64(c+1), fmt.Sprintf("c%d", c), fbEventsPerCal)
		}
		for _, u := range users {
			for c, objs := range cals {
				caltest.Load(b, s.DB, u, fmt.Sprintf("cal%d", c), objs)
			}
		}
		fbBench.s = s
	})
	return fbBench.s
}

// keepAlive is a testing.TB whose Cleanup never runs, so the shared
// server lives until the process ends.
type keepAlive struct{ *testing.B }

func (k *keepAlive) Cleanup(func()) {}

var (
	fbWeek  = [2]time.Time{time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)}
	fbMonth = [2]time.Time{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}
	fbYear  = [2]time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
)

func BenchmarkFreeBusy(b *testing.B) {
	s := fbServer(b)
	client := s.Server.Client()
	windows := []struct {
		name string
		w    [2]time.Time
	}{{"week", fbWeek}, {"month", fbMonth}, {"year", fbYear}}

	// In process: what one user's merged busy time costs busytime.
	warm := busytime.New(s.DB, nil)
	cold := busytime.New(s.DB, &busytime.Options{CacheSize: -1})
	for _, w := range windows {
		b.Run("service/one-user-"+w.name, func(b *testing.B) {
			n := 0
			if _, err := warm.User("u0", "u0", w.w[0], w.w[1], "localhost"); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				ps, err := warm.User("u0", "u0", w.w[0], w.w[1], "localhost")
				if err != nil {
					b.Fatal(err)
				}
				n = len(ps)
			}
			b.ReportMetric(float64(n), "periods")
		})
	}
	b.Run("service/one-user-month-after-write", func(b *testing.B) {
		objs := caltest.BusyObjects(b, 99, "w", 1)
		i := 0
		for b.Loop() {
			i++
			objs[0].Data = []byte(strings.Replace(string(objs[0].Data), "SUMMARY:", fmt.Sprintf("SUMMARY:%d ", i), 1))
			if _, err := s.DB.PutObjects("u0", "cal0", objs); err != nil {
				b.Fatal(err)
			}
			if _, err := warm.User("u0", "u0", fbMonth[0], fbMonth[1], "localhost"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("service/one-user-month-cold", func(b *testing.B) {
		for b.Loop() {
			if _, err := cold.User("u0", "u0", fbMonth[0], fbMonth[1], "localhost"); err != nil {
				b.Fatal(err)
			}
		}
	})

	// Over HTTP: the REPORT on the calendar home (all three calendars).
	for _, w := range windows {
		body := fmt.Sprintf(`<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="%s" end="%s"/></c:free-busy-query>`,
			w.w[0].Format("20060102T150405Z"), w.w[1].Format("20060102T150405Z"))
		b.Run("report/one-user-"+w.name, func(b *testing.B) {
			warmUp := fbReq(b, s, "REPORT", "/dav/calendars/u0/", body)
			warmUp.Header.Set("Depth", "1")
			mustDo(b, client, warmUp, http.StatusOK)
			for b.Loop() {
				req := fbReq(b, s, "REPORT", "/dav/calendars/u0/", body)
				req.Header.Set("Depth", "1")
				mustDo(b, client, req, http.StatusOK)
			}
		})
	}

	// The attendee grid: one outbox POST for ten users over a month.
	var att strings.Builder
	for i := range fbUsers {
		fmt.Fprintf(&att, "ATTENDEE:mailto:u%d@%s\r\n", i, strings.TrimPrefix(s.URL, "http://")[:strings.LastIndex(strings.TrimPrefix(s.URL, "http://"), ":")])
	}
	post := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nMETHOD:REQUEST\r\nBEGIN:VFREEBUSY\r\nUID:bench\r\n" +
		"DTSTAMP:20260101T000000Z\r\nDTSTART:" + fbMonth[0].Format("20060102T150405Z") + "\r\nDTEND:" + fbMonth[1].Format("20060102T150405Z") +
		"\r\nORGANIZER:mailto:u0@127.0.0.1\r\n" + att.String() + "END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
	b.Run("outbox/ten-users-month", func(b *testing.B) {
		warmUp := fbReq(b, s, http.MethodPost, "/dav/calendars/u0/outbox/", post)
		warmUp.Header.Set("Content-Type", "text/calendar")
		mustDo(b, client, warmUp, http.StatusOK)
		for b.Loop() {
			req := fbReq(b, s, http.MethodPost, "/dav/calendars/u0/outbox/", post)
			req.Header.Set("Content-Type", "text/calendar")
			mustDo(b, client, req, http.StatusOK)
		}
	})

	// Free slots of an hour common to five users in working hours.
	slots := "/freebusy?users=u0,u1,u2,u3,u4&start=2026-06-01&end=2026-07-01&duration=PT1H&hours=09:00-17:00&tz=Europe/Berlin"
	b.Run("slots/five-users-month", func(b *testing.B) {
		mustDo(b, client, fbReq(b, s, http.MethodGet, slots, ""), http.StatusOK)
		for b.Loop() {
			mustDo(b, client, fbReq(b, s, http.MethodGet, slots, ""), http.StatusOK)
		}
	})
}

func fbReq(b *testing.B, s *caltest.Server, method, path, body string) *http.Request {
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth("u0", caltest.Password("u0"))
	return req
}
