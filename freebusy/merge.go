package freebusy

import (
	"cmp"
	"slices"
	"time"
)

// Merge combines the busy time of many objects of one user into the
// periods of [start, end) that are busy: sorted, non-overlapping,
// clipped to the window, adjacent periods of one type coalesced, and each
// instant carrying the strongest type that covers it (BUSY, then
// BUSY-UNAVAILABLE, then BUSY-TENTATIVE).
//
// Availability components are resolved first (RFC 7953 §4): in order of
// increasing priority, each one's range becomes busy with its BUSYTYPE and
// then its AVAILABLE instances become free again, so a higher-priority
// component overrides a lower one where they overlap; components of equal
// priority are applied together, so their available times add up. Event
// and VFREEBUSY periods are then laid over the result.
//
// Availability is one user's: to merge several users, Merge each user's
// objects first, then Merge the results (as Busy values holding only
// Periods). The window must lie within the one Compute was given: AVAILABLE
// instances outside Compute's window are not in its Busy, so that time
// would read as unavailable.
func Merge(start, end time.Time, busies ...Busy) []Period {
	if !end.After(start) {
		return nil
	}
	var n int
	var avail []Availability
	for _, b := range busies {
		n += len(b.Periods)
		avail = append(avail, b.Availability...)
	}
	all := make([]Period, 0, n)
	for _, b := range busies {
		all = append(all, b.Periods...)
	}
	all = append(all, resolveAvailability(avail, start, end)...)
	return flatten(all, start, end)
}

// rank orders priorities from lowest (applied first) to highest.
func rank(priority int) int {
	if priority <= 0 {
		return 0 // undefined: below 9
	}
	return 10 - priority
}

func resolveAvailability(avail []Availability, start, end time.Time) []Period {
	if len(avail) == 0 {
		return nil
	}
	slices.SortStableFunc(avail, func(a, b Availability) int { return cmp.Compare(rank(a.Priority), rank(b.Priority)) })
	var tl timeline
	for i := 0; i < len(avail); {
		j := i
		for j < len(avail) && rank(avail[j].Priority) == rank(avail[i].Priority) {
			j++
		}
		group := avail[i:j]
		for _, a := range group {
			s, e := a.Start, a.End
			if s.IsZero() || s.Before(start) {
				s = start
			}
			if e.IsZero() || e.After(end) {
				e = end
			}
			if e.After(s) {
				tl.paint(Period{Start: s, End: e, Type: a.Type})
			}
		}
		for _, a := range group {
			for _, p := range a.Available {
				// An AVAILABLE instance frees time only within its
				// component's range.
				if !a.Start.IsZero() && p.Start.Before(a.Start) {
					p.Start = a.Start
				}
				if !a.End.IsZero() && p.End.After(a.End) {
					p.End = a.End
				}
				if p.End.After(p.Start) {
					tl.paint(Period{Start: p.Start, End: p.End, Type: FBTypeFree})
				}
			}
		}
		i = j
	}
	return tl
}

// A timeline is sorted, non-overlapping busy periods.
type timeline []Period

// paint sets [p.Start, p.End) to p.Type, replacing what was there.
func (tl *timeline) paint(p Period) {
	old := *tl
	// First period ending after p starts; last one starting before p ends.
	i, _ := slices.BinarySearchFunc(old, p.Start, func(q Period, t time.Time) int {
		if q.End.After(t) {
			return 1
		}
		return -1
	})
	j := i
	for j < len(old) && old[j].Start.Before(p.End) {
		j++
	}
	var repl []Period
	if i < j && old[i].Start.Before(p.Start) {
		repl = append(repl, Period{Start: old[i].Start, End: p.Start, Type: old[i].Type})
	}
	if p.Type != FBTypeFree {
		repl = append(repl, p)
	}
	if i < j && old[j-1].End.After(p.End) {
		repl = append(repl, Period{Start: p.End, End: old[j-1].End, Type: old[j-1].Type})
	}
	*tl = slices.Replace(old, i, j, repl...)
}

// flatten sweeps over possibly overlapping periods and returns, clipped to
// [start, end), the strongest type at each instant as coalesced periods.
func flatten(ps []Period, start, end time.Time) []Period {
	// Each edge is one uint64: seconds since the window's start in the
	// high bits, then the type and whether the period starts or ends.
	// Sorting plain integers is several times faster than sorting structs
	// of time.Time, and the order of edges at one instant does not matter:
	// they are applied together. Sub-second times (which calendar data
	// does not have) are rounded outwards to whole seconds.
	base := start.Unix()
	edges := make([]uint64, 0, 2*len(ps))
	for _, p := range ps {
		q, ok := clip(p.Start, p.End, start, end)
		if !ok || p.Type == FBTypeFree {
			continue
		}
		s, e := q.Start.Unix()-base, q.End.Unix()-base
		if q.End.Nanosecond() != 0 {
			e++
		}
		edges = append(edges, uint64(s)<<8|uint64(p.Type)<<1|1, uint64(e)<<8|uint64(p.Type)<<1)
	}
	slices.Sort(edges)
	var out []Period
	var count [FBTypeBusy + 1]int
	current := func() FBType {
		for t := FBTypeBusy; t > FBTypeFree; t-- {
			if count[t] > 0 {
				return t
			}
		}
		return FBTypeFree
	}
	for i := 0; i < len(edges); {
		sec := edges[i] >> 8
		before := current()
		for i < len(edges) && edges[i]>>8 == sec {
			t := FBType(edges[i] >> 1 & 0x7f)
			if edges[i]&1 == 1 {
				count[t]++
			} else {
				count[t]--
			}
			i++
		}
		after := current()
		if before == after {
			continue
		}
		at := time.Unix(base+int64(sec), 0).UTC()
		if at.After(end) {
			at = end.UTC()
		}
		if before != FBTypeFree {
			out[len(out)-1].End = at
		}
		if after != FBTypeFree {
			out = append(out, Period{Start: at, Type: after})
		}
	}
	return out
}
