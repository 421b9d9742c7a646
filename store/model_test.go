package store

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

// The model test drives the store and a tiny in-memory model of it with
// the same random operations and compares results, state and change logs
// after every step.

// opSource picks operations: a seeded PRNG in TestStoreModel, the fuzzer's
// bytes in FuzzStoreOps.
type opSource interface {
	intn(n int) int
	done() bool
}

type randSource struct {
	r    *rand.Rand
	left int
}

func (s *randSource) intn(n int) int { return s.r.IntN(n) }
func (s *randSource) done() bool     { s.left--; return s.left < 0 }

type byteSource struct {
	b   []byte
	ops int
}

func (s *byteSource) intn(n int) int {
	if len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0]) % n
	s.b = s.b[1:]
	return v
}

func (s *byteSource) done() bool { s.ops++; return len(s.b) == 0 || s.ops > 300 }

type modelObj struct {
	uid, component string
	span           Span
	data           []byte
}

type modelChange struct {
	seq  uint64
	kind ChangeKind
}

type modelCal struct {
	id   string
	seq  uint64
	objs map[string]modelObj
	log  map[string]modelChange // latest change per name
}

func (c *modelCal) clone() *modelCal {
	return &modelCal{id: c.id, seq: c.seq, objs: maps.Clone(c.objs), log: maps.Clone(c.log)}
}

func (c *modelCal) uidHolder(uid string) string {
	for n, o := range c.objs {
		if o.uid == uid {
			return n
		}
	}
	return ""
}

func (c *modelCal) write(name string, o modelObj) {
	c.seq++
	c.objs[name] = o
	c.log[name] = modelChange{c.seq, ChangeKindUpsert}
}

func (c *modelCal) remove(name string) {
	c.seq++
	delete(c.objs, name)
	c.log[name] = modelChange{c.seq, ChangeKindDelete}
}

// cond mirrors checkCondition.
func (c *modelCal) cond(name string, cond Condition) bool {
	o, exists := c.objs[name]
	if cond.IfNoneMatch && exists {
		return false
	}
	if cond.IfMatch != "" && (!exists || (cond.IfMatch != "*" && cond.IfMatch != etagOf(o.data))) {
		return false
	}
	return true
}

// changesAfter is what Changes(token at seq) must return.
func (c *modelCal) changesAfter(seq uint64) []Change {
	var out []Change
	for n, ch := range c.log {
		if ch.seq > seq {
			x := Change{Name: n, Kind: ch.kind, Seq: ch.seq}
			if ch.kind == ChangeKindUpsert {
				x.ETag = etagOf(c.objs[n].data)
			}
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return int(a.Seq) - int(b.Seq) })
	return out
}

// replica is a sync client's view of a calendar.
type replica struct {
	token string
	etags map[string]string
}

type modelRun struct {
	tb       testing.TB
	db       *DB
	src      opSource
	cals     map[string]*modelCal
	replicas map[string]*replica
	step     int
}

var (
	modelCals  = []string{"work", "home"}
	modelNames = []string{"a.ics", "b.ics", "c.ics", "d.ics", "e.ics", "f.ics"}
	modelUIDs  = []string{"U1", "U2", "U3", "U4", "U5"}
)

func errClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrNotFound):
		return "not found"
	case errors.Is(err, ErrPreconditionFailed):
		return "precondition failed"
	case errors.Is(err, ErrUIDConflict):
		var uc *UIDConflictError
		if errors.As(err, &uc) {
			return "uid conflict with " + uc.Calendar + "/" + uc.Name
		}
		return "uid conflict"
	}
	return "unexpected: " + err.Error()
}

func runModel(tb testing.TB, db *DB, src opSource) {
	r := &modelRun{tb: tb, db: db, src: src, cals: map[string]*modelCal{}, replicas: map[string]*replica{}}
	mustUser(tb, db, "alice")
	for _, n := range modelCals {
		cal := mustCalendar(tb, db, "alice", n)
		r.cals[n] = &modelCal{id: cal.ID, objs: map[string]modelObj{}, log: map[string]modelChange{}}
		r.replicas[n] = &replica{etags: map[string]string{}}
	}
	for !src.done() {
		r.step++
		switch src.intn(9) {
		case 0, 1, 2:
			r.put()
		case 3:
			r.delete()
		case 4:
			r.move()
		case 5:
			r.importChunk()
		case 6, 7:
			r.sync()
		case 8:
			r.changesFromOldToken()
		}
		r.compare()
	}
	for _, n := range modelCals {
		r.syncCal(n)
	}
	if errs := db.Check(); errs != nil {
		tb.Fatalf("Check() after %d steps = %v", r.step, errs)
	}
}

func (r *modelRun) pick(list []string) string { return list[r.src.intn(len(list))] }

func (r *modelRun) object(name string) Object {
	start := int64(r.src.intn(10))*100 - 300
	end := start + [...]int64{0, 50, 300, 0}[r.src.intn(4)]
	if end == start && r.src.intn(2) == 0 {
		end = SpanForever
	}
	return event(name, r.pick(modelUIDs), fmt.Sprint(r.src.intn(3)), start, end)
}

func modelOf(o Object) modelObj {
	return modelObj{uid: o.UID, component: o.Component, span: o.Span, data: o.Data}
}

// condition picks a precondition, sometimes one that holds.
func (r *modelRun) condition(cal, name string) Condition {
	switch r.src.intn(6) {
	case 1:
		return Condition{IfNoneMatch: true}
	case 2:
		return Condition{IfMatch: "*"}
	case 3:
		return Condition{IfMatch: "0123456789abcdef0123456789abcdef"}
	case 4, 5:
		if o, ok := r.cals[cal].objs[name]; ok {
			return Condition{IfMatch: etagOf(o.data)}
		}
	}
	return Condition{}
}

func (r *modelRun) fail(format string, args ...any) {
	r.tb.Helper()
	r.tb.Fatalf("step %d: "+format, append([]any{r.step}, args...)...)
}

func (r *modelRun) put() {
	cal, name := r.pick(modelCals), r.pick(modelNames)
	obj := r.object(name)
	cond := r.condition(cal, name)
	m := r.cals[cal]
	_, existed := m.objs[name]
	want := "ok"
	switch holder := m.uidHolder(obj.UID); {
	case !m.cond(name, cond):
		want = "precondition failed"
	case holder != "" && holder != name:
		want = "uid conflict with " + cal + "/" + holder
	default:
		m.write(name, modelOf(obj))
	}
	info, created, err := r.db.PutObject("alice", cal, obj, cond)
	if got := errClass(err); got != want {
		r.fail("PutObject(%s/%s uid %s, %+v) = %s, want %s", cal, name, obj.UID, cond, got, want)
	}
	if err == nil && (created == existed || info.ETag != etagOf(obj.Data)) {
		r.fail("PutObject(%s/%s) = created %v etag %q, want created %v etag %q", cal, name, created, info.ETag, !existed, etagOf(obj.Data))
	}
}

func (r *modelRun) delete() {
	cal, name := r.pick(modelCals), r.pick(modelNames)
	cond := r.condition(cal, name)
	if cond.IfNoneMatch {
		cond = Condition{}
	}
	m := r.cals[cal]
	want := "ok"
	if _, ok := m.objs[name]; !ok {
		want = "not found"
	} else if !m.cond(name, cond) {
		want = "precondition failed"
	} else {
		m.remove(name)
	}
	if got := errClass(r.db.DeleteObject("alice", cal, name, cond)); got != want {
		r.fail("DeleteObject(%s/%s, %+v) = %s, want %s", cal, name, cond, got, want)
	}
}

func (r *modelRun) move() {
	fromCal, fromName := r.pick(modelCals), r.pick(modelNames)
	toCal, toName := r.pick(modelCals), r.pick(modelNames)
	keep := r.src.intn(2) == 0
	var cond Condition
	if r.src.intn(3) == 0 {
		cond.IfNoneMatch = true
	}
	src, dst := r.cals[fromCal], r.cals[toCal]
	o, srcOK := src.objs[fromName]
	_, existed := dst.objs[toName]
	want, wantCreated := "ok", false
	switch holder := dst.uidHolder(o.uid); {
	case !srcOK:
		want = "not found"
	case !dst.cond(toName, cond):
		want = "precondition failed"
	case fromCal == toCal && fromName == toName:
	case holder != "" && holder != toName && !(fromCal == toCal && !keep && holder == fromName):
		want = "uid conflict with " + toCal + "/" + holder
	default:
		if !keep {
			src.remove(fromName)
		}
		dst.write(toName, o)
		wantCreated = !existed
	}
	created, err := r.db.MoveObject("alice", fromCal, fromName, toCal, toName, keep, Condition{}, cond)
	if got := errClass(err); got != want || created != wantCreated {
		r.fail("MoveObject(%s/%s -> %s/%s, keep %v, %+v) = %v, %s, want %v, %s",
			fromCal, fromName, toCal, toName, keep, cond, created, got, wantCreated, want)
	}
}

func (r *modelRun) importChunk() {
	cal := r.pick(modelCals)
	objs := make([]Object, 1+r.src.intn(3))
	for i := range objs {
		objs[i] = r.object(r.pick(modelNames))
	}
	m := r.cals[cal].clone()
	var want ImportResult
	wantErr := "ok"
	for _, o := range objs {
		if holder := m.uidHolder(o.UID); holder != "" {
			old := m.objs[holder]
			if bytes.Equal(old.data, o.Data) && old.span == o.Span && old.component == o.Component {
				want.Unchanged++
				continue
			}
			m.write(holder, modelOf(o))
			want.Updated++
			continue
		}
		if _, taken := m.objs[o.Name]; taken {
			wantErr, want = "uid conflict", ImportResult{}
			break
		}
		m.write(o.Name, modelOf(o))
		want.Created++
	}
	if wantErr == "ok" {
		r.cals[cal] = m
	}
	got, err := r.db.PutObjects("alice", cal, objs)
	if errClass(err) != wantErr || got != want {
		r.fail("PutObjects(%s, %d objects) = %+v, %s, want %+v, %s", cal, len(objs), got, errClass(err), want, wantErr)
	}
}

// sync brings one calendar's replica up to date with a random page size.
func (r *modelRun) sync() { r.syncCal(r.pick(modelCals)) }

func (r *modelRun) syncCal(cal string) {
	rep := r.replicas[cal]
	limit := r.src.intn(4) // 0: no limit
	for more, calls := true, 0; more; calls++ {
		if calls > 100 {
			r.fail("Changes(%s) paging does not end", cal)
		}
		var (
			ch  []Change
			err error
		)
		ch, rep.token, more, err = r.db.Changes("alice", cal, rep.token, limit)
		if err != nil {
			r.fail("Changes(%s, %q, %d) = %v", cal, rep.token, limit, err)
		}
		for _, c := range ch {
			if c.Kind == ChangeKindDelete {
				delete(rep.etags, c.Name)
			} else {
				rep.etags[c.Name] = c.ETag
			}
		}
	}
	m := r.cals[cal]
	if rep.token != FormatSyncToken(m.id, m.seq) {
		r.fail("synced token of %s = %q, want seq %d", cal, rep.token, m.seq)
	}
	want := map[string]string{}
	for n, o := range m.objs {
		want[n] = etagOf(o.data)
	}
	if !maps.Equal(rep.etags, want) {
		r.fail("replica of %s = %v, want %v", cal, rep.etags, want)
	}
}

// changesFromOldToken compares Changes from a random past seq with the
// model's change log.
func (r *modelRun) changesFromOldToken() {
	cal := r.pick(modelCals)
	m := r.cals[cal]
	seq := uint64(r.src.intn(int(m.seq) + 1))
	got, tok, more, err := r.db.Changes("alice", cal, FormatSyncToken(m.id, seq), 0)
	want := m.changesAfter(seq)
	if err != nil || more || tok != FormatSyncToken(m.id, m.seq) || !slices.Equal(got, want) {
		r.fail("Changes(%s, seq %d) = %+v, %q, %v, %v, want %+v", cal, seq, got, tok, more, err, want)
	}
}

// compare checks the store's state against the model.
func (r *modelRun) compare() {
	r.tb.Helper()
	for _, cal := range modelCals {
		m := r.cals[cal]
		c, err := r.db.Calendar("alice", cal)
		if err != nil || c.SyncSeq != m.seq || c.Objects != len(m.objs) {
			r.fail("Calendar(%s) = seq %d objects %d, %v, want %d, %d", cal, c.SyncSeq, c.Objects, err, m.seq, len(m.objs))
		}
		infos, err := r.db.ObjectInfos("alice", cal)
		if err != nil || len(infos) != len(m.objs) {
			r.fail("ObjectInfos(%s) = %v, %v, want %d objects", cal, names(infos), err, len(m.objs))
		}
		for _, info := range infos {
			o, ok := m.objs[info.Name]
			if !ok || info.UID != o.uid || info.Span != o.span || info.ETag != etagOf(o.data) || info.Size != int64(len(o.data)) {
				r.fail("ObjectInfos(%s) has %+v, model %+v", cal, info, o)
			}
		}
		for _, uid := range modelUIDs {
			got, err := r.db.ObjectByUID("alice", cal, uid)
			if want := m.uidHolder(uid); got != want || (want == "") != errors.Is(err, ErrNotFound) {
				r.fail("ObjectByUID(%s, %s) = %q, %v, want %q", cal, uid, got, err, want)
			}
		}
		start := int64(r.src.intn(12))*100 - 400
		end := start + int64(r.src.intn(4))*100
		inRange, err := r.db.ObjectsInRange("alice", cal, start, end)
		var want []string
		for n, o := range m.objs {
			if o.span.Overlaps(start, end) {
				want = append(want, n)
			}
		}
		slices.Sort(want)
		if got := names(inRange); err != nil || !slices.Equal(got, want) {
			r.fail("ObjectsInRange(%s, %d, %d) = %v, %v, want %v", cal, start, end, got, err, want)
		}
		for _, o := range inRange {
			if !bytes.Equal(o.Data, m.objs[o.Name].data) {
				r.fail("ObjectsInRange(%s) data of %s differs from the model", cal, o.Name)
			}
		}
	}
}

func TestStoreModel(t *testing.T) {
	for seed := range uint64(6) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			db := openBolt(t)
			runModel(t, db, &randSource{r: rand.New(rand.NewPCG(seed, 0x5eed)), left: 300})
		})
	}
}

func FuzzStoreOps(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 6, 0})
	f.Add([]byte("put put put move delete import sync sync"))
	f.Add([]byte{4, 0, 0, 1, 1, 0, 0, 1, 3, 8, 1, 7, 2, 5, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	r := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		b := make([]byte, 200)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		db, err := Open(filepath.Join(t.TempDir(), "calbolt.db"), &Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		runModel(t, db, &byteSource{b: ops})
	})
}
