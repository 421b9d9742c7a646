// Package busytime answers free-busy lookups from the store: whose busy time
// a user may see, which calendars count, and a bounded cache of each
// object's computed busy time. The CalDAV free-busy-query REPORT, the
// scheduling outbox POST and the /freebusy endpoint (package caldav) and
// `calbolt freebusy` on a data file (package main) all ask it, so they give
// the same answer from one code path.
//
// It sits between caldav and the pure computation in package freebusy,
// which does no I/O: busytime reads objects from the store, parses them,
// asks freebusy what they cost and remembers the answer until the object
// changes (its ETag is part of the cache entry).
//
// A lookup touches only the objects the store's time-span index says can
// overlap the window, skips to-dos and journals (they take no time,
// RFC 4791 §7.10) by their indexed component, and parses only the objects
// not in the cache. The cache keeps busy time per calendar quarter, so any
// window is answered from memory once its quarters were asked for.
package busytime

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/freebusy"
	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// Visibility says who may see a user's busy time besides the user.
type Visibility int

const (
	// VisibilityAuthenticated: any authenticated user (the default, as on
	// most servers: busy time says when, never what).
	VisibilityAuthenticated Visibility = iota
	// VisibilityGranted: only users the owner granted at least
	// store.AccessFreeBusy, on all calendars or on the ones that count.
	VisibilityGranted
)

// MaxWindow caps the window of one lookup: a year and a bit, so a client
// can ask for a whole calendar year.
const MaxWindow = 400 * 24 * time.Hour

// MaxInstances caps the instances one object may produce within a cache
// block (a calendar quarter); beyond it the object counts as busy for its
// whole span.
const MaxInstances = 100000

// DefaultCacheSize is the default cap on cached periods (about 24 bytes
// each, plus per-object overhead).
const DefaultCacheSize = 2_000_000

// Errors. A user that does not exist and one whose busy time the asker may
// not see are the same ErrNotFound, so the answer tells nothing.
var (
	ErrNotFound = fmt.Errorf("busytime: %w", store.ErrNotFound)
	// ErrWindow reports a window that is empty, reversed or longer than
	// MaxWindow.
	ErrWindow = errors.New("busytime: window must end after it starts and span at most 400 days")
)

// Options configure New. A nil *Options means the defaults.
type Options struct {
	Visibility Visibility
	// Logger receives warnings about objects whose busy time could not be
	// computed; nil means slog.Default().
	Logger *slog.Logger
	// CacheSize caps the cached periods; zero means DefaultCacheSize,
	// negative disables the cache.
	CacheSize int
}

// Service answers free-busy lookups. It is safe for concurrent use.
type Service struct {
	db         *store.DB
	visibility Visibility
	log        *slog.Logger
	cache      *cache
}

// New returns a Service reading db.
func New(db *store.DB, opts *Options) *Service {
	if opts == nil {
		opts = &Options{}
	}
	s := &Service{db: db, visibility: opts.Visibility, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	s.cache = newCache(size)
	return s
}

// CheckWindow validates a lookup window.
func CheckWindow(start, end time.Time) error {
	if !end.After(start) || end.Sub(start) > MaxWindow {
		return ErrWindow
	}
	return nil
}

// User returns target's busy time in [start, end) as asker may see it:
// merged over target's calendars that count (not schedule-calendar-transp
// transparent and, under VisibilityGranted, granted to asker). host is the
// server name clients use; it completes calendar user addresses of users
// without an e-mail address (see Address).
func (s *Service) User(asker, target string, start, end time.Time, host string) ([]freebusy.Period, error) {
	b, err := s.userBusy(asker, target, start, end, host)
	if err != nil {
		return nil, err
	}
	return freebusy.Merge(start, end, b...), nil
}

func (s *Service) userBusy(asker, target string, start, end time.Time, host string) ([]freebusy.Busy, error) {
	if err := CheckWindow(start, end); err != nil {
		return nil, err
	}
	u, err := s.db.User(target)
	if err != nil {
		return nil, notFound(err)
	}
	cals, err := s.db.Calendars(target)
	if err != nil {
		return nil, notFound(err)
	}
	allowed, err := s.allowedCalendars(asker, target)
	if err != nil {
		return nil, err
	}
	var out []freebusy.Busy
	for i := range cals {
		if cals[i].Transparent || !allowed(cals[i].Name) {
			continue
		}
		b, err := s.calendarBusy(target, &cals[i], Addresses(u, host), start, end)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// Calendar returns the busy time of one calendar in [start, end) as asker
// may see it (RFC 4791 §7.10 on a calendar collection): its
// schedule-calendar-transp does not matter here, the calendar was asked
// for by name.
func (s *Service) Calendar(asker, owner, calendar string, start, end time.Time, host string) ([]freebusy.Period, error) {
	if err := CheckWindow(start, end); err != nil {
		return nil, err
	}
	allowed, err := s.allowedCalendars(asker, owner)
	if err != nil {
		return nil, err
	}
	if !allowed(calendar) {
		return nil, ErrNotFound
	}
	u, err := s.db.User(owner)
	if err != nil {
		return nil, notFound(err)
	}
	cal, err := s.db.Calendar(owner, calendar)
	if err != nil {
		return nil, notFound(err)
	}
	b, err := s.calendarBusy(owner, &cal, Addresses(u, host), start, end)
	if err != nil {
		return nil, err
	}
	return freebusy.Merge(start, end, b...), nil
}

// Users returns the busy time of several users and of all of them merged.
// A user asker may not see, or that does not exist, is ErrNotFound naming
// the first such user.
func (s *Service) Users(asker string, targets []string, start, end time.Time, host string) (each [][]freebusy.Period, merged []freebusy.Period, err error) {
	var all []freebusy.Busy
	for _, t := range targets {
		b, err := s.userBusy(asker, t, start, end, host)
		if errors.Is(err, ErrNotFound) {
			return nil, nil, &UserError{User: t}
		}
		if err != nil {
			return nil, nil, err
		}
		each = append(each, freebusy.Merge(start, end, b...))
		all = append(all, freebusy.Busy{Periods: each[len(each)-1]})
	}
	return each, freebusy.Merge(start, end, all...), nil
}

// MayView reports whether asker may see any of target's busy time.
func (s *Service) MayView(asker, target string) bool {
	allowed, err := s.allowedCalendars(asker, target)
	if err != nil {
		return false
	}
	cals, err := s.db.Calendars(target)
	if err != nil {
		return false
	}
	for _, c := range cals {
		if allowed(c.Name) {
			return true
		}
	}
	return false
}

// allowedCalendars returns which of owner's calendars asker may see the
// busy time of, or ErrNotFound when none can be.
func (s *Service) allowedCalendars(asker, owner string) (func(string) bool, error) {
	all := func(string) bool { return true }
	if asker == owner || asker == Operator || (s.visibility == VisibilityAuthenticated && asker != "") {
		return all, nil
	}
	if asker == "" {
		return nil, ErrNotFound
	}
	grants, err := s.db.Grants(owner)
	if err != nil {
		return nil, notFound(err)
	}
	named := map[string]bool{}
	for _, g := range grants {
		if g.Grantee != asker || g.Access < store.AccessFreeBusy {
			continue
		}
		if g.Calendar == "" {
			return all, nil
		}
		named[g.Calendar] = true
	}
	if len(named) == 0 {
		return nil, ErrNotFound
	}
	return func(c string) bool { return named[c] }, nil
}

func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// calendarBusy returns the busy time of one calendar within the window.
//
// With the cache on, time is cut into calendar quarters (blocks, in UTC),
// and the answer comes from each block's aggregate: the calendar's objects'
// busy time merged over the block, valid while the calendar's sync sequence
// (bumped by every write to its members) is unchanged. A stale or missing
// aggregate is rebuilt from per-object entries, also kept per block, so a
// write costs one merge, not the re-expansion of every object, and any
// window anywhere is served from memory once its blocks were asked for.
func (s *Service) calendarBusy(owner string, cal *store.Calendar, addrs []string, start, end time.Time) ([]freebusy.Busy, error) {
	opts := &freebusy.Options{Floating: floatingZone(cal.Timezone), Addresses: addrs, MaxInstances: MaxInstances}
	if s.cache.limit < 0 {
		return s.objectsBusy(owner, cal, nil, 0, opts, start, end)
	}
	cc := s.cache.calendar(cal.ID, cal.Timezone, strings.Join(addrs, "\n"))
	var out []freebusy.Busy
	for b := blockOf(start); blockStart(b).Before(end); b++ {
		bs, be := blockStart(b), blockStart(b+1)
		agg, ok := cc.aggregate(cal.SyncSeq, b)
		if !ok {
			parts, err := s.objectsBusy(owner, cal, cc, b, opts, bs, be)
			if err != nil {
				return nil, err
			}
			agg = &entry{from: bs, to: be}
			var events []freebusy.Busy
			for _, p := range parts {
				events = append(events, freebusy.Busy{Periods: p.Periods})
				agg.avail = append(agg.avail, p.Availability...)
			}
			agg.periods = freebusy.Merge(bs, be, events...)
			cc.setAggregate(cal.SyncSeq, b, agg)
		}
		out = append(out, agg.window(maxTime(start, bs), minTime(end, be)))
	}
	return out, nil
}

// A block is a calendar quarter in UTC, numbered from year 0.
type block int

func blockOf(t time.Time) block {
	t = t.UTC()
	return block(t.Year()*4 + (int(t.Month())-1)/3)
}

func blockStart(b block) time.Time {
	return time.Date(int(b)/4, time.Month(int(b)%4*3+1), 1, 0, 0, 0, 0, time.UTC)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// objectsBusy returns the busy time within [start, end) of each object of
// the calendar that can overlap it, by the span index. With cc (not nil),
// [start, end) is block b: entries are taken from cc and what is missing is
// computed and stored there.
func (s *Service) objectsBusy(owner string, cal *store.Calendar, cc *calCache, b block, opts *freebusy.Options, start, end time.Time) ([]freebusy.Busy, error) {
	infos, err := s.db.ObjectInfosInRange(owner, cal.Name, start.Unix(), end.Unix())
	if err != nil {
		return nil, notFound(err)
	}
	var out []freebusy.Busy
	var missing []string
	for _, o := range infos {
		if o.Component == ical.CompToDo || o.Component == ical.CompJournal {
			continue
		}
		if cc != nil {
			if e, ok := cc.lookup(o.Name, b, o.ETag); ok {
				out = append(out, e.window(start, end))
				continue
			}
		}
		missing = append(missing, o.Name)
	}
	if len(missing) == 0 {
		return out, nil
	}
	objs, err := s.db.Objects(owner, cal.Name, missing)
	if err != nil {
		return nil, notFound(err)
	}
	// Parsing and expanding is the cost of a cold lookup: spread it over
	// the cores when there is enough of it.
	entries := make([]*entry, len(objs))
	workers := min(runtime.GOMAXPROCS(0), len(objs)/64+1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(objs); i = int(next.Add(1)) - 1 {
				entries[i] = s.compute(owner, cal, &objs[i], start, end, opts)
			}
		})
	}
	wg.Wait()
	for i, e := range entries {
		if cc != nil {
			cc.store(objs[i].Name, b, e)
		}
		out = append(out, e.window(start, end))
	}
	return out, nil
}

// compute works out one object's busy time over [hs, he). An object whose
// busy time cannot be computed (stored before a limit was tightened, say)
// counts as busy over its whole indexed span: a lookup must never offer
// time that may be taken.
func (s *Service) compute(owner string, cal *store.Calendar, o *store.Object, hs, he time.Time, opts *freebusy.Options) *entry {
	e := &entry{etag: o.ETag, from: hs, to: he}
	ic, err := decode(o.Data)
	var b freebusy.Busy
	if err == nil {
		b, err = freebusy.Compute(ic, hs, he, opts)
	}
	if err != nil {
		s.log.Warn("free-busy: object counted busy over its whole span",
			"user", owner, "calendar", cal.Name, "object", o.Name, "error", err)
		ps := time.Unix(max(o.Span.Start, hs.Unix()), 0)
		pe := time.Unix(min(o.Span.End, he.Unix()), 0)
		if pe.After(ps) {
			e.periods = []freebusy.Period{{Start: ps.UTC(), End: pe.UTC(), Type: freebusy.FBTypeBusy}}
		}
		return e
	}
	e.periods = freebusy.Merge(hs, he, freebusy.Busy{Periods: b.Periods})
	e.avail = b.Availability
	return e
}

func decode(data []byte) (cal *ical.Calendar, err error) {
	defer func() {
		if v := recover(); v != nil {
			cal, err = nil, fmt.Errorf("%w: unparseable stored object: %v", recur.ErrInvalid, v)
		}
	}()
	return ical.NewDecoder(bytes.NewReader(data)).Decode()
}

// floatingZone reads a calendar-timezone property (a VCALENDAR holding one
// VTIMEZONE); nil (UTC) when absent or unreadable.
func floatingZone(vtimezone string) *time.Location {
	if vtimezone == "" {
		return nil
	}
	ic, err := decode([]byte(vtimezone))
	if err != nil {
		return nil
	}
	for _, c := range ic.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		if p := c.Props.Get(ical.PropTimezoneID); p != nil {
			if loc, err := recur.LoadLocation(p.Value, ic); err == nil {
				return loc
			}
		}
	}
	return nil
}
