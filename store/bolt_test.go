package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Tests of what is particular to the bbolt backend: the file, its lock,
// reopening, backups, and Check's own detection of corruption.

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calbolt.db")
	openBoltAt(t, path)
	for _, opts := range []*Options{{Timeout: 50 * time.Millisecond}, {Timeout: 50 * time.Millisecond, ReadOnly: true}} {
		start := time.Now()
		db, err := Open(path, opts)
		if err == nil {
			db.Close()
		}
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "another calbolt process") {
			t.Errorf("Open(held file, %+v) = %v, want ErrLocked naming another calbolt process", opts, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Open(held file) took %s, want about the 50ms timeout", d)
		}
	}
}

func TestOpenFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calbolt.db")
	openBoltAt(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		t.Errorf("file mode = %v, want no group/other access (0600)", m)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing", "calbolt.db"), nil); err == nil {
		t.Errorf("Open(path in missing directory) = nil error, want one (the caller creates directories)")
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calbolt.db")
	db, err := Open(path, nil) // with fsync: what a real server does
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	mustPut(t, db, "alice", "work", event("a", "a", "1", 0, 10))
	mustPut(t, db, "alice", "work", event("b", "b", "1", 0, 10))
	before := mustCal(t, db, "alice", "work")
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	db = openBoltAt(t, path)
	after := mustCal(t, db, "alice", "work")
	if after.ID != before.ID || after.SyncSeq != before.SyncSeq || after.Objects != 2 {
		t.Errorf("Calendar after reopen = ID %q seq %d objects %d, want %q %d 2", after.ID, after.SyncSeq, after.Objects, before.ID, before.SyncSeq)
	}
	mustPut(t, db, "alice", "work", event("c", "c", "1", 0, 10))
	ch, tok, _, err := db.Changes("alice", "work", before.SyncToken(), 0)
	if got := changeNames(ch); !slices.Equal(got, []string{"c"}) || err != nil {
		t.Errorf("Changes(token from before reopen) = %v, %v, want [c]", got, err)
	}
	_, seq, _ := ParseSyncToken(tok)
	if seq <= before.SyncSeq {
		t.Errorf("token after reopen has seq %d, want > %d", seq, before.SyncSeq)
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calbolt.db")
	db, err := Open(path, &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	db.Close()

	ro, err := Open(path, &Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open(ReadOnly) = %v", err)
	}
	defer ro.Close()
	if _, err := ro.Calendar("alice", "work"); err != nil {
		t.Errorf("Calendar on read-only store = %v", err)
	}
	if _, _, err := ro.PutObject("alice", "work", event("a", "a", "1", 0, 1), Condition{}); err == nil {
		t.Errorf("PutObject on read-only store = nil error, want one")
	}
	if errs := ro.Check(); errs != nil {
		t.Errorf("Check() on read-only store = %v", errs)
	}
}

func TestBackup(t *testing.T) {
	db := openBolt(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	for _, n := range []string{"a", "b", "c"} {
		mustPut(t, db, "alice", "work", event(n, n, "1", 0, 10))
	}
	if err := db.DeleteObject("alice", "work", "b", Condition{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup() = %d, %v, want %d bytes", n, err, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	bk := openBoltAt(t, path) // its cleanup runs Check on the backup
	want := mustCal(t, db, "alice", "work")
	got := mustCal(t, bk, "alice", "work")
	if got.ID != want.ID || got.SyncSeq != want.SyncSeq || got.Objects != want.Objects {
		t.Errorf("backup calendar = %+v, want %+v", got, want)
	}
	for _, name := range []string{"a", "c"} {
		o1, _ := db.Object("alice", "work", name)
		o2, err := bk.Object("alice", "work", name)
		if err != nil || !bytes.Equal(o1.Data, o2.Data) || o1.ETag != o2.ETag {
			t.Errorf("backup Object(%s) = %+v, %v, want %+v", name, o2, err, o1)
		}
	}
	ch1, t1, _, _ := db.Changes("alice", "work", FormatSyncToken(want.ID, 0), 0)
	ch2, t2, _, err := bk.Changes("alice", "work", FormatSyncToken(want.ID, 0), 0)
	if !slices.Equal(ch1, ch2) || t1 != t2 || err != nil {
		t.Errorf("backup Changes = %+v, %q, %v, want %+v, %q", ch2, t2, err, ch1, t1)
	}
}

// TestCheckFindsViolations corrupts a healthy store in one way at a time and
// expects Check to report it.
func TestCheckFindsViolations(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(c *calTx) error
		want    string
	}{
		{"missing uid entry", func(c *calTx) error { return c.uids.Delete([]byte("A")) }, `uid "A" indexed to ""`},
		{"stray uid entry", func(c *calTx) error { return c.uids.Put([]byte("Z"), []byte("a.ics")) }, `uid "Z" indexed to "a.ics"`},
		{"missing span entry", func(c *calTx) error { return c.spans.Delete(spanKey(0, "a.ics")) }, "span index entry missing"},
		{"wrong span end", func(c *calTx) error { return c.spans.Put(spanKey(0, "a.ics"), spanValue(99)) }, "span index entry missing or wrong"},
		{"missing change entry", func(c *calTx) error { return c.changes.Delete(seqKey(1)) }, "no upsert change"},
		{"extra change entry", func(c *calTx) error {
			return c.changes.Put(seqKey(2), changeValue(ChangeKindUpsert, "a.ics"))
		}, "upsert change 2"},
		{"change beyond seq", func(c *calTx) error {
			return c.changes.Put(seqKey(50), changeValue(ChangeKindDelete, "gone.ics"))
		}, "beyond sync seq"},
		{"tombstone of a live object", func(c *calTx) error { return c.tomb.Put([]byte("a.ics"), seqKey(3)) }, "also tombstoned"},
		{"data changed behind the info", func(c *calTx) error { return c.objs.Put([]byte("a.ics"), []byte("other")) }, "size"},
		{"data without info", func(c *calTx) error { return c.objs.Put([]byte("x.ics"), []byte("x")) }, "without info"},
		{"wrong object count", func(c *calTx) error { c.st.objects = 5; return c.flush() }, "state says 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(filepath.Join(t.TempDir(), "calbolt.db"), &Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			mustUser(t, db, "alice")
			mustCalendar(t, db, "alice", "work")
			mustPut(t, db, "alice", "work", event("a.ics", "A", "1", 0, 10))
			mustPut(t, db, "alice", "work", event("b.ics", "B", "1", 0, 10))
			if err := db.DeleteObject("alice", "work", "b.ics", Condition{}); err != nil {
				t.Fatal(err)
			}
			if errs := db.Check(); errs != nil {
				t.Fatalf("Check() before corruption = %v", errs)
			}
			err = db.bolt.Update(func(tx *bolt.Tx) error {
				c, err := loadCal(tx, "alice", "work")
				if err != nil {
					return err
				}
				return tt.corrupt(c)
			})
			if err != nil {
				t.Fatal(err)
			}
			errs := db.Check()
			found := false
			for _, e := range errs {
				found = found || strings.Contains(e.Error(), tt.want)
			}
			if !found {
				t.Errorf("Check() = %v, want a violation containing %q", errs, tt.want)
			}
		})
	}
}
