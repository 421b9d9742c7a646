package busytime_test

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/internal/caltest"
	"github.com/calbolt/calbolt/store"
)

func openStore(t *testing.T, users ...string) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "calbolt.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range users {
		if err := db.CreateUser(store.User{Name: u}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// The cache (per-object and per-calendar, per quarter) never changes an
// answer: random windows, across quarter boundaries, before and after
// writes and a change of the calendar's time zone, answer as without it.
func TestCacheAgreesWithDirect(t *testing.T) {
	db := openStore(t, "alice")
	objs := caltest.BusyObjects(t, 7, "c", 400)
	caltest.Load(t, db, "alice", "work", objs[:200])
	caltest.Load(t, db, "alice", "home", objs[200:])
	cached := busytime.New(db, nil)
	direct := busytime.New(db, &busytime.Options{CacheSize: -1})
	rng := rand.New(rand.NewPCG(1, 2))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(stage string, n int) {
		t.Helper()
		for range n {
			start := year.Add(time.Duration(rng.IntN(400*24)) * time.Hour).Add(-20 * 24 * time.Hour)
			end := start.Add(time.Duration(1+rng.IntN(200*24)) * time.Hour)
			got, err := cached.User("alice", "alice", start, end, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			want, err := direct.User("alice", "alice", start, end, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: User(%s, %s) cached = %d periods, direct = %d:\n%v\nwant\n%v", stage, start, end, len(got), len(want), got, want)
			}
		}
	}
	check("cold and warm", 60)

	// Rewrite every tenth object an hour later, and delete a few.
	for i := 0; i < 200; i += 10 {
		o := objs[i]
		o.Data = []byte(strings.ReplaceAll(string(o.Data), "T0", "T1"))
		if _, _, err := db.PutObject("alice", "work", o, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 5; i < 200; i += 50 {
		if err := db.DeleteObject("alice", "work", objs[i].Name, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	check("after writes", 60)

	// A calendar-timezone changes floating times; none here, but the
	// cache must start over and still agree.
	if _, err := db.UpdateCalendar("alice", "home", func(c *store.Calendar) error {
		c.Timezone = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("after a time zone change", 30)
}

// Under VisibilityGranted only grants count; the default lets every
// signed-in user look; nobody anonymous.
func TestVisibility(t *testing.T) {
	db := openStore(t, "alice", "bob", "carol")
	caltest.Load(t, db, "alice", "work", caltest.BusyObjects(t, 1, "w", 50))
	caltest.Load(t, db, "alice", "side", caltest.BusyObjects(t, 2, "s", 50))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 3, 0)
	open := busytime.New(db, nil)
	granted := busytime.New(db, &busytime.Options{Visibility: busytime.VisibilityGranted})
	if _, err := open.User("bob", "alice", start, end, "h"); err != nil {
		t.Errorf("open policy: bob sees alice = %v, want allowed", err)
	}
	if _, err := open.User("", "alice", start, end, "h"); err == nil {
		t.Errorf("open policy: anonymous sees alice, want ErrNotFound")
	}
	if _, err := granted.User("bob", "alice", start, end, "h"); err == nil {
		t.Errorf("granted policy without a grant: bob sees alice, want ErrNotFound")
	}
	if err := db.SetGrant("alice", store.Grant{Calendar: "side", Grantee: "bob", Access: store.AccessFreeBusy}); err != nil {
		t.Fatal(err)
	}
	side, err := granted.User("bob", "alice", start, end, "h")
	if err != nil {
		t.Fatal(err)
	}
	sideOnly, _ := granted.Calendar("alice", "alice", "side", start, end, "h")
	if !slices.Equal(side, sideOnly) {
		t.Errorf("bob with a grant on side sees %d periods, want side's %d", len(side), len(sideOnly))
	}
	if _, err := granted.Calendar("bob", "alice", "work", start, end, "h"); err == nil {
		t.Errorf("bob reads work's busy time without a grant on it")
	}
	if !granted.MayView("bob", "alice") || granted.MayView("carol", "alice") {
		t.Errorf("MayView: bob %v, carol %v; want true, false", granted.MayView("bob", "alice"), granted.MayView("carol", "alice"))
	}
	if _, err := granted.User(busytime.Operator, "alice", start, end, "h"); err != nil {
		t.Errorf("the operator sees alice = %v", err)
	}
	if err := busytime.CheckWindow(start, start.Add(busytime.MaxWindow+time.Second)); err == nil {
		t.Errorf("CheckWindow accepts more than MaxWindow")
	}
}

func TestResolve(t *testing.T) {
	db := openStore(t, "alice", "bob@example.org")
	if err := db.CreateUser(store.User{Name: "carol", Email: "Carol@Example.com"}); err != nil {
		t.Fatal(err)
	}
	svc := busytime.New(db, nil)
	for addr, want := range map[string]string{
		"mailto:alice@cal.example.net":   "alice",
		"MAILTO:ALICE@cal.example.net":   "alice",
		"alice":                          "alice",
		"mailto:bob@example.org":         "bob@example.org",
		"mailto:carol@example.com":       "carol",
		"mailto:carol@cal.example.net":   "carol",
		"mailto:alice@elsewhere.example": "",
		"mailto:dave@cal.example.net":    "",
		"mailto:":                        "",
	} {
		got, ok := svc.Resolve(addr, "cal.example.net:8443")
		if got != want || ok != (want != "") {
			t.Errorf("Resolve(%q) = %q, %v, want %q", addr, got, ok, want)
		}
	}
}

// A server reached under two host names gives a user without an e-mail
// address two addresses; both stay correct, and a declined invitation is
// free under the host it names.
func TestTwoHostNames(t *testing.T) {
	db := openStore(t, "alice")
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:d\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260310T090000Z\r\nDTEND:20260310T100000Z\r\nATTENDEE;PARTSTAT=DECLINED:mailto:alice@a.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	caltest.Load(t, db, "alice", "work", []store.Object{{Name: "d.ics", UID: "d", Component: "VEVENT",
		Span: store.Span{Start: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC).Unix(), End: time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC).Unix()}, Data: []byte(ev)}})
	svc := busytime.New(db, nil)
	start := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for range 2 {
		a, _ := svc.User("alice", "alice", start, start.AddDate(0, 0, 1), "a.example")
		b, _ := svc.User("alice", "alice", start, start.AddDate(0, 0, 1), "b.example:8443")
		if len(a) != 0 || len(b) != 1 {
			t.Errorf("declined as alice@a.example: busy %v under a.example, %v under b.example; want none, then the hour", a, b)
		}
	}
}
