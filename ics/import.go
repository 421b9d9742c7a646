// Package ics imports and exports whole iCalendar files (RFC 5545): the
// .ics exports of Google Calendar, Outlook/Exchange, Apple Calendar,
// Nextcloud, Radicale and Thunderbird go in as calendar object resources
// (RFC 4791 §4.1), and a calendar comes out as one .ics.
//
// It is a package of its own, beside caldav, because two front ends run
// the same import: `calbolt import` on the data file and a POST of a file
// to a calendar collection. It knows no HTTP and no bbolt; it validates
// every resource with internal/calobj, exactly as a PUT is validated, and
// writes through the store's chunked, idempotent PutObjects.
//
// An import reads its input twice. The index pass streams every input
// once and remembers, per top-level component, its place in the file and
// a hash of its UID (about 50 bytes at the peak, no pointers; see
// index.go). The import pass then builds one resource per UID — the master
// and every RECURRENCE-ID override, wherever they sit in the file, with
// exactly the VTIMEZONEs they reference — validates and repairs resources
// in parallel, and hands them in file order, in chunks of
// Options.ChunkSize, to PutObjects: each chunk commits whole or not at
// all, and a second run of the same file changes nothing. Inputs must
// therefore be io.ReaderAt; Spool turns a stream (a request body, standard
// input) into one.
//
// Memory therefore grows with the number of components only, by those
// bytes; everything else is bounded whatever the file: the resources in
// flight (4 chunks' worth, windowBytes of input), the chunks (ChunkSize
// objects or chunkBytes), the report (MaxDetails details each), the
// VTIMEZONE cache (maxZoneCache) and a spooled stream (1 MiB, the rest on
// disk).
package ics

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/calobj"
	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// Store is what import and export need of the store; *store.DB has it.
type Store interface {
	Calendar(owner, name string) (store.Calendar, error)
	CreateCalendar(owner string, cal store.Calendar) (store.Calendar, error)
	PutObjects(owner, calendar string, objs []store.Object) (store.ImportResult, error)
	ObjectInfos(owner, calendar string) ([]store.Object, error)
	ObjectByUID(owner, calendar, uid string) (string, error)
	Objects(owner, calendar string, names []string) ([]store.Object, error)
}

// Sentinel errors of Import. Test with errors.Is.
var (
	// ErrStrict reports a strict import that found an object to reject;
	// nothing was written.
	ErrStrict = errors.New("ics: strict import: an object was rejected, nothing written")
	// ErrNoCalendarData reports an input without any VCALENDAR.
	ErrNoCalendarData = errors.New("ics: no VCALENDAR in the input")
)

// Input is one file to import.
type Input struct {
	Name string      // shown in the report, e.g. the file name; may be ""
	R    io.ReaderAt // read twice, concurrently
	Size int64
}

// Defaults of Options.
const (
	DefaultChunkSize = 1000
	// DefaultMaxObjectSize equals the server's default max-resource-size.
	DefaultMaxObjectSize = 1 << 20
)

// Options tune Import. A nil *Options means the defaults.
type Options struct {
	// DryRun reports what an import would do without writing anything.
	DryRun bool
	// Strict refuses the whole import when any object would be rejected:
	// a first pass validates everything, and only a clean input is written.
	Strict bool
	// Create makes the calendar when it does not exist, named from the
	// file's X-WR-CALNAME and with its X-WR-TIMEZONE as calendar-timezone.
	Create bool
	// ChunkSize is the number of objects per write transaction; zero means
	// DefaultChunkSize.
	ChunkSize int
	// MaxObjectSize caps one resource, as max-resource-size caps a PUT;
	// zero means DefaultMaxObjectSize.
	MaxObjectSize int64
	// Workers validate resources in parallel; zero means GOMAXPROCS.
	Workers int
	// Progress, when set, is called now and then from one goroutine.
	Progress func(Progress)

	// uidHash, when set, replaces the index's UID hash (tests force
	// collisions with it).
	uidHash func([]byte) uidKey
}

// Progress is how far an import is.
type Progress struct {
	Phase string // "scan" (Done and Total in bytes) or "import" (in resources)
	Done  int64
	Total int64
}

// Import reads inputs and stores one resource per UID in owner's calendar
// (see the package documentation). The report is never nil; the error is
// set when the run stopped early (ErrStrict, ErrNoCalendarData, a store
// error, ctx), and then also in Report.Error. A rejected object is not an
// error: it is in the report.
func Import(ctx context.Context, st Store, owner, calendar string, inputs []Input, opts *Options) (*Report, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.MaxObjectSize <= 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	rep := &Report{Calendar: calendar, DryRun: o.DryRun, Strict: o.Strict}
	fail := func(err error) (*Report, error) {
		rep.Error = err.Error()
		return rep, err
	}

	// The index pass.
	ix := newIndex()
	if o.uidHash != nil {
		ix.hash = o.uidHash
	}
	var total int64
	for _, in := range inputs {
		total += in.Size
	}
	var done int64
	for i, in := range inputs {
		var progress func(int64)
		if o.Progress != nil {
			base := done
			progress = func(n int64) { o.Progress(Progress{Phase: "scan", Done: base + n, Total: total}) }
		}
		if err := ix.scan(i, in.Name, io.NewSectionReader(in.R, 0, in.Size), progress); err != nil {
			return fail(err)
		}
		done = ix.bytesRead
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
	}
	ix.done()
	for _, p := range ix.problems {
		rep.reject(p)
	}
	rep.Rejected += ix.moreProbs
	rep.RejectionsOmitted += ix.moreProbs
	for k, n := range ix.repairs {
		rep.repair(k, n)
	}
	rep.Components = ix.otherComps
	for _, n := range ix.comps {
		rep.Components += *n
	}
	if ix.nVCal == 0 {
		return fail(ErrNoCalendarData)
	}

	// The calendar.
	cal, err := st.Calendar(owner, calendar)
	create := false
	switch {
	case errors.Is(err, store.ErrNotFound) && o.Create:
		cal, create = ix.newCalendar(calendar, inputs, rep), true
	case errors.Is(err, store.ErrNotFound):
		return fail(fmt.Errorf("%w: no calendar %q (import with create to make it)", err, calendar))
	case err != nil:
		return fail(err)
	}

	im := &importer{st: st, owner: owner, ix: ix, inputs: inputs, opts: &o, cal: &cal, zoneData: map[string][]byte{}}
	if o.Strict && !o.DryRun {
		// Validate everything first, write nothing: stop at the first
		// rejection.
		check := &Report{}
		if err := im.run(ctx, check, modeValidate); err != nil {
			return fail(err)
		}
		if check.Rejected > 0 || rep.Rejected > 0 {
			rep.merge(check)
			return fail(ErrStrict)
		}
	}
	if create && !o.DryRun {
		if cal, err = st.CreateCalendar(owner, cal); err != nil {
			return fail(fmt.Errorf("ics: creating calendar %q: %w", calendar, err))
		}
		rep.CalendarCreated = true
	}
	mode := modeWrite
	if o.DryRun {
		mode = modeCompare
		if create {
			mode = modeValidate // nothing to compare with
		}
	}
	if err := im.run(ctx, rep, mode); err != nil {
		return fail(err)
	}
	if o.Strict && rep.Rejected > 0 {
		// A dry strict run: say what a real one would do.
		return fail(ErrStrict)
	}
	return rep, nil
}

// newCalendar is the calendar Import creates: named from X-WR-CALNAME,
// with the VTIMEZONE of X-WR-TIMEZONE as its calendar-timezone, accepting
// the component kinds the file holds besides events and tasks.
func (ix *index) newCalendar(name string, inputs []Input, rep *Report) store.Calendar {
	cal := store.Calendar{Name: name, DisplayName: ix.calName, Components: []string{ical.CompEvent, ical.CompToDo}}
	if cal.DisplayName == "" {
		cal.DisplayName = name
	}
	for _, c := range []string{ical.CompJournal, ical.CompFreeBusy} {
		if ix.count(c) > 0 {
			cal.Components = append(cal.Components, c)
		}
	}
	if ix.calZone == "" {
		return cal
	}
	if i, ok := ix.zones[ix.calZone]; ok {
		if data, err := ix.readComponent(inputs, ix.refs[i]); err == nil {
			tz := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbolt//import//EN\r\n" + string(data) + "END:VCALENDAR\r\n"
			if _, err := calobj.Decode([]byte(tz)); err == nil {
				cal.Timezone = tz
				return cal
			}
		}
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("the calendar's time zone X-WR-TIMEZONE:%s was not set: the file has no usable VTIMEZONE for it", ix.calZone))
	return cal
}

type mode int

const (
	modeWrite    mode = iota // PutObjects
	modeCompare              // dry run: compare with the store
	modeValidate             // validate only
)

// importer is one run of the import pass.
type importer struct {
	st       Store
	owner    string
	ix       *index
	inputs   []Input
	opts     *Options
	cal      *store.Calendar
	zoneMu   sync.Mutex
	zoneData map[string][]byte // normalized VTIMEZONE bytes by TZID
}

// result is what a worker made of one resource.
type result struct {
	obj     store.Object
	rej     *Rejection
	repairs []string
	file    string
	line    int
}

// Bounds of what an import holds in memory besides its index: resources
// validated and waiting for their turn (at most 4 chunks of them, and
// windowBytes of their input), and the chunk being filled (at most
// ChunkSize objects and chunkBytes), one chunk waiting for the writer and
// the one being written.
const (
	windowBytes = 32 << 20
	chunkBytes  = 16 << 20
)

// budget bounds the bytes in flight between the feeder, which acquires,
// and the collector, which releases. One request larger than the whole
// budget is let through alone.
type budget struct {
	mu     sync.Mutex
	cond   sync.Cond
	used   int64
	max    int64
	closed bool
}

func newBudget(max int64) *budget {
	b := &budget{max: max}
	b.cond.L = &b.mu
	return b
}

// acquire waits for n bytes; false when the budget was closed.
func (b *budget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	if b.closed {
		return false
	}
	b.used += n
	return true
}

func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Signal()
}

func (b *budget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// cost is what the budget charges for building the resource of the chain
// starting at head: its input bytes, plus room for the VTIMEZONEs and the
// header.
func (im *importer) cost(head int32) int64 {
	n := int64(4 << 10)
	for i := head; ; {
		c := im.ix.refs[i]
		n += int64(c.size)
		if c.next == 0 {
			return n
		}
		i = c.next
	}
}

// run validates every chain in parallel and feeds the accepted objects,
// in file order, to the store in chunks.
func (im *importer) run(ctx context.Context, rep *Report, m mode) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	n := im.ix.groups
	window := 4 * im.opts.ChunkSize
	slots := make(chan struct{}, window)
	bytesInFlight := newBudget(windowBytes)
	defer context.AfterFunc(ctx, bytesInFlight.close)()
	type job struct {
		seq  int
		head int32
		cost int64
	}
	jobs := make(chan job)
	type done struct {
		seq  int
		cost int64
		res  []result
	}
	results := make(chan done, window)

	go func() {
		defer close(jobs)
		seq := 0
		for i := range im.ix.refs {
			if !im.ix.refs[i].has(fFirst) {
				continue
			}
			j := job{seq, int32(i), im.cost(int32(i))}
			seq++
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if !bytesInFlight.acquire(j.cost) {
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < im.opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- done{j.seq, j.cost, im.build(j.head)}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	// The writer commits chunks while the workers validate the next ones.
	chunks := make(chan []store.Object, 1)
	var wres store.ImportResult
	writerDone := make(chan error, 1)
	go func() {
		var err error
		for chunk := range chunks {
			if err != nil {
				continue // drain
			}
			var r store.ImportResult
			r, err = im.write(chunk, m)
			wres.Created += r.Created
			wres.Updated += r.Updated
			wres.Unchanged += r.Unchanged
			if err != nil {
				cancel(err)
			}
		}
		writerDone <- err
	}()

	pending := map[int]done{}
	next := 0
	var chunk []store.Object
	var size int64
	send := func() bool {
		if len(chunk) == 0 {
			return true
		}
		select {
		case chunks <- chunk:
		case <-ctx.Done():
			return false
		}
		chunk, size = nil, 0
		return true
	}
	stopped := false
	for d := range results {
		if stopped {
			continue // drain
		}
		pending[d.seq] = d
		for !stopped {
			d, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-slots
			bytesInFlight.release(d.cost)
			for _, r := range d.res {
				if r.rej != nil {
					rep.reject(*r.rej)
					if m == modeValidate && im.opts.Strict {
						cancel(nil)
						stopped = true
						break
					}
					continue
				}
				rep.Objects++
				rep.repaired(Repaired{File: r.file, Line: r.line, UID: r.obj.UID}, r.repairs)
				chunk = append(chunk, r.obj)
				size += int64(len(r.obj.Data))
				if len(chunk) >= im.opts.ChunkSize || size >= chunkBytes {
					if !send() {
						stopped = true
						break
					}
				}
			}
			if im.opts.Progress != nil && next%256 == 0 {
				im.opts.Progress(Progress{Phase: "import", Done: int64(next), Total: int64(n)})
			}
		}
	}
	if !stopped {
		send()
	}
	close(chunks)
	werr := <-writerDone
	rep.Created += wres.Created
	rep.Updated += wres.Updated
	rep.Unchanged += wres.Unchanged
	if werr != nil {
		return werr
	}
	if err := ctx.Err(); err != nil && !stopped {
		if c := context.Cause(ctx); c != nil {
			return c
		}
		return err
	}
	if im.opts.Progress != nil && !stopped {
		im.opts.Progress(Progress{Phase: "import", Done: int64(n), Total: int64(n)})
	}
	return nil
}

// write commits one chunk (modeWrite) or says what committing it would do.
func (im *importer) write(chunk []store.Object, m mode) (store.ImportResult, error) {
	switch m {
	case modeValidate:
		return store.ImportResult{Created: len(chunk)}, nil
	case modeCompare:
		return im.compare(chunk)
	}
	res, err := im.st.PutObjects(im.owner, im.cal.Name, chunk)
	if errors.Is(err, store.ErrUIDConflict) {
		// A resource name is held by an object of another UID (one a
		// client PUT under the name we derive): pick other names.
		if err := im.rename(chunk); err != nil {
			return store.ImportResult{}, err
		}
		res, err = im.st.PutObjects(im.owner, im.cal.Name, chunk)
	}
	if err != nil {
		return store.ImportResult{}, fmt.Errorf("ics: writing %d objects to calendar %q: %w", len(chunk), im.cal.Name, err)
	}
	return res, nil
}

// rename gives the objects of chunk whose name another UID holds a name
// of their own.
func (im *importer) rename(chunk []store.Object) error {
	infos, err := im.st.ObjectInfos(im.owner, im.cal.Name)
	if err != nil {
		return err
	}
	holder := make(map[string]string, len(infos))
	for _, o := range infos {
		holder[o.Name] = o.UID
	}
	taken := func(name, uid string) bool { h, ok := holder[name]; return ok && h != uid }
	for i := range chunk {
		o := &chunk[i]
		if !taken(o.Name, o.UID) {
			continue
		}
		base := hashName(o.UID)
		name := base + ".ics"
		for k := 2; taken(name, o.UID); k++ {
			name = fmt.Sprintf("%s-%d.ics", base, k)
		}
		o.Name = name
		holder[name] = o.UID
	}
	return nil
}

// compare counts what PutObjects would do with chunk, by the store's rule:
// same UID, bytes, component and span is unchanged.
func (im *importer) compare(chunk []store.Object) (store.ImportResult, error) {
	var res store.ImportResult
	names := make([]string, len(chunk))
	var have []string
	for i, o := range chunk {
		name, err := im.st.ObjectByUID(im.owner, im.cal.Name, o.UID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		names[i] = name
		have = append(have, name)
	}
	stored, err := im.st.Objects(im.owner, im.cal.Name, have)
	if err != nil {
		return res, err
	}
	byName := make(map[string]*store.Object, len(stored))
	for i := range stored {
		byName[stored[i].Name] = &stored[i]
	}
	for i, o := range chunk {
		s := byName[names[i]]
		switch {
		case s == nil:
			res.Created++
		case bytes.Equal(s.Data, o.Data) && s.Component == o.Component && s.Span == o.Span:
			res.Unchanged++
		default:
			res.Updated++
		}
	}
	return res, nil
}

// member is one component of a resource being built.
type member struct {
	ref  compRef
	raw  []byte    // its bytes, once read
	info *compInfo // what was read back of it, once read back
}

// build turns the chain of components starting at head into validated
// objects or rejections: one, unless UIDs that differ hashed alike, in
// which case the chain is split by the UIDs read back from the input.
func (im *importer) build(head int32) []result {
	var ms []member
	var total int64
	for i := head; ; {
		c := im.ix.refs[i]
		ms = append(ms, member{ref: c})
		total += int64(c.size)
		if c.next == 0 {
			break
		}
		i = c.next
	}
	if len(ms) == 1 && !ms[0].ref.has(fGenUID) {
		// The common case: one component, its UID is read back only
		// when it is needed.
		return []result{im.buildResource(ms)}
	}
	// Read every UID back, with the bytes when they will be needed.
	for k := range ms {
		m := &ms[k]
		if total <= im.opts.MaxObjectSize && !m.ref.has(fBroken) {
			raw, err := im.ix.readComponent(im.inputs, m.ref)
			if err != nil {
				return []result{im.failed(m.ref, err)}
			}
			m.raw = raw
		}
		info, err := im.readBack(m.ref, m.raw)
		if err != nil {
			return []result{im.failed(m.ref, err)}
		}
		m.info = &info
	}
	first := ms[0].info.uid
	if !slices.ContainsFunc(ms, func(m member) bool { return m.info.uid != first }) {
		return []result{im.buildResource(ms)}
	}
	// A hash collision: one resource per UID, in the order of their first
	// components.
	var out []result
	for len(ms) > 0 {
		uid := ms[0].info.uid
		var same, rest []member
		for _, m := range ms {
			if m.info.uid == uid {
				same = append(same, m)
			} else {
				rest = append(rest, m)
			}
		}
		out = append(out, im.buildResource(same))
		ms = rest
	}
	return out
}

// failed is the rejection of a resource whose input could not be read
// again.
func (im *importer) failed(c compRef, err error) result {
	file := im.inputs[im.ix.vcals[c.vcal()].input].Name
	return result{file: file, line: int(c.line), rej: &Rejection{File: file, Line: int(c.line), Kind: KindSyntax, Reason: err.Error()}}
}

// info returns what m's component reads back as, reading it when needed.
func (im *importer) info(m *member) compInfo {
	if m.info == nil {
		info, err := im.readBack(m.ref, m.raw)
		if err != nil {
			info = compInfo{broken: err.Error()}
		}
		m.info = &info
	}
	return *m.info
}

// buildResource turns the components of one UID into a validated object
// or a rejection.
func (im *importer) buildResource(ms []member) (r result) {
	first := ms[0].ref
	r.file, r.line = im.inputs[im.ix.vcals[first.vcal()].input].Name, int(first.line)
	reject := func(kind, reason string) result {
		head := im.info(&ms[0])
		r.rej = &Rejection{File: r.file, Line: r.line, UID: head.uid, Component: head.name, Kind: kind, Reason: reason}
		return r
	}
	var size int64
	for k := range ms {
		c := ms[k].ref
		if c.has(fBroken) {
			r.line = int(c.line)
			return reject(KindSyntax, im.info(&ms[k]).broken)
		}
		if c.has(fHuge) {
			return reject(KindTooLarge, fmt.Sprintf("the resource of UID %s has a component of 4 GiB or more, more than the limit of %d", im.info(&ms[0]).uid, im.opts.MaxObjectSize))
		}
		size += int64(c.size)
	}
	if size > im.opts.MaxObjectSize {
		return reject(KindTooLarge, fmt.Sprintf("the resource of UID %s has %d bytes, more than the limit of %d", im.info(&ms[0]).uid, size, im.opts.MaxObjectSize))
	}

	// Read, normalize and order the components: the master first, then
	// the overrides as they came. Identical duplicates (a file exported
	// twice into one) are dropped.
	type comp struct {
		data []byte
		rid  bool
	}
	comps := make([]comp, 0, len(ms))
	zones := map[string]bool{}
	dup := 0
	for k := range ms {
		m := &ms[k]
		if m.raw == nil {
			raw, err := im.ix.readComponent(im.inputs, m.ref)
			if err != nil {
				return reject(KindSyntax, err.Error())
			}
			m.raw = raw
		}
		uid := ""
		if m.ref.has(fGenUID) {
			uid = im.info(m).uid
		}
		data, err := im.normalize(m.ref, m.raw, uid, zones)
		if err != nil {
			return reject(KindSyntax, err.Error())
		}
		if slices.ContainsFunc(comps, func(x comp) bool { return bytes.Equal(x.data, data) }) {
			dup++
			continue
		}
		comps = append(comps, comp{data, m.ref.has(fRID)})
	}
	slices.SortStableFunc(comps, func(a, b comp) int {
		switch {
		case a.rid == b.rid:
			return 0
		case !a.rid:
			return -1
		}
		return 1
	})

	var buf bytes.Buffer
	buf.Grow(int(size) + 256)
	vc := im.ix.vcals[first.vcal()]
	buf.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
	if vc.prodID != "" {
		buf.WriteString(vc.prodID)
	} else {
		buf.WriteString("-//calbolt//import//EN")
	}
	buf.WriteString("\r\n")
	if vc.calScale != "" {
		buf.WriteString("CALSCALE:" + vc.calScale + "\r\n")
	}
	for _, tzid := range slices.Sorted(maps.Keys(zones)) {
		data, err := im.zone(tzid)
		if err != nil {
			return reject(KindSyntax, err.Error())
		}
		buf.Write(data)
	}
	for _, c := range comps {
		buf.Write(c.data)
	}
	buf.WriteString("END:VCALENDAR\r\n")
	data := buf.Bytes()
	// The components' bytes are in data now: let them go before the
	// parse, which is the peak of a worker's memory.
	comps = nil
	for k := range ms {
		ms[k].raw = nil
	}

	ic, err := calobj.Decode(data)
	if err != nil {
		return reject(string(calobj.KindCalendarData), err.Error())
	}
	repairs := repairZones(ic)
	obj, err := calobj.Check(ic, im.cal, &calobj.Options{Stamp: stampOf})
	if err != nil {
		var ce *calobj.Error
		if errors.As(err, &ce) {
			return reject(string(ce.Kind), ce.Msg)
		}
		return reject(string(calobj.KindCalendarData), err.Error())
	}
	encode := len(repairs) > 0
	for _, p := range obj.Repairs {
		encode = true
		if p == ical.PropDateTimeStamp {
			repairs = append(repairs, RepairDTSTAMP)
		}
	}
	if encode {
		if data, err = calobj.Encode(ic); err != nil {
			return reject(string(calobj.KindCalendarData), err.Error())
		}
		if int64(len(data)) > im.opts.MaxObjectSize {
			return reject(KindTooLarge, fmt.Sprintf("the repaired resource of UID %s has %d bytes, more than the limit of %d", im.info(&ms[0]).uid, len(data), im.opts.MaxObjectSize))
		}
	}
	if first.has(fGenUID) {
		repairs = append(repairs, RepairUID)
	}
	if dup > 0 {
		repairs = append(repairs, RepairDuplicate)
	}
	r.repairs = repairs
	r.obj = store.Object{Name: ObjectName(obj.UID), UID: obj.UID, Component: obj.Component, Span: obj.Span, Data: data}
	return r
}

// normalize returns raw, the bytes of component c, with CRLF line ends,
// no empty lines and, for a component without UID, the UID uid the index
// pass made for it; it adds the TZIDs its lines reference to zones.
func (im *importer) normalize(c compRef, raw []byte, uid string, zones map[string]bool) ([]byte, error) {
	if !c.has(fGenUID) && canonicalLines(raw) && tzidsOf(raw, zones) {
		return raw, nil
	}
	genUID := c.has(fGenUID)
	lr := newBytesLineReader(raw, true)
	out := make([]byte, 0, len(raw)+64)
	for first := true; ; first = false {
		cl, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, cl.raw...)
		if first && genUID {
			out = append(out, "UID:"+uid+"\r\n"...)
		}
		if bytes.Contains(cl.text, []byte("TZID=")) || bytes.Contains(cl.text, []byte("tzid=")) {
			cl.params(func(name, value string) {
				if name == ical.ParamTimezoneID {
					zones[strings.TrimSpace(value)] = true
				}
			})
		}
	}
	return out, nil
}

// canonicalLines reports whether raw needs no normalizing: every line ends
// in CRLF, none is empty, and there is no BOM — what most exporters write.
func canonicalLines(raw []byte) bool {
	if len(raw) < 2 || raw[len(raw)-2] != '\r' || raw[len(raw)-1] != '\n' || bytes.Contains(raw, bom) {
		return false
	}
	return bytes.Count(raw, []byte("\n")) == bytes.Count(raw, []byte("\r\n")) && !bytes.Contains(raw, []byte("\r\n\r\n"))
}

// tzidsOf adds the TZID parameter values of raw to zones, as
// contentLine.params would, and reports true; it reports false, leaving the
// work to the line-by-line path, when a value is quoted, folded or spelled
// in lower case.
func tzidsOf(raw []byte, zones map[string]bool) bool {
	if bytes.Contains(raw, []byte("tzid=")) || bytes.Contains(raw, []byte("Tzid=")) {
		return false
	}
	var found []string
	for rest := raw; ; {
		i := bytes.Index(rest, []byte(";TZID="))
		if i < 0 {
			break
		}
		escaped := i > 0 && rest[i-1] == '\\' // "\;" inside a TEXT value
		rest = rest[i+len(";TZID="):]
		if escaped {
			continue
		}
		end := bytes.IndexAny(rest, ";:\r\n\"")
		if end < 0 || rest[end] == '\r' || rest[end] == '\n' || rest[end] == '"' {
			return false
		}
		found = append(found, strings.TrimSpace(string(rest[:end])))
	}
	for _, z := range found {
		zones[z] = true
	}
	return true
}

// maxZoneCache caps the VTIMEZONEs (and TZIDs without one) importer.zone
// remembers: a file has a handful, a hostile one may reference a new TZID
// in every event.
const maxZoneCache = 1024

// zone returns the normalized VTIMEZONE for tzid, or nil when the file has
// none (the TZID may still be an IANA or Windows name recur knows).
func (im *importer) zone(tzid string) ([]byte, error) {
	im.zoneMu.Lock()
	defer im.zoneMu.Unlock()
	if data, ok := im.zoneData[tzid]; ok {
		return data, nil
	}
	var out []byte
	if i, ok := im.ix.zones[tzid]; ok {
		raw, err := im.ix.readComponent(im.inputs, im.ix.refs[i])
		if err != nil {
			return nil, err
		}
		lr := newBytesLineReader(raw, true)
		for {
			cl, err := lr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			out = append(out, cl.raw...)
		}
	}
	if len(im.zoneData) < maxZoneCache {
		im.zoneData[tzid] = out
	}
	return out, nil
}

// readComponent reads the bytes of c from its input.
func (ix *index) readComponent(inputs []Input, c compRef) ([]byte, error) {
	in := inputs[ix.vcals[c.vcal()].input]
	buf := make([]byte, c.size)
	if _, err := in.R.ReadAt(buf, c.off); err != nil && !(err == io.EOF) {
		return nil, fmt.Errorf("ics: reading %s: %w", in.Name, err)
	}
	return buf, nil
}

// repairZones fixes TZIDs as real exporters write them: surrounding spaces
// are removed and Windows names (Outlook, Exchange) become the IANA names
// of the CLDR table, in parameters and VTIMEZONEs alike, so every client
// can read them (RFC 5545 §3.2.19 leaves TZID values to the implementer,
// but clients only know IANA names). A VTIMEZONE left with the same TZID as
// another is dropped. It returns the repairs made.
func repairZones(ic *ical.Calendar) []string {
	var spaces, windows bool
	fix := func(v string) string {
		t := strings.TrimSpace(v)
		if t != v {
			spaces = true
		}
		if iana, ok := recur.WindowsZone(t); ok {
			windows = true
			return iana
		}
		return t
	}
	var walk func(c *ical.Component)
	walk = func(c *ical.Component) {
		for name, props := range c.Props {
			for i := range props {
				p := &props[i]
				if c.Name == ical.CompTimezone && name == ical.PropTimezoneID {
					p.Value = fix(p.Value)
				}
				if vals, ok := p.Params[ical.ParamTimezoneID]; ok {
					for j := range vals {
						vals[j] = fix(vals[j])
					}
				}
			}
		}
		for _, child := range c.Children {
			walk(child)
		}
	}
	walk(ic.Component)
	if !spaces && !windows {
		return nil
	}
	seen := map[string]bool{}
	ic.Children = slices.DeleteFunc(ic.Children, func(c *ical.Component) bool {
		if c.Name != ical.CompTimezone {
			return false
		}
		id := c.Props.Get(ical.PropTimezoneID)
		if id == nil {
			return false
		}
		if seen[id.Value] {
			return true
		}
		seen[id.Value] = true
		return false
	})
	var repairs []string
	if windows {
		repairs = append(repairs, RepairWindowsTZID)
	}
	if spaces {
		repairs = append(repairs, RepairTZIDSpaces)
	}
	return repairs
}

// stampOf is the DTSTAMP the import gives a component without one: its
// LAST-MODIFIED, else its CREATED, else the Unix epoch — a value fixed by
// the content, so importing the file again stores the same bytes (RFC 5545
// §3.8.7.2: without METHOD, DTSTAMP is the last revision of the data).
func stampOf(c *ical.Component) time.Time {
	for _, name := range []string{ical.PropLastModified, ical.PropCreated} {
		if p := c.Props.Get(name); p != nil {
			if t, err := p.DateTime(time.UTC); err == nil {
				return t
			}
		}
	}
	return time.Unix(0, 0)
}

// ObjectName is the resource name an import gives the object with uid:
// the UID itself plus ".ics" when that is a safe path segment, else a hash
// of the UID. The same UID always gets the same name.
func ObjectName(uid string) string {
	if safeName(uid) {
		return uid + ".ics"
	}
	return hashName(uid) + ".ics"
}

func hashName(uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:20])
}

func safeName(uid string) bool {
	if uid == "" || len(uid) > 200 || uid[0] == '.' {
		return false
	}
	for i := 0; i < len(uid); i++ {
		c := uid[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '@' || c == '+' || c == '=':
		default:
			return false
		}
	}
	return true
}
