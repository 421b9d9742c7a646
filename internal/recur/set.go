package recur

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// A comp is one VEVENT, VTODO or VJOURNAL, read.
type comp struct {
	c     *ical.Component
	sched bool    // has DTSTART, or (a VTODO) DUE: it has instances
	start timeVal // DTSTART, or DUE for a VTODO without DTSTART
	dur   durSpec // from start to the end of an instance

	hasStart, hasEnd, hasDur, allDay bool

	rid    *timeVal // RECURRENCE-ID
	future bool     // RANGE=THISANDFUTURE

	rules  []*rule
	rdates []period
	exAbs  map[int64]bool // EXDATE instants
	exDay  map[civil]bool // EXDATE dates (DATE values, or any value of an all-day component)
}

func (cp *comp) recurring() bool { return len(cp.rules) > 0 || len(cp.rdates) > 0 }

func (cp *comp) unbounded() bool {
	for _, ru := range cp.rules {
		if !ru.count && !ru.until {
			return true
		}
	}
	return false
}

func checkYear(name string, t timeVal) error {
	if y := t.wall.Year(); y < MinYear || y > MaxYear {
		return fmt.Errorf("%w: %s year %d outside %d-%d", ErrInvalid, name, y, MinYear, MaxYear)
	}
	return nil
}

// between is the duration from a to b: whole days for two DATEs, else
// exact; never negative.
func between(a, b timeVal) durSpec {
	if a.date && b.date {
		days := dayNumber(b.wall.Year(), b.wall.Month(), b.wall.Day()) - dayNumber(a.wall.Year(), a.wall.Month(), a.wall.Day())
		return durSpec{days: int(max(days, 0))}
	}
	return durSpec{d: max(b.abs.Sub(a.abs), 0)}
}

// readComp reads the dates and recurrence of one component.
func (r *resolver) readComp(c *ical.Component, maxCount int) (*comp, error) {
	cp := &comp{c: c}
	timeProp := func(name string) (*timeVal, error) {
		p := c.Props.Get(name)
		if p == nil {
			return nil, nil
		}
		t, err := r.propTime(p)
		if err != nil {
			return nil, err
		}
		if err := checkYear(name, t); err != nil {
			return nil, err
		}
		return &t, nil
	}
	durProp := func() (*durSpec, error) {
		p := c.Props.Get(ical.PropDuration)
		if p == nil {
			return nil, nil
		}
		ds, neg, err := parseDuration(p.Value)
		if err != nil {
			return nil, fmt.Errorf("DURATION: %w", err)
		}
		if neg {
			ds = durSpec{}
		}
		return &ds, nil
	}
	start, err := timeProp(ical.PropDateTimeStart)
	if err != nil {
		return nil, err
	}
	if start != nil {
		cp.start, cp.sched, cp.hasStart, cp.allDay = *start, true, true, start.date
		r.dflt = start.loc
		defer func() { r.dflt = nil }()
	}
	switch c.Name {
	case ical.CompEvent, ical.CompToDo:
		endName := ical.PropDateTimeEnd
		if c.Name == ical.CompToDo {
			endName = ical.PropDue
		}
		end, err := timeProp(endName)
		if err != nil {
			return nil, err
		}
		dur, err := durProp()
		if err != nil {
			return nil, err
		}
		switch {
		case start != nil && end != nil:
			cp.hasEnd, cp.dur = true, between(*start, *end)
		case start != nil && dur != nil:
			cp.hasDur, cp.dur = true, *dur
		case start != nil && start.date && c.Name == ical.CompEvent:
			cp.dur = durSpec{days: 1}
		case start == nil && end != nil && c.Name == ical.CompToDo:
			cp.start, cp.sched, cp.hasEnd, cp.allDay = *end, true, true, end.date
		}
	case ical.CompJournal:
		if start != nil && start.date {
			cp.dur = durSpec{days: 1}
		}
	}
	if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
		rid, err := timeProp(ical.PropRecurrenceID)
		if err != nil {
			return nil, err
		}
		cp.rid = rid
		cp.future = strings.EqualFold(strings.TrimSpace(p.Params.Get(ical.ParamRange)), "THISANDFUTURE")
	}
	rules := c.Props[ical.PropRecurrenceRule]
	if len(rules) > 0 && !cp.sched {
		return nil, fmt.Errorf("%w: RRULE without DTSTART", ErrInvalid)
	}
	if len(rules) > 8 {
		return nil, fmt.Errorf("%w: more than 8 RRULEs", ErrInvalid)
	}
	for _, p := range rules {
		ru, err := parseRule(p.Value, cp.start, r, maxCount)
		if err != nil {
			return nil, err
		}
		cp.rules = append(cp.rules, ru)
	}
	for _, p := range c.Props[ical.PropRecurrenceDates] {
		vals, err := r.propValues(&p, MaxDates-len(cp.rdates))
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			if err := checkYear("RDATE", v.start); err != nil {
				return nil, err
			}
		}
		cp.rdates = append(cp.rdates, vals...)
	}
	if len(cp.rdates) > 0 && !cp.sched {
		return nil, fmt.Errorf("%w: RDATE without DTSTART", ErrInvalid)
	}
	nex := 0
	for _, p := range c.Props[ical.PropExceptionDates] {
		vals, err := r.propValues(&p, MaxDates-nex)
		if errors.Is(err, ErrTooManyInstances) {
			return nil, fmt.Errorf("%w: more than %d EXDATE values", ErrInvalid, MaxDates)
		}
		if err != nil {
			return nil, err
		}
		nex += len(vals)
		for _, v := range vals {
			if v.period {
				return nil, fmt.Errorf("%w: EXDATE with a PERIOD", ErrInvalid)
			}
			if err := checkYear("EXDATE", v.start); err != nil {
				return nil, err
			}
			if v.start.date || cp.allDay {
				if cp.exDay == nil {
					cp.exDay = make(map[civil]bool)
				}
				cp.exDay[civilOf(v.start.wall)] = true
			} else {
				if cp.exAbs == nil {
					cp.exAbs = make(map[int64]bool)
				}
				cp.exAbs[v.start.abs.Unix()] = true
			}
		}
	}
	return cp, nil
}

// A group is the components sharing one UID: masters (normally one) and
// overrides (with RECURRENCE-ID).
type group struct {
	masters, overrides []*comp
}

// readGroups reads the VEVENT, VTODO and VJOURNAL components of cal,
// grouped by component name and UID, in the order they first appear.
func readGroups(cal *ical.Calendar, r *resolver, maxCount int) ([]*group, error) {
	if cal == nil || cal.Component == nil {
		return nil, nil
	}
	var groups []*group
	byKey := map[string]*group{}
	for i, c := range cal.Children {
		if c == nil || (c.Name != ical.CompEvent && c.Name != ical.CompToDo && c.Name != ical.CompJournal) {
			continue
		}
		cp, err := r.readComp(c, maxCount)
		if err != nil {
			uid := ""
			if p := c.Props.Get(ical.PropUID); p != nil {
				uid = p.Value
			}
			return nil, fmt.Errorf("%s %q: %w", c.Name, uid, err)
		}
		key := fmt.Sprintf("#%d", i)
		if p := c.Props.Get(ical.PropUID); p != nil && p.Value != "" {
			key = c.Name + "\x00" + p.Value
		}
		g := byKey[key]
		if g == nil {
			g = &group{}
			byKey[key] = g
			groups = append(groups, g)
		}
		if cp.rid != nil {
			g.overrides = append(g.overrides, cp)
		} else {
			g.masters = append(g.masters, cp)
		}
	}
	return groups, nil
}

// errBudget stops an expansion that examined too many occurrences.
var errBudget = errors.New("recur: occurrence budget exhausted")

// An expander walks the instances of a calendar that overlap a window.
type expander struct {
	r          *resolver
	start, end time.Time // the window; zero means open
	cap        int       // instances produced before ErrTooManyInstances
	budget     int       // rule occurrences examined per call before errBudget
	pulled     *int      // rule occurrences examined so far, shared by every master of the call
	selectFn   func(*ical.Component) bool
	fn         func(in Instance, fromMaster bool) bool

	produced int
	stopped  bool
	err      error
}

// emit hands one instance to fn if it is selected and overlaps the window.
func (x *expander) emit(in Instance, fromMaster bool) {
	if x.selectFn != nil && !x.selectFn(in.Component) {
		return
	}
	if !Overlaps(in, x.start, x.end) {
		return
	}
	x.produced++
	if x.produced > x.cap {
		x.err = fmt.Errorf("%w: more than %d instances", ErrTooManyInstances, x.cap)
		x.stopped = true
		return
	}
	if !x.fn(in, fromMaster) {
		x.stopped = true
	}
}

func (x *expander) done() bool { return x.stopped || x.err != nil }

func (x *expander) instance(cp *comp, start time.Time, pe *period, rid time.Time) Instance {
	in := Instance{
		Start:        start.UTC(),
		RecurrenceID: rid,
		Component:    cp.c,
		HasStart:     cp.hasStart,
		HasEnd:       cp.hasEnd,
		HasDuration:  cp.hasDur,
		AllDay:       cp.allDay,
	}
	zone := cp.start.zone(x.r.floating)
	switch {
	case pe != nil && pe.end != nil:
		in.End, in.HasEnd, in.HasDuration = pe.end.abs, true, false
	case pe != nil && pe.dur != nil:
		in.End, in.HasEnd, in.HasDuration = pe.dur.apply(start, zone), true, false
	default:
		in.End = cp.dur.apply(start, zone)
	}
	in.End = in.End.UTC()
	if in.End.Before(in.Start) {
		in.End = in.Start
	}
	return in
}

func (x *expander) group(g *group) {
	if len(g.masters) == 0 {
		// Overrides without their master: each stands alone.
		for _, ov := range g.overrides {
			if x.done() {
				return
			}
			if ov.recurring() {
				x.master(ov, nil)
				continue
			}
			if ov.sched {
				x.emit(x.instance(ov, ov.start.abs, nil, ov.rid.abs), false)
			}
		}
		return
	}
	x.master(g.masters[0], g.overrides)
	for _, m := range g.masters[1:] { // duplicate masters (invalid): alone
		x.master(m, nil)
	}
}

// overrides indexes a master's overrides by RECURRENCE-ID.
type overrides struct {
	abs     map[int64]*comp
	day     map[civil]*comp
	futures []*comp // RANGE=THISANDFUTURE, by RECURRENCE-ID
}

func (ix *overrides) lookup(o occ) *comp {
	if c, ok := ix.abs[o.abs.Unix()]; ok {
		return c
	}
	if c, ok := ix.day[civilOf(o.wall)]; ok {
		return c
	}
	return nil
}

// future returns the THISANDFUTURE override governing o, if any: the one
// with the latest RECURRENCE-ID before it.
func (ix *overrides) future(o occ) *comp {
	i := sort.Search(len(ix.futures), func(i int) bool { return !ix.futures[i].rid.abs.Before(o.abs) })
	if i == 0 {
		return nil
	}
	return ix.futures[i-1]
}

// shift returns the nominal move of a THISANDFUTURE override (from its
// RECURRENCE-ID to its DTSTART) in days and seconds of m's wall clock.
func (x *expander) shift(m, f *comp) (days, secs int) {
	if !f.sched {
		return 0, 0
	}
	a := x.r.toWall(f.rid.abs, m.start)
	b := x.r.toWall(f.start.abs, m.start)
	days = int(dayNumber(b.Year(), b.Month(), b.Day()) - dayNumber(a.Year(), a.Month(), a.Day()))
	secs = (b.Hour()-a.Hour())*3600 + (b.Minute()-a.Minute())*60 + b.Second() - a.Second()
	return days, secs
}

// master walks the recurrence set of m (RFC 5545 §3.8.5: DTSTART, RRULE,
// RDATE minus EXDATE) with its overrides applied.
func (x *expander) master(m *comp, ovs []*comp) {
	ix := &overrides{abs: map[int64]*comp{}, day: map[civil]*comp{}}
	for _, ov := range ovs {
		if ov.rid.date || m.allDay {
			ix.day[civilOf(ov.rid.wall)] = ov
		} else {
			ix.abs[ov.rid.abs.Unix()] = ov
		}
		if ov.future && m.sched {
			ix.futures = append(ix.futures, ov)
		}
	}
	sort.SliceStable(ix.futures, func(i, j int) bool { return ix.futures[i].rid.abs.Before(ix.futures[j].rid.abs) })
	for _, ov := range ovs { // the overrides' own instances
		if x.done() {
			return
		}
		if ov.sched {
			x.emit(x.instance(ov, ov.start.abs, nil, ov.rid.abs), false)
		}
	}
	if !m.sched || x.done() {
		return
	}
	if x.selectFn != nil && !x.selectFn(m.c) {
		any := false
		for _, f := range ix.futures {
			any = any || x.selectFn(f.c)
		}
		if !any {
			return
		}
	}
	// How far before the window an instance may start and still reach
	// into it, and how far after it the walk must go.
	lookback := m.dur.upper()
	var ahead time.Duration
	type shiftT struct{ days, secs int }
	shifts := map[*comp]shiftT{}
	for _, f := range ix.futures {
		d, s := x.shift(m, f)
		shifts[f] = shiftT{d, s}
		move := time.Duration(d)*24*time.Hour + time.Duration(s)*time.Second
		lookback = max(lookback, f.dur.upper()+max(move, 0))
		ahead = max(ahead, -move)
	}
	for _, pe := range m.rdates {
		switch {
		case pe.end != nil:
			lookback = max(lookback, pe.end.abs.Sub(pe.start.abs))
		case pe.dur != nil:
			lookback = max(lookback, pe.dur.upper())
		}
	}
	lookback += 2 * time.Hour
	var from time.Time
	if !x.start.IsZero() {
		from = x.r.toWall(x.start.Add(-lookback-26*time.Hour), m.start)
	}
	s, err := x.stream(m, from)
	if err != nil {
		x.err = err
		return
	}
	for !x.done() {
		o, ok, err := s.next()
		if err != nil {
			x.err = err
			return
		}
		if !ok {
			return
		}
		if !x.end.IsZero() && !o.abs.Before(x.end.Add(ahead+2*time.Hour)) {
			return
		}
		if m.exAbs[o.abs.Unix()] || m.exDay[civilOf(o.wall)] || ix.lookup(o) != nil {
			continue
		}
		var rid time.Time
		if m.recurring() {
			rid = o.abs
		}
		if f := ix.future(o); f != nil {
			sh := shifts[f]
			// The moved wall clock, normalized in UTC so that a DST gap
			// is not skipped before toAbs sees it.
			w := time.Date(o.wall.Year(), o.wall.Month(), o.wall.Day()+sh.days, o.wall.Hour(), o.wall.Minute(), o.wall.Second()+sh.secs, 0, time.UTC)
			loc := x.r.floating
			if m.start.loc != nil {
				loc = m.start.loc
			}
			x.emit(x.instance(f, WallTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), loc).UTC(), nil, rid), true)
			continue
		}
		x.emit(x.instance(m, o.abs, o.pe, rid), true)
	}
}

// An occ is one start of a recurrence set, before EXDATE and overrides.
type occ struct {
	wall time.Time // in the master's frame, as a UTC stand-in
	abs  time.Time
	pe   *period // the RDATE PERIOD it comes from
}

// A stream merges a master's DTSTART, RDATEs and RRULEs in order.
type stream struct {
	srcs   []func() (occ, bool)
	rules  []bool // srcs[i] comes from an RRULE: it counts against the budget
	heads  []occ
	ok     []bool
	recent [8]int64 // the last starts returned
	n      int
	pulled *int // shared by every stream of one call
	budget int
}

func (x *expander) stream(m *comp, from time.Time) (*stream, error) {
	if x.pulled == nil {
		x.pulled = new(int)
	}
	s := &stream{budget: x.budget, pulled: x.pulled}
	for i := range s.recent {
		s.recent[i] = math.MinInt64
	}
	if len(m.rdates) > 0 {
		rd := make([]occ, 0, len(m.rdates))
		for i := range m.rdates {
			pe := &m.rdates[i]
			o := occ{abs: pe.start.abs, wall: x.r.toWall(pe.start.abs, m.start)}
			if pe.period {
				o.pe = pe
			}
			rd = append(rd, o)
		}
		sort.SliceStable(rd, func(i, j int) bool { return rd[i].abs.Before(rd[j].abs) })
		s.add(func() (occ, bool) {
			if len(rd) == 0 {
				return occ{}, false
			}
			o := rd[0]
			rd = rd[1:]
			return o, true
		}, false)
	}
	first := true
	s.add(func() (occ, bool) {
		if !first {
			return occ{}, false
		}
		first = false
		return occ{wall: x.r.toWall(m.start.abs, m.start), abs: m.start.abs}, true
	}, false)
	for _, ru := range m.rules {
		next, err := ru.iterator(from)
		if err != nil {
			return nil, err
		}
		start := m.start
		// DTSTART always counts as the first of COUNT instances (RFC 5545
		// §3.3.10), even when it does not match the rule; rrule-go only
		// counts what matches.
		left, first := ru.opt.Count, true
		s.add(func() (occ, bool) {
			if ru.count && left <= 0 {
				return occ{}, false
			}
			t, ok := next()
			if !ok {
				return occ{}, false
			}
			if first && !t.Equal(ru.opt.Dtstart) {
				left--
			}
			first = false
			left--
			if ru.count && left < 0 {
				return occ{}, false
			}
			return occ{wall: t, abs: x.r.toAbs(t, start)}, true
		}, true)
	}
	return s, nil
}

func (s *stream) add(src func() (occ, bool), counted bool) {
	s.srcs = append(s.srcs, src)
	s.rules = append(s.rules, counted)
	s.heads = append(s.heads, occ{})
	s.ok = append(s.ok, false)
	s.fill(len(s.srcs) - 1)
}

func (s *stream) fill(i int) {
	if s.rules[i] {
		*s.pulled++
	}
	s.heads[i], s.ok[i] = s.srcs[i]()
}

// next returns the next start, skipping duplicates.
func (s *stream) next() (occ, bool, error) {
	for {
		if *s.pulled > s.budget {
			return occ{}, false, errBudget
		}
		best := -1
		for i := range s.srcs {
			if s.ok[i] && (best < 0 || s.heads[i].abs.Before(s.heads[best].abs)) {
				best = i
			}
		}
		if best < 0 {
			return occ{}, false, nil
		}
		o := s.heads[best]
		s.fill(best)
		// Skip duplicates: the same start from two sources, or from one
		// rule around a DST change (rrule-go's wall-clock times can then
		// repeat, or come an hour out of order).
		u := o.abs.Unix()
		if slices.Contains(s.recent[:], u) {
			continue
		}
		s.recent[s.n%len(s.recent)] = u
		s.n++
		return o, true, nil
	}
}
