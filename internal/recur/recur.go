// Package recur is calbolt's one recurrence engine: it expands the instances
// of an iCalendar object (RFC 5545 §3.8.5: RRULE, RDATE, EXDATE, and
// RECURRENCE-ID overrides including RANGE=THISANDFUTURE), resolving TZIDs
// through the IANA database, the Windows zone names or the object's own
// VTIMEZONE, with every expansion bounded. Calendar-query matching, the
// store's time-span index and free-busy all use it, so they agree.
//
// Rules are iterated by github.com/teambition/rrule-go in the wall clock of
// DTSTART's zone, so a daily 09:00 Europe/Berlin event stays at 09:00 local
// across DST changes. rrule-go is handed a UTC time standing for that wall
// clock (its own date arithmetic in a zone loses a day where DST starts at
// local midnight), and each wall time is then read in the zone as RFC 5545
// §3.3.5 says: the first instant of a repeated time, the offset before the
// gap for a skipped one. Because rrule-go cannot be interrupted, every rule is
// checked against the limits below (and probed to yield at least one
// instance) before it is iterated, and unbounded rules are restarted near
// the requested window instead of being walked from DTSTART.
//
// The package never panics on any *ical.Calendar: data it cannot read is an
// error wrapping ErrInvalid.
package recur

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emersion/go-ical"
)

// ErrTooManyInstances reports an expansion that would exceed the instance
// cap (or a COUNT or RDATE list beyond it); callers map it to a
// max-instances / valid-calendar-data error.
var ErrTooManyInstances = errors.New("recur: too many instances")

// ErrInvalid reports an object whose dates or rules cannot be interpreted:
// a malformed value, an unknown TZID, a rule beyond the limits. One such
// object must not fail a whole calendar-query; that is the caller's job.
var ErrInvalid = errors.New("recur: invalid recurrence data")

// Options tune an expansion. A nil *Options means the defaults.
type Options struct {
	// Floating is the zone of floating (zone-less) times and of DATE
	// values, normally the calendar's calendar-timezone; nil means UTC.
	Floating *time.Location
	// MaxInstances caps the instances produced for one call (and COUNT in
	// Validate); zero means DefaultMaxInstances.
	MaxInstances int
	// Select, if not nil, limits the instances produced to those defined
	// by a component for which it returns true (a master or an override).
	// The other components still shape the recurrence set: an override
	// that is not selected still replaces its instance of the master.
	Select func(*ical.Component) bool
}

// DefaultMaxInstances is the instance cap when Options.MaxInstances is zero.
const DefaultMaxInstances = 10000

func (o *Options) maxInstances() int {
	if o == nil || o.MaxInstances <= 0 {
		return DefaultMaxInstances
	}
	return o.MaxInstances
}

// Instance is one occurrence of an event, to-do or journal.
//
// Start and End follow RFC 5545: a VEVENT ends at DTEND, or DTSTART plus
// DURATION, else one day after a DATE DTSTART, else at DTSTART; a VTODO
// starts at DTSTART (or DUE when it has no DTSTART) and ends at DUE or
// DTSTART plus DURATION, else at its start; a VJOURNAL lasts one day for a
// DATE DTSTART, else nothing. An instance from an RDATE PERIOD spans the
// period. DATE values are midnights in Options.Floating. A VTODO with
// neither DTSTART nor DUE, and a VEVENT or VJOURNAL without DTSTART, have
// no instance at all (RFC 4791 §9.9 matches such to-dos by COMPLETED and
// CREATED; see Overlaps).
//
// An override with STATUS:CANCELLED is still an instance: callers decide
// (free-busy skips it, calendar-query matches it).
type Instance struct {
	Start, End   time.Time       // UTC
	RecurrenceID time.Time       // UTC; the original start; zero for a non-recurring component
	Component    *ical.Component // the master or the override that defines this instance

	// How Start and End were found, for the RFC 4791 §9.9 tables:
	HasStart    bool // the component has DTSTART (false: a VTODO placed at its DUE)
	HasEnd      bool // End is DTEND (VEVENT), DUE (VTODO) or an RDATE PERIOD's end
	HasDuration bool // End is DTSTART plus DURATION
	AllDay      bool // DTSTART (or DUE) is a DATE
}

// Overlaps reports whether in overlaps the time range [start, end) per
// RFC 4791 §9.9 (zero start or end: open on that side). The conditions
// depend on the component: a VEVENT with an end or a positive duration
// overlaps when Start < end and End > start; a zero-length one when
// start <= Start < end. VTODO and VJOURNAL follow their own tables (a
// VTODO's end counts inclusively: a to-do due exactly at the range end
// matches).
func Overlaps(in Instance, start, end time.Time) bool {
	s, e := in.Start, in.End
	startLT := func(t time.Time) bool { return start.IsZero() || start.Before(t) }
	startLE := func(t time.Time) bool { return start.IsZero() || !start.After(t) }
	endGT := func(t time.Time) bool { return end.IsZero() || end.After(t) }
	endGE := func(t time.Time) bool { return end.IsZero() || !end.Before(t) }
	name := ""
	if in.Component != nil {
		name = in.Component.Name
	}
	switch name {
	case ical.CompToDo:
		switch {
		case in.HasStart && in.HasDuration:
			return startLE(e) && (endGT(s) || endGE(e))
		case in.HasStart && in.HasEnd:
			return (startLT(e) || startLE(s)) && (endGT(s) || endGE(e))
		case in.HasStart:
			return startLE(s) && endGT(s)
		default: // DUE only
			return startLT(e) && endGE(e)
		}
	case ical.CompJournal:
		if in.AllDay {
			return startLT(e) && endGT(s)
		}
		return startLE(s) && endGT(s)
	default:
		switch {
		case in.HasEnd, in.HasDuration && e.After(s), !in.HasDuration && in.AllDay:
			return startLT(e) && endGT(s)
		default:
			return startLE(s) && endGT(s)
		}
	}
}

// recoverInvalid turns a panic (from rrule-go or go-ical on data nobody
// foresaw) into ErrInvalid.
func recoverInvalid(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("%w: unexpected failure: %v", ErrInvalid, v)
	}
}

// Each calls fn for each instance of cal's VEVENT, VTODO and VJOURNAL
// components that overlaps [start, end) (per Overlaps; a zero start or end
// leaves that side open), in no particular order, until fn returns false.
// Producing more than the instance cap is ErrTooManyInstances; an open end
// over an unbounded rule therefore ends in that error unless fn stops.
func Each(cal *ical.Calendar, start, end time.Time, opts *Options, fn func(Instance) bool) error {
	inCallback := false
	x := &expander{
		start: start, end: end,
		cap: opts.maxInstances(),
		fn: func(in Instance, _ bool) bool {
			inCallback = true
			ok := fn(in)
			inCallback = false
			return ok
		},
	}
	if opts != nil {
		x.selectFn = opts.Select
	}
	x.budget = 2*x.cap + 2*MaxDates
	return run(cal, opts, x, &inCallback)
}

func run(cal *ical.Calendar, opts *Options, x *expander, inCallback *bool) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if inCallback != nil && *inCallback {
				panic(v) // the caller's own panic
			}
			err = fmt.Errorf("%w: unexpected failure: %v", ErrInvalid, v)
		}
	}()
	x.r = newResolver(cal, opts)
	groups, err := readGroups(cal, x.r, x.cap)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if x.done() {
			break
		}
		x.group(g)
	}
	if errors.Is(x.err, errBudget) {
		return fmt.Errorf("%w: more than %d occurrences examined", ErrTooManyInstances, x.budget)
	}
	return x.err
}

// Expand returns the instances of cal's VEVENT/VTODO/VJOURNAL components
// that overlap [start, end) (see Each), sorted by Start, then End, then
// RecurrenceID. More than the instance cap is ErrTooManyInstances.
func Expand(cal *ical.Calendar, start, end time.Time, opts *Options) ([]Instance, error) {
	var out []Instance
	err := Each(cal, start, end, opts, func(in Instance) bool {
		out = append(out, in)
		return true
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Instance) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := a.End.Compare(b.End); c != 0 {
			return c
		}
		return a.RecurrenceID.Compare(b.RecurrenceID)
	})
	return out, nil
}

// Bounds returns the first start and the last end over all instances of
// cal, overrides and RDATEs included; unbounded is true when an RRULE has
// neither COUNT nor UNTIL (then last means nothing). It stays cheap: one
// occurrence budget serves the whole call, and when the walk of a group
// stops short of its end, last is estimated from above (UNTIL plus the
// longest instance, for rules with UNTIL only) or, when that is not
// possible (a COUNT rule), unbounded is true: last is never before the
// end of a real instance. An object with no scheduled instance returns
// zero times.
func Bounds(cal *ical.Calendar, opts *Options) (first, last time.Time, unbounded bool, err error) {
	defer recoverInvalid(&err)
	r := newResolver(cal, opts)
	cap := opts.maxInstances()
	groups, err := readGroups(cal, r, cap)
	if err != nil {
		return first, last, false, err
	}
	seeFirst := func(t time.Time) {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	seeLast := func(t time.Time) {
		if last.IsZero() || t.After(last) {
			last = t
		}
	}
	budget := 2*cap + 2*MaxDates
	pulled := new(int)
	for _, g := range groups {
		all := append(slices.Clone(g.masters), g.overrides...)
		unb := false
		for _, m := range all {
			unb = unb || m.unbounded()
		}
		unbounded = unbounded || unb
		if *pulled <= budget {
			x := &expander{r: r, cap: cap + 2*MaxDates, budget: budget, pulled: pulled}
			x.fn = func(in Instance, fromMaster bool) bool {
				seeFirst(in.Start)
				seeLast(in.End)
				return !(unb && fromMaster) // unbounded: the first master instance is the earliest
			}
			x.group(g)
			if x.err == nil {
				continue
			}
			if !errors.Is(x.err, errBudget) && !errors.Is(x.err, ErrTooManyInstances) {
				return time.Time{}, time.Time{}, false, x.err
			}
		}
		// The walk stopped short (or never started: the budget is
		// spent): bound first from below and last from above.
		for _, c := range all {
			if !c.sched {
				continue
			}
			seeFirst(c.start.abs)
			if c.future {
				seeFirst(c.start.abs.Add(-2 * time.Hour)) // a moved instance
			}
			for _, pe := range c.rdates {
				seeFirst(pe.start.abs)
			}
		}
		if unb {
			continue
		}
		for _, c := range all {
			if !c.sched {
				continue
			}
			span := maxSpan(c, g.overrides)
			seeLast(c.start.abs.Add(span))
			for _, pe := range c.rdates {
				seeLast(pe.start.abs.Add(span))
			}
			for _, ru := range c.rules {
				if ru.count {
					unbounded = true // the last of COUNT instances is unknown
				} else {
					seeLast(ru.untilAbs.Add(span))
				}
			}
		}
	}
	return first, last, unbounded, nil
}

// maxSpan bounds how far after its original start an instance of m may
// end, THISANDFUTURE moves included.
func maxSpan(m *comp, ovs []*comp) time.Duration {
	d := m.dur.upper()
	for _, pe := range m.rdates {
		if pe.end != nil {
			d = max(d, pe.end.abs.Sub(pe.start.abs))
		} else if pe.dur != nil {
			d = max(d, pe.dur.upper())
		}
	}
	for _, f := range ovs {
		if f.future && f.sched {
			d = max(d, f.start.abs.Sub(f.rid.abs)+f.dur.upper())
		}
	}
	return d + 2*time.Hour
}

// Validate rejects an object whose recurrence cannot be expanded safely: a
// date that does not parse or lies outside MinYear–MaxYear, a TZID that
// does not resolve, a malformed RRULE or one beyond the limits (SECONDLY;
// MINUTELY below MinMinutelyInterval; COUNT not positive; INTERVAL beyond
// MaxInterval; more than MaxTimesPerDay times a day; a BYSETPOS beyond the
// set of one DAILY, HOURLY or MINUTELY period; a rule that can never yield
// an instance), more than MaxDates RDATE or EXDATE values. COUNT or
// RDATEs beyond the instance cap, in one rule or summed over all the
// object's components, are ErrTooManyInstances, the rest
// ErrInvalid. An UNTIL before DTSTART is fine (the rule adds nothing).
func Validate(cal *ical.Calendar, opts *Options) (err error) {
	defer recoverInvalid(&err)
	cap := opts.maxInstances()
	groups, err := readGroups(cal, newResolver(cal, opts), cap)
	if err != nil {
		return err
	}
	// One object may not hold more COUNT instances and RDATEs, in all its
	// components together, than the cap: each costs work on every query.
	total := 0
	for _, g := range groups {
		for _, c := range append(slices.Clone(g.masters), g.overrides...) {
			total += len(c.rdates)
			for _, ru := range c.rules {
				total += ru.opt.Count
			}
		}
	}
	if total > cap {
		return fmt.Errorf("%w: %d COUNT instances and RDATE values in the object, more than %d", ErrTooManyInstances, total, cap)
	}
	return nil
}
