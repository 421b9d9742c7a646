package caltest

import (
	"fmt"
	"testing"

	"github.com/calbolt/calbolt/internal/busygen"
	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/store"
)

// BusyObjects returns n calendar objects from busygen.Objects (a busy
// working calendar of 2026, one in five recurring with exceptions), each
// validated and indexed as a PUT would be.
func BusyObjects(tb testing.TB, seed uint64, prefix string, n int) []store.Object {
	tb.Helper()
	cal := &store.Calendar{}
	objs := make([]store.Object, 0, n)
	for i, data := range busygen.Objects(seed, prefix, n) {
		o, err := calobj.Parse([]byte(data), cal, nil)
		if err != nil {
			tb.Fatalf("BusyObjects: object %d: %v\n%s", i, err, data)
		}
		objs = append(objs, store.Object{Name: fmt.Sprintf("%s-%d.ics", prefix, i), UID: o.UID,
			Component: o.Component, Span: o.Span, Data: o.Data})
	}
	return objs
}

// Load writes objs into owner's calendar (created if missing) in chunks,
// as an import does.
func Load(tb testing.TB, db *store.DB, owner, calendar string, objs []store.Object) {
	tb.Helper()
	if _, err := db.Calendar(owner, calendar); err != nil {
		if _, err := db.CreateCalendar(owner, store.Calendar{Name: calendar}); err != nil {
			tb.Fatalf("CreateCalendar(%s, %s): %v", owner, calendar, err)
		}
	}
	for i := 0; i < len(objs); i += 1000 {
		if _, err := db.PutObjects(owner, calendar, objs[i:min(i+1000, len(objs))]); err != nil {
			tb.Fatalf("PutObjects(%s, %s): %v", owner, calendar, err)
		}
	}
}
