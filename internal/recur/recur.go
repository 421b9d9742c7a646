// Package recur is calbolt's one recurrence engine: it expands the instances
// of an iCalendar object (RFC 5545 §3.8.5: RRULE, RDATE, EXDATE, and
// RECURRENCE-ID overrides including RANGE=THISANDFUTURE), resolving TZIDs
// through the object's VTIMEZONE, the IANA database or the Windows zone
// names, with every expansion bounded. Calendar-query matching, the store's
// time-span index and free-busy all use it, so they agree.
package recur

import (
	"errors"
	"time"

	"github.com/emersion/go-ical"
)

// ErrTooManyInstances reports an expansion that would exceed the instance
// cap; callers map it to a max-instances / valid-calendar-data error.
var ErrTooManyInstances = errors.New("recur: too many instances")

// ErrInvalid reports an object whose dates or rules cannot be interpreted.
var ErrInvalid = errors.New("recur: invalid recurrence data")

// Options tune an expansion. A nil *Options means the defaults.
type Options struct {
	// Floating is the zone of floating (zone-less) times, normally the
	// calendar's calendar-timezone; nil means UTC.
	Floating *time.Location
	// MaxInstances caps the instances produced for one object; zero means
	// DefaultMaxInstances.
	MaxInstances int
}

// DefaultMaxInstances is the instance cap when Options.MaxInstances is zero.
const DefaultMaxInstances = 10000

// Instance is one occurrence of an event, to-do or journal.
type Instance struct {
	Start, End   time.Time       // UTC; End per RFC 5545 defaults when DTEND/DUE/DURATION are absent
	RecurrenceID time.Time       // zero for a non-recurring component
	Component    *ical.Component // the master or the override that defines this instance
}

// Expand returns the instances of cal's VEVENT/VTODO/VJOURNAL components that
// overlap [start, end), sorted by Start. Not implemented yet.
func Expand(cal *ical.Calendar, start, end time.Time, opts *Options) ([]Instance, error) {
	return nil, errors.New("recur: unimplemented")
}

// Bounds returns the first start and last end over all instances of cal;
// unbounded is true for a rule with no COUNT or UNTIL.
func Bounds(cal *ical.Calendar, opts *Options) (first, last time.Time, unbounded bool, err error) {
	return time.Time{}, time.Time{}, false, errors.New("recur: unimplemented")
}

// Validate rejects an object whose recurrence cannot be expanded safely.
func Validate(cal *ical.Calendar, opts *Options) error { return nil }
