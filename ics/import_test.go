package ics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/store"
)

// event renders a VEVENT with the given extra lines.
func event(uid string, lines ...string) string {
	s := "BEGIN:VEVENT\n"
	if uid != "" {
		s += "UID:" + uid + "\n"
	}
	s += "DTSTAMP:20250101T000000Z\n"
	for _, l := range lines {
		s += l + "\n"
	}
	return s + "END:VEVENT\n"
}

func calendar(parts ...string) string {
	return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//test//EN\n" + strings.Join(parts, "") + "END:VCALENDAR\n"
}

// stored returns alice's objects in "work" by UID, decoded.
func stored(t *testing.T, db *store.DB) map[string]*ical.Calendar {
	t.Helper()
	infos, err := db.ObjectInfos("alice", "work")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(infos))
	for i, o := range infos {
		names[i] = o.Name
	}
	objs, err := db.Objects("alice", "work", names)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*ical.Calendar{}
	for _, o := range objs {
		ic, err := calobj.Decode(o.Data)
		if err != nil {
			t.Fatalf("stored object %s does not decode: %v", o.Name, err)
		}
		m[o.UID] = ic
	}
	return m
}

func components(ic *ical.Calendar, name string) []*ical.Component {
	var out []*ical.Component
	for _, c := range ic.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

func TestSplitByUID(t *testing.T) {
	db := openStore(t)
	// Google puts overrides anywhere, here after an unrelated event and in
	// a second VCALENDAR; b's override has no master (RFC 4791 §4.1 allows
	// that resource).
	data := crlf(calendar(
		event("a", "DTSTART:20260105T100000Z", "RRULE:FREQ=DAILY;COUNT=5", "SUMMARY:daily"),
		event("c", "DTSTART:20260106T100000Z"),
		event("a", "RECURRENCE-ID:20260107T100000Z", "DTSTART:20260107T120000Z", "SUMMARY:moved"),
	) + calendar(
		event("a", "RECURRENCE-ID:20260108T100000Z", "DTSTART:20260108T150000Z"),
		event("b", "RECURRENCE-ID:20260109T100000Z", "DTSTART:20260109T100000Z", "SUMMARY:orphan"),
	))
	rep, err := importString(t, db, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Components != 5 || rep.Objects != 3 || rep.Created != 3 || rep.Rejected != 0 {
		t.Fatalf("report = %+v, want 5 components, 3 objects created", rep)
	}
	got := stored(t, db)
	if n := len(components(got["a"], ical.CompEvent)); n != 3 {
		t.Errorf("resource a has %d VEVENTs, want the master and 2 overrides", n)
	}
	if c := components(got["a"], ical.CompEvent)[0]; c.Props.Get(ical.PropRecurrenceID) != nil {
		t.Errorf("resource a does not start with its master")
	}
	if b := components(got["b"], ical.CompEvent); len(b) != 1 || b[0].Props.Get(ical.PropRecurrenceID) == nil {
		t.Errorf("orphan override b = %v, want one VEVENT with RECURRENCE-ID", b)
	}
}

func TestTimezonesPerResource(t *testing.T) {
	db := openStore(t)
	vtz := func(id string) string {
		return "BEGIN:VTIMEZONE\nTZID:" + id + "\nBEGIN:STANDARD\nDTSTART:19700101T000000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n"
	}
	data := crlf(calendar(
		vtz("Zone A"), vtz("Zone B"), vtz("Zone C"),
		event("a", "DTSTART;TZID=Zone A:20260105T100000", "DTEND;TZID=Zone B:20260105T110000"),
		event("c", "DTSTART;TZID=Zone C:20260105T100000"),
		event("u", "DTSTART:20260105T100000Z"),
	))
	if _, err := importString(t, db, data, nil); err != nil {
		t.Fatal(err)
	}
	got := stored(t, db)
	want := map[string][]string{"a": {"Zone A", "Zone B"}, "c": {"Zone C"}, "u": nil}
	for uid, zones := range want {
		var have []string
		for _, z := range components(got[uid], ical.CompTimezone) {
			have = append(have, z.Props.Get(ical.PropTimezoneID).Value)
		}
		if fmt.Sprint(have) != fmt.Sprint(zones) {
			t.Errorf("resource %s carries VTIMEZONEs %v, want %v", uid, have, zones)
		}
	}
}

func TestRepairs(t *testing.T) {
	tests := []struct {
		name  string
		data  string
		want  string // repair kind
		check func(t *testing.T, got map[string]*ical.Calendar)
	}{
		{
			name: "Windows TZID",
			data: calendar("BEGIN:VTIMEZONE\nTZID:W. Europe Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n",
				event("w", "DTSTART;TZID=W. Europe Standard Time:20260105T100000")),
			want: RepairWindowsTZID,
			check: func(t *testing.T, got map[string]*ical.Calendar) {
				ev := components(got["w"], ical.CompEvent)[0]
				if tz := ev.Props.Get(ical.PropDateTimeStart).Params.Get(ical.ParamTimezoneID); tz != "Europe/Berlin" {
					t.Errorf("DTSTART TZID = %q, want Europe/Berlin", tz)
				}
				if tz := components(got["w"], ical.CompTimezone)[0].Props.Get(ical.PropTimezoneID).Value; tz != "Europe/Berlin" {
					t.Errorf("VTIMEZONE TZID = %q, want Europe/Berlin", tz)
				}
			},
		},
		{
			name: "TZID with a trailing space",
			data: calendar(event("s", "DTSTART;TZID=Europe/Paris :20260105T100000")),
			want: RepairTZIDSpaces,
			check: func(t *testing.T, got map[string]*ical.Calendar) {
				ev := components(got["s"], ical.CompEvent)[0]
				if tz := ev.Props.Get(ical.PropDateTimeStart).Params.Get(ical.ParamTimezoneID); tz != "Europe/Paris" {
					t.Errorf("DTSTART TZID = %q, want Europe/Paris", tz)
				}
			},
		},
		{
			name: "missing DTSTAMP",
			data: calendar("BEGIN:VEVENT\nUID:d\nDTSTART:20260105T100000Z\nLAST-MODIFIED:20240203T040506Z\nEND:VEVENT\n"),
			want: RepairDTSTAMP,
			check: func(t *testing.T, got map[string]*ical.Calendar) {
				ev := components(got["d"], ical.CompEvent)[0]
				if v := ev.Props.Get(ical.PropDateTimeStamp).Value; v != "20240203T040506Z" {
					t.Errorf("DTSTAMP = %s, want LAST-MODIFIED's 20240203T040506Z", v)
				}
			},
		},
		{
			name: "missing UID",
			data: calendar(event("", "DTSTART:20260105T100000Z", "SUMMARY:anonymous")),
			want: RepairUID,
			check: func(t *testing.T, got map[string]*ical.Calendar) {
				if len(got) != 1 {
					t.Fatalf("stored %d objects, want 1", len(got))
				}
				for uid := range got {
					if !strings.HasPrefix(uid, "calbolt-import-") {
						t.Errorf("made-up UID %q", uid)
					}
				}
			},
		},
		{
			name: "empty lines",
			data: "\n" + calendar(event("e", "DTSTART:20260105T100000Z", "", "SUMMARY:x")) + "\n\n",
			want: RepairEmptyLines,
		},
		{
			name: "identical duplicate",
			data: calendar(event("x", "DTSTART:20260105T100000Z")) + calendar(event("x", "DTSTART:20260105T100000Z")),
			want: RepairDuplicate,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStore(t)
			rep, err := importString(t, db, crlf(tt.data), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Repairs[tt.want] == 0 || rep.Rejected != 0 || rep.Objects != 1 {
				t.Fatalf("report = %+v, want one object and the repair %q", rep, tt.want)
			}
			if tt.check != nil {
				tt.check(t, stored(t, db))
			}
			// Repaired the same way twice: a re-import changes nothing.
			again, err := importString(t, db, crlf(tt.data), nil)
			if err != nil || again.Unchanged != 1 {
				t.Fatalf("second import = %+v, %v; want 1 unchanged", again, err)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name string
		data string
		line int
		kind string
	}{
		{"no DTSTART", calendar(event("ok", "DTSTART:20260105T100000Z"), event("bad", "SUMMARY:x")), 9, string(calobj.KindCalendarData)},
		{"unterminated component", calendar(event("ok", "DTSTART:20260105T100000Z") + "BEGIN:VEVENT\nUID:bad\nDTSTART:20260105T100000Z\n"), 9, KindSyntax},
		{"wrong END", calendar(event("ok", "DTSTART:20260105T100000Z"), "BEGIN:VEVENT\nUID:bad\nDTSTART:20260105T100000Z\nEND:VTODO\nEND:VEVENT\n"), 9, KindSyntax},
		{"bad RRULE", calendar(event("ok", "DTSTART:20260105T100000Z"), event("bad", "DTSTART:20260105T100000Z", "RRULE:FREQ=SOMETIMES")), 9, string(calobj.KindCalendarData)},
		{"unbounded instances", calendar(event("ok", "DTSTART:20260105T100000Z"), event("bad", "DTSTART:20260105T100000Z", "RRULE:FREQ=MINUTELY;COUNT=50000")), 9, string(calobj.KindMaxInstances)},
		{"journal in an event calendar", calendar(event("ok", "DTSTART:20260105T100000Z"), "BEGIN:VJOURNAL\nUID:bad\nDTSTAMP:20250101T000000Z\nEND:VJOURNAL\n"), 9, string(calobj.KindComponent)},
		{"garbage between calendars", calendar(event("ok", "DTSTART:20260105T100000Z")) + "hello\nworld\n", 10, KindSyntax},
		{"two masters", calendar(event("ok", "DTSTART:20260105T100000Z"), event("bad", "DTSTART:20260105T100000Z"), event("bad", "DTSTART:20260106T100000Z")), 9, string(calobj.KindObjectResource)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStore(t)
			rep, err := importString(t, db, crlf(tt.data), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Objects != 1 || rep.Created != 1 || rep.Rejected != 1 {
				t.Fatalf("report = %+v, want 1 created and 1 rejected", rep)
			}
			rej := rep.Rejections[0]
			if rej.Line != tt.line || rej.Kind != tt.kind || rej.Reason == "" || rej.File != "test.ics" {
				t.Fatalf("rejection = %+v, want test.ics line %d kind %s with a reason", rej, tt.line, tt.kind)
			}
			got := stored(t, db)
			if _, ok := got["ok"]; !ok || len(got) != 1 {
				t.Fatalf("stored %d objects, want only ok", len(got))
			}
		})
	}
}

func TestIdempotentAndUpdates(t *testing.T) {
	db := openStore(t)
	var parts []string
	for i := range 25 {
		parts = append(parts, event(fmt.Sprintf("e%d", i), "DTSTART:20260105T100000Z", fmt.Sprintf("SUMMARY:event %d", i)))
	}
	data := crlf(calendar(parts...))
	opts := &Options{ChunkSize: 10}
	rep, err := importString(t, db, data, opts)
	if err != nil || rep.Created != 25 {
		t.Fatalf("first import = %+v, %v; want 25 created", rep, err)
	}
	before, _ := db.Calendar("alice", "work")
	rep, err = importString(t, db, data, opts)
	if err != nil || rep.Unchanged != 25 || rep.Created+rep.Updated != 0 {
		t.Fatalf("second import = %+v, %v; want 25 unchanged", rep, err)
	}
	after, _ := db.Calendar("alice", "work")
	if before.SyncToken() != after.SyncToken() {
		t.Fatalf("an unchanged import moved the sync token from %s to %s", before.SyncToken(), after.SyncToken())
	}
	changed := strings.Replace(data, "SUMMARY:event 7\r\n", "SUMMARY:event seven\r\n", 1)
	rep, err = importString(t, db, changed, opts)
	if err != nil || rep.Updated != 1 || rep.Unchanged != 24 {
		t.Fatalf("import of a changed event = %+v, %v; want 1 updated, 24 unchanged", rep, err)
	}
	final, _ := db.Calendar("alice", "work")
	changes, _, _, err := db.Changes("alice", "work", after.SyncToken(), 0)
	if err != nil || len(changes) != 1 || changes[0].Name != "e7.ics" {
		t.Fatalf("changes since the second import = %+v, %v; want e7.ics only", changes, err)
	}
	if final.SyncToken() == after.SyncToken() {
		t.Fatal("an update did not advance the sync token")
	}
}

// failingStore fails PutObjects on its failAt-th call.
type failingStore struct {
	*store.DB
	calls, failAt int
}

var errDisk = errors.New("disk on fire")

func (f *failingStore) PutObjects(owner, calendar string, objs []store.Object) (store.ImportResult, error) {
	f.calls++
	if f.calls == f.failAt {
		return store.ImportResult{}, errDisk
	}
	return f.DB.PutObjects(owner, calendar, objs)
}

func TestChunkAtomicity(t *testing.T) {
	db := openStore(t)
	var parts []string
	for i := range 30 {
		parts = append(parts, event(fmt.Sprintf("e%02d", i), "DTSTART:20260105T100000Z"))
	}
	data := crlf(calendar(parts...))
	fs := &failingStore{DB: db, failAt: 2}
	rep, err := importString(t, fs, data, &Options{ChunkSize: 10, Workers: 2})
	if !errors.Is(err, errDisk) || rep.Error == "" {
		t.Fatalf("import with a failing second chunk = %v (report error %q), want errDisk", err, rep.Error)
	}
	got := stored(t, db)
	if len(got) != 10 {
		t.Fatalf("after a failed second chunk the store holds %d objects, want the first chunk's 10", len(got))
	}
	for i := range 10 {
		if _, ok := got[fmt.Sprintf("e%02d", i)]; !ok {
			t.Errorf("e%02d of the first chunk is missing", i)
		}
	}
	// Re-running completes the import.
	rep, err = importString(t, db, data, &Options{ChunkSize: 10})
	if err != nil || rep.Unchanged != 10 || rep.Created != 20 {
		t.Fatalf("re-run = %+v, %v; want 10 unchanged, 20 created", rep, err)
	}
}

func TestStrictAndDryRun(t *testing.T) {
	good := calendar(event("a", "DTSTART:20260105T100000Z"), event("b", "DTSTART:20260105T100000Z"))
	bad := calendar(event("a", "DTSTART:20260105T100000Z"), event("b", "SUMMARY:no start"))

	t.Run("strict refuses everything", func(t *testing.T) {
		db := openStore(t)
		rep, err := importString(t, db, crlf(bad), &Options{Strict: true})
		if !errors.Is(err, ErrStrict) || rep.Rejected != 1 || rep.Created != 0 {
			t.Fatalf("strict import = %+v, %v; want ErrStrict, 1 rejected, none created", rep, err)
		}
		if got := stored(t, db); len(got) != 0 {
			t.Fatalf("a failed strict import stored %d objects", len(got))
		}
	})
	t.Run("strict writes a clean file", func(t *testing.T) {
		db := openStore(t)
		rep, err := importString(t, db, crlf(good), &Options{Strict: true})
		if err != nil || rep.Created != 2 {
			t.Fatalf("strict import = %+v, %v; want 2 created", rep, err)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		db := openStore(t)
		if _, err := importString(t, db, crlf(calendar(event("a", "DTSTART:20260105T100000Z"))), nil); err != nil {
			t.Fatal(err)
		}
		before, _ := db.Calendar("alice", "work")
		data := calendar(event("a", "DTSTART:20260105T100000Z"), event("b", "DTSTART:20260105T100000Z"))
		rep, err := importString(t, db, crlf(data), &Options{DryRun: true})
		if err != nil || rep.Unchanged != 1 || rep.Created != 1 || !rep.DryRun {
			t.Fatalf("dry run = %+v, %v; want 1 unchanged, 1 to create", rep, err)
		}
		after, _ := db.Calendar("alice", "work")
		if after.SyncToken() != before.SyncToken() || after.Objects != 1 {
			t.Fatalf("a dry run changed the calendar: %d objects, token %s → %s", after.Objects, before.SyncToken(), after.SyncToken())
		}
	})
}

func TestCreateCalendar(t *testing.T) {
	db := openStore(t)
	data := crlf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nX-WR-CALNAME:Team\\, Berlin\nX-WR-TIMEZONE:Europe/Berlin\n" +
		"BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nBEGIN:STANDARD\nDTSTART:19701025T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n" +
		event("a", "DTSTART:20260105T100000Z") + "END:VCALENDAR\n")
	in := Input{Name: "x.ics", R: strings.NewReader(data), Size: int64(len(data))}
	_, err := Import(context.Background(), db, "alice", "team", []Input{in}, nil)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("import into a missing calendar without Create = %v, want ErrNotFound", err)
	}
	rep, err := Import(context.Background(), db, "alice", "team", []Input{in}, &Options{Create: true})
	if err != nil || !rep.CalendarCreated || rep.Created != 1 {
		t.Fatalf("import with Create = %+v, %v", rep, err)
	}
	cal, err := db.Calendar("alice", "team")
	if err != nil {
		t.Fatal(err)
	}
	if cal.DisplayName != "Team, Berlin" || !strings.Contains(cal.Timezone, "TZID:Europe/Berlin") {
		t.Fatalf("created calendar %q with time zone %q, want \"Team, Berlin\" in Europe/Berlin", cal.DisplayName, cal.Timezone)
	}
}

func TestNameHeldByAnotherUID(t *testing.T) {
	db := openStore(t)
	// A client stored UID "other" under the name the import derives for
	// UID "a".
	obj := calendar(event("other", "DTSTART:20260105T100000Z"))
	if _, _, err := db.PutObject("alice", "work", store.Object{Name: "a.ics", UID: "other", Component: "VEVENT",
		Span: store.Span{Start: 0, End: 1}, Data: []byte(crlf(obj))}, store.Condition{}); err != nil {
		t.Fatal(err)
	}
	rep, err := importString(t, db, crlf(calendar(event("a", "DTSTART:20260105T100000Z"))), nil)
	if err != nil || rep.Created != 1 {
		t.Fatalf("import = %+v, %v; want 1 created under another name", rep, err)
	}
	if got := stored(t, db); len(got) != 2 {
		t.Fatalf("store holds %d objects, want 2", len(got))
	}
	rep, err = importString(t, db, crlf(calendar(event("a", "DTSTART:20260105T100000Z"))), nil)
	if err != nil || rep.Unchanged != 1 {
		t.Fatalf("re-import = %+v, %v; want 1 unchanged", rep, err)
	}
}

func TestObjectName(t *testing.T) {
	tests := []struct{ uid, want string }{
		{"abc@example.com", "abc@example.com.ics"},
		{"040000008200E00074C5B7101A82E008", "040000008200E00074C5B7101A82E008.ics"},
		{"a/b", "" /* hashed */},
		{"..", ""},
		{"with space", ""},
	}
	for _, tt := range tests {
		got := ObjectName(tt.uid)
		if tt.want != "" && got != tt.want {
			t.Errorf("ObjectName(%q) = %q, want %q", tt.uid, got, tt.want)
		}
		if tt.want == "" && (len(got) != 44 || strings.ContainsAny(got, "/ ")) {
			t.Errorf("ObjectName(%q) = %q, want a 40-hex hash name", tt.uid, got)
		}
		if got != ObjectName(tt.uid) {
			t.Errorf("ObjectName(%q) is not deterministic", tt.uid)
		}
	}
	if bytes.Equal([]byte(ObjectName("a/b")), []byte(ObjectName("a/c"))) {
		t.Error("two UIDs share a hashed name")
	}
}

// TestTZIDScan checks the fast TZID scan against the line-by-line one.
func TestTZIDScan(t *testing.T) {
	tests := []struct {
		raw  string
		fast bool
		want string
	}{
		{"BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20260101T100000\r\nEXDATE;VALUE=DATE-TIME;TZID=America/New_York :20260101T100000\r\nEND:VEVENT\r\n", true, "[America/New_York Europe/Berlin]"},
		{"BEGIN:VEVENT\r\nDESCRIPTION:a\\;TZID=Nowhere:x\r\nEND:VEVENT\r\n", true, "[]"},
		{"BEGIN:VEVENT\r\nDTSTART;TZID=\"W. Europe Standard Time\":20260101T100000\r\nEND:VEVENT\r\n", false, ""},
		{"BEGIN:VEVENT\r\nDTSTART;TZID=Europe/Ber\r\n lin:20260101T100000\r\nEND:VEVENT\r\n", false, ""},
		{"BEGIN:VEVENT\r\nDTSTART;tzid=Europe/Berlin:20260101T100000\r\nEND:VEVENT\r\n", false, ""},
	}
	for _, tt := range tests {
		zones := map[string]bool{}
		if got := tzidsOf([]byte(tt.raw), zones); got != tt.fast {
			t.Errorf("tzidsOf(%q) = %v, want %v", tt.raw, got, tt.fast)
			continue
		}
		if tt.fast {
			var ids []string
			for z := range zones {
				ids = append(ids, z)
			}
			slices.Sort(ids)
			if fmt.Sprint(ids) != tt.want {
				t.Errorf("tzidsOf(%q) found %v, want %s", tt.raw, ids, tt.want)
			}
		}
	}
	if !canonicalLines([]byte("A:b\r\nC:d\r\n")) || canonicalLines([]byte("A:b\nC:d\r\n")) || canonicalLines([]byte("A:b\r\n\r\nC:d\r\n")) {
		t.Error("canonicalLines misjudges line ends or empty lines")
	}
}
