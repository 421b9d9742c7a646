package ics

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/store"
)

// openStore returns a store in a temporary directory with user alice and
// her calendar "work" (events and tasks).
func openStore(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "calbolt.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, err := range db.Check() {
			t.Errorf("store invariant: %v", err)
		}
		db.Close()
	})
	if err := db.CreateUser(store.User{Name: "alice", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCalendar("alice", store.Calendar{Name: "work", Components: []string{"VEVENT", "VTODO"}}); err != nil {
		t.Fatal(err)
	}
	return db
}

// crlf turns a readable test calendar ("\n" line ends) into wire format.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// importString imports data into alice's calendar "work".
func importString(t testing.TB, st Store, data string, opts *Options) (*Report, error) {
	t.Helper()
	in := Input{Name: "test.ics", R: bytes.NewReader([]byte(data)), Size: int64(len(data))}
	return Import(context.Background(), st, "alice", "work", []Input{in}, opts)
}
