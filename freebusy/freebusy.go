// Package freebusy computes free-busy time: which periods of a window a
// calendar user is busy in, from the calendar objects that count for them,
// without saying what the events are (RFC 5545 §3.6.4, RFC 4791 §7.10,
// RFC 6638 §5, RFC 7953).
//
// The package is pure: it reads parsed objects and returns periods. Which
// objects count for whom, the store and the cache of computed periods live
// in package busytime; the protocols (the free-busy-query REPORT, the
// scheduling outbox, the HTTP endpoint) in package caldav.
//
// Compute turns one object into its busy time within a window, deciding per
// instance of a recurrence (an override can move, shorten, cancel or make
// transparent one instance). Merge combines the busy time of many objects
// into sorted, non-overlapping, coalesced periods; where periods of
// different types overlap the stronger type wins, in the order BUSY,
// BUSY-UNAVAILABLE, BUSY-TENTATIVE (the order Apple's Calendar Server and
// Oracle's use), so each instant has one type. FreeSlots finds the free
// time common to several users.
package freebusy

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/recur"
)

// FBType is a free-busy time type (RFC 5545 §3.2.9 FBTYPE). Larger values
// win where periods overlap.
type FBType uint8

const (
	FBTypeFree FBType = iota
	FBTypeBusyTentative
	FBTypeBusyUnavailable
	FBTypeBusy
)

func (t FBType) String() string {
	switch t {
	case FBTypeFree:
		return "FREE"
	case FBTypeBusyTentative:
		return "BUSY-TENTATIVE"
	case FBTypeBusyUnavailable:
		return "BUSY-UNAVAILABLE"
	default:
		return "BUSY"
	}
}

// ParseFBType reads an FBTYPE or BUSYTYPE value. RFC 5545 §3.2.9: values an
// application does not recognise are treated as BUSY, and so is an empty one.
func ParseFBType(s string) FBType {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "FREE":
		return FBTypeFree
	case "BUSY-TENTATIVE":
		return FBTypeBusyTentative
	case "BUSY-UNAVAILABLE":
		return FBTypeBusyUnavailable
	default:
		return FBTypeBusy
	}
}

// Period is a half-open span [Start, End) of one type, in UTC.
type Period struct {
	Start, End time.Time
	Type       FBType
}

// Availability is the busy time a VAVAILABILITY component (RFC 7953 §3.1)
// defines: its whole range is busy with Type, except for the Available
// instances of its AVAILABLE subcomponents.
type Availability struct {
	// Priority is the component's PRIORITY, 1 highest to 9 lowest; 0
	// (undefined) is lower than 9 (RFC 7953 §3.1).
	Priority int
	// Start and End bound the component's range; a zero value leaves that
	// side open.
	Start, End time.Time
	// Type is BUSYTYPE, by default BUSY-UNAVAILABLE.
	Type FBType
	// Available holds the AVAILABLE instances within the window asked for.
	Available []Period
}

// Busy is the busy time of one or more calendar objects within a window:
// periods from events and stored VFREEBUSY components, and the
// availability components that Merge resolves by priority.
type Busy struct {
	Periods      []Period
	Availability []Availability
}

// Options tune Compute. A nil *Options means the defaults.
type Options struct {
	// Floating is the zone of floating times and DATE values: the
	// calendar's calendar-timezone. Nil means UTC.
	Floating *time.Location
	// Addresses are the calendar user addresses of the user whose busy
	// time is computed (e.g. "mailto:alice@example.com"), compared without
	// case. An event instance in which one of them is an ATTENDEE with
	// PARTSTAT=DECLINED is free for the user; PARTSTAT=TENTATIVE makes it
	// BUSY-TENTATIVE.
	Addresses []string
	// MaxInstances caps the instances of one object expanded for one
	// window; zero means recur.DefaultMaxInstances. More is an error
	// wrapping recur.ErrTooManyInstances.
	MaxInstances int
}

// ErrInvalidWindow reports a window whose end is not after its start.
var ErrInvalidWindow = errors.New("freebusy: window end must be after its start")

// Compute returns the busy time of one calendar object within [start, end):
//
//   - each instance of a VEVENT (RFC 4791 §7.10, decided per instance, so
//     from the override where one replaces it): none if TRANSP:TRANSPARENT,
//     STATUS:CANCELLED, zero length, or declined by one of
//     Options.Addresses; BUSY-TENTATIVE if STATUS:TENTATIVE or the user's
//     PARTSTAT is TENTATIVE; BUSY otherwise;
//   - each FREEBUSY period of a VFREEBUSY, with its FBTYPE (FREE ignored);
//   - each VAVAILABILITY as an Availability.
//
// VTODO and VJOURNAL components take no time (RFC 4791 §7.10). Periods are
// clipped to the window and in no particular order. An object whose dates
// cannot be read is an error wrapping recur.ErrInvalid.
func Compute(cal *ical.Calendar, start, end time.Time, opts *Options) (Busy, error) {
	var b Busy
	if !end.After(start) {
		return b, ErrInvalidWindow
	}
	if opts == nil {
		opts = &Options{}
	}
	ropts := &recur.Options{Floating: opts.Floating, MaxInstances: opts.MaxInstances, Select: isEvent}
	hasEvents := false
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompEvent:
			hasEvents = true
		case ical.CompFreeBusy:
			ps, err := freeBusyPeriods(c, cal, ropts, start, end)
			if err != nil {
				return Busy{}, err
			}
			b.Periods = append(b.Periods, ps...)
		case recur.CompAvailability:
			a, ok, err := availability(c, cal, ropts, start, end)
			if err != nil {
				return Busy{}, err
			}
			if ok {
				b.Availability = append(b.Availability, a)
			}
		}
	}
	if !hasEvents {
		return b, nil
	}
	err := recur.Each(cal, start, end, ropts, func(in recur.Instance) bool {
		t, busy := instanceType(in.Component, opts.Addresses)
		if busy {
			if p, ok := clip(in.Start, in.End, start, end); ok {
				p.Type = t
				b.Periods = append(b.Periods, p)
			}
		}
		return true
	})
	if err != nil {
		return Busy{}, err
	}
	return b, nil
}

func isEvent(c *ical.Component) bool { return c.Name == ical.CompEvent }

// instanceType decides how one event instance counts, from the component
// that defines it.
func instanceType(c *ical.Component, addresses []string) (FBType, bool) {
	if p := c.Props.Get(ical.PropTransparency); p != nil && strings.EqualFold(strings.TrimSpace(p.Value), "TRANSPARENT") {
		return 0, false
	}
	t := FBTypeBusy
	if p := c.Props.Get(ical.PropStatus); p != nil {
		switch strings.ToUpper(strings.TrimSpace(p.Value)) {
		case "CANCELLED":
			return 0, false
		case "TENTATIVE":
			t = FBTypeBusyTentative
		}
	}
	if len(addresses) > 0 {
		for _, a := range c.Props.Values(ical.PropAttendee) {
			if !hasAddress(addresses, a.Value) {
				continue
			}
			switch strings.ToUpper(a.Params.Get(ical.ParamParticipationStatus)) {
			case "DECLINED":
				return 0, false
			case "TENTATIVE":
				t = min(t, FBTypeBusyTentative)
			}
		}
	}
	return t, true
}

func hasAddress(addresses []string, v string) bool {
	v = strings.TrimSpace(v)
	for _, a := range addresses {
		if strings.EqualFold(a, v) {
			return true
		}
	}
	return false
}

// freeBusyPeriods reads the FREEBUSY properties of a stored VFREEBUSY
// (RFC 5545 §3.8.2.6): each a list of PERIOD values with one FBTYPE.
func freeBusyPeriods(c *ical.Component, cal *ical.Calendar, ropts *recur.Options, start, end time.Time) ([]Period, error) {
	var out []Period
	for _, p := range c.Props.Values(ical.PropFreeBusy) {
		t := ParseFBType(p.Params.Get(ical.ParamFreeBusyType))
		if t == FBTypeFree {
			continue
		}
		ps, err := recur.PropPeriods(&p, cal, ropts)
		if err != nil {
			return nil, fmt.Errorf("freebusy: FREEBUSY: %w", err)
		}
		for _, rp := range ps {
			if q, ok := clip(rp.Start, rp.End, start, end); ok {
				q.Type = t
				out = append(out, q)
			}
		}
	}
	return out, nil
}

// availability reads a VAVAILABILITY (RFC 7953 §3.1). ok is false when its
// range misses the window.
func availability(c *ical.Component, cal *ical.Calendar, ropts *recur.Options, start, end time.Time) (Availability, bool, error) {
	a := Availability{Type: FBTypeBusyUnavailable}
	if p := c.Props.Get(recur.PropBusyType); p != nil {
		// RFC 7953 §3.2: BUSY, BUSY-UNAVAILABLE or BUSY-TENTATIVE; a
		// value not recognised (FREE is not a BUSYTYPE) counts as BUSY,
		// as for FBTYPE.
		if a.Type = ParseFBType(p.Value); a.Type == FBTypeFree {
			a.Type = FBTypeBusy
		}
	}
	if p := c.Props.Get(ical.PropPriority); p != nil {
		fmt.Sscanf(strings.TrimSpace(p.Value), "%d", &a.Priority)
		if a.Priority < 0 || a.Priority > 9 {
			a.Priority = 0
		}
	}
	if p := c.Props.Get(ical.PropDateTimeStart); p != nil {
		ps, err := recur.PropPeriods(p, cal, ropts)
		if err != nil || len(ps) != 1 {
			return a, false, fmt.Errorf("freebusy: VAVAILABILITY DTSTART: %w", errOr(err))
		}
		a.Start = ps[0].Start
	}
	// DTEND may come without DTSTART; DURATION only with it (RFC 7953 §3.1).
	if p := c.Props.Get(ical.PropDateTimeEnd); p != nil {
		pe, err := recur.PropPeriods(p, cal, ropts)
		if err != nil || len(pe) != 1 {
			return a, false, fmt.Errorf("freebusy: VAVAILABILITY DTEND: %w", errOr(err))
		}
		a.End = pe[0].Start
	} else if p := c.Props.Get(ical.PropDuration); p != nil && !a.Start.IsZero() {
		d, err := recur.ParseDuration(p.Value)
		if err != nil {
			return a, false, fmt.Errorf("freebusy: VAVAILABILITY DURATION: %w", err)
		}
		a.End = a.Start.Add(d)
	}
	if (!a.End.IsZero() && !a.End.After(start)) || (!a.Start.IsZero() && !a.Start.Before(end)) {
		return a, false, nil
	}
	err := recur.Each(recur.AvailableSet(cal, c), start, end, ropts, func(in recur.Instance) bool {
		if p, ok := clip(in.Start, in.End, start, end); ok {
			a.Available = append(a.Available, p)
		}
		return true
	})
	if err != nil {
		return a, false, fmt.Errorf("freebusy: AVAILABLE: %w", err)
	}
	return a, true, nil
}

func errOr(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: not one value", recur.ErrInvalid)
}

// clip returns [s, e) ∩ [start, end), ok false when that is empty.
func clip(s, e, start, end time.Time) (Period, bool) {
	if s.Before(start) {
		s = start
	}
	if e.After(end) {
		e = end
	}
	if !e.After(s) {
		return Period{}, false
	}
	return Period{Start: s.UTC(), End: e.UTC()}, true
}
