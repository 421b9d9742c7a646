package main

// Crash safety (issue 5, Faults): the real server, with fsync on, is killed
// with SIGKILL at random moments of a write storm and of a bulk import, then
// restarted on the same data directory. Every write a client saw
// acknowledged must be there, `calbolt check` must pass, and an interrupted
// import must have left whole chunks that a second run completes.
//
// `go test` runs a few iterations of each; `make crash` runs many
// (-crash.iterations=N, or CRASH_ITERATIONS=N in the environment).

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/calbolt/calbolt/ics"
	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/store"
)

var (
	crashIterations = flag.Int("crash.iterations", 0,
		"kill points per crash test (TestCrashWriteStorm, TestCrashImport); 0 means CRASH_ITERATIONS or the short default")
	crashSeed = flag.Uint64("crash.seed", 0, "random seed of the crash tests; 0 picks one (it is logged)")
)

// iterations is how many kill points a crash test runs: -crash.iterations,
// else $CRASH_ITERATIONS, else short (what a plain `go test` can afford).
func iterations(t *testing.T, short int) int {
	t.Helper()
	if *crashIterations > 0 {
		return *crashIterations
	}
	if v := os.Getenv("CRASH_ITERATIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("CRASH_ITERATIONS=%q, want a positive number", v)
		}
		return n
	}
	return short
}

// crashRand returns the test's random source and logs its seed, so a failing
// kill point can be replayed with -crash.seed.
func crashRand(t *testing.T) *rand.Rand {
	seed := *crashSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -crash.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

const crashPassword = "crash test password"

// addUser creates user (with the calendar "personal") in the data
// directory dir, before any server runs on it.
func addUser(t *testing.T, dir, user string) {
	t.Helper()
	mustRun(t, crashPassword+"\n", "user", "add", user, "--data", dir)
}

// eventBody is a canonical calendar object (CRLF, PRODID, VERSION, DTSTAMP),
// stored byte for byte, so a PUT of it answers with its ETag.
func eventBody(uid, summary string, day int) []byte {
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//fault tests//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20250101T000000Z\r\n" +
		"DTSTART:" + start.Format("20060102T150405Z") + "\r\n" +
		"DTEND:" + start.Add(time.Hour).Format("20060102T150405Z") + "\r\n" +
		"SUMMARY:" + summary + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
}

// send makes one request as user and returns the status, the ETag (without
// quotes) and the body; err is the transport's (the server died).
func send(c *http.Client, method, url, user string, body []byte, header map[string]string) (status int, etag string, respBody []byte, err error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", nil, err
	}
	req.SetBasicAuth(user, crashPassword)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", nil, err
	}
	return resp.StatusCode, strings.Trim(resp.Header.Get("ETag"), `"`), respBody, nil
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("calbolt serve still running 10s after SIGKILL")
	}
}

// checkDataFile checks the data file of a stopped server: `calbolt check`
// (the store's invariants), then bbolt's own page check (what `bbolt check`
// does: every page reachable or free, once, no page beyond the high water
// mark). The page check runs here, not in store.Check, because bbolt allows
// it in a read transaction only while no writer runs, and the live check
// runs beside the server's writers.
func checkDataFile(t *testing.T, dir string) {
	t.Helper()
	res := calbolt(t, "", nil, "check", "--data", dir)
	if res.code != 0 {
		t.Fatalf("calbolt check: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	db, err := bolt.Open(filepath.Join(dir, "calbolt.db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("bbolt open: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt page check: %v", err)
	}
}

// objState is what a client knows of one object: absent, or present with
// the bytes it sent and the ETag the server gave them.
type objState struct {
	present bool
	body    []byte
	etag    string // "" until acknowledged
}

// stormObject is one object of the write storm, written by one client
// only, so that its acknowledged history is a sequence.
type stormObject struct {
	url     string
	acked   objState  // after the last acknowledged write
	pending *objState // after the write in flight when the server died
	writes  int       // acknowledged writes in this iteration
}

// TestCrashWriteStorm kills the server in the middle of concurrent PUTs and
// DELETEs with If-Match / If-None-Match from several clients over two
// calendars (their writes share group commits), restarts it and checks
// every object: it holds what its last acknowledged write left (body and
// ETag), or what the write in flight at the kill left.
func TestCrashWriteStorm(t *testing.T) {
	const (
		clients          = 8
		objectsPerClient = 6
	)
	n := iterations(t, 3)
	rng := crashRand(t)
	dir := filepath.Join(t.TempDir(), "data")
	addUser(t, dir, "alice")

	s := startServer(t, dir)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	if st, _, b, err := send(c, "MKCALENDAR", s.url+"dav/calendars/alice/work/", "alice", nil, nil); err != nil || st != http.StatusCreated {
		t.Fatalf("MKCALENDAR work = %d %v %s", st, err, b)
	}
	objs := make([][]*stormObject, clients)
	for i := range objs {
		for j := range objectsPerClient {
			cal := []string{"personal", "work"}[(i+j)%2]
			objs[i] = append(objs[i], &stormObject{
				url: fmt.Sprintf("%sdav/calendars/alice/%s/c%d-o%d.ics", s.url, cal, i, j),
			})
		}
	}

	var totalAcked, totalChecked, totalPending, totalLanded int
	for it := range n {
		// The storm: each client writes its own objects, one request at a
		// time, until the server dies under it.
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		seeds := make([]uint64, clients)
		for i := range seeds {
			seeds[i] = rng.Uint64()
		}
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- storm(c, rand.New(rand.NewPCG(seeds[i], uint64(it))), objs[i], i, it)
			}()
		}
		delay := time.Duration(100+rng.IntN(900)) * time.Millisecond
		time.Sleep(delay)
		s.kill()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("iteration %d: %v\nserver log:\n%s", it, err, s.log())
			}
		}
		checkDataFile(t, dir)

		// Restart on the same file and compare.
		s = startServer(t, dir)
		acked, pending, landed := 0, 0, 0
		for i := range objs {
			for _, o := range objs[i] {
				o.url = s.url + o.url[strings.Index(o.url, "dav/"):]
				acked += o.writes
				if o.pending != nil {
					pending++
				}
				got := fetchState(t, c, o.url)
				switch {
				case sameState(got, o.acked):
				case o.pending != nil && sameState(got, *o.pending):
					landed++
				default:
					t.Fatalf("iteration %d (killed after %v): %s holds %s; want the acknowledged %s%s",
						it, delay, o.url, describe(got), describe(o.acked), pendingNote(o.pending))
				}
				o.acked, o.pending, o.writes = got, nil, 0
				totalChecked++
			}
		}
		totalAcked += acked
		totalPending += pending
		totalLanded += landed
		t.Logf("iteration %d: killed after %v; %d acknowledged writes, %d in flight (%d of them stored), %d objects checked",
			it, delay, acked, pending, landed, clients*objectsPerClient)
	}
	s.stop()
	checkDataFile(t, dir)
	t.Logf("%d kills: %d acknowledged writes, %d writes in flight at a kill (%d of them stored), %d object checks",
		n, totalAcked, totalPending, totalLanded, totalChecked)
}

// storm runs one client's writes against its objects until a request fails
// at the transport (the server is gone). Each write is conditional on what
// the client last saw acknowledged, so any answer but 201/204 is a lost or
// phantom write.
func storm(c *http.Client, rng *rand.Rand, objs []*stormObject, client, it int) error {
	for seq := 0; ; seq++ {
		o := objs[rng.IntN(len(objs))]
		var (
			method = http.MethodPut
			next   objState
			header = map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
		)
		uid := o.url[strings.LastIndex(o.url, "/")+1:]
		switch {
		case !o.acked.present:
			header["If-None-Match"] = "*"
			next = objState{present: true, body: eventBody(uid, fmt.Sprintf("client %d iteration %d write %d", client, it, seq), seq%300)}
		case rng.IntN(4) == 0:
			method = http.MethodDelete
			header = map[string]string{"If-Match": `"` + o.acked.etag + `"`}
		default:
			header["If-Match"] = `"` + o.acked.etag + `"`
			next = objState{present: true, body: eventBody(uid, fmt.Sprintf("client %d iteration %d write %d", client, it, seq), seq%300)}
		}
		o.pending = &next
		status, etag, body, err := send(c, method, o.url, "alice", next.body, header)
		if err != nil {
			return nil // the server died; o.pending may or may not have landed
		}
		want := http.StatusNoContent
		if method == http.MethodPut && !o.acked.present {
			want = http.StatusCreated
		}
		if status != want {
			return fmt.Errorf("%s %s = %d, want %d: %s", method, o.url, status, want, body)
		}
		if method == http.MethodPut && etag == "" {
			return fmt.Errorf("PUT %s answered without an ETag", o.url)
		}
		next.etag = etag
		o.acked, o.pending = next, nil
		o.writes++
	}
}

// fetchState GETs an object from the restarted server.
func fetchState(t *testing.T, c *http.Client, url string) objState {
	t.Helper()
	status, etag, body, err := send(c, http.MethodGet, url, "alice", nil, nil)
	switch {
	case err != nil:
		t.Fatalf("GET %s after restart: %v", url, err)
	case status == http.StatusNotFound:
		return objState{}
	case status != http.StatusOK:
		t.Fatalf("GET %s after restart = %d: %s", url, status, body)
	}
	return objState{present: true, body: body, etag: etag}
}

// sameState reports whether got (from a GET) is want; a want without an
// ETag (a write in flight) is compared by its bytes alone.
func sameState(got, want objState) bool {
	if got.present != want.present {
		return false
	}
	if !got.present {
		return true
	}
	return bytes.Equal(got.body, want.body) && (want.etag == "" || got.etag == want.etag)
}

func describe(s objState) string {
	if !s.present {
		return "nothing (404)"
	}
	summary := ""
	if i := bytes.Index(s.body, []byte("SUMMARY:")); i >= 0 {
		summary, _, _ = strings.Cut(string(s.body[i+len("SUMMARY:"):]), "\r\n")
	}
	return fmt.Sprintf("%q (ETag %q)", summary, s.etag)
}

func pendingNote(p *objState) string {
	if p == nil {
		return " (no write was in flight)"
	}
	return " or the one in flight, " + describe(*p)
}

// importReport is the part of an import's JSON answer the tests read.
type importReport struct {
	Objects, Created, Updated, Unchanged, Rejected int
}

// importFile is an .ics file of n events; uids[i] is the UID of the i-th,
// in file order.
func importFile(n int) (body []byte, uids []string) {
	var b bytes.Buffer
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//fault tests//EN\r\n")
	for i := range n {
		uid := fmt.Sprintf("import-%06d@calbolt.test", i)
		uids = append(uids, uid)
		ev := eventBody(uid, fmt.Sprintf("imported event %d with a summary long enough to make the file a few megabytes", i), i%700)
		start := bytes.Index(ev, []byte("BEGIN:VEVENT"))
		end := bytes.Index(ev, []byte("END:VCALENDAR"))
		b.Write(ev[start:end])
	}
	b.WriteString("END:VCALENDAR\r\n")
	return b.Bytes(), uids
}

// TestCrashImport kills the server during a bulk import (POST of a 20,000
// event file, written 1,000 objects per transaction) into a new calendar,
// then checks the file: the calendar holds the first k×1,000 events of the
// file, each a valid object, nothing else; after a restart, sending the file
// again creates exactly the rest. Kill points are drawn over the time a
// whole import takes, upload included.
func TestCrashImport(t *testing.T) {
	const events = 20000
	n := iterations(t, 2)
	rng := crashRand(t)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "calbolt.db")
	addUser(t, dir, "alice")
	body, uids := importFile(events)
	c := &http.Client{Timeout: 5 * time.Minute}
	post := func(s *server, cal string) (int, importReport, error) {
		status, _, b, err := send(c, http.MethodPost, s.url+"dav/calendars/alice/"+cal+"/?create=1", "alice", body,
			map[string]string{"Content-Type": "text/calendar"})
		if err != nil {
			return 0, importReport{}, err
		}
		var rep importReport
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("import into %s = %d, not a JSON report: %v\n%s", cal, status, err, b)
		}
		return status, rep, nil
	}

	// How long a whole import takes, so the kills land inside one.
	s := startServer(t, dir)
	start := time.Now()
	status, rep, err := post(s, "whole")
	full := time.Since(start)
	if err != nil || status != http.StatusCreated || rep.Created != events {
		t.Fatalf("import of %d events = %d %+v %v, want 201 with all created", events, status, rep, err)
	}
	t.Logf("a whole import of %d events (%d KiB) takes %v", events, len(body)>>10, full.Round(time.Millisecond))

	var prefixes []int
	for it := range n {
		cal := fmt.Sprintf("import-%d", it)
		delay := time.Duration(rng.Int64N(int64(full) * 8 / 10))
		done := make(chan error, 1)
		go func() {
			_, _, err := post(s, cal)
			done <- err
		}()
		time.Sleep(delay)
		s.kill()
		<-done

		checkDataFile(t, dir)
		stored := importedUIDs(t, path, cal)
		k := len(stored)
		if k%ics.DefaultChunkSize != 0 || !slices.Equal(stored, sortedCopy(uids[:k])) {
			t.Fatalf("iteration %d (killed after %v): calendar %s holds %d objects, want the first k×%d events of the file",
				it, delay, cal, k, ics.DefaultChunkSize)
		}
		prefixes = append(prefixes, k)

		s = startServer(t, dir)
		start := time.Now()
		status, rep, err := post(s, cal)
		if k < events {
			// Aim the next kill by how long a whole import takes now.
			est := time.Since(start) * time.Duration(events) / time.Duration(events-k)
			full = (full + est) / 2
		}
		if err != nil || status/100 != 2 || rep.Created != events-k || rep.Unchanged != k || rep.Updated != 0 || rep.Rejected != 0 {
			t.Fatalf("iteration %d: import again after %d stored = %d %+v %v, want %d created, %d unchanged",
				it, k, status, rep, err, events-k, k)
		}
		if got := countObjects(t, c, s, cal); got != events {
			t.Fatalf("iteration %d: %s holds %d objects after the second import, want %d", it, cal, got, events)
		}
		t.Logf("iteration %d: killed after %v with %d of %d events stored; the second import completed it", it, delay, k, events)
		// Keep the file the size it was, so that every kill window is alike.
		if st, _, b, err := send(c, http.MethodDelete, s.url+"dav/calendars/alice/"+cal+"/", "alice", nil, nil); err != nil || st != http.StatusNoContent {
			t.Fatalf("DELETE %s = %d %v %s", cal, st, err, b)
		}
	}
	s.stop()
	checkDataFile(t, dir)
	t.Logf("%d kills mid-import left %v events", n, prefixes)
}

// importedUIDs opens the data file of a dead server and returns the sorted
// UIDs of cal's objects, checking the store's invariants and that each
// object is a valid calendar object resource with the UID it is indexed
// under. A calendar that does not exist holds nothing.
func importedUIDs(t *testing.T, path, cal string) []string {
	t.Helper()
	db, err := store.Open(path, &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if errs := db.Check(); len(errs) > 0 {
		t.Fatalf("store.Check after the crash: %v", errs)
	}
	c, err := db.Calendar("alice", cal)
	if err != nil {
		return nil // the kill came before the calendar was created
	}
	infos, err := db.ObjectInfos("alice", cal)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(infos))
	for i, o := range infos {
		names[i] = o.Name
	}
	objs, err := db.Objects("alice", cal, names)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		obj, err := calobj.Parse(o.Data, &c, nil)
		if err != nil || obj.UID != o.UID || !obj.Verbatim {
			t.Fatalf("stored object %s: %v; want a valid object with UID %s that needs no repair", o.Name, err, o.UID)
		}
		got = append(got, o.UID)
	}
	slices.Sort(got)
	return got
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// countObjects asks the server how many objects cal holds: the members a
// PROPFIND with Depth 1 lists besides the collection itself.
func countObjects(t *testing.T, c *http.Client, s *server, cal string) int {
	t.Helper()
	status, _, b, err := send(c, "PROPFIND", s.url+"dav/calendars/alice/"+cal+"/", "alice",
		[]byte(`<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>`),
		map[string]string{"Depth": "1", "Content-Type": "application/xml"})
	if err != nil || status != http.StatusMultiStatus {
		t.Fatalf("PROPFIND %s = %d %v", cal, status, err)
	}
	var ms struct {
		Responses []struct {
			Href string `xml:"DAV: href"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal(b, &ms); err != nil {
		t.Fatalf("PROPFIND %s: %v", cal, err)
	}
	n := 0
	for _, r := range ms.Responses {
		if !strings.HasSuffix(r.Href, "/") {
			n++
		}
	}
	return n
}
