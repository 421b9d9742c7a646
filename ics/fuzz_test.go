package ics

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/store"
)

// FuzzImport feeds arbitrary files to the whole import path, into a real
// store: no panic; the only run-level error is a file without VCALENDAR;
// the store holds exactly one resource per accepted UID, each of which
// validates again as a PUT would; nothing is half-written (the store's
// invariants hold); and a second import changes nothing.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "import", "*.ics"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(crlf(calendar(event("a", "DTSTART:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=3"), event("a", "RECURRENCE-ID:20260106T100000Z", "DTSTART:20260106T120000Z")))))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=W. Europe Standard Time :20260101T100000\nEND:VEVENT\nBEGIN:VEVENT\nUID:x\nEND:VTODO\nEND:VCALENDAR\nBEGIN:VCALENDAR\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := store.Open(filepath.Join(t.TempDir(), "f.db"), &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.CreateUser(store.User{Name: "alice", PasswordHash: "x"})
		cal, err := db.CreateCalendar("alice", store.Calendar{Name: "work", Components: []string{"VEVENT", "VTODO", "VJOURNAL"}})
		if err != nil {
			t.Fatal(err)
		}
		in := []Input{{Name: "f.ics", R: bytes.NewReader(data), Size: int64(len(data))}}
		rep, err := Import(context.Background(), db, "alice", "work", in, &Options{ChunkSize: 3})
		if err != nil {
			if !errors.Is(err, ErrNoCalendarData) {
				t.Fatalf("Import: %v", err)
			}
			return
		}
		if problems := db.Check(); len(problems) > 0 {
			t.Fatalf("store invariants after an import: %v", problems)
		}
		after, err := db.Calendar("alice", "work")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Created != rep.Objects || after.Objects != rep.Objects {
			t.Fatalf("report %+v, calendar holds %d objects; want created = objects = stored", rep, after.Objects)
		}
		infos, _ := db.ObjectInfos("alice", "work")
		names := make([]string, len(infos))
		for i, o := range infos {
			names[i] = o.Name
		}
		objs, _ := db.Objects("alice", "work", names)
		uids := map[string]bool{}
		for _, o := range objs {
			if uids[o.UID] {
				t.Fatalf("two stored objects with UID %q", o.UID)
			}
			uids[o.UID] = true
			again, err := calobj.Parse(o.Data, &cal, nil)
			if err != nil {
				t.Fatalf("stored object %s does not validate again: %v\n%q", o.Name, err, o.Data)
			}
			if again.UID != o.UID || again.Component != o.Component || again.Span != o.Span {
				t.Fatalf("stored object %s re-parses as %s/%s %+v, stored as %s/%s %+v", o.Name, again.UID, again.Component, again.Span, o.UID, o.Component, o.Span)
			}
		}
		rep2, err := Import(context.Background(), db, "alice", "work", in, &Options{ChunkSize: 3})
		if err != nil || rep2.Unchanged != rep.Objects || rep2.Created+rep2.Updated != 0 {
			t.Fatalf("second import = %+v, %v; want %d unchanged", rep2, err, rep.Objects)
		}
		if again, _ := db.Calendar("alice", "work"); again.SyncToken() != after.SyncToken() {
			t.Fatalf("a second import moved the sync token")
		}
	})
}
