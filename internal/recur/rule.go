package recur

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Limits on what the engine accepts. Validate rejects objects beyond them,
// and Expand, Each and Bounds check them again before calling rrule-go,
// whose iterator cannot be interrupted.
const (
	// MinYear and MaxYear bound the years of DTSTART, DTEND, DUE, RDATE,
	// EXDATE and RECURRENCE-ID values. (1600 admits the 1601 and 1604 that
	// Outlook and Apple write for dates without a year.) UNTIL may be
	// later: instances beyond rrule-go's year 9999 simply do not exist.
	MinYear = 1600
	MaxYear = 2200

	// MaxDates caps the RDATE values, and separately the EXDATE values, of
	// one component.
	MaxDates = 1000

	// MaxInterval caps INTERVAL.
	MaxInterval = 10000

	// MinMinutelyInterval is the smallest INTERVAL accepted for
	// FREQ=MINUTELY unless the rule has a COUNT. FREQ=SECONDLY is always
	// rejected: no calendar needs it, and it is the classic way to make an
	// expansion explode.
	MinMinutelyInterval = 15

	// MaxTimesPerDay caps the times of day one rule period generates:
	// |BYHOUR|·|BYMINUTE|·|BYSECOND| (each defaulting to one value).
	MaxTimesPerDay = 144
)

// A rule is one parsed, checked RRULE.
type rule struct {
	opt      rrule.ROption // Dtstart in the frame of the component's start; defaults filled in
	count    bool
	until    bool
	untilAbs time.Time // UNTIL as an instant (zero without UNTIL)
}

func invalidRule(format string, args ...any) error {
	return fmt.Errorf("%w: RRULE: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

var weekdays = map[string]rrule.Weekday{
	"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH,
	"FR": rrule.FR, "SA": rrule.SA, "SU": rrule.SU,
}

func parseInts(key, v string, lo, hi int, signed bool) ([]int, error) {
	var out []int
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
		if err != nil || len(s) > 5 {
			return nil, invalidRule("bad %s value %q", key, s)
		}
		a := n
		if signed && a < 0 {
			a = -a
		}
		if a < lo || a > hi || (n < 0 && !signed) {
			return nil, invalidRule("%s value %d out of range", key, n)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// parseRule parses an RRULE value (RFC 5545 §3.3.10) for a component
// starting at start, and checks it against the engine's limits so that
// rrule-go can iterate it in bounded time.
func parseRule(value string, start timeVal, r *resolver, maxCount int) (*rule, error) {
	ru := &rule{}
	o := &ru.opt
	seen := map[string]bool{}
	var untilStr string
	hasFreq := false
	for _, part := range strings.Split(value, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.ToUpper(strings.TrimSpace(k)), strings.ToUpper(strings.TrimSpace(v))
		if !ok || v == "" {
			return nil, invalidRule("bad part %q", part)
		}
		if seen[k] {
			return nil, invalidRule("%s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "FREQ":
			hasFreq = true
			switch v {
			case "YEARLY":
				o.Freq = rrule.YEARLY
			case "MONTHLY":
				o.Freq = rrule.MONTHLY
			case "WEEKLY":
				o.Freq = rrule.WEEKLY
			case "DAILY":
				o.Freq = rrule.DAILY
			case "HOURLY":
				o.Freq = rrule.HOURLY
			case "MINUTELY":
				o.Freq = rrule.MINUTELY
			case "SECONDLY":
				return nil, invalidRule("FREQ=SECONDLY is not supported")
			default:
				return nil, invalidRule("unknown FREQ %q", v)
			}
		case "INTERVAL":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxInterval {
				return nil, invalidRule("INTERVAL must be 1 to %d, not %q", MaxInterval, v)
			}
			o.Interval = n
		case "COUNT":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, invalidRule("COUNT must be positive, not %q", v)
			}
			if n > maxCount {
				return nil, fmt.Errorf("%w: RRULE COUNT %d exceeds the limit of %d instances", ErrTooManyInstances, n, maxCount)
			}
			o.Count = n
			ru.count = true
		case "UNTIL":
			untilStr = v
		case "WKST":
			wd, ok := weekdays[v]
			if !ok {
				return nil, invalidRule("bad WKST %q", v)
			}
			o.Wkst = wd
		case "BYSECOND":
			o.Bysecond, err = parseInts(k, v, 0, 60, false)
		case "BYMINUTE":
			o.Byminute, err = parseInts(k, v, 0, 59, false)
		case "BYHOUR":
			o.Byhour, err = parseInts(k, v, 0, 23, false)
		case "BYMONTHDAY":
			o.Bymonthday, err = parseInts(k, v, 1, 31, true)
		case "BYYEARDAY":
			o.Byyearday, err = parseInts(k, v, 1, 366, true)
		case "BYWEEKNO":
			o.Byweekno, err = parseInts(k, v, 1, 53, true)
		case "BYMONTH":
			o.Bymonth, err = parseInts(k, v, 1, 12, false)
		case "BYSETPOS":
			o.Bysetpos, err = parseInts(k, v, 1, 366, true)
		case "BYDAY":
			for _, s := range strings.Split(v, ",") {
				s = strings.TrimSpace(s)
				if len(s) < 2 {
					return nil, invalidRule("bad BYDAY %q", s)
				}
				wd, ok := weekdays[s[len(s)-2:]]
				if !ok {
					return nil, invalidRule("bad BYDAY %q", s)
				}
				if num := s[:len(s)-2]; num != "" {
					n, err := strconv.Atoi(strings.TrimPrefix(num, "+"))
					if err != nil || n == 0 || n > 53 || n < -53 {
						return nil, invalidRule("bad BYDAY %q", s)
					}
					wd = wd.Nth(n)
				}
				if !slices.Contains(o.Byweekday, wd) {
					o.Byweekday = append(o.Byweekday, wd)
				}
			}
		case "RSCALE":
			if v != "GREGORIAN" {
				return nil, invalidRule("RSCALE %q is not supported", v)
			}
		case "SKIP":
			// RFC 7529: only meaningful with a non-Gregorian RSCALE.
		default:
			if !strings.HasPrefix(k, "X-") {
				return nil, invalidRule("unknown part %q", k)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasFreq {
		return nil, invalidRule("FREQ is required")
	}
	if o.Interval == 0 {
		o.Interval = 1
	}
	// Seconds: DTSTART and BYSECOND=60 (a leap second) read as :59.
	for i, s := range o.Bysecond {
		if s == 60 {
			o.Bysecond[i] = 59
		}
	}
	// rrule-go iterates a UTC time standing for the wall clock of the
	// start's frame (zoned, floating or DATE): its date arithmetic in a
	// zone would lose a day where DST starts at midnight, and a time in a
	// DST gap; toAbs turns each result into an instant.
	w := start.wall
	o.Dtstart = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
	if untilStr != "" {
		u, err := ruleUntil(untilStr, start, r)
		if err != nil {
			return nil, err
		}
		o.Until = u
		ru.until = true
		ru.untilAbs = r.toAbs(u, start)
	} else {
		// rrule-go's default UNTIL is DTSTART + 292 years; make it "never".
		o.Until = time.Date(rrule.MAXYEAR, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	if err := checkRule(ru, start); err != nil {
		return nil, err
	}
	return ru, nil
}

// ruleUntil reads UNTIL, as a wall-clock stand-in, in the frame of the start (RFC 5545 §3.3.10: UTC
// for a zoned DTSTART, local for a floating one, a DATE for a DATE one),
// accepting the common mismatches: a local UNTIL with a zoned DTSTART is
// read in DTSTART's zone; a DATE UNTIL with a DATE-TIME DTSTART means the
// end of that day; a DATE-TIME UNTIL with a DATE or floating DTSTART is
// compared in the floating zone's wall clock.
func ruleUntil(s string, start timeVal, r *resolver) (time.Time, error) {
	y, mo, d, h, mi, sec, date, utc, ok := parseFields(s)
	if !ok {
		return time.Time{}, invalidRule("bad UNTIL %q", s)
	}
	if y > rrule.MAXYEAR {
		y = rrule.MAXYEAR
	}
	switch {
	case date && !start.date:
		return time.Date(y, time.Month(mo), d, 23, 59, 59, 0, time.UTC), nil
	case utc:
		u := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
		return r.toWall(u, start), nil
	default:
		return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), nil
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// checkRule makes sure rrule-go can iterate the rule in bounded time:
// limits first, then that the rule can reach its BYHOUR/BYMINUTE (else
// rrule-go loops forever), then a probe that it yields an instance at all
// (else rrule-go searches up to the year 9999). Rules that never match are
// refused by their shape where possible, before the probe: with FREQ=DAILY
// or finer, a BYSETPOS beyond the size of one period's set (|BYSECOND| for
// MINUTELY, |BYMINUTE|·|BYSECOND| for HOURLY, times |BYHOUR| for DAILY) is
// ErrInvalid; and a sub-daily rule is first probed day by day (probeDays:
// the days its day filters match and its INTERVAL grid reaches an allowed
// time on), so that a rule no day suits costs a day-by-day search, not a
// minute-by-minute one (about 10 ms instead of up to a second).
func checkRule(ru *rule, start timeVal) error {
	o := &ru.opt
	if o.Freq == rrule.MINUTELY && o.Interval < MinMinutelyInterval && !ru.count {
		return invalidRule("FREQ=MINUTELY needs INTERVAL>=%d or a COUNT", MinMinutelyInterval)
	}
	if start.date {
		if o.Freq > rrule.DAILY {
			return invalidRule("FREQ=%v for an all-day DTSTART", o.Freq)
		}
		// RFC 5545 forbids them with a DATE DTSTART: ignore them.
		o.Byhour, o.Byminute, o.Bysecond = nil, nil, nil
	}
	for i, wd := range o.Byweekday {
		n := wd.N()
		switch {
		case n == 0:
		case o.Freq == rrule.MONTHLY || (o.Freq == rrule.YEARLY && len(o.Bymonth) > 0):
			if n > 5 || n < -5 {
				return invalidRule("BYDAY %v: no month has it", wd)
			}
		case o.Freq == rrule.YEARLY:
		default:
			// RFC 5545 allows an ordinal only with MONTHLY and YEARLY;
			// rrule-go ignores it elsewhere, and so do we.
			o.Byweekday[i] = plainWeekdays[wd.Day()]
		}
	}
	fillDefaults(o)
	times := len(o.Bysecond)
	if o.Freq < rrule.MINUTELY {
		times *= len(o.Byminute)
	}
	if o.Freq < rrule.HOURLY {
		times *= len(o.Byhour)
	}
	if times > MaxTimesPerDay {
		return invalidRule("more than %d times per day", MaxTimesPerDay)
	}
	w := o.Dtstart
	switch o.Freq {
	case rrule.HOURLY:
		if len(o.Byhour) > 0 {
			g := gcd(o.Interval, 24)
			ok := false
			for _, h := range o.Byhour {
				ok = ok || ((h-w.Hour())%g+g)%g == 0
			}
			if !ok {
				return invalidRule("INTERVAL never reaches BYHOUR")
			}
		}
	case rrule.MINUTELY:
		if len(o.Byhour) > 0 || len(o.Byminute) > 0 {
			g := gcd(o.Interval, 1440)
			m0 := w.Hour()*60 + w.Minute()
			ok := false
			for m := 0; m < 1440 && !ok; m++ {
				if (len(o.Byhour) == 0 || slices.Contains(o.Byhour, m/60)) &&
					(len(o.Byminute) == 0 || slices.Contains(o.Byminute, m%60)) {
					ok = ((m-m0)%g+g)%g == 0
				}
			}
			if !ok {
				return invalidRule("INTERVAL never reaches BYHOUR/BYMINUTE")
			}
		}
	}
	// BYSETPOS picks from the set of one period. Below WEEKLY that set
	// is the times of one day (DAILY) or of one hour or minute, whatever
	// the day filters say: a position beyond its size never matches, and
	// rrule-go would search every period up to the year 9999 for it.
	if o.Freq >= rrule.DAILY && len(o.Bysetpos) > 0 {
		size := len(o.Bysecond)
		if o.Freq <= rrule.HOURLY {
			size *= len(o.Byminute)
		}
		if o.Freq == rrule.DAILY {
			size *= len(o.Byhour)
		}
		for _, p := range o.Bysetpos {
			if p > size || -p > size {
				return invalidRule("BYSETPOS %d beyond the %d times of a period", p, size)
			}
		}
	}
	// Below DAILY, a rule whose day filters match no day at all would be
	// searched period by period (up to 1440 a day); a daily rule with the
	// same filters finds that out cheaply.
	if o.Freq > rrule.DAILY && !preProbe(*o) {
		return invalidRule("the rule yields no instance")
	}
	if !probe(*o) {
		return invalidRule("the rule yields no instance")
	}
	return nil
}

// preProbe is probeDays; tests replace it to see what the full probe says.
var preProbe = probeDays

// probeDays reports whether some day matches the day filters of the
// HOURLY or MINUTELY rule o and holds one of its periods at an allowed
// hour (and minute). The rule's grid of periods shifts by the same amount
// each day and repeats every p days; for each shift that reaches an
// allowed time, a FREQ=DAILY;INTERVAL=p rule with o's day filters tells,
// day by day instead of period by period, whether such a day exists.
// It errs only towards yes (the first day counts even when its time has
// passed), so the full probe still follows.
func probeDays(o rrule.ROption) bool {
	unit := 1440 // periods per day, in minutes or hours
	w := o.Dtstart
	t0 := w.Hour()*60 + w.Minute()
	allowed := func(t int) bool {
		return (len(o.Byhour) == 0 || slices.Contains(o.Byhour, t/60)) &&
			(len(o.Byminute) == 0 || slices.Contains(o.Byminute, t%60))
	}
	if o.Freq == rrule.HOURLY {
		unit, t0 = 24, w.Hour()
		allowed = func(t int) bool { return len(o.Byhour) == 0 || slices.Contains(o.Byhour, t) }
	}
	n := o.Interval
	reach := make([]bool, n) // times of day allowed, by residue mod INTERVAL
	for t := range unit {
		if allowed(t) {
			reach[t%n] = true
		}
	}
	p := n / gcd(n, unit)
	d := o
	d.Freq, d.Interval, d.Bysetpos = rrule.DAILY, p, nil
	d.Byhour, d.Byminute, d.Bysecond = []int{0}, []int{0}, []int{0}
	for r := range p {
		// On day r (mod p) the periods fall at the times t with
		// t ≡ t0 - r·unit (mod INTERVAL).
		if !reach[((t0-r*unit)%n+n)%n] {
			continue
		}
		d.Dtstart = time.Date(w.Year(), w.Month(), w.Day()+r, 0, 0, 0, 0, w.Location())
		if probe(d) {
			return true
		}
	}
	return false
}

// fillDefaults makes explicit what rrule-go would take from DTSTART, so
// that the rule can later be restarted from another DTSTART.
func fillDefaults(o *rrule.ROption) {
	d := o.Dtstart
	if len(o.Byweekno) == 0 && len(o.Byyearday) == 0 && len(o.Bymonthday) == 0 && len(o.Byweekday) == 0 && len(o.Byeaster) == 0 {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(d.Month())}
			}
			o.Bymonthday = []int{d.Day()}
		case rrule.MONTHLY:
			o.Bymonthday = []int{d.Day()}
		case rrule.WEEKLY:
			o.Byweekday = []rrule.Weekday{pyWeekday(d.Weekday())}
		}
	}
	if len(o.Byhour) == 0 && o.Freq < rrule.HOURLY {
		o.Byhour = []int{d.Hour()}
	}
	if len(o.Byminute) == 0 && o.Freq < rrule.MINUTELY {
		o.Byminute = []int{d.Minute()}
	}
	if len(o.Bysecond) == 0 && o.Freq < rrule.SECONDLY {
		o.Bysecond = []int{d.Second()}
	}
}

var plainWeekdays = []rrule.Weekday{rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU}

func pyWeekday(w time.Weekday) rrule.Weekday {
	return []rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}[w]
}

// probe reports whether the rule yields any instance. The Gregorian
// calendar repeats every 400 years (146097 days, a whole number of weeks),
// so the rule is moved by whole 400-year cycles to start between the
// years 9200 and 9599: rrule-go then gives up at 9999 after at most 800
// years of search instead of up to 8000.
func probe(o rrule.ROption) bool {
	w := o.Dtstart
	y := 9200 + ((w.Year()%400)+400)%400
	o.Dtstart = time.Date(y, w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
	o.Count = 1
	o.Until = time.Time{}
	rr, err := rrule.NewRRule(o)
	if err != nil {
		return false
	}
	_, ok := rr.Iterator()()
	return ok
}

// iterator returns rrule-go's iterator for the rule, restarted close to
// from (a wall-clock time in the rule's frame) when the rule has no COUNT:
// at the start of a rule period, whole INTERVALs after DTSTART's period,
// at least one period before from. Without a restart, iterating up to a
// window far from DTSTART could take millions of steps.
func (ru *rule) iterator(from time.Time) (rrule.Next, error) {
	o := ru.opt
	if !from.IsZero() && !ru.count {
		if ff, ok := fastForward(o, from); ok {
			o = ff
		}
	}
	rr, err := rrule.NewRRule(o)
	if err != nil {
		return nil, invalidRule("%v", err)
	}
	return rr.Iterator(), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// fastForward restarts o at a period boundary before from; see iterator.
func fastForward(o rrule.ROption, from time.Time) (rrule.ROption, bool) {
	d0 := o.Dtstart
	loc := d0.Location()
	from = from.In(loc)
	n := int64(o.Interval)
	periods := func(k int64) int64 { return floorDiv(k, n)*n - n }
	day0 := dayNumber(d0.Year(), d0.Month(), d0.Day())
	dayT := dayNumber(from.Year(), from.Month(), from.Day())
	var start time.Time
	switch o.Freq {
	case rrule.YEARLY:
		k := periods(int64(from.Year() - d0.Year()))
		if k <= 0 {
			return o, false
		}
		start = time.Date(d0.Year()+int(k), 1, 1, 0, 0, 0, 0, loc)
	case rrule.MONTHLY:
		k := periods(int64(from.Year()*12+int(from.Month())) - int64(d0.Year()*12+int(d0.Month())))
		if k <= 0 {
			return o, false
		}
		start = time.Date(d0.Year(), d0.Month()+time.Month(k), 1, 0, 0, 0, 0, loc)
	case rrule.WEEKLY:
		wkst := int64(o.Wkst.Day())
		w0 := day0 - (int64(pyDay(d0.Weekday()))-wkst+7)%7
		wT := dayT - (int64(pyDay(from.Weekday()))-wkst+7)%7
		k := periods((wT - w0) / 7)
		if k <= 0 {
			return o, false
		}
		start = time.Date(d0.Year(), d0.Month(), d0.Day()+int(w0-day0+7*k), 0, 0, 0, 0, loc)
	case rrule.DAILY:
		k := periods(dayT - day0)
		if k <= 0 {
			return o, false
		}
		start = time.Date(d0.Year(), d0.Month(), d0.Day()+int(k), 0, 0, 0, 0, loc)
	case rrule.HOURLY, rrule.MINUTELY:
		unit := int64(60)
		if o.Freq == rrule.HOURLY {
			unit = 3600
		}
		wall0 := time.Date(d0.Year(), d0.Month(), d0.Day(), d0.Hour(), d0.Minute(), 0, 0, time.UTC)
		wallT := time.Date(from.Year(), from.Month(), from.Day(), from.Hour(), from.Minute(), 0, 0, time.UTC)
		k := periods((wallT.Unix() - wall0.Unix()) / unit)
		for ; k > 0; k -= n {
			w := wall0.Add(time.Duration(k*unit) * time.Second)
			if o.Freq == rrule.HOURLY {
				w = w.Truncate(time.Hour)
			}
			start = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), 0, 0, loc)
			if start.Hour() == w.Hour() && start.Minute() == w.Minute() {
				break // a wall time that exists (not in a DST gap)
			}
		}
		if k <= 0 {
			return o, false
		}
	default:
		return o, false
	}
	o.Dtstart = start
	return o, true
}

func pyDay(w time.Weekday) int { return (int(w) + 6) % 7 }
