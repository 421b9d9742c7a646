package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value p50", ms(7), 50, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"two values p50", ms(1, 9), 50, 1 * time.Millisecond},
		{"two values p51", ms(1, 9), 51, 9 * time.Millisecond},
		{"four values p50", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"four values p75", ms(1, 2, 3, 4), 75, 3 * time.Millisecond},
		{"four values p100", ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{"1..100 p50", ms(hundred...), 50, 50 * time.Millisecond},
		{"1..100 p95", ms(hundred...), 95, 95 * time.Millisecond},
		{"1..100 p99", ms(hundred...), 99, 99 * time.Millisecond},
		{"1..100 p99.9", ms(hundred...), 99.9, 100 * time.Millisecond},
		{"tiny p", ms(1, 2, 3), 0.001, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestCheckLoopbackURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8008", true},
		{"http://127.0.0.1:8008/", true},
		{"http://127.0.0.1", true},
		{"https://127.0.0.1:8443/prefix/", true},
		{"http://127.1.2.3:8008", true},
		{"http://127.255.255.254:1", true},
		{"http://[::1]:8008/", true},
		{"http://[::ffff:127.0.0.1]:8008/", true},
		{"http://localhost:8008", true},
		{"http://LocalHost:8008", true},

		{"http://example.com:8008", false},
		{"http://10.0.0.1:8008", false},
		{"http://192.168.1.1", false},
		{"http://0.0.0.0:8008", false},
		{"http://[::]:8008", false},
		{"http://128.0.0.1", false},
		{"http://[::2]:8008", false},
		{"http://[fe80::1%25lo]:8008", false},
		{"http://localhost.example.com", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://2130706433", false}, // 127.0.0.1 as a number: not an address we accept
		{"http://user:pw@127.0.0.1:8008", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8008", false},
		{"//127.0.0.1:8008", false},
		{"http:///path", false},
		{"", false},
		{"http://%zz", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := checkLoopbackURL(tt.url)
			if (err == nil) != tt.ok {
				t.Errorf("checkLoopbackURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8008", true},
		{"127.9.9.9:80", true},
		{"[::1]:8008", true},
		{"10.1.1.1:8008", false},
		{"[2001:db8::1]:443", false},
		{"localhost:8008", false}, // the dialer sees resolved addresses only
		{"garbage", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := loopbackOnly("tcp", tt.addr, nil)
			if (err == nil) != tt.ok {
				t.Errorf("loopbackOnly(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
}

func TestEventSpecICS(t *testing.T) {
	stamp := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var total, recurring int
	const n = 200
	for i := range n {
		spec := newEventSpec(1, "bench-x", i)
		data := spec.ics(i%3, "", stamp)
		total += len(data)

		for _, line := range strings.SplitAfter(string(data), "\r\n") {
			if len(line) > 77 { // 75 octets plus CRLF
				t.Fatalf("event %d: line of %d octets: %q", i, len(line), line)
			}
		}
		if strings.Contains(strings.ReplaceAll(string(data), "\r\n", ""), "\n") {
			t.Fatalf("event %d: bare LF in %q", i, data)
		}

		cal, err := ical.NewDecoder(bytes.NewReader(data)).Decode()
		if err != nil {
			t.Fatalf("event %d: decode: %v\n%s", i, err, data)
		}
		// The encoder checks the properties RFC 5545 requires.
		if err := ical.NewEncoder(io.Discard).Encode(cal); err != nil {
			t.Fatalf("event %d: not a valid calendar: %v\n%s", i, err, data)
		}
		events := cal.Events()
		if len(events) != 1 {
			t.Fatalf("event %d: %d VEVENTs, want 1", i, len(events))
		}
		ev := events[0]
		if uid, _ := ev.Props.Text(ical.PropUID); uid != spec.uid {
			t.Errorf("event %d: UID = %q, want %q", i, uid, spec.uid)
		}
		for _, name := range []string{ical.PropDateTimeStamp, ical.PropSummary, ical.PropDescription, ical.PropLocation} {
			if ev.Props.Get(name) == nil {
				t.Errorf("event %d: no %s", i, name)
			}
		}
		if loc, _ := ev.Props.Text(ical.PropLocation); loc != spec.location {
			t.Errorf("event %d: LOCATION = %q, want %q (escaping)", i, loc, spec.location)
		}
		start, err := ev.DateTimeStart(time.UTC)
		if err != nil || !start.Equal(spec.start) {
			t.Errorf("event %d: DTSTART = %v, %v, want %v", i, start, err, spec.start)
		}
		end, err := ev.DateTimeEnd(time.UTC)
		if err != nil || !end.Equal(spec.start.Add(spec.dur)) {
			t.Errorf("event %d: DTEND = %v, %v, want %v", i, end, err, spec.start.Add(spec.dur))
		}
		if spec.start.Before(yearStart) || !spec.start.Before(yearStart.AddDate(1, 0, 0)) {
			t.Errorf("event %d: starts %v, outside the year from %v", i, spec.start, yearStart)
		}

		set, err := ev.RecurrenceSet(time.UTC)
		if err != nil {
			t.Fatalf("event %d: recurrence set: %v", i, err)
		}
		if (set != nil) != (i%5 == 0) {
			t.Errorf("event %d: recurring = %v, want %v", i, set != nil, i%5 == 0)
		}
		if set == nil {
			continue
		}
		recurring++
		if got, want := set.All(), spec.instances(); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("event %d: instances = %v, want %v", i, got, want)
		}
		if len(spec.instances()) != spec.count-1 {
			t.Errorf("event %d: %d instances, want COUNT %d minus one EXDATE", i, len(spec.instances()), spec.count)
		}
	}
	if recurring != n/5 {
		t.Errorf("%d of %d events recur, want %d", recurring, n, n/5)
	}
	if avg := total / n; avg < 500 || avg > 750 {
		t.Errorf("average event size %d bytes, want about 600", avg)
	}
}

func TestEventSpecDeterministic(t *testing.T) {
	a := newEventSpec(7, "cal", 42).ics(1, "x", yearStart)
	b := newEventSpec(7, "cal", 42).ics(1, "x", yearStart)
	if !bytes.Equal(a, b) {
		t.Errorf("newEventSpec(7, cal, 42) differs between calls")
	}
	if c := newEventSpec(8, "cal", 42).ics(1, "x", yearStart); bytes.Equal(a, c) {
		t.Errorf("newEventSpec gives the same event for seeds 7 and 8")
	}
}

func TestEventSpecOverlaps(t *testing.T) {
	at := func(day, hour int) time.Time {
		return yearStart.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
	}
	single := eventSpec{start: at(10, 9), dur: time.Hour, exdate: -1}
	weekly := eventSpec{start: at(0, 9), dur: time.Hour, count: 3, exdate: 1}
	tests := []struct {
		name       string
		e          eventSpec
		start, end time.Time
		want       bool
	}{
		{"single inside", single, at(10, 0), at(11, 0), true},
		{"single ends at range start", single, at(10, 10), at(11, 0), false},
		{"single starts at range end", single, at(9, 0), at(10, 9), false},
		{"single overlaps range start", single, at(10, 9).Add(30 * time.Minute), at(11, 0), true},
		{"weekly first instance", weekly, at(0, 0), at(1, 0), true},
		{"weekly excluded instance", weekly, at(7, 0), at(8, 0), false},
		{"weekly last instance", weekly, at(14, 0), at(15, 0), true},
		{"weekly after count", weekly, at(21, 0), at(22, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.overlaps(tt.start, tt.end); got != tt.want {
				t.Errorf("overlaps(%v, %v) = %v, want %v", tt.start, tt.end, got, tt.want)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"short", "SUMMARY:hello"},
		{"exactly 75", "X:" + strings.Repeat("a", 73)},
		{"76", "X:" + strings.Repeat("a", 74)},
		{"long", "DESCRIPTION:" + strings.Repeat("abcdefghij", 30)},
		{"multibyte at the cut", "X:" + strings.Repeat("a", 72) + "ééééé" + strings.Repeat("ü", 60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fold(tt.in)
			for _, line := range strings.Split(got, "\r\n") {
				if len(line) > 75 {
					t.Errorf("fold: line of %d octets: %q", len(line), line)
				}
				if !utf8.ValidString(line) {
					t.Errorf("fold: line cut inside a character: %q", line)
				}
			}
			if unfolded := strings.ReplaceAll(got, "\r\n ", ""); unfolded != tt.in {
				t.Errorf("fold(%q) unfolds to %q", tt.in, unfolded)
			}
		})
	}
}

func TestParseMultistatus(t *testing.T) {
	body := `<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response>
  <d:href>/dav/calendars/alice/bench/ev-000001.ics</d:href>
  <d:propstat><d:prop><d:getetag>"abc"</d:getetag><c:calendar-data>BEGIN:VCALENDAR&#13;
END:VCALENDAR&#13;
</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
 <d:response>
  <d:href>http://127.0.0.1:8008/dav/calendars/alice/bench/ev%20two.ics</d:href>
  <d:propstat><d:prop><d:foo/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
  <d:propstat><d:prop><d:getetag>"def"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
 <d:response>
  <d:href>/dav/calendars/alice/bench/gone.ics</d:href>
  <d:status>HTTP/1.1 404 Not Found</d:status>
 </d:response>
 <d:sync-token> http://calbolt.invalid/sync/42 </d:sync-token>
</d:multistatus>`
	ms, err := parseMultistatus([]byte(body))
	if err != nil {
		t.Fatalf("parseMultistatus: %v", err)
	}
	if ms.SyncToken != " http://calbolt.invalid/sync/42 " {
		t.Errorf("sync-token = %q", ms.SyncToken)
	}
	got, err := ms.members()
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	want := []member{
		{path: "/dav/calendars/alice/bench/ev-000001.ics", status: 200, etag: `"abc"`, data: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"},
		{path: "/dav/calendars/alice/bench/ev two.ics", status: 200, etag: `"def"`},
		{path: "/dav/calendars/alice/bench/gone.ics", status: 404},
	}
	if !slices.Equal(got, want) {
		t.Errorf("members() = %+v, want %+v", got, want)
	}
}

func TestParseMultistatusErrors(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"empty", ""},
		{"html", "<html><body>error</body></html>"},
		{"wrong namespace", `<multistatus xmlns="urn:x"/>`},
		{"dav error", `<d:error xmlns:d="DAV:"><d:valid-sync-token/></d:error>`},
		{"truncated", `<d:multistatus xmlns:d="DAV:"><d:response><d:href>/a`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ms, err := parseMultistatus([]byte(tt.body)); err == nil {
				t.Errorf("parseMultistatus(%q) = %+v, want an error", tt.body, ms)
			}
		})
	}
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		line string
		want int
	}{
		{"HTTP/1.1 200 OK", 200},
		{"HTTP/1.1 404 Not Found", 404},
		{"  HTTP/1.1 507 Insufficient Storage ", 507},
		{"", 0},
		{"HTTP/1.1", 0},
		{"HTTP/1.1 abc", 0},
	}
	for _, tt := range tests {
		if got := statusCode(tt.line); got != tt.want {
			t.Errorf("statusCode(%q) = %d, want %d", tt.line, got, tt.want)
		}
	}
}

func TestParseWeights(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result; "" for an error
	}{
		{defaultMix().String(), defaultMix().String()},
		{"sync=1", "sync=1,query=0,multiget=0,freebusy=0,put=0,delete=0,create=0"},
		{" put=3 , delete=1 ", "sync=0,query=0,multiget=0,freebusy=0,put=3,delete=1,create=0"},
		{"sync=0", ""},
		{"", ""},
		{"bogus=1", ""},
		{"sync", ""},
		{"sync=-1", ""},
		{"sync=x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, err := parseWeights(tt.in)
			switch {
			case tt.want == "" && err == nil:
				t.Errorf("parseWeights(%q) = %v, want an error", tt.in, w)
			case tt.want != "" && err != nil:
				t.Errorf("parseWeights(%q) = %v, want %s", tt.in, err, tt.want)
			case tt.want != "" && w.String() != tt.want:
				t.Errorf("parseWeights(%q) = %s, want %s", tt.in, w, tt.want)
			}
		})
	}
}

func TestParseProcStatus(t *testing.T) {
	in := "Name:\tcalbolt\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n"
	rss, hwm, ok := parseProcStatus([]byte(in))
	if !ok || rss != 40960*1024 || hwm != 51200*1024 {
		t.Errorf("parseProcStatus = %d, %d, %v, want %d, %d, true", rss, hwm, ok, 40960*1024, 51200*1024)
	}
	if _, _, ok := parseProcStatus([]byte("Name:\tx\n")); ok {
		t.Errorf("parseProcStatus without VmRSS: ok")
	}
}

func TestParseFlags(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	env := func(k string) string {
		if k == passwordEnv {
			return "from-env"
		}
		return ""
	}
	base := []string{"-user", "alice"}
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		check  func(*config) bool
		errHas string
	}{
		{"issue2 defaults", append(base, "-scenario", "issue2", "-password-file", pwFile), noEnv,
			func(c *config) bool {
				return c.password == "s3cret" && c.events == 10000 && c.putSplit == 2000 && c.repeat == 20 && c.putClients == 8
			}, ""},
		{"mixed defaults", append(base, "-scenario", "mixed"), env,
			func(c *config) bool {
				return c.password == "from-env" && c.events == 1000 && c.clients == 50 && c.duration == 5*time.Minute
			}, ""},
		{"explicit events and split", append(base, "-scenario", "issue2", "-events", "200", "-put-split", "0"), env,
			func(c *config) bool { return c.events == 200 && c.putSplit == 0 }, ""},
		{"split follows events", append(base, "-scenario", "issue2", "-events", "200"), env,
			func(c *config) bool { return c.putSplit == 40 }, ""},
		{"no password", append(base, "-scenario", "issue2"), noEnv, nil, "no password"},
		{"no user", []string{"-scenario", "issue2"}, env, nil, "-user"},
		{"no scenario", base, env, nil, "-scenario"},
		{"unknown scenario", append(base, "-scenario", "x"), env, nil, "unknown scenario"},
		{"remote url", append(base, "-scenario", "issue2", "-url", "http://192.0.2.1:8008"), env, nil, "loopback"},
		{"duration cap", append(base, "-scenario", "mixed", "-duration", "31m"), env, nil, "-duration"},
		{"split too big", append(base, "-scenario", "issue2", "-events", "10", "-put-split", "11"), env, nil, "-put-split"},
		{"too few events for the clients", append(base, "-scenario", "mixed", "-events", "10"), env, nil, "-clients"},
		{"stray argument", append(base, "-scenario", "issue2", "extra"), env, nil, "unexpected argument"},
		{"freebusy defaults", append(base, "-scenario", "freebusy"), env,
			func(c *config) bool {
				return c.events == 10000 && c.clients == 8 && c.duration == 30*time.Second && c.fbCals == 3 &&
					c.writeRate == 5 && c.repeat == 20 && c.fbMonths == 12 &&
					slices.Equal(c.fbUsers, []string{"alice", "load1", "load2", "load3", "load4", "load5", "load6", "load7", "load8", "load9"})
			}, ""},
		{"freebusy explicit", append(base, "-scenario", "freebusy", "-clients", "3", "-duration", "5s", "-fb-users", "2",
			"-fb-calendars", "1", "-events", "50", "-write-rate", "0"), env,
			func(c *config) bool {
				return c.events == 50 && c.clients == 3 && c.duration == 5*time.Second && c.fbCals == 1 &&
					c.writeRate == 0 && slices.Equal(c.fbUsers, []string{"alice", "load1"})
			}, ""},
		{"freebusy user list", append(base, "-scenario", "freebusy", "-fb-users", "bob, carol,alice"), env,
			func(c *config) bool { return slices.Equal(c.fbUsers, []string{"alice", "bob", "carol"}) }, ""},
		{"mixed keeps its defaults", append(base, "-scenario", "mixed", "-fb-users", "x,,y"), env,
			func(c *config) bool { return c.clients == 50 && c.fbUsers == nil }, ""},
		{"freebusy no users", append(base, "-scenario", "freebusy", "-fb-users", "0"), env, nil, "-fb-users"},
		{"freebusy too many users", append(base, "-scenario", "freebusy", "-fb-users", "101"), env, nil, "-fb-users"},
		{"freebusy empty name", append(base, "-scenario", "freebusy", "-fb-users", "bob,,carol"), env, nil, "empty name"},
		{"freebusy name twice", append(base, "-scenario", "freebusy", "-fb-users", "bob,bob"), env, nil, "twice"},
		{"freebusy bad name", append(base, "-scenario", "freebusy", "-fb-users", "a/b"), env, nil, "not a user name"},
		{"freebusy no calendars", append(base, "-scenario", "freebusy", "-fb-calendars", "0"), env, nil, "-fb-calendars"},
		{"freebusy negative rate", append(base, "-scenario", "freebusy", "-write-rate", "-1"), env, nil, "-write-rate"},
		{"freebusy too big", append(base, "-scenario", "freebusy", "-fb-users", "100", "-fb-calendars", "20"), env, nil, "more than"},
		{"freebusy bad duration", append(base, "-scenario", "freebusy", "-duration", "soon"), env, nil, "duration"},
		{"freebusy duration cap", append(base, "-scenario", "freebusy", "-duration", "31m"), env, nil, "-duration"},
		{"freebusy clients", append(base, "-scenario", "freebusy", "-clients", "0"), env, nil, "-clients"},
		{"freebusy months", append(base, "-scenario", "freebusy", "-fb-months", "13"), env, nil, "-fb-months"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFlags(tt.args, io.Discard, tt.getenv)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Errorf("parseFlags(%q) = %v, want an error about %s", tt.args, err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if !tt.check(cfg) {
				t.Errorf("parseFlags(%q) = %+v, not what the case expects", tt.args, *cfg)
			}
		})
	}
}

func TestRecorderReport(t *testing.T) {
	rec := newRecorder(100, discardLogger(), false)
	for i := 1; i <= 100; i++ {
		rec.observe("put", time.Duration(i)*time.Millisecond, 10, 201)
	}
	rec.observe("sync", time.Millisecond, 1000, 500)
	rec.fail("sync", "status 500")
	rec.setWall("put", 2*time.Second)
	var rep report
	rep.fill(rec)
	if rep.Requests != 101 || rep.Errors != 1 || rep.Status5xx != 1 {
		t.Errorf("fill: requests %d, errors %d, 5xx %d, want 101, 1, 1", rep.Requests, rep.Errors, rep.Status5xx)
	}
	put := rep.Kinds[0]
	if put.Kind != "put" || put.Count != 100 || put.Rate != 50 || put.P95 != 95 || put.Max != 100 || put.AvgBytes != 10 {
		t.Errorf("put row = %+v", put)
	}
	var out bytes.Buffer
	if err := rep.write(&out, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sync: status 500") {
		t.Errorf("report does not list the failure:\n%s", out.String())
	}
	out.Reset()
	if err := rep.write(&out, true); err != nil {
		t.Fatal(err)
	}
}

func TestRecorderAborts(t *testing.T) {
	rec := newRecorder(3, discardLogger(), false)
	for range 2 {
		rec.fail("x", "boom")
	}
	if rec.aborted() {
		t.Errorf("aborted after 2 failures with -max-errors 3")
	}
	rec.fail("x", "boom")
	if !rec.aborted() {
		t.Errorf("not aborted after 3 failures with -max-errors 3")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestParseFBUsersSkipsUser(t *testing.T) {
	// -user load2 with a count: load2 is not named twice.
	got, err := parseFBUsers("4", "load2")
	if err != nil || !slices.Equal(got, []string{"load2", "load1", "load3", "load4"}) {
		t.Errorf("parseFBUsers(4, load2) = %v, %v", got, err)
	}
}

func TestVFreeBusyBlocks(t *testing.T) {
	// Folded lines, a quoted parameter with a colon, and LF line ends
	// (what XML decoding leaves of CRLF) in the second component.
	text := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VFREEBUSY\r\nORGANIZER;CN=\"A: B\":mailto:a@\r\n h\r\n" +
		"FREEBUSY;FBTYPE=BUSY:20260601T080000Z/20260601T090000Z\r\nFREEBUSY;FBTYPE=BUSY-TENTATIVE:2026\r\n 0602T080000Z/20260602T083000Z\r\n" +
		"END:VFREEBUSY\r\nBEGIN:VFREEBUSY\nORGANIZER:mailto:b@h\nEND:VFREEBUSY\nEND:VCALENDAR\n"
	got := vfreebusyBlocks(text)
	want := []vfreebusy{
		{organizer: "mailto:a@h", freebusy: []string{
			"FREEBUSY;FBTYPE=BUSY:20260601T080000Z/20260601T090000Z",
			"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260602T080000Z/20260602T083000Z",
		}},
		{organizer: "mailto:b@h"},
	}
	if len(got) != len(want) {
		t.Fatalf("vfreebusyBlocks: %d components, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].organizer != want[i].organizer || !slices.Equal(got[i].freebusy, want[i].freebusy) {
			t.Errorf("component %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDiffLines(t *testing.T) {
	a := []string{"x", "y"}
	if d := diffLines(a, []string{"x", "y"}); d != "" {
		t.Errorf("equal lines: %q", d)
	}
	for _, got := range [][]string{{"x"}, {"x", "z"}, {"x", "y", "z"}, nil} {
		if diffLines(a, got) == "" {
			t.Errorf("diffLines(%q, %q) = \"\"", a, got)
		}
	}
}

func TestFreeSlots(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	utc := func(day, h, m int) time.Time { return time.Date(2026, 6, day, h, m, 0, 0, time.UTC) }
	// Friday 5 June to Tuesday 9 June 2026, Berlin (UTC+2): working hours
	// 07:00-15:00 UTC on Friday, Monday and Tuesday.
	start := time.Date(2026, 6, 5, 0, 0, 0, 0, berlin)
	end := time.Date(2026, 6, 10, 0, 0, 0, 0, berlin)
	busy := []period{
		{Start: utc(5, 6, 0), End: utc(5, 8, 30)},  // Friday: free 08:30-15:00
		{Start: utc(6, 9, 0), End: utc(6, 10, 0)},  // Saturday: not a working day
		{Start: utc(8, 7, 30), End: utc(8, 8, 0)},  // Monday: 30 minutes free before, too short
		{Start: utc(8, 8, 45), End: utc(8, 13, 0)}, // 45 minutes between, too short; free 13:00-15:00
		{Start: utc(9, 5, 0), End: utc(9, 16, 0)},  // Tuesday: all busy
	}
	got := freeSlots(busy, start, end, berlin, 9*time.Hour, 17*time.Hour, time.Hour)
	want := []period{
		{Start: utc(5, 8, 30), End: utc(5, 15, 0)},
		{Start: utc(8, 13, 0), End: utc(8, 15, 0)},
	}
	if !slices.EqualFunc(got, want, period.equal) {
		t.Errorf("freeSlots = %v, want %v", got, want)
	}
	// The window cuts the working hours.
	got = freeSlots(nil, utc(5, 14, 0), utc(5, 14, 30), berlin, 9*time.Hour, 17*time.Hour, time.Hour)
	if len(got) != 0 {
		t.Errorf("freeSlots in half an hour = %v, want none", got)
	}
}
