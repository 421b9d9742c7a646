package recur

import "github.com/emersion/go-ical"

// Names from RFC 7953 (Calendar Availability), which go-ical does not define.
const (
	CompAvailability = "VAVAILABILITY"
	CompAvailable    = "AVAILABLE"
	PropBusyType     = "BUSYTYPE"
)

// AvailableSet returns a calendar whose VEVENTs stand for the AVAILABLE
// subcomponents of a VAVAILABILITY, so they expand like events.
//
// RFC 7953 §3.1 gives AVAILABLE the recurrence properties of VEVENT
// (DTSTART, DTEND or DURATION, RRULE, RDATE, EXDATE, RECURRENCE-ID), with
// the same meaning; the returned calendar shares the VTIMEZONEs of cal so
// their TZIDs resolve. The components are shallow copies: the properties
// are shared with vav and must not be modified.
func AvailableSet(cal *ical.Calendar, vav *ical.Component) *ical.Calendar {
	out := ical.NewCalendar()
	if cal != nil && cal.Component != nil {
		out.Props = cal.Props
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				out.Children = append(out.Children, c)
			}
		}
	}
	for _, c := range vav.Children {
		if c.Name == CompAvailable {
			out.Children = append(out.Children, &ical.Component{Name: ical.CompEvent, Props: c.Props})
		}
	}
	return out
}
