package freebusy

import (
	"errors"
	"time"

	"github.com/calbolt/calbolt/internal/recur"
)

// WorkHours limits free slots to working time: From to To (offsets from
// local midnight, From < To) on the days of the week marked in Days, in
// zone Loc. Wall-clock times, so 09:00 stays 09:00 across DST changes.
type WorkHours struct {
	Loc      *time.Location
	Days     [7]bool // indexed by time.Weekday
	From, To time.Duration
}

// ErrInvalidWorkHours reports working hours that hold no time.
var ErrInvalidWorkHours = errors.New("freebusy: working hours must start before they end, within one day")

// FreeSlots returns the free time within [start, end) that is at least
// minLen long, given busy periods (of any type, any number of users, in
// any order; overlaps are fine): the maximal free intervals, restricted
// to working hours when wh is not nil. Any busy type blocks a slot.
func FreeSlots(busy []Period, start, end time.Time, minLen time.Duration, wh *WorkHours) ([]Period, error) {
	if !end.After(start) {
		return nil, ErrInvalidWindow
	}
	open := []Period{{Start: start.UTC(), End: end.UTC()}}
	if wh != nil {
		var err error
		if open, err = wh.periods(start, end); err != nil {
			return nil, err
		}
	}
	blocked := flatten(asBusy(busy), start, end)
	var out []Period
	k := 0
	for _, o := range open {
		cur := o.Start
		for k < len(blocked) && blocked[k].Start.Before(o.End) {
			b := blocked[k]
			if !b.End.After(cur) {
				k++
				continue
			}
			if b.Start.After(cur) {
				out = appendSlot(out, cur, b.Start, minLen)
			}
			if b.End.After(o.End) {
				cur = o.End
				break
			}
			cur = b.End
			k++
		}
		out = appendSlot(out, cur, o.End, minLen)
	}
	return out, nil
}

func asBusy(ps []Period) []Period {
	out := make([]Period, 0, len(ps))
	for _, p := range ps {
		if p.Type != FBTypeFree {
			out = append(out, Period{Start: p.Start, End: p.End, Type: FBTypeBusy})
		}
	}
	return out
}

func appendSlot(out []Period, s, e time.Time, minLen time.Duration) []Period {
	if e.Sub(s) >= minLen && e.After(s) {
		out = append(out, Period{Start: s, End: e, Type: FBTypeFree})
	}
	return out
}

// periods returns the working periods overlapping [start, end), clipped,
// the periods of consecutive days joined where they meet.
func (wh *WorkHours) periods(start, end time.Time) ([]Period, error) {
	if wh.From < 0 || wh.To > 24*time.Hour || wh.From >= wh.To {
		return nil, ErrInvalidWorkHours
	}
	loc := wh.Loc
	if loc == nil {
		loc = time.UTC
	}
	var out []Period
	ls := start.In(loc)
	day := time.Date(ls.Year(), ls.Month(), ls.Day(), 0, 0, 0, 0, loc)
	for ; day.Before(end); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
		if !wh.Days[day.Weekday()] {
			continue
		}
		s := wallClock(day, wh.From, loc)
		e := wallClock(day, wh.To, loc)
		if p, ok := clip(s, e, start, end); ok {
			if n := len(out); n > 0 && !p.Start.After(out[n-1].End) {
				out[n-1].End = p.End // 24:00 meets the next day's 00:00
				continue
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// wallClock is the instant at offset d after midnight of day's date on the
// wall clock of loc, read as RFC 5545 §3.3.5 reads local times on DST
// days (recur.WallTime), as the events' own times are.
func wallClock(day time.Time, d time.Duration, loc *time.Location) time.Time {
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	return recur.WallTime(day.Year(), day.Month(), day.Day(), h, m, s, loc)
}
