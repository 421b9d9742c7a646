package caldav

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/internal/recur"
)

// Calendar-query filter evaluation (RFC 4791 §9.7). go-webdav's own
// caldav.Filter/Match are not used: they miss exact boundaries, ignore
// recurring durations, treat the range end as inclusive, look only at a
// property's first value and know no VTODO rules.
//
// Semantics:
//   - comp-filter: matches when some component of that name matches all of
//     its time-range, prop-filters and nested comp-filters (is-not-defined:
//     when there is none).
//   - time-range on VEVENT, VTODO, VJOURNAL: some instance defined by that
//     component (the master's, or an override's; EXDATEs and RECURRENCE-ID
//     overrides applied) overlaps per the RFC 4791 §9.9 tables (recur.Overlaps);
//     an undated VTODO goes by COMPLETED and CREATED. On VFREEBUSY: its
//     DTSTART/DTEND, else its FREEBUSY periods. On VALARM: some trigger time
//     (REPEATs included) of some instance of the enclosing component lies in
//     the range. Elsewhere a time-range matches nothing.
//   - prop-filter: matches when some property line of that name matches its
//     time-range, text-match and every param-filter. A text-match looks at
//     each value of the line (CATEGORIES and RESOURCES are comma lists) and
//     matches when one contains the text; negate-condition inverts that
//     per line, so "no value contains it".
//   - text-match compares with i;ascii-casemap unless a collation is given
//     (matchCompFilterCollations): i;octet, i;ascii-casemap, and
//     i;unicode-casemap (approximated by Unicode lower-casing).
//
// An object the recurrence engine cannot read yields an error wrapping
// recur.ErrInvalid (or recur.ErrTooManyInstances): the caller skips or
// reports that one object.

// matchCompFilter reports whether the calendar object matches the
// calendar-query filter rooted at f (f.Name must be VCALENDAR).
func matchCompFilter(f *gocaldav.CompFilter, cal *ical.Calendar, opts *recur.Options) (bool, error) {
	return matchCompFilterCollations(f, cal, opts, nil)
}

// matchCompFilterCollations is matchCompFilter with the collation of each
// text-match (keyed by the *TextMatch in f; absent means i;ascii-casemap),
// since go-webdav's TextMatch has no field for it.
func matchCompFilterCollations(f *gocaldav.CompFilter, cal *ical.Calendar, opts *recur.Options, collations map[*gocaldav.TextMatch]string) (bool, error) {
	if f == nil || cal == nil || cal.Component == nil {
		return false, nil
	}
	m := &matcher{cal: cal, opts: opts, collations: collations}
	if opts == nil {
		m.opts = &recur.Options{}
	}
	if !strings.EqualFold(f.Name, ical.CompCalendar) || f.IsNotDefined {
		return false, nil
	}
	return m.matchOne(f, cal.Component, nil, true)
}

type matcher struct {
	cal        *ical.Calendar
	opts       *recur.Options
	collations map[*gocaldav.TextMatch]string
}

func hasTimeRange(start, end time.Time) bool { return !start.IsZero() || !end.IsZero() }

// matchComp evaluates f against the children of parent with its name.
func (m *matcher) matchComp(f *gocaldav.CompFilter, parent *ical.Component) (bool, error) {
	var comps []*ical.Component
	for _, c := range parent.Children {
		if c != nil && strings.EqualFold(c.Name, f.Name) {
			comps = append(comps, c)
		}
	}
	if f.IsNotDefined || len(comps) == 0 {
		return f.IsNotDefined && len(comps) == 0, nil
	}
	recurring := hasTimeRange(f.Start, f.End) && parent.Name == ical.CompCalendar &&
		(comps[0].Name == ical.CompEvent || comps[0].Name == ical.CompToDo || comps[0].Name == ical.CompJournal)
	if !recurring {
		for _, c := range comps {
			ok, err := m.matchOne(f, c, parent, true)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	// Events, to-dos and journals: the other conditions first, then one
	// walk over the instances of the components that passed them.
	cands := map[*ical.Component]bool{}
	for _, c := range comps {
		ok, err := m.matchOne(f, c, parent, false)
		if err != nil {
			return false, err
		}
		if !ok {
			continue
		}
		if c.Name == ical.CompToDo && c.Props.Get(ical.PropDateTimeStart) == nil && c.Props.Get(ical.PropDue) == nil {
			if ok, err := m.undatedTodoInRange(c, f.Start, f.End); err != nil || ok {
				return ok, err
			}
			continue
		}
		cands[c] = true
	}
	if len(cands) == 0 {
		return false, nil
	}
	return m.anyInstance(func(c *ical.Component) bool { return cands[c] }, f.Start, f.End)
}

// matchOne evaluates f's conditions on the component c (whose parent is
// parent, nil for VCALENDAR), its time-range only if withRange.
func (m *matcher) matchOne(f *gocaldav.CompFilter, c, parent *ical.Component, withRange bool) (bool, error) {
	for i := range f.Props {
		ok, err := m.matchProp(&f.Props[i], c)
		if err != nil || !ok {
			return false, err
		}
	}
	for i := range f.Comps {
		ok, err := m.matchComp(&f.Comps[i], c)
		if err != nil || !ok {
			return false, err
		}
	}
	if withRange && hasTimeRange(f.Start, f.End) {
		return m.compInRange(c, parent, f.Start, f.End)
	}
	return true, nil
}

// compInRange is the RFC 4791 §9.9 time-range test of one component.
func (m *matcher) compInRange(c, parent *ical.Component, start, end time.Time) (bool, error) {
	switch c.Name {
	case ical.CompCalendar:
		return m.anyInstance(nil, start, end)
	case ical.CompFreeBusy:
		return m.freeBusyInRange(c, start, end)
	case ical.CompAlarm:
		return m.alarmInRange(c, parent, start, end)
	}
	return false, nil
}

// anyInstance reports whether some instance defined by a selected
// component (any, when sel is nil) overlaps the range.
func (m *matcher) anyInstance(sel func(*ical.Component) bool, start, end time.Time) (bool, error) {
	opts := *m.opts
	opts.Select = sel
	found := false
	err := recur.Each(m.cal, start, end, &opts, func(recur.Instance) bool {
		found = true
		return false
	})
	if err != nil {
		return false, fmt.Errorf("caldav: time-range: %w", err)
	}
	return found, nil
}

// utcProp reads a DATE-TIME property such as COMPLETED or CREATED.
func (m *matcher) utcProp(c *ical.Component, name string) (time.Time, bool, error) {
	p := c.Props.Get(name)
	if p == nil {
		return time.Time{}, false, nil
	}
	ps, err := recur.PropPeriods(p, m.cal, m.opts)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("caldav: %s: %w", name, err)
	}
	if len(ps) == 0 {
		return time.Time{}, false, nil
	}
	return ps[0].Start, true, nil
}

// undatedTodoInRange applies the last four rows of the RFC 4791 §9.9
// VTODO table (no DTSTART, no DUE).
func (m *matcher) undatedTodoInRange(c *ical.Component, start, end time.Time) (bool, error) {
	completed, hasCompleted, err := m.utcProp(c, ical.PropCompleted)
	if err != nil {
		return false, err
	}
	created, hasCreated, err := m.utcProp(c, ical.PropCreated)
	if err != nil {
		return false, err
	}
	startLE := func(t time.Time) bool { return start.IsZero() || !start.After(t) }
	endGE := func(t time.Time) bool { return end.IsZero() || !end.Before(t) }
	endGT := func(t time.Time) bool { return end.IsZero() || end.After(t) }
	switch {
	case hasCompleted && hasCreated:
		return (startLE(created) || startLE(completed)) && (endGE(created) || endGE(completed)), nil
	case hasCompleted:
		return startLE(completed) && endGE(completed), nil
	case hasCreated:
		return endGT(created), nil
	}
	return true, nil
}

func (m *matcher) freeBusyInRange(c *ical.Component, start, end time.Time) (bool, error) {
	startLT := func(t time.Time) bool { return start.IsZero() || start.Before(t) }
	startLE := func(t time.Time) bool { return start.IsZero() || !start.After(t) }
	endGT := func(t time.Time) bool { return end.IsZero() || end.After(t) }
	dtstart, hasStart, err := m.utcProp(c, ical.PropDateTimeStart)
	if err != nil {
		return false, err
	}
	dtend, hasEnd, err := m.utcProp(c, ical.PropDateTimeEnd)
	if err != nil {
		return false, err
	}
	if hasStart && hasEnd {
		return startLE(dtend) && endGT(dtstart), nil
	}
	for i := range c.Props[ical.PropFreeBusy] {
		ps, err := recur.PropPeriods(&c.Props[ical.PropFreeBusy][i], m.cal, m.opts)
		if err != nil {
			return false, fmt.Errorf("caldav: FREEBUSY: %w", err)
		}
		for _, p := range ps {
			if startLT(p.End) && endGT(p.Start) {
				return true, nil
			}
		}
	}
	return false, nil
}

// maxAlarmRepeat bounds the REPEAT of one VALARM.
const maxAlarmRepeat = 1000

// alarmInRange reports whether a trigger of the VALARM c, for some
// instance of its parent component, lies in [start, end) (RFC 4791 §9.9).
func (m *matcher) alarmInRange(c, parent *ical.Component, start, end time.Time) (bool, error) {
	inRange := func(t time.Time) bool {
		return (start.IsZero() || !start.After(t)) && (end.IsZero() || end.After(t))
	}
	trig := c.Props.Get(ical.PropTrigger)
	if trig == nil || parent == nil {
		return false, nil
	}
	var repeat int
	var every time.Duration
	if p := c.Props.Get(ical.PropRepeat); p != nil {
		n, err := strconv.Atoi(strings.TrimSpace(p.Value))
		if err == nil && n > 0 {
			repeat = min(n, maxAlarmRepeat)
		}
		if d := c.Props.Get(ical.PropDuration); d != nil && repeat > 0 {
			if every, err = recur.ParseDuration(d.Value); err != nil || every <= 0 {
				repeat = 0
			}
		} else {
			repeat = 0
		}
	}
	if strings.EqualFold(trig.Params.Get(ical.ParamValue), string(ical.ValueDateTime)) {
		ps, err := recur.PropPeriods(trig, m.cal, m.opts)
		if err != nil {
			return false, fmt.Errorf("caldav: TRIGGER: %w", err)
		}
		for _, p := range ps {
			for k := 0; k <= repeat; k++ {
				if inRange(p.Start.Add(time.Duration(k) * every)) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	off, err := recur.ParseDuration(trig.Value)
	if err != nil {
		return false, fmt.Errorf("caldav: TRIGGER: %w", err)
	}
	fromEnd := strings.EqualFold(trig.Params.Get(ical.ParamRelated), "END")
	lastOff := off + time.Duration(repeat)*every
	// The instances whose anchor (start or end) plus an offset can reach
	// the range; one second wider so that a zero-length instance right at
	// the edge is not lost to the overlap rules.
	var ws, we time.Time
	if !start.IsZero() {
		ws = start.Add(-lastOff - time.Second)
	}
	if !end.IsZero() {
		we = end.Add(-off + time.Second)
	}
	opts := *m.opts
	opts.Select = func(x *ical.Component) bool { return x == parent }
	found := false
	err = recur.Each(m.cal, ws, we, &opts, func(in recur.Instance) bool {
		anchor := in.Start
		if fromEnd {
			anchor = in.End
		}
		for k := 0; k <= repeat; k++ {
			if inRange(anchor.Add(off + time.Duration(k)*every)) {
				found = true
				return false
			}
		}
		return true
	})
	if err != nil {
		return false, fmt.Errorf("caldav: VALARM time-range: %w", err)
	}
	return found, nil
}

// matchProp evaluates a prop-filter on component c.
func (m *matcher) matchProp(f *gocaldav.PropFilter, c *ical.Component) (bool, error) {
	props := c.Props[strings.ToUpper(f.Name)]
	if f.IsNotDefined {
		return len(props) == 0, nil
	}
	for i := range props {
		ok, err := m.matchPropLine(f, &props[i])
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func (m *matcher) matchPropLine(f *gocaldav.PropFilter, p *ical.Prop) (bool, error) {
	if hasTimeRange(f.Start, f.End) {
		ps, err := recur.PropPeriods(p, m.cal, m.opts)
		if err != nil {
			// Not a date property, or one that does not parse: no match.
			return false, nil
		}
		hit := false
		for _, pe := range ps {
			if pe.End.Equal(pe.Start) {
				hit = hit || ((f.Start.IsZero() || !f.Start.After(pe.Start)) && (f.End.IsZero() || f.End.After(pe.Start)))
			} else {
				hit = hit || ((f.Start.IsZero() || f.Start.Before(pe.End)) && (f.End.IsZero() || f.End.After(pe.Start)))
			}
		}
		if !hit {
			return false, nil
		}
	}
	if f.TextMatch != nil && !m.textMatch(f.TextMatch, propValues(p)) {
		return false, nil
	}
	for i := range f.ParamFilter {
		if !m.matchParam(&f.ParamFilter[i], p) {
			return false, nil
		}
	}
	return true, nil
}

func (m *matcher) matchParam(f *gocaldav.ParamFilter, p *ical.Prop) bool {
	vals := p.Params.Values(f.Name)
	if f.IsNotDefined {
		return len(vals) == 0
	}
	if len(vals) == 0 {
		return false
	}
	if f.TextMatch == nil {
		return true
	}
	return m.textMatch(f.TextMatch, vals)
}

// textMatch reports whether some value contains the text (none does, with
// negate-condition), under the text-match's collation.
func (m *matcher) textMatch(tm *gocaldav.TextMatch, vals []string) bool {
	collation := m.collations[tm]
	hit := false
	for _, v := range vals {
		if containsFold(v, tm.Text, collation) {
			hit = true
			break
		}
	}
	return hit != tm.NegateCondition
}

// containsFold is a substring test under an RFC 4790 collation.
func containsFold(s, sub, collation string) bool {
	switch collation {
	case "i;octet":
		return strings.Contains(s, sub)
	case "i;unicode-casemap":
		return strings.Contains(strings.ToLower(strings.ToUpper(s)), strings.ToLower(strings.ToUpper(sub)))
	default: // i;ascii-casemap
		return bytes.Contains(asciiUpper(s), asciiUpper(sub))
	}
}

func asciiUpper(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return b
}

// listProps hold comma-separated TEXT lists (RFC 5545 §3.8.1.2, §3.8.1.10).
var listProps = map[string]bool{ical.PropCategories: true, ical.PropResources: true}

// propValues returns the values of one property line as text: TEXT values
// unescaped (and split, for list properties), others as written.
func propValues(p *ical.Prop) []string {
	vt := p.ValueType()
	if vt != ical.ValueText && vt != ical.ValueDefault {
		return []string{p.Value}
	}
	if !listProps[p.Name] {
		return []string{unescapeText(p.Value)}
	}
	var out []string
	var sb strings.Builder
	for i := 0; i < len(p.Value); i++ {
		switch c := p.Value[i]; {
		case c == '\\' && i+1 < len(p.Value):
			i++
			sb.WriteString(unescapeText(p.Value[i-1 : i+1]))
		case c == ',':
			out = append(out, strings.TrimSpace(sb.String()))
			sb.Reset()
		default:
			sb.WriteByte(c)
		}
	}
	return append(out, strings.TrimSpace(sb.String()))
}

// unescapeText undoes RFC 5545 §3.3.11 escaping; a stray backslash stays.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'n', 'N':
				sb.WriteByte('\n')
				i++
				continue
			case '\\', ';', ',':
				sb.WriteByte(s[i+1])
				i++
				continue
			}
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
