package recur

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// A timeVal is one DATE or DATE-TIME value, read in its frame: a zone (its
// TZID, or UTC for a "Z" value) or floating (no zone, and every DATE).
type timeVal struct {
	abs  time.Time      // the instant, in UTC; floating and DATE values through Options.Floating
	wall time.Time      // the wall clock: in loc when zoned, else a UTC time standing for the wall clock
	loc  *time.Location // the zone of a zoned value; nil for floating and DATE values
	date bool           // a DATE value
}

// zone returns the zone wall-clock arithmetic on v happens in.
func (v timeVal) zone(floating *time.Location) *time.Location {
	if v.loc != nil {
		return v.loc
	}
	return floating
}

// civil is a calendar date, used to compare DATE values with DATE-TIMEs.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// dayNumber counts days since 1970-01-01 of a calendar date.
func dayNumber(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseFields reads "YYYYMMDD", "YYYYMMDDTHHMMSS" or "YYYYMMDDTHHMMSSZ".
func parseFields(s string) (y, mo, d, h, mi, sec int, date, utc, ok bool) {
	if len(s) == 8 {
		date = true
	} else if len(s) == 16 && (s[15] == 'Z' || s[15] == 'z') {
		utc = true
		s = s[:15]
	} else if len(s) != 15 {
		return
	}
	var ok1, ok2, ok3 bool
	y, ok1 = digits(s[0:4])
	mo, ok2 = digits(s[4:6])
	d, ok3 = digits(s[6:8])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, time.Month(mo)) {
		return
	}
	if date {
		return y, mo, d, 0, 0, 0, true, false, true
	}
	if s[8] != 'T' && s[8] != 't' {
		return
	}
	h, ok1 = digits(s[9:11])
	mi, ok2 = digits(s[11:13])
	sec, ok3 = digits(s[13:15])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 60 {
		return
	}
	if sec == 60 { // a leap second: RFC 5545 §3.3.5 allows it; Go does not
		sec = 59
	}
	return y, mo, d, h, mi, sec, false, utc, true
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseTime reads one DATE or DATE-TIME value; tzid is the TZID parameter
// (ignored on DATE and UTC values, as RFC 5545 §3.2.19 says it must be).
func (r *resolver) parseTime(s, tzid string, wantDate bool) (timeVal, error) {
	s = strings.TrimSpace(s)
	y, mo, d, h, mi, sec, date, utc, ok := parseFields(s)
	if !ok || (wantDate && !date) {
		return timeVal{}, fmt.Errorf("%w: bad date or date-time %q", ErrInvalid, s)
	}
	switch {
	case date:
		wall := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		abs := WallTime(y, time.Month(mo), d, 0, 0, 0, r.floating).UTC()
		return timeVal{abs: abs, wall: wall, date: true}, nil
	case utc:
		t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
		return timeVal{abs: t, wall: t, loc: time.UTC}, nil
	case strings.TrimSpace(tzid) != "":
		loc, err := r.location(tzid)
		if err != nil {
			return timeVal{}, err
		}
		t := WallTime(y, time.Month(mo), d, h, mi, sec, loc)
		return timeVal{abs: t.UTC(), wall: t, loc: loc}, nil
	case r.dflt != nil:
		// A floating value in a component whose DTSTART has a zone: read
		// it in that zone, as clients mean it (RFC 5545 wants the same
		// form as DTSTART anyway).
		t := WallTime(y, time.Month(mo), d, h, mi, sec, r.dflt)
		return timeVal{abs: t.UTC(), wall: t, loc: r.dflt}, nil
	default:
		wall := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
		abs := WallTime(y, time.Month(mo), d, h, mi, sec, r.floating).UTC()
		return timeVal{abs: abs, wall: wall}, nil
	}
}

// toAbs turns a wall-clock time of frame v (a UTC time standing for it,
// as the rule iterator yields it) into an instant.
func (r *resolver) toAbs(t time.Time, v timeVal) time.Time {
	loc := r.floating
	if v.loc != nil {
		loc = v.loc
	}
	return WallTime(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), loc).UTC()
}

// WallTime returns the instant a wall-clock time names in loc (fields
// out of range are normalized first, as by time.Date, in the wall clock).
// RFC 5545 §3.3.5: a time in the repeated hour after a DST change means
// the first of its two instants; a time skipped by a DST gap is read
// with the offset in force before the gap (02:30 on a spring-forward
// day in New York is 03:30 EDT). time.Date picks arbitrarily in both.
func WallTime(y int, mo time.Month, d, h, mi, sec int, loc *time.Location) time.Time {
	w := time.Date(y, mo, d, h, mi, sec, 0, time.UTC) // the wall clock, normalized
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
	if t.Day() != w.Day() || t.Hour() != w.Hour() || t.Minute() != w.Minute() || t.Second() != w.Second() {
		// In a gap: t is on one side of it; hours before, the offset
		// before the gap is in force.
		_, before := t.Add(-6 * time.Hour).Zone()
		return w.Add(-time.Duration(before) * time.Second).In(loc)
	}
	return earliest(t)
}

// earliest returns the first of the two instants a wall-clock time names
// in the repeated hour after a DST change (RFC 5545 §3.3.5 says the first
// is meant); time.Date may pick either.
func earliest(t time.Time) time.Time {
	_, off := t.Zone()
	_, before := t.Add(-3 * time.Hour).Zone()
	if before <= off {
		return t
	}
	alt := t.Add(-time.Duration(before-off) * time.Second)
	if alt.Day() == t.Day() && alt.Hour() == t.Hour() && alt.Minute() == t.Minute() && alt.Second() == t.Second() {
		return alt
	}
	return t
}

// toWall turns an instant into a wall-clock time of frame v, as a UTC
// time standing for it (the frame rules are iterated in).
func (r *resolver) toWall(t time.Time, v timeVal) time.Time {
	loc := r.floating
	if v.loc != nil {
		loc = v.loc
	}
	w := t.In(loc)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
}

// propTime reads a single-valued DATE or DATE-TIME property.
func (r *resolver) propTime(p *ical.Prop) (timeVal, error) {
	v := p.Value
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i] // a list where one value belongs: take the first
	}
	t, err := r.parseTime(v, p.Params.Get(ical.ParamTimezoneID), strings.EqualFold(p.Params.Get(ical.ParamValue), "DATE"))
	if err != nil {
		return t, fmt.Errorf("%s: %w", p.Name, err)
	}
	return t, nil
}

// A durSpec is a duration as RFC 5545 §3.3.6 reads it: days (and weeks)
// are nominal, added in wall-clock time; the rest is exact.
type durSpec struct {
	days int
	d    time.Duration
}

// apply returns start plus the duration, with days added in loc.
func (ds durSpec) apply(start time.Time, loc *time.Location) time.Time {
	if ds.days != 0 {
		s := start.In(loc)
		start = WallTime(s.Year(), s.Month(), s.Day()+ds.days, s.Hour(), s.Minute(), s.Second(), loc).Add(time.Duration(s.Nanosecond()))
	}
	return start.Add(ds.d)
}

// upper returns a bound of the exact length of ds, whatever DST does.
func (ds durSpec) upper() time.Duration {
	return time.Duration(ds.days)*25*time.Hour + ds.d
}

// maxDurDays bounds DURATION values (and so the span of one instance).
const maxDurDays = 100 * 366

// parseDuration reads an RFC 5545 §3.3.6 dur-value.
func parseDuration(s string) (ds durSpec, neg bool, err error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	bad := fmt.Errorf("%w: bad duration %q", ErrInvalid, s)
	if s == "" {
		return ds, false, bad
	}
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" || s[0] != 'P' {
		return ds, neg, bad
	}
	s = s[1:]
	if s == "" {
		return ds, neg, bad
	}
	inTime := false
	units := 0
	var secs int64
	for s != "" {
		if s[0] == 'T' {
			if inTime {
				return ds, neg, bad
			}
			inTime = true
			s = s[1:]
			if s == "" && units == 0 {
				return ds, neg, bad
			}
			// "P1DT": a trailing T with nothing after it is read
			// leniently, as python-icalendar does (CalDAVTester has it).
			continue
		}
		units++
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return ds, neg, bad
		}
		n, _ := strconv.Atoi(s[:i])
		unit := s[i]
		s = s[i+1:]
		switch {
		case !inTime && unit == 'W':
			ds.days += 7 * n
		case !inTime && unit == 'D':
			ds.days += n
		case inTime && unit == 'H':
			secs += int64(n) * 3600
		case inTime && unit == 'M':
			secs += int64(n) * 60
		case inTime && unit == 'S':
			secs += int64(n)
		default:
			return ds, neg, bad
		}
		if ds.days > maxDurDays || secs > maxDurDays*86400 {
			return ds, neg, fmt.Errorf("%w: duration %q longer than %d days", ErrInvalid, s, maxDurDays)
		}
	}
	ds.d = time.Duration(secs) * time.Second
	if neg {
		ds.days, ds.d = -ds.days, -ds.d
	}
	return ds, neg, nil
}

// ParseDuration parses an RFC 5545 §3.3.6 duration such as "-PT15M" or
// "P1DT12H" as an exact time.Duration, counting a day as 24 hours. (The
// engine itself adds days in wall-clock time; this is for VALARM triggers.)
func ParseDuration(s string) (time.Duration, error) {
	ds, _, err := parseDuration(s)
	if err != nil {
		return 0, err
	}
	return time.Duration(ds.days)*24*time.Hour + ds.d, nil
}

// A period is one RDATE or FREEBUSY value: a start, and for VALUE=PERIOD
// an explicit end or duration.
type period struct {
	start  timeVal
	end    *timeVal
	dur    *durSpec
	period bool
}

// propValues reads every value of a DATE / DATE-TIME / PERIOD property
// (comma lists included), up to limit values.
func (r *resolver) propValues(p *ical.Prop, limit int) ([]period, error) {
	tzid := p.Params.Get(ical.ParamTimezoneID)
	vt := strings.ToUpper(p.Params.Get(ical.ParamValue))
	if vt == "" && p.Name == ical.PropFreeBusy {
		vt = "PERIOD"
	}
	var out []period
	for _, raw := range strings.Split(p.Value, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if len(out) >= limit {
			return nil, fmt.Errorf("%w: %s has more than %d values", ErrTooManyInstances, p.Name, limit)
		}
		if vt == "PERIOD" || strings.Contains(raw, "/") {
			raw = strings.TrimSuffix(raw, "/")
			a, b, ok := strings.Cut(raw, "/")
			if !ok {
				return nil, fmt.Errorf("%w: %s: bad period %q", ErrInvalid, p.Name, raw)
			}
			st, err := r.parseTime(a, tzid, false)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p.Name, err)
			}
			pe := period{start: st, period: true}
			if b = strings.TrimSpace(b); b != "" && (b[0] == 'P' || b[0] == '+' || b[0] == 'p') {
				ds, neg, err := parseDuration(b)
				if err != nil || neg {
					return nil, fmt.Errorf("%w: %s: bad period duration %q", ErrInvalid, p.Name, b)
				}
				pe.dur = &ds
			} else {
				en, err := r.parseTime(b, tzid, false)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", p.Name, err)
				}
				pe.end = &en
			}
			out = append(out, pe)
			continue
		}
		t, err := r.parseTime(raw, tzid, vt == "DATE")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out = append(out, period{start: t})
	}
	return out, nil
}

// Period is a span [Start, End) of one property value, in UTC. A DATE-TIME
// value is a point (End == Start); a DATE value spans its day in the
// floating zone; a PERIOD value spans its period.
type Period struct {
	Start, End time.Time
}

// PropPeriods returns the spans of the DATE, DATE-TIME or PERIOD values of
// p (every value of a comma list), resolving TZIDs as LoadLocation does and
// floating values in opts.Floating. Errors wrap ErrInvalid.
func PropPeriods(p *ical.Prop, cal *ical.Calendar, opts *Options) (ps []Period, err error) {
	defer recoverInvalid(&err)
	r := newResolver(cal, opts)
	vals, err := r.propValues(p, MaxDates)
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		pe := Period{Start: v.start.abs, End: v.start.abs}
		switch {
		case v.end != nil:
			pe.End = v.end.abs
		case v.dur != nil:
			pe.End = v.dur.apply(v.start.abs, v.start.zone(r.floating)).UTC()
		case v.start.date:
			pe.End = durSpec{days: 1}.apply(v.start.abs, r.floating).UTC()
		}
		if pe.End.Before(pe.Start) {
			pe.End = pe.Start
		}
		ps = append(ps, pe)
	}
	return ps, nil
}
