package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// openBolt opens a fresh bbolt store in a temporary directory. NoSync keeps
// tests fast; Check runs when the test ends, so every test also proves the
// invariants hold after whatever it did.
func openBolt(t *testing.T) *DB {
	t.Helper()
	return openBoltAt(t, filepath.Join(t.TempDir(), "calbolt.db"))
}

func openBoltAt(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(path, &Options{NoSync: true})
	if err != nil {
		tb.Fatalf("Open(%q) = %v", path, err)
	}
	tb.Cleanup(func() {
		for _, err := range db.Check() {
			tb.Errorf("Check() after test: %v", err)
		}
		if err := db.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return db
}

func mustUser(tb testing.TB, db *DB, name string) {
	tb.Helper()
	if err := db.CreateUser(User{Name: name, PasswordHash: "hash-" + name}); err != nil {
		tb.Fatalf("CreateUser(%q) = %v", name, err)
	}
}

func mustCalendar(tb testing.TB, db *DB, owner, name string) Calendar {
	tb.Helper()
	cal, err := db.CreateCalendar(owner, Calendar{Name: name, DisplayName: "Cal " + name})
	if err != nil {
		tb.Fatalf("CreateCalendar(%q, %q) = %v", owner, name, err)
	}
	return cal
}

// event builds an object whose bytes depend on uid and rev, so different
// revisions get different ETags.
func event(name, uid, rev string, start, end int64) Object {
	data := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", uid, rev)
	return Object{Name: name, UID: uid, Component: "VEVENT", Span: Span{start, end}, Data: []byte(data)}
}

func mustPut(tb testing.TB, db *DB, owner, cal string, obj Object) Object {
	tb.Helper()
	got, _, err := db.PutObject(owner, cal, obj, Condition{})
	if err != nil {
		tb.Fatalf("PutObject(%q, %q, %q) = %v", owner, cal, obj.Name, err)
	}
	return got
}

func mustCal(tb testing.TB, db *DB, owner, name string) Calendar {
	tb.Helper()
	cal, err := db.Calendar(owner, name)
	if err != nil {
		tb.Fatalf("Calendar(%q, %q) = %v", owner, name, err)
	}
	return cal
}

// names returns the sorted names of objs.
func names(objs []Object) []string {
	var ns []string
	for _, o := range objs {
		ns = append(ns, o.Name)
	}
	slices.Sort(ns)
	return ns
}

func wantErr(tb testing.TB, call string, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Errorf("%s = %v, want %v", call, err, want)
	}
}
