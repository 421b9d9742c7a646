package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
)

// TestContract runs the store contract against the bbolt backend.
func TestContract(t *testing.T) {
	runContractTests(t, openBolt)
}

// runContractTests is the store contract, written once for every backend.
// open must return a fresh, empty store and arrange for it to be checked
// (Check() == nil) and closed when the test ends.
//
// There is one backend today, so the suite takes a constructor of *DB. When
// the PostgreSQL backend arrives, an interface with the *DB method set will
// be extracted, open will return it, and this same suite will run against
// both backends.
func runContractTests(t *testing.T, open func(t *testing.T) *DB) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("UserNames", func(t *testing.T) { testUserNames(t, open) })
	t.Run("Calendars", func(t *testing.T) { testCalendars(t, open) })
	t.Run("CalendarNames", func(t *testing.T) { testCalendarNames(t, open) })
	t.Run("OwnerScoping", func(t *testing.T) { testOwnerScoping(t, open) })
	t.Run("PutObject", func(t *testing.T) { testPutObject(t, open) })
	t.Run("InvalidObjects", func(t *testing.T) { testInvalidObjects(t, open) })
	t.Run("Preconditions", func(t *testing.T) { testPreconditions(t, open) })
	t.Run("UIDConflict", func(t *testing.T) { testUIDConflict(t, open) })
	t.Run("ObjectsInRange", func(t *testing.T) { testObjectsInRange(t, open) })
	t.Run("Objects", func(t *testing.T) { testObjects(t, open) })
	t.Run("DeleteObject", func(t *testing.T) { testDeleteObject(t, open) })
	t.Run("MoveObject", func(t *testing.T) { testMoveObject(t, open) })
	t.Run("Changes", func(t *testing.T) { testChanges(t, open) })
	t.Run("ChangesPaging", func(t *testing.T) { testChangesPaging(t, open) })
	t.Run("InvalidSyncTokens", func(t *testing.T) { testInvalidSyncTokens(t, open) })
	t.Run("PutObjects", func(t *testing.T) { testPutObjects(t, open) })
	t.Run("ConcurrentIfMatch", func(t *testing.T) { testConcurrentIfMatch(t, open) })
	t.Run("Grants", func(t *testing.T) { testGrants(t, open) })
	t.Run("ReissueSyncTokens", func(t *testing.T) { testReissueSyncTokens(t, open) })
	t.Run("CreateUserWithCalendars", func(t *testing.T) { testCreateUserWithCalendars(t, open) })
}

func testGrants(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		mustUser(t, db, u)
	}
	mustCalendar(t, db, "alice", "work")
	mustCalendar(t, db, "alice", "home")
	for _, g := range []Grant{
		{Calendar: "", Grantee: "bob", Access: AccessFreeBusy},
		{Calendar: "work", Grantee: "carol", Access: AccessRead},
		{Calendar: "home", Grantee: "carol", Access: AccessReadWrite},
	} {
		if err := db.SetGrant("alice", g); err != nil {
			t.Fatalf("SetGrant(alice, %+v) = %v", g, err)
		}
	}
	wantErr(t, "SetGrant to a missing user", db.SetGrant("alice", Grant{Grantee: "dave", Access: AccessRead}), ErrNotFound)
	wantErr(t, "SetGrant on a missing calendar", db.SetGrant("alice", Grant{Calendar: "gone", Grantee: "bob", Access: AccessRead}), ErrNotFound)
	wantErr(t, "SetGrant by a missing owner", db.SetGrant("dave", Grant{Grantee: "bob", Access: AccessRead}), ErrNotFound)
	wantErr(t, "SetGrant to oneself", db.SetGrant("alice", Grant{Grantee: "alice", Access: AccessRead}), ErrInvalidName)
	want := []Grant{
		{Calendar: "", Grantee: "bob", Access: AccessFreeBusy},
		{Calendar: "home", Grantee: "carol", Access: AccessReadWrite},
		{Calendar: "work", Grantee: "carol", Access: AccessRead},
	}
	if got, err := db.Grants("alice"); err != nil || !slices.Equal(got, want) {
		t.Errorf("Grants(alice) = %v, %v, want %v", got, err, want)
	}
	if got, err := db.Grants("bob"); err != nil || len(got) != 0 {
		t.Errorf("Grants(bob) = %v, %v, want none: grants are the owner's", got, err)
	}
	// Replacing and removing.
	if err := db.SetGrant("alice", Grant{Calendar: "work", Grantee: "carol", Access: AccessFreeBusy}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetGrant("alice", Grant{Calendar: "home", Grantee: "carol", Access: AccessNone}); err != nil {
		t.Fatal(err)
	}
	want = []Grant{{Calendar: "", Grantee: "bob", Access: AccessFreeBusy}, {Calendar: "work", Grantee: "carol", Access: AccessFreeBusy}}
	if got, err := db.Grants("alice"); err != nil || !slices.Equal(got, want) {
		t.Errorf("Grants(alice) after replace and remove = %v, %v, want %v", got, err, want)
	}
	// Deleting the calendar removes its grants; deleting a grantee removes
	// what was granted to them, so a new user of that name inherits nothing.
	if err := db.DeleteCalendar("alice", "work"); err != nil {
		t.Fatal(err)
	}
	mustCalendar(t, db, "alice", "work")
	if err := db.DeleteUser("bob"); err != nil {
		t.Fatal(err)
	}
	mustUser(t, db, "bob")
	if got, err := db.Grants("alice"); err != nil || len(got) != 0 {
		t.Errorf("Grants(alice) after deleting the calendar and the grantee = %v, %v, want none", got, err)
	}
	if err := db.SetGrant("carol", Grant{Grantee: "alice", Access: AccessFreeBusy}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser("carol"); err != nil {
		t.Fatal(err)
	}
	mustUser(t, db, "carol")
	if got, err := db.Grants("carol"); err != nil || len(got) != 0 {
		t.Errorf("Grants(carol) after re-creating the owner = %v, %v, want none", got, err)
	}
	for _, a := range []Access{AccessNone, AccessFreeBusy, AccessRead, AccessReadWrite} {
		if got, err := ParseAccess(a.String()); got != a || err != nil {
			t.Errorf("ParseAccess(%q) = %v, %v, want %v", a.String(), got, err, a)
		}
	}
	if _, err := ParseAccess("admin"); err == nil {
		t.Errorf(`ParseAccess("admin") = nil error, want an error`)
	}
}

func testUsers(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	for _, n := range []string{"carol", "alice", "bob"} {
		if err := db.CreateUser(User{Name: n, PasswordHash: "h-" + n, Email: n + "@example.org"}); err != nil {
			t.Fatalf("CreateUser(%q) = %v", n, err)
		}
	}
	wantErr(t, `CreateUser("alice") again`, db.CreateUser(User{Name: "alice"}), ErrExists)

	u, err := db.User("alice")
	if err != nil || u.Name != "alice" || u.Email != "alice@example.org" || u.PasswordHash != "h-alice" || u.Created.IsZero() {
		t.Errorf(`User("alice") = %+v, %v, want alice with email, hash and Created`, u, err)
	}
	_, err = db.User("dave")
	wantErr(t, `User("dave")`, err, ErrNotFound)

	if h, err := db.PasswordHash("bob"); h != "h-bob" || err != nil {
		t.Errorf(`PasswordHash("bob") = %q, %v, want "h-bob"`, h, err)
	}
	_, err = db.PasswordHash("dave")
	wantErr(t, `PasswordHash("dave")`, err, ErrNotFound)
	if err := db.SetPasswordHash("bob", "new"); err != nil {
		t.Fatalf(`SetPasswordHash("bob") = %v`, err)
	}
	if h, _ := db.PasswordHash("bob"); h != "new" {
		t.Errorf(`PasswordHash("bob") after set = %q, want "new"`, h)
	}
	wantErr(t, `SetPasswordHash("dave")`, db.SetPasswordHash("dave", "x"), ErrNotFound)

	users, err := db.Users()
	var got []string
	for _, u := range users {
		got = append(got, u.Name)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(got, want) || err != nil {
		t.Errorf("Users() = %v, %v, want %v", got, err, want)
	}

	mustCalendar(t, db, "carol", "work")
	if err := db.DeleteUser("carol"); err != nil {
		t.Fatalf(`DeleteUser("carol") = %v`, err)
	}
	wantErr(t, `DeleteUser("carol") again`, db.DeleteUser("carol"), ErrNotFound)
	_, err = db.User("carol")
	wantErr(t, `User("carol") after delete`, err, ErrNotFound)
	_, err = db.Calendars("carol")
	wantErr(t, `Calendars("carol") after delete`, err, ErrNotFound)
	// A new user of the same name starts empty.
	mustUser(t, db, "carol")
	if cals, err := db.Calendars("carol"); len(cals) != 0 || err != nil {
		t.Errorf(`Calendars("carol") after re-create = %v, %v, want none`, cals, err)
	}
}

func testUserNames(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"a.b-c_d+e@example.org", true},
		{"A9", true},
		{string(bytes.Repeat([]byte("x"), 64)), true},
		{"", false},
		{string(bytes.Repeat([]byte("x"), 65)), false},
		{".hidden", false},
		{"a/b", false},
		{"a b", false},
		{"ümlaut", false},
		{"tab\t", false},
		{"..", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			err := db.CreateUser(User{Name: tt.name})
			if tt.ok && err != nil {
				t.Errorf("CreateUser(%q) = %v, want nil", tt.name, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidName) {
				t.Errorf("CreateUser(%q) = %v, want ErrInvalidName", tt.name, err)
			}
		})
	}
}

func testCalendars(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	in := Calendar{
		Name: "work", DisplayName: "Work", Description: "d", Color: "#112233FF", Order: 3,
		Timezone: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", Components: []string{"VEVENT"}, Transparent: true,
		DeadProps: map[string]string{"{urn:x}p": "v"},
		// Store-set fields are ignored on create.
		ID: "caller-id", SyncSeq: 99, Objects: 7,
	}
	cal, err := db.CreateCalendar("alice", in)
	if err != nil {
		t.Fatalf("CreateCalendar = %v", err)
	}
	if len(cal.ID) != 16 || cal.SyncSeq != 0 || cal.Objects != 0 || cal.Created.IsZero() || !cal.Modified.Equal(cal.Created) {
		t.Errorf("CreateCalendar = ID %q SyncSeq %d Objects %d Created %v Modified %v, want fresh store-set fields",
			cal.ID, cal.SyncSeq, cal.Objects, cal.Created, cal.Modified)
	}
	got := mustCal(t, db, "alice", "work")
	if got.DisplayName != "Work" || got.Description != "d" || got.Color != "#112233FF" || got.Order != 3 ||
		got.Timezone != in.Timezone || !slices.Equal(got.Components, []string{"VEVENT"}) || !got.Transparent ||
		got.DeadProps["{urn:x}p"] != "v" || got.ID != cal.ID || !got.Created.Equal(cal.Created) {
		t.Errorf(`Calendar("alice", "work") = %+v, want the created %+v`, got, cal)
	}
	_, err = db.CreateCalendar("alice", Calendar{Name: "work"})
	wantErr(t, "CreateCalendar(work) again", err, ErrExists)
	_, err = db.CreateCalendar("nobody", Calendar{Name: "work"})
	wantErr(t, "CreateCalendar(nobody, work)", err, ErrNotFound)
	_, err = db.Calendar("alice", "home")
	wantErr(t, `Calendar("alice", "home")`, err, ErrNotFound)

	mustCalendar(t, db, "alice", "home")
	cals, err := db.Calendars("alice")
	if got := names(calObjects(cals)); !slices.Equal(got, []string{"home", "work"}) || err != nil {
		t.Errorf(`Calendars("alice") = %v, %v, want [home work]`, got, err)
	}
	if cals[0].Name != "home" {
		t.Errorf(`Calendars("alice")[0] = %q, want "home" (sorted)`, cals[0].Name)
	}

	mustPut(t, db, "alice", "work", event("a.ics", "a", "1", 0, 10))
	before := mustCal(t, db, "alice", "work")
	upd, err := db.UpdateCalendar("alice", "work", func(c *Calendar) error {
		c.DisplayName = "Job"
		c.Components = append(c.Components, "VTODO")
		c.DeadProps["{urn:x}q"] = "w"
		c.ID, c.SyncSeq, c.Objects, c.Name = "hijack", 1000, 1000, "other"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateCalendar = %v", err)
	}
	after := mustCal(t, db, "alice", "work")
	for _, c := range []Calendar{upd, after} {
		if c.DisplayName != "Job" || !slices.Equal(c.Components, []string{"VEVENT", "VTODO"}) || c.DeadProps["{urn:x}q"] != "w" ||
			c.ID != before.ID || c.SyncSeq != before.SyncSeq || c.Objects != 1 || c.Name != "work" ||
			!c.Created.Equal(before.Created) || c.Modified.Before(before.Modified) {
			t.Errorf("UpdateCalendar result = %+v, want DisplayName Job, store fields of %+v", c, before)
		}
	}
	errVeto := errors.New("veto")
	_, err = db.UpdateCalendar("alice", "work", func(c *Calendar) error { c.DisplayName = "No"; return errVeto })
	if err != errVeto {
		t.Errorf("UpdateCalendar(fn error) = %v, want fn's error as is", err)
	}
	if c := mustCal(t, db, "alice", "work"); c.DisplayName != "Job" {
		t.Errorf("DisplayName after vetoed update = %q, want Job", c.DisplayName)
	}
	_, err = db.UpdateCalendar("alice", "nope", func(*Calendar) error { return nil })
	wantErr(t, "UpdateCalendar(nope)", err, ErrNotFound)

	if err := db.DeleteCalendar("alice", "work"); err != nil {
		t.Fatalf("DeleteCalendar = %v", err)
	}
	wantErr(t, "DeleteCalendar again", db.DeleteCalendar("alice", "work"), ErrNotFound)
	_, err = db.Object("alice", "work", "a.ics")
	wantErr(t, "Object in deleted calendar", err, ErrNotFound)
	re := mustCalendar(t, db, "alice", "work")
	if re.ID == before.ID || re.Objects != 0 || re.SyncSeq != 0 {
		t.Errorf("re-created calendar = ID %q Objects %d SyncSeq %d, want a new ID (not %q) and no objects", re.ID, re.Objects, re.SyncSeq, before.ID)
	}
}

func calObjects(cals []Calendar) []Object {
	var objs []Object
	for _, c := range cals {
		objs = append(objs, Object{Name: c.Name})
	}
	return objs
}

func testCalendarNames(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	tests := []struct {
		name string
		ok   bool
	}{
		{"work", true},
		{"Work Calendar ümlaut", true},
		{"a.b", true},
		{string(bytes.Repeat([]byte("x"), 255)), true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"nul\x00", false},
		{"newline\n", false},
		{"del\x7f", false},
		{"c1\u0085", false},
		{"bad utf8 \xff", false},
		{string(bytes.Repeat([]byte("x"), 256)), false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			_, err := db.CreateCalendar("alice", Calendar{Name: tt.name})
			if tt.ok && err != nil {
				t.Errorf("CreateCalendar(%q) = %v, want nil", tt.name, err)
			}
			if !tt.ok && !errors.Is(err, ErrInvalidName) {
				t.Errorf("CreateCalendar(%q) = %v, want ErrInvalidName", tt.name, err)
			}
			if !tt.ok {
				// The same rule holds for object names.
				_, _, err := db.PutObject("alice", "work", event(tt.name, "u", "1", 0, 1), Condition{})
				wantErr(t, fmt.Sprintf("PutObject(%q)", tt.name), err, ErrInvalidName)
			}
		})
	}
}

func testOwnerScoping(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustUser(t, db, "bob")
	mustCalendar(t, db, "alice", "secret")
	mustCalendar(t, db, "bob", "own")
	obj := mustPut(t, db, "alice", "secret", event("a.ics", "uid-a", "1", 0, 100))
	mustPut(t, db, "bob", "own", event("b.ics", "uid-b", "1", 0, 100))
	aliceCal := mustCal(t, db, "alice", "secret")

	for _, who := range []string{"bob", "carol"} {
		calls := []struct {
			name string
			call func() error
		}{
			{"Calendar", func() error { _, err := db.Calendar(who, "secret"); return err }},
			{"UpdateCalendar", func() error {
				_, err := db.UpdateCalendar(who, "secret", func(c *Calendar) error { c.DisplayName = "x"; return nil })
				return err
			}},
			{"DeleteCalendar", func() error { return db.DeleteCalendar(who, "secret") }},
			{"PutObject", func() error {
				_, _, err := db.PutObject(who, "secret", event("x.ics", "x", "1", 0, 1), Condition{})
				return err
			}},
			{"Object", func() error { _, err := db.Object(who, "secret", "a.ics"); return err }},
			{"ObjectInfos", func() error { _, err := db.ObjectInfos(who, "secret"); return err }},
			{"Objects", func() error { _, err := db.Objects(who, "secret", []string{"a.ics"}); return err }},
			{"ObjectsInRange", func() error { _, err := db.ObjectsInRange(who, "secret", 0, 100); return err }},
			{"ObjectByUID", func() error { _, err := db.ObjectByUID(who, "secret", "uid-a"); return err }},
			{"DeleteObject", func() error { return db.DeleteObject(who, "secret", "a.ics", Condition{}) }},
			{"MoveObject out", func() error {
				_, err := db.MoveObject(who, "secret", "a.ics", "own", "stolen.ics", true, Condition{}, Condition{})
				return err
			}},
			{"MoveObject in", func() error {
				_, err := db.MoveObject(who, "own", "b.ics", "secret", "planted.ics", true, Condition{}, Condition{})
				return err
			}},
			{"Changes", func() error { _, _, _, err := db.Changes(who, "secret", "", 0); return err }},
			{"Changes with token", func() error {
				_, _, _, err := db.Changes(who, "secret", aliceCal.SyncToken(), 0)
				return err
			}},
			{"PutObjects", func() error {
				_, err := db.PutObjects(who, "secret", []Object{event("x.ics", "x", "1", 0, 1)})
				return err
			}},
		}
		for _, c := range calls {
			t.Run(who+"/"+c.name, func(t *testing.T) {
				wantErr(t, fmt.Sprintf("%s(%q, alice's calendar)", c.name, who), c.call(), ErrNotFound)
			})
		}
	}
	got, err := db.Object("alice", "secret", "a.ics")
	if err != nil || got.ETag != obj.ETag {
		t.Errorf("alice's Object after bob's attempts = %+v, %v, want untouched", got, err)
	}
	if c := mustCal(t, db, "alice", "secret"); c.SyncSeq != aliceCal.SyncSeq || c.DisplayName != aliceCal.DisplayName {
		t.Errorf("alice's calendar after bob's attempts = %+v, want %+v", c, aliceCal)
	}
}

func testPutObject(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	in := event("a.ics", "uid-a", "1", 100, 200)
	got, created, err := db.PutObject("alice", "work", in, Condition{})
	if err != nil || !created {
		t.Fatalf("PutObject(new) = _, %v, %v, want created", created, err)
	}
	if got.Name != "a.ics" || got.UID != "uid-a" || got.Component != "VEVENT" || got.Span != in.Span ||
		got.Size != int64(len(in.Data)) || got.ETag == "" || got.Modified.IsZero() || got.Data != nil {
		t.Errorf("PutObject(new) = %+v, want the object's info without data", got)
	}
	read, err := db.Object("alice", "work", "a.ics")
	if err != nil || !bytes.Equal(read.Data, in.Data) || read.ETag != got.ETag || !read.Modified.Equal(got.Modified) ||
		read.Span != in.Span || read.UID != in.UID {
		t.Errorf("Object(a.ics) = %+v, %v, want what was put", read, err)
	}
	cal := mustCal(t, db, "alice", "work")
	if cal.SyncSeq != 1 || cal.Objects != 1 {
		t.Errorf("calendar after one put = SyncSeq %d Objects %d, want 1, 1", cal.SyncSeq, cal.Objects)
	}

	again, created, err := db.PutObject("alice", "work", in, Condition{})
	if err != nil || created || again.ETag != got.ETag {
		t.Errorf("PutObject(identical) = ETag %q, created %v, %v, want same ETag %q, not created", again.ETag, created, err, got.ETag)
	}
	changed, created, err := db.PutObject("alice", "work", event("a.ics", "uid-a", "2", 100, 300), Condition{})
	if err != nil || created || changed.ETag == got.ETag || changed.Span.End != 300 {
		t.Errorf("PutObject(changed) = %+v, created %v, %v, want a new ETag and span", changed, created, err)
	}
	cal = mustCal(t, db, "alice", "work")
	if cal.SyncSeq != 3 || cal.Objects != 1 || cal.Modified.Before(changed.Modified) {
		t.Errorf("calendar after three puts = SyncSeq %d Objects %d Modified %v, want 3, 1, >= %v", cal.SyncSeq, cal.Objects, cal.Modified, changed.Modified)
	}
	if _, _, err := db.PutObject("alice", "nope", in, Condition{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutObject(missing calendar) = %v, want ErrNotFound", err)
	}
	// Changing the UID of an existing resource reindexes it.
	mustPut(t, db, "alice", "work", event("a.ics", "uid-z", "3", 100, 300))
	if n, err := db.ObjectByUID("alice", "work", "uid-z"); n != "a.ics" || err != nil {
		t.Errorf(`ObjectByUID("uid-z") = %q, %v, want "a.ics"`, n, err)
	}
	if _, err := db.ObjectByUID("alice", "work", "uid-a"); !errors.Is(err, ErrNotFound) {
		t.Errorf(`ObjectByUID("uid-a") after uid change = %v, want ErrNotFound`, err)
	}
	// An empty body is stored as such.
	empty := Object{Name: "e.ics", UID: "e", Component: "VTODO", Span: Span{math.MinInt64, SpanForever}}
	mustPut(t, db, "alice", "work", empty)
	if o, err := db.Object("alice", "work", "e.ics"); err != nil || len(o.Data) != 0 || o.Size != 0 {
		t.Errorf("Object(e.ics) = %+v, %v, want empty data", o, err)
	}
}

func testInvalidObjects(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	ok := event("a.ics", "u", "1", 10, 20)
	tests := []struct {
		name string
		edit func(*Object)
		want error
	}{
		{"empty name", func(o *Object) { o.Name = "" }, ErrInvalidName},
		{"slash in name", func(o *Object) { o.Name = "a/b.ics" }, ErrInvalidName},
		{"empty uid", func(o *Object) { o.UID = "" }, ErrInvalidObject},
		{"huge uid", func(o *Object) { o.UID = string(make([]byte, maxUIDLen+1)) }, ErrInvalidObject},
		{"empty component", func(o *Object) { o.Component = "" }, ErrInvalidObject},
		{"span ends before start", func(o *Object) { o.Span = Span{20, 10} }, ErrInvalidObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			_, _, err := db.PutObject("alice", "work", o, Condition{})
			wantErr(t, "PutObject", err, tt.want)
			_, err = db.PutObjects("alice", "work", []Object{ok, o})
			wantErr(t, "PutObjects", err, tt.want)
		})
	}
	if c := mustCal(t, db, "alice", "work"); c.SyncSeq != 0 {
		t.Errorf("SyncSeq after refused writes = %d, want 0", c.SyncSeq)
	}
}

func testPreconditions(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	cur := mustPut(t, db, "alice", "work", event("there.ics", "there", "1", 0, 10))
	tests := []struct {
		name   string
		target string
		cond   Condition
		want   error
	}{
		{"none on missing", "new.ics", Condition{}, nil},
		{"If-None-Match on missing", "new.ics", Condition{IfNoneMatch: true}, nil},
		{"If-None-Match on existing", "there.ics", Condition{IfNoneMatch: true}, ErrPreconditionFailed},
		{"If-Match * on missing", "new.ics", Condition{IfMatch: "*"}, ErrPreconditionFailed},
		{"If-Match etag on missing", "new.ics", Condition{IfMatch: cur.ETag}, ErrPreconditionFailed},
		{"If-Match * on existing", "there.ics", Condition{IfMatch: "*"}, nil},
		{"If-Match current etag", "there.ics", Condition{IfMatch: cur.ETag}, nil},
		{"If-Match stale etag", "there.ics", Condition{IfMatch: "0123456789abcdef0123456789abcdef"}, ErrPreconditionFailed},
		{"If-Match quoted etag", "there.ics", Condition{IfMatch: `"` + cur.ETag + `"`}, ErrPreconditionFailed},
	}
	for _, tt := range tests {
		t.Run("PutObject/"+tt.name, func(t *testing.T) {
			before := mustCal(t, db, "alice", "work")
			// The same bytes as there.ics keep its ETag for later cases.
			o := event(tt.target, "there", "1", 0, 10)
			if tt.target == "new.ics" {
				o.UID = "new"
			}
			_, _, err := db.PutObject("alice", "work", o, tt.cond)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("PutObject(%s, %+v) = %v, want %v", tt.target, tt.cond, err, tt.want)
			}
			after := mustCal(t, db, "alice", "work")
			if tt.want != nil && after.SyncSeq != before.SyncSeq {
				t.Errorf("SyncSeq after failed put = %d, want %d", after.SyncSeq, before.SyncSeq)
			}
			if tt.target == "new.ics" && err == nil {
				if err := db.DeleteObject("alice", "work", "new.ics", Condition{}); err != nil {
					t.Fatalf("DeleteObject(new.ics) = %v", err)
				}
			}
		})
	}
	delTests := []struct {
		name   string
		target string
		cond   Condition
		want   error
	}{
		{"missing", "new.ics", Condition{}, ErrNotFound},
		{"missing with If-Match", "new.ics", Condition{IfMatch: "*"}, ErrNotFound},
		{"stale etag", "there.ics", Condition{IfMatch: "0123456789abcdef0123456789abcdef"}, ErrPreconditionFailed},
		{"If-None-Match on existing", "there.ics", Condition{IfNoneMatch: true}, ErrPreconditionFailed},
		{"current etag", "there.ics", Condition{IfMatch: cur.ETag}, nil},
	}
	for _, tt := range delTests {
		t.Run("DeleteObject/"+tt.name, func(t *testing.T) {
			err := db.DeleteObject("alice", "work", tt.target, tt.cond)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("DeleteObject(%s, %+v) = %v, want %v", tt.target, tt.cond, err, tt.want)
			}
		})
	}
}

func testUIDConflict(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	mustCalendar(t, db, "alice", "home")
	mustPut(t, db, "alice", "work", event("a.ics", "U", "1", 0, 10))
	before := mustCal(t, db, "alice", "work")

	_, _, err := db.PutObject("alice", "work", event("b.ics", "U", "1", 0, 10), Condition{})
	var uc *UIDConflictError
	if !errors.As(err, &uc) || uc.Calendar != "work" || uc.Name != "a.ics" || !errors.Is(err, ErrUIDConflict) {
		t.Fatalf("PutObject(b.ics with a.ics's UID) = %v, want *UIDConflictError{work, a.ics}", err)
	}
	if _, err := db.Object("alice", "work", "b.ics"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Object(b.ics) after conflict = %v, want ErrNotFound", err)
	}
	if c := mustCal(t, db, "alice", "work"); c.SyncSeq != before.SyncSeq {
		t.Errorf("SyncSeq after conflict = %d, want %d", c.SyncSeq, before.SyncSeq)
	}
	// The rule is per calendar.
	mustPut(t, db, "alice", "home", event("b.ics", "U", "1", 0, 10))
	// Once a.ics takes another UID, U is free again.
	mustPut(t, db, "alice", "work", event("a.ics", "V", "1", 0, 10))
	mustPut(t, db, "alice", "work", event("b.ics", "U", "1", 0, 10))
	if n, err := db.ObjectByUID("alice", "work", "U"); n != "b.ics" || err != nil {
		t.Errorf(`ObjectByUID("U") = %q, %v, want "b.ics"`, n, err)
	}
	if _, err := db.ObjectByUID("alice", "work", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf(`ObjectByUID("") = %v, want ErrNotFound`, err)
	}
}

func testObjectsInRange(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	objs := []Object{
		event("a", "a", "1", 100, 200),
		event("b", "b", "1", 200, 300),
		event("c", "c", "1", 150, 160),
		event("open", "open", "1", 250, SpanForever),
		event("neg", "neg", "1", -500, -100),
		event("todo", "todo", "1", math.MinInt64, SpanForever),
		event("instant", "instant", "1", 400, 400),
	}
	for _, o := range objs {
		mustPut(t, db, "alice", "work", o)
	}
	tests := []struct {
		name       string
		start, end int64
		want       []string
	}{
		{"before a, touching its start", 50, 100, []string{"todo"}},
		{"inside a and c", 120, 155, []string{"a", "c", "todo"}},
		{"a's end touches b's start", 200, 250, []string{"b", "todo"}},
		{"touching b's end", 300, 400, []string{"open", "todo"}},
		{"negative times", -1000, -400, []string{"neg", "todo"}},
		{"touching neg's end", -100, 0, []string{"todo"}},
		{"far future hits open-ended", 1 << 40, 1<<40 + 1, []string{"open", "todo"}},
		{"everything", math.MinInt64, math.MaxInt64, []string{"a", "b", "c", "instant", "neg", "open", "todo"}},
		{"empty window", 150, 150, []string{"a", "todo"}},
	}
	infos, err := db.ObjectInfos("alice", "work")
	if err != nil {
		t.Fatalf("ObjectInfos = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ObjectsInRange("alice", "work", tt.start, tt.end)
			if err != nil {
				t.Fatalf("ObjectsInRange(%d, %d) = %v", tt.start, tt.end, err)
			}
			if n := names(got); !slices.Equal(n, tt.want) {
				t.Errorf("ObjectsInRange(%d, %d) = %v, want %v", tt.start, tt.end, n, tt.want)
			}
			// The index agrees with Span.Overlaps.
			var brute []Object
			for _, o := range infos {
				if o.Span.Overlaps(tt.start, tt.end) {
					brute = append(brute, o)
				}
			}
			if n, b := names(got), names(brute); !slices.Equal(n, b) {
				t.Errorf("ObjectsInRange(%d, %d) = %v, Overlaps says %v", tt.start, tt.end, n, b)
			}
			for _, o := range got {
				if len(o.Data) == 0 {
					t.Errorf("ObjectsInRange: %s without data", o.Name)
				}
			}
			bare, err := db.ObjectInfosInRange("alice", "work", tt.start, tt.end)
			if err != nil {
				t.Fatalf("ObjectInfosInRange(%d, %d) = %v", tt.start, tt.end, err)
			}
			if n := names(bare); !slices.Equal(n, tt.want) {
				t.Errorf("ObjectInfosInRange(%d, %d) = %v, want %v", tt.start, tt.end, n, tt.want)
			}
			for i, o := range bare {
				if len(o.Data) != 0 || o.ETag != got[i].ETag || o.Span != got[i].Span || o.UID != got[i].UID {
					t.Errorf("ObjectInfosInRange: %+v, want the info of %+v without data", o, got[i])
				}
			}
		})
	}
	// Moving a span and deleting an object update the index.
	mustPut(t, db, "alice", "work", event("a", "a", "2", 1000, 2000))
	if err := db.DeleteObject("alice", "work", "c", Condition{}); err != nil {
		t.Fatalf("DeleteObject(c) = %v", err)
	}
	got, err := db.ObjectsInRange("alice", "work", 100, 200)
	if n := names(got); !slices.Equal(n, []string{"todo"}) || err != nil {
		t.Errorf("ObjectsInRange(100, 200) after moving a and deleting c = %v, %v, want [todo]", n, err)
	}
}

func testObjects(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	for _, n := range []string{"c.ics", "a.ics", "b.ics"} {
		mustPut(t, db, "alice", "work", event(n, "uid-"+n, "1", 0, 10))
	}
	infos, err := db.ObjectInfos("alice", "work")
	var got []string
	for _, o := range infos {
		got = append(got, o.Name)
		if o.Data != nil || o.ETag == "" || o.Size == 0 || o.UID != "uid-"+o.Name {
			t.Errorf("ObjectInfos entry = %+v, want info without data", o)
		}
	}
	if want := []string{"a.ics", "b.ics", "c.ics"}; !slices.Equal(got, want) || err != nil {
		t.Errorf("ObjectInfos = %v, %v, want %v", got, err, want)
	}
	objs, err := db.Objects("alice", "work", []string{"c.ics", "missing.ics", "a.ics", "bad/name"})
	got = nil
	for _, o := range objs {
		got = append(got, o.Name)
		if !bytes.Contains(o.Data, []byte("uid-"+o.Name)) {
			t.Errorf("Objects: %s has data %q", o.Name, o.Data)
		}
	}
	if want := []string{"c.ics", "a.ics"}; !slices.Equal(got, want) || err != nil {
		t.Errorf("Objects = %v, %v, want %v", got, err, want)
	}
	if infos, err := db.ObjectInfos("alice", "work"); len(infos) != 3 || err != nil {
		t.Errorf("ObjectInfos = %d, %v, want 3", len(infos), err)
	}
}

func testDeleteObject(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	cur := mustPut(t, db, "alice", "work", event("a.ics", "A", "1", 0, 10))
	mustPut(t, db, "alice", "work", event("b.ics", "B", "1", 0, 10))
	if err := db.DeleteObject("alice", "work", "a.ics", Condition{IfMatch: cur.ETag}); err != nil {
		t.Fatalf("DeleteObject(a.ics, current etag) = %v", err)
	}
	_, err := db.Object("alice", "work", "a.ics")
	wantErr(t, "Object(a.ics) after delete", err, ErrNotFound)
	_, err = db.ObjectByUID("alice", "work", "A")
	wantErr(t, "ObjectByUID(A) after delete", err, ErrNotFound)
	wantErr(t, "DeleteObject(a.ics) again", db.DeleteObject("alice", "work", "a.ics", Condition{}), ErrNotFound)
	cal := mustCal(t, db, "alice", "work")
	if cal.Objects != 1 || cal.SyncSeq != 3 {
		t.Errorf("calendar after delete = Objects %d SyncSeq %d, want 1, 3", cal.Objects, cal.SyncSeq)
	}
	ch, _, _, err := db.Changes("alice", "work", FormatSyncToken(cal.ID, 2), 0)
	if want := []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 3}}; !slices.Equal(ch, want) || err != nil {
		t.Errorf("Changes(after seq 2) = %+v, %v, want %+v", ch, err, want)
	}
	// The UID is free again.
	mustPut(t, db, "alice", "work", event("c.ics", "A", "1", 0, 10))
}

func testMoveObject(t *testing.T, open func(t *testing.T) *DB) {
	type setup struct {
		cal string
		obj Object
	}
	tests := []struct {
		name                   string
		objs                   []setup
		fromCal, fromName      string
		toCal, toName          string
		keep                   bool
		src                    Condition // on the source
		cond                   Condition // on the destination
		wantErr                error
		wantConflict           string // name in *UIDConflictError
		wantCreated            bool
		wantFrom, wantTo       []string // names afterwards
		wantFromLog, wantToLog []Change // Changes after the setup, ETags ignored
	}{
		{
			name:    "move across calendars",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a2.ics",
			wantCreated: true, wantFrom: nil, wantTo: []string{"a2.ics"},
			wantFromLog: []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 2}},
			wantToLog:   []Change{{Name: "a2.ics", Kind: ChangeKindUpsert, Seq: 1}},
		},
		{
			name:    "copy across calendars",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a.ics", keep: true,
			wantCreated: true, wantFrom: []string{"a.ics"}, wantTo: []string{"a.ics"},
			wantToLog: []Change{{Name: "a.ics", Kind: ChangeKindUpsert, Seq: 1}},
		},
		{
			name:    "rename within a calendar",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "work", toName: "b.ics",
			wantCreated: true, wantFrom: []string{"b.ics"}, wantTo: []string{"b.ics"},
			wantFromLog: []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 2}, {Name: "b.ics", Kind: ChangeKindUpsert, Seq: 3}},
			wantToLog:   []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 2}, {Name: "b.ics", Kind: ChangeKindUpsert, Seq: 3}},
		},
		{
			name:    "source If-Match fails",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a.ics",
			src:     Condition{IfMatch: "stale"},
			wantErr: ErrPreconditionFailed, wantFrom: []string{"a.ics"}, wantTo: nil,
		},
		{
			name:    "source If-None-Match * fails on an existing source",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a.ics", keep: true,
			src:     Condition{IfNoneMatch: true},
			wantErr: ErrPreconditionFailed, wantFrom: []string{"a.ics"}, wantTo: nil,
		},
		{
			name:    "copy within a calendar conflicts",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "work", toName: "b.ics", keep: true,
			wantErr: ErrUIDConflict, wantConflict: "a.ics", wantFrom: []string{"a.ics"}, wantTo: []string{"a.ics"},
		},
		{
			name: "rename over another object",
			objs: []setup{
				{cal: "work", obj: event("a.ics", "A", "1", 0, 10)},
				{cal: "work", obj: event("b.ics", "B", "1", 0, 10)},
			},
			fromCal: "work", fromName: "a.ics", toCal: "work", toName: "b.ics",
			wantFrom: []string{"b.ics"}, wantTo: []string{"b.ics"},
			wantFromLog: []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 3}, {Name: "b.ics", Kind: ChangeKindUpsert, Seq: 4}},
			wantToLog:   []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 3}, {Name: "b.ics", Kind: ChangeKindUpsert, Seq: 4}},
		},
		{
			name: "overwrite refused by If-None-Match",
			objs: []setup{
				{cal: "work", obj: event("a.ics", "A", "1", 0, 10)},
				{cal: "home", obj: event("b.ics", "B", "1", 0, 10)},
			},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "b.ics", cond: Condition{IfNoneMatch: true},
			wantErr: ErrPreconditionFailed, wantFrom: []string{"a.ics"}, wantTo: []string{"b.ics"},
		},
		{
			name: "overwrite across calendars",
			objs: []setup{
				{cal: "work", obj: event("a.ics", "A", "1", 0, 10)},
				{cal: "home", obj: event("b.ics", "B", "1", 0, 10)},
			},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "b.ics",
			wantFrom: nil, wantTo: []string{"b.ics"},
			wantFromLog: []Change{{Name: "a.ics", Kind: ChangeKindDelete, Seq: 2}},
			wantToLog:   []Change{{Name: "b.ics", Kind: ChangeKindUpsert, Seq: 2}},
		},
		{
			name: "destination If-Match stale",
			objs: []setup{
				{cal: "work", obj: event("a.ics", "A", "1", 0, 10)},
				{cal: "home", obj: event("b.ics", "B", "1", 0, 10)},
			},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "b.ics", cond: Condition{IfMatch: "stale"},
			wantErr: ErrPreconditionFailed, wantFrom: []string{"a.ics"}, wantTo: []string{"b.ics"},
		},
		{
			name: "UID held by another name in the destination",
			objs: []setup{
				{cal: "work", obj: event("a.ics", "A", "1", 0, 10)},
				{cal: "home", obj: event("other.ics", "A", "1", 0, 10)},
			},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a.ics",
			wantErr: ErrUIDConflict, wantConflict: "other.ics", wantFrom: []string{"a.ics"}, wantTo: []string{"other.ics"},
		},
		{
			name: "UID held by the destination name itself",
			objs: []setup{
				{cal: "work", obj: event("a.ics", "A", "2", 0, 10)},
				{cal: "home", obj: event("a.ics", "A", "1", 0, 10)},
			},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a.ics", keep: true,
			wantFrom: []string{"a.ics"}, wantTo: []string{"a.ics"},
			wantToLog: []Change{{Name: "a.ics", Kind: ChangeKindUpsert, Seq: 2}},
		},
		{
			name:    "onto itself",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "work", toName: "a.ics",
			wantFrom: []string{"a.ics"}, wantTo: []string{"a.ics"},
		},
		{
			name:    "missing source",
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "a.ics",
			wantErr: ErrNotFound,
		},
		{
			name:    "missing destination calendar",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "nope", toName: "a.ics",
			wantErr: ErrNotFound, wantFrom: []string{"a.ics"},
		},
		{
			name:    "invalid destination name",
			objs:    []setup{{cal: "work", obj: event("a.ics", "A", "1", 0, 10)}},
			fromCal: "work", fromName: "a.ics", toCal: "home", toName: "../x",
			wantErr: ErrInvalidName, wantFrom: []string{"a.ics"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t)
			mustUser(t, db, "alice")
			mustCalendar(t, db, "alice", "work")
			mustCalendar(t, db, "alice", "home")
			for _, s := range tt.objs {
				mustPut(t, db, "alice", s.cal, s.obj)
			}
			tokens := map[string]string{}
			for _, c := range []string{"work", "home"} {
				tokens[c] = mustCal(t, db, "alice", c).SyncToken()
			}
			src, _ := db.Object("alice", tt.fromCal, tt.fromName)

			created, err := db.MoveObject("alice", tt.fromCal, tt.fromName, tt.toCal, tt.toName, tt.keep, tt.src, tt.cond)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("MoveObject = %v, want %v", err, tt.wantErr)
			}
			var uc *UIDConflictError
			if tt.wantConflict != "" && (!errors.As(err, &uc) || uc.Name != tt.wantConflict || uc.Calendar != tt.toCal) {
				t.Errorf("MoveObject = %v, want *UIDConflictError{%s, %s}", err, tt.toCal, tt.wantConflict)
			}
			if created != tt.wantCreated {
				t.Errorf("MoveObject created = %v, want %v", created, tt.wantCreated)
			}
			for _, side := range []struct {
				cal  string
				want []string
				log  []Change
			}{{tt.fromCal, tt.wantFrom, tt.wantFromLog}, {tt.toCal, tt.wantTo, tt.wantToLog}} {
				if side.cal == "nope" {
					continue
				}
				infos, err := db.ObjectInfos("alice", side.cal)
				if n := names(infos); !slices.Equal(n, side.want) || err != nil {
					t.Errorf("ObjectInfos(%s) = %v, %v, want %v", side.cal, n, err, side.want)
				}
				ch, _, _, err := db.Changes("alice", side.cal, tokens[side.cal], 0)
				for i := range ch {
					ch[i].ETag = ""
				}
				if !slices.Equal(ch, side.log) || err != nil {
					t.Errorf("Changes(%s) = %+v, %v, want %+v", side.cal, ch, err, side.log)
				}
			}
			if tt.wantErr == nil {
				got, err := db.Object("alice", tt.toCal, tt.toName)
				if err != nil || !bytes.Equal(got.Data, src.Data) || got.ETag != src.ETag || got.UID != src.UID {
					t.Errorf("Object(destination) = %+v, %v, want the source's data and ETag", got, err)
				}
			}
		})
	}
}

func testChanges(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	cal := mustCalendar(t, db, "alice", "work")

	ch, tok, more, err := db.Changes("alice", "work", "", 0)
	if len(ch) != 0 || tok != cal.SyncToken() || more || err != nil {
		t.Errorf(`Changes(empty calendar, "") = %v, %q, %v, %v, want none, %q`, ch, tok, more, err, cal.SyncToken())
	}
	etags := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		etags[n] = mustPut(t, db, "alice", "work", event(n, n, "1", 0, 10)).ETag
	}
	ch, t1, more, err := db.Changes("alice", "work", "", 0)
	want := []Change{
		{Name: "a", Kind: ChangeKindUpsert, ETag: etags["a"], Seq: 1},
		{Name: "b", Kind: ChangeKindUpsert, ETag: etags["b"], Seq: 2},
		{Name: "c", Kind: ChangeKindUpsert, ETag: etags["c"], Seq: 3},
	}
	if !slices.Equal(ch, want) || t1 != FormatSyncToken(cal.ID, 3) || more || err != nil {
		t.Errorf(`Changes("") = %+v, %q, %v, %v, want %+v, seq 3`, ch, t1, more, err, want)
	}
	if ch, tok, _, err := db.Changes("alice", "work", t1, 0); len(ch) != 0 || tok != t1 || err != nil {
		t.Errorf("Changes(current token) = %+v, %q, %v, want none, same token", ch, tok, err)
	}

	etags["b"] = mustPut(t, db, "alice", "work", event("b", "b", "2", 0, 10)).ETag // 4
	if err := db.DeleteObject("alice", "work", "c", Condition{}); err != nil {     // 5
		t.Fatal(err)
	}
	etags["d"] = mustPut(t, db, "alice", "work", event("d", "d", "1", 0, 10)).ETag // 6
	ch, t2, more, err := db.Changes("alice", "work", t1, 0)
	want = []Change{
		{Name: "b", Kind: ChangeKindUpsert, ETag: etags["b"], Seq: 4},
		{Name: "c", Kind: ChangeKindDelete, Seq: 5},
		{Name: "d", Kind: ChangeKindUpsert, ETag: etags["d"], Seq: 6},
	}
	if !slices.Equal(ch, want) || t2 != FormatSyncToken(cal.ID, 6) || more || err != nil {
		t.Errorf("Changes(t1) = %+v, %q, %v, %v, want %+v, seq 6", ch, t2, more, err, want)
	}
	ch, _, _, _ = db.Changes("alice", "work", "", 0)
	if got := changeNames(ch); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Errorf(`Changes("") after delete = %v, want [a b d] (no deleted names)`, got)
	}
	// Re-creating c replaces its delete entry.
	etags["c"] = mustPut(t, db, "alice", "work", event("c", "c", "3", 0, 10)).ETag // 7
	ch, _, _, err = db.Changes("alice", "work", t1, 0)
	want = []Change{
		{Name: "b", Kind: ChangeKindUpsert, ETag: etags["b"], Seq: 4},
		{Name: "d", Kind: ChangeKindUpsert, ETag: etags["d"], Seq: 6},
		{Name: "c", Kind: ChangeKindUpsert, ETag: etags["c"], Seq: 7},
	}
	if !slices.Equal(ch, want) || err != nil {
		t.Errorf("Changes(t1) after re-create = %+v, %v, want %+v", ch, err, want)
	}
	// The seq-0 token of the calendar sees every name ever changed.
	ch, _, _, err = db.Changes("alice", "work", FormatSyncToken(cal.ID, 0), 0)
	if got := changeNames(ch); !slices.Equal(got, []string{"a", "b", "d", "c"}) || err != nil {
		t.Errorf("Changes(seq 0) = %v, %v, want [a b d c]", got, err)
	}
	// Calendar properties are not members: no SyncSeq bump.
	if _, err := db.UpdateCalendar("alice", "work", func(c *Calendar) error { c.Color = "#000000FF"; return nil }); err != nil {
		t.Fatal(err)
	}
	if c := mustCal(t, db, "alice", "work"); c.SyncSeq != 7 {
		t.Errorf("SyncSeq after UpdateCalendar = %d, want 7", c.SyncSeq)
	}
}

func changeNames(ch []Change) []string {
	var ns []string
	for _, c := range ch {
		ns = append(ns, c.Name)
	}
	return ns
}

// testChangesPaging checks that paging with every limit, from an empty
// token and from an old one, reports every changed name exactly once and
// ends at the current token.
func testChangesPaging(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	cal := mustCalendar(t, db, "alice", "work")
	for i := range 12 {
		mustPut(t, db, "alice", "work", event(fmt.Sprintf("o%02d", i), fmt.Sprint(i), "1", 0, 10))
	}
	mid := mustCal(t, db, "alice", "work").SyncToken()
	midInfos, _ := db.ObjectInfos("alice", "work")
	for i := range 12 {
		switch i % 3 {
		case 0:
			if err := db.DeleteObject("alice", "work", fmt.Sprintf("o%02d", i), Condition{}); err != nil {
				t.Fatal(err)
			}
		case 1:
			mustPut(t, db, "alice", "work", event(fmt.Sprintf("o%02d", i), fmt.Sprint(i), "2", 0, 10))
		}
	}
	mustPut(t, db, "alice", "work", event("new", "new", "1", 0, 10))
	final := mustCal(t, db, "alice", "work")

	for _, from := range []struct {
		name, token string
		base        []Object // the replica's state at token
	}{{"initial", "", nil}, {"from mid", mid, midInfos}, {"from zero", FormatSyncToken(cal.ID, 0), nil}} {
		all, _, _, err := db.Changes("alice", "work", from.token, 0)
		if err != nil {
			t.Fatalf("Changes(%s) = %v", from.name, err)
		}
		for limit := 1; limit <= len(all)+1; limit++ {
			t.Run(fmt.Sprintf("%s/limit %d", from.name, limit), func(t *testing.T) {
				var got []Change
				tok, more := from.token, true
				for calls := 0; more; calls++ {
					if calls > 100 {
						t.Fatalf("Changes paging does not end")
					}
					var ch []Change
					ch, tok, more, err = db.Changes("alice", "work", tok, limit)
					if err != nil {
						t.Fatalf("Changes(%q, %d) = %v", tok, limit, err)
					}
					if len(ch) > limit {
						t.Fatalf("Changes(limit %d) returned %d", limit, len(ch))
					}
					if more && len(ch) != limit {
						t.Fatalf("Changes(limit %d) = %d changes with more", limit, len(ch))
					}
					got = append(got, ch...)
				}
				if tok != final.SyncToken() {
					t.Errorf("last token = %q, want %q", tok, final.SyncToken())
				}
				if from.token != "" && !slices.Equal(got, all) {
					t.Errorf("paged changes = %+v, want %+v", got, all)
				}
				// An initial sync may go on past its first token and then see
				// deletes of names it never had; the live names must each
				// appear exactly once as the latest state.
				state := map[string]string{}
				for _, o := range from.base {
					state[o.Name] = o.ETag
				}
				seen := map[string]int{}
				for _, c := range got {
					seen[c.Name]++
					if c.Kind == ChangeKindDelete {
						delete(state, c.Name)
					} else {
						state[c.Name] = c.ETag
					}
				}
				for n, k := range seen {
					if k != 1 {
						t.Errorf("name %s reported %d times", n, k)
					}
				}
				infos, _ := db.ObjectInfos("alice", "work")
				if len(state) != len(infos) {
					t.Errorf("replica has %d names, store %d", len(state), len(infos))
				}
				for _, o := range infos {
					if state[o.Name] != o.ETag {
						t.Errorf("replica %s = %q, store ETag %q", o.Name, state[o.Name], o.ETag)
					}
				}
			})
		}
	}
}

func testInvalidSyncTokens(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	work := mustCalendar(t, db, "alice", "work")
	home := mustCalendar(t, db, "alice", "home")
	mustPut(t, db, "alice", "work", event("a", "a", "1", 0, 10))
	oldTemp := mustCalendar(t, db, "alice", "temp")
	mustPut(t, db, "alice", "temp", event("a", "a", "1", 0, 10))
	oldToken := mustCal(t, db, "alice", "temp").SyncToken()
	if err := db.DeleteCalendar("alice", "temp"); err != nil {
		t.Fatal(err)
	}
	newTemp := mustCalendar(t, db, "alice", "temp")
	mustPut(t, db, "alice", "temp", event("a", "a", "1", 0, 10))
	mustPut(t, db, "alice", "temp", event("b", "b", "1", 0, 10))
	if oldTemp.ID == newTemp.ID {
		t.Fatalf("re-created calendar reuses ID %q", oldTemp.ID)
	}
	tests := []struct {
		name, cal, token string
	}{
		{"garbage", "work", "not-a-token"},
		{"http url", "work", "http://example.org/sync/1"},
		{"other calendar's token", "work", home.SyncToken()},
		{"future seq", "work", FormatSyncToken(work.ID, 2)},
		{"deleted and re-created calendar", "temp", oldToken},
		{"negative seq", "work", "urn:calbolt:sync:" + work.ID + ":-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := db.Changes("alice", tt.cal, tt.token, 0)
			wantErr(t, fmt.Sprintf("Changes(%q, %q)", tt.cal, tt.token), err, ErrInvalidSyncToken)
		})
	}
	if _, _, _, err := db.Changes("alice", "work", FormatSyncToken(work.ID, 1), 0); err != nil {
		t.Errorf("Changes(current seq) = %v, want nil", err)
	}
}

func testPutObjects(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	batch := []Object{
		event("a.ics", "A", "1", 0, 10),
		event("b.ics", "B", "1", 10, 20),
		event("c.ics", "C", "1", 20, 30),
	}
	steps := []struct {
		name    string
		objs    []Object
		want    ImportResult
		wantErr error
		bump    uint64 // expected SyncSeq increase
	}{
		{"first import", batch, ImportResult{Created: 3}, nil, 3},
		{"same again", batch, ImportResult{Unchanged: 3}, nil, 0},
		{"one changed, one new", []Object{
			event("a.ics", "A", "1", 0, 10),
			event("b.ics", "B", "2", 10, 20),
			event("d.ics", "D", "1", 30, 40),
		}, ImportResult{Created: 1, Updated: 1, Unchanged: 1}, nil, 2},
		{"known UID under another name replaces in place", []Object{
			event("renamed.ics", "C", "2", 20, 30),
		}, ImportResult{Updated: 1}, nil, 1},
		{"same bytes, new span", []Object{
			event("c.ics", "C", "2", 20, 35),
		}, ImportResult{Updated: 1}, nil, 1},
		{"new UID on a taken name writes nothing", []Object{
			event("e.ics", "E", "1", 0, 10),
			event("a.ics", "X", "1", 0, 10),
		}, ImportResult{}, ErrUIDConflict, 0},
		{"empty", nil, ImportResult{}, nil, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := mustCal(t, db, "alice", "work")
			got, err := db.PutObjects("alice", "work", st.objs)
			if !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
				t.Fatalf("PutObjects = %v, want %v", err, st.wantErr)
			}
			if got != st.want {
				t.Errorf("PutObjects = %+v, want %+v", got, st.want)
			}
			after := mustCal(t, db, "alice", "work")
			if after.SyncSeq-before.SyncSeq != st.bump {
				t.Errorf("SyncSeq went %d -> %d, want +%d", before.SyncSeq, after.SyncSeq, st.bump)
			}
			if st.bump == 0 {
				ch, tok, _, err := db.Changes("alice", "work", before.SyncToken(), 0)
				if len(ch) != 0 || tok != before.SyncToken() || err != nil {
					t.Errorf("Changes after a no-op import = %+v, %q, %v, want none, same token", ch, tok, err)
				}
			}
		})
	}
	infos, _ := db.ObjectInfos("alice", "work")
	if got := names(infos); !slices.Equal(got, []string{"a.ics", "b.ics", "c.ics", "d.ics"}) {
		t.Errorf("ObjectInfos after imports = %v, want [a.ics b.ics c.ics d.ics]", got)
	}
	if o, err := db.Object("alice", "work", "c.ics"); err != nil || !bytes.Contains(o.Data, []byte("SUMMARY:2")) || o.Span.End != 35 {
		t.Errorf("Object(c.ics) = %+v, %v, want revision 2 with span end 35", o, err)
	}
	_, err := db.PutObjects("alice", "nope", batch)
	wantErr(t, "PutObjects(missing calendar)", err, ErrNotFound)
}

// testConcurrentIfMatch races writers that all hold the same ETag: in each
// round exactly one may win, the others get ErrPreconditionFailed.
func testConcurrentIfMatch(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	cur := mustPut(t, db, "alice", "work", event("x.ics", "X", "start", 0, 10))
	const writers, rounds = 8, 25
	for round := range rounds {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			winners []string
			etag    string
		)
		for w := range writers {
			wg.Go(func() {
				rev := fmt.Sprintf("r%d-w%d", round, w)
				o, _, err := db.PutObject("alice", "work", event("x.ics", "X", rev, 0, 10), Condition{IfMatch: cur.ETag})
				switch {
				case err == nil:
					mu.Lock()
					winners = append(winners, rev)
					etag = o.ETag
					mu.Unlock()
				case !errors.Is(err, ErrPreconditionFailed):
					t.Errorf("PutObject(If-Match) = %v, want nil or ErrPreconditionFailed", err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: winners = %v, want exactly one", round, winners)
		}
		got, err := db.Object("alice", "work", "x.ics")
		if err != nil || !bytes.Contains(got.Data, []byte("SUMMARY:"+winners[0])) || got.ETag != etag {
			t.Fatalf("round %d: Object = %q, %v, want the winner %s", round, got.Data, err, winners[0])
		}
		cur = got
	}
	if c := mustCal(t, db, "alice", "work"); c.SyncSeq != 1+rounds {
		t.Errorf("SyncSeq = %d, want %d (one write per round)", c.SyncSeq, 1+rounds)
	}
}

// After ReissueSyncTokens every token issued before is refused, and the
// calendars' members and sequence are as they were.
func testReissueSyncTokens(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	mustPut(t, db, "alice", "work", event("a", "a", "1", 0, 10))
	before, _ := db.Calendar("alice", "work")
	if n, err := db.ReissueSyncTokens(); n != 1 || err != nil {
		t.Fatalf("ReissueSyncTokens = %d, %v; want 1 calendar", n, err)
	}
	after, _ := db.Calendar("alice", "work")
	if after.ID == before.ID || after.SyncSeq != before.SyncSeq || after.Objects != 1 {
		t.Errorf("after: %+v, before: %+v; want a new ID, the same sequence and objects", after, before)
	}
	_, _, _, err := db.Changes("alice", "work", before.SyncToken(), 0)
	wantErr(t, "Changes with a token from before", err, ErrInvalidSyncToken)
	if _, _, _, err := db.Changes("alice", "work", after.SyncToken(), 0); err != nil {
		t.Errorf("Changes with the new token = %v", err)
	}
}

// A user created with calendars has them from the start; if one of them
// cannot be made, neither the user nor any calendar exists.
func testCreateUserWithCalendars(t *testing.T, open func(t *testing.T) *DB) {
	db := open(t)
	if err := db.CreateUser(User{Name: "alice"}, Calendar{Name: "personal"}, Calendar{Name: "work"}); err != nil {
		t.Fatalf("CreateUser with calendars = %v", err)
	}
	cals, err := db.Calendars("alice")
	if err != nil || len(cals) != 2 || cals[0].Name != "personal" || cals[1].Name != "work" || cals[0].ID == "" || cals[0].ID == cals[1].ID {
		t.Errorf("Calendars(alice) = %+v, %v; want personal and work with their own IDs", cals, err)
	}
	wantErr(t, "CreateUser with a bad calendar name", db.CreateUser(User{Name: "bob"}, Calendar{Name: "ok"}, Calendar{Name: "a/b"}), ErrInvalidName)
	wantErr(t, "CreateUser with the same calendar twice", db.CreateUser(User{Name: "bob"}, Calendar{Name: "x"}, Calendar{Name: "x"}), ErrExists)
	if _, err := db.User("bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(bob) after failed creates = %v, want ErrNotFound: nothing half-made", err)
	}
}
