package ics

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/store"
)

// Hashes that collide on purpose: the index must only ever use the hash as
// a hint, and split what the UIDs read back from the input tell apart.
var collidingHashes = map[string]func([]byte) uidKey{
	"all equal": func([]byte) uidKey { return uidKey{} },
	"by length": func(b []byte) uidKey { return uidKey{uint64(len(b) % 3)} },
	"first byte": func(b []byte) uidKey {
		if len(b) > 0 && b[0] < 'm' {
			return uidKey{0, 1}
		}
		return uidKey{}
	},
}

// TestHashCollisions imports UIDs whose hashes are all equal: each UID
// stays a resource of its own, with exactly its own master and overrides;
// a broken UID does not take its hash mates down with it; identical UIDs
// are still merged; and a second import changes nothing.
func TestHashCollisions(t *testing.T) {
	data := crlf(calendar(
		event("alpha", "DTSTART:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=5", "SUMMARY:alpha master"),
		event("beta", "DTSTART:20260105T110000Z", "SUMMARY:beta"),
		event("", "DTSTART:20260105T120000Z", "SUMMARY:no uid one"),
		event("gamma", "DTSTART:20260105T130000Z", "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:gamma master"),
		event("broken", "DTSTART:20260105T140000Z", "RRULE:FREQ=SOMETIMES"),
		event("", "DTSTART:20260105T150000Z", "SUMMARY:no uid two"),
		event("alpha", "RECURRENCE-ID:20260106T100000Z", "DTSTART:20260106T120000Z", "SUMMARY:alpha moved"),
		event("gamma", "RECURRENCE-ID:20260112T130000Z", "DTSTART:20260112T150000Z", "SUMMARY:gamma moved"),
		event("delta", "RECURRENCE-ID:20260107T100000Z", "DTSTART:20260107T100000Z", "SUMMARY:delta orphan"),
	) + "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//other//EN\n" + event("beta", "RECURRENCE-ID:20260105T110000Z", "DTSTART:20260105T113000Z", "SUMMARY:beta moved") + "END:VCALENDAR\n")

	reference := importAll(t, data, nil)
	if reference.rep.Objects != 6 || reference.rep.Rejected != 1 || len(reference.objs) != 6 {
		t.Fatalf("reference import = %+v, %d stored; want 6 objects, 1 rejected", reference.rep, len(reference.objs))
	}
	for name, h := range collidingHashes {
		t.Run(name, func(t *testing.T) {
			got := importAll(t, data, h)
			if got.rep.Objects != 6 || got.rep.Created != 6 || got.rep.Rejected != 1 || got.rep.Components != 10 {
				t.Fatalf("report = %+v; want 10 components, 6 objects created, 1 rejected", got.rep)
			}
			if rej := got.rep.Rejections[0]; rej.UID != "broken" || rej.Line != reference.rep.Rejections[0].Line {
				t.Fatalf("rejection = %+v, want UID broken at line %d", rej, reference.rep.Rejections[0].Line)
			}
			if !maps2Equal(got.objs, reference.objs) {
				t.Fatalf("stored with colliding hashes:\n%v\nwant as without:\n%v", keys(got.objs), keys(reference.objs))
			}
			for uid, want := range map[string][]string{
				"alpha": {"alpha master", "alpha moved"},
				"beta":  {"beta", "beta moved"},
				"gamma": {"gamma master", "gamma moved"},
				"delta": {"delta orphan"},
			} {
				var sums []string
				for _, line := range strings.Split(got.objs[uid], "\r\n") {
					if s, ok := strings.CutPrefix(line, "SUMMARY:"); ok {
						sums = append(sums, s)
					}
				}
				if !slices.Equal(sums, want) {
					t.Errorf("%s holds %q, want %q", uid, sums, want)
				}
			}
			if got.again.Unchanged != 6 || got.again.Created+got.again.Updated != 0 {
				t.Fatalf("second import = %+v; want 6 unchanged", got.again)
			}
		})
	}
}

// TestHashCollisionsCorpus imports every corpus file with colliding
// hashes and checks the store ends up exactly as with the real hash.
func TestHashCollisionsCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "import", "*.ics"))
	if len(files) == 0 {
		t.Skip("no corpus")
	}
	for _, file := range files {
		in := readInput(t, filepath.Base(file))
		data := string(readAll(t, in))
		t.Run(filepath.Base(file), func(t *testing.T) {
			want := importAll(t, data, nil)
			for name, h := range collidingHashes {
				got := importAll(t, data, h)
				if got.rep.Objects != want.rep.Objects || got.rep.Rejected != want.rep.Rejected || got.rep.Components != want.rep.Components {
					t.Errorf("%s: report %+v, want %+v", name, got.rep, want.rep)
				}
				if !maps2Equal(got.objs, want.objs) {
					t.Errorf("%s: stored %v, want %v", name, keys(got.objs), keys(want.objs))
				}
				if !slices.Equal(rejectionKeys(got.rep), rejectionKeys(want.rep)) {
					t.Errorf("%s: rejections %v, want %v", name, rejectionKeys(got.rep), rejectionKeys(want.rep))
				}
			}
		})
	}
}

type imported struct {
	rep, again *Report
	objs       map[string]string // data by UID
}

// importAll imports data twice into a fresh store, with uidHash when not
// nil, into a calendar that takes every component kind.
func importAll(t *testing.T, data string, uidHash func([]byte) uidKey) imported {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "c.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.CreateUser(store.User{Name: "alice", PasswordHash: "x"})
	if _, err := db.CreateCalendar("alice", store.Calendar{Name: "work", Components: []string{"VEVENT", "VTODO", "VJOURNAL"}}); err != nil {
		t.Fatal(err)
	}
	opts := &Options{ChunkSize: 2, uidHash: uidHash}
	in := []Input{{Name: "test.ics", R: strings.NewReader(data), Size: int64(len(data))}}
	rep, err := Import(context.Background(), db, "alice", "work", in, opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	again, err := Import(context.Background(), db, "alice", "work", in, opts)
	if err != nil {
		t.Fatalf("second Import: %v", err)
	}
	if problems := db.Check(); len(problems) > 0 {
		t.Fatalf("store invariants: %v", problems)
	}
	infos, _ := db.ObjectInfos("alice", "work")
	names := make([]string, len(infos))
	for i, o := range infos {
		names[i] = o.Name
	}
	objs, err := db.Objects("alice", "work", names)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, o := range objs {
		if _, dup := m[o.UID]; dup {
			t.Fatalf("two objects with UID %q", o.UID)
		}
		m[o.UID] = o.Name + "\n" + string(o.Data)
	}
	return imported{rep, again, m}
}

func maps2Equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func rejectionKeys(r *Report) []string {
	var ks []string
	for _, rej := range r.Rejections {
		ks = append(ks, fmt.Sprintf("%s:%d %s %s %s: %s", rej.File, rej.Line, rej.UID, rej.Component, rej.Kind, rej.Reason))
	}
	slices.Sort(ks)
	return ks
}

// FuzzReadBack checks what the import pass relies on to tell colliding
// UIDs apart: reading a component back from its bytes finds the UID the
// index pass hashed (or made), and the reason a broken one is broken.
func FuzzReadBack(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "import", "*.ics"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID: \nUID:a\n b\nBEGIN:VALARM\nEND:VEVENT\nBEGIN:VTODO\nEND:VCALENDAR\nBEGIN:VCALENDAR\nBEGIN:vevent\nEND:VEVENT\nBEGIN:VEVENT\nUID:x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix := newIndex()
		if err := ix.scan(0, "f.ics", bytes.NewReader(data), nil); err != nil {
			t.Fatal(err)
		}
		keys := slices.Clone(ix.keys)
		ix.done()
		im := &importer{ix: ix, inputs: []Input{{Name: "f.ics", R: bytes.NewReader(data), Size: int64(len(data))}}}
		heads := 0
		for i, c := range ix.refs {
			if c.has(fFirst) {
				heads++
			}
			if !c.has(fKeyed) && !c.has(fBroken) {
				continue // a VTIMEZONE
			}
			raw, err := ix.readComponent(im.inputs, c)
			if err != nil {
				t.Fatal(err)
			}
			for _, from := range [][]byte{raw, nil} {
				info, err := im.readBack(c, from)
				if err != nil {
					t.Fatalf("component %d at line %d: %v", i, c.line, err)
				}
				if c.has(fKeyed) && ix.hash([]byte(info.uid)) != keys[i] {
					t.Fatalf("component %d at line %d reads back with UID %q, which is not the one indexed", i, c.line, info.uid)
				}
				if c.has(fKeyed) && info.uid == "" {
					t.Fatalf("component %d at line %d reads back without UID", i, c.line)
				}
				if c.has(fBroken) != (info.broken != "") || info.broken == "broken component" {
					t.Fatalf("component %d at line %d: broken %v, read back %q", i, c.line, c.has(fBroken), info.broken)
				}
			}
		}
		if heads != ix.groups {
			t.Fatalf("%d chain heads, %d groups", heads, ix.groups)
		}
	})
}
