package caldav

import (
	"bytes"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/recur"
)

// expandData rewrites a stored object for CALDAV:expand (RFC 4791 §9.6.5):
// one component per instance overlapping the window, no recurrence
// properties, DTSTART/DTEND and RECURRENCE-ID in UTC (all-day instances keep
// their DATE form). Data that cannot be expanded is returned unchanged.
func expandData(data []byte, dr dataRequest, floating *time.Location) []byte {
	ic, err := decodeCalendar(data)
	if err != nil {
		return data
	}
	insts, err := recur.Expand(ic, dr.start, dr.end, &recur.Options{Floating: floating})
	if err != nil {
		return data
	}
	out := ical.NewCalendar()
	for name, props := range ic.Props {
		out.Props[name] = props
	}
	for _, in := range insts {
		src := in.Component
		c := ical.NewComponent(src.Name)
		for name, props := range src.Props {
			switch name {
			case ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates,
				ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDue, ical.PropRecurrenceID:
				continue
			}
			c.Props[name] = props // DURATION stays as it was
		}
		c.Children = src.Children
		if in.HasStart {
			setTime(c, ical.PropDateTimeStart, in.Start, in.AllDay, floating)
		}
		// The instance's end in the form the component gave it: DTEND for
		// an event, DUE for a to-do, or its DURATION (kept above).
		switch {
		case src.Props.Get(ical.PropDateTimeEnd) != nil:
			setTime(c, ical.PropDateTimeEnd, in.End, in.AllDay, floating)
		case src.Props.Get(ical.PropDue) != nil:
			setTime(c, ical.PropDue, in.End, in.AllDay, floating)
		case in.HasEnd && src.Name == ical.CompEvent && src.Props.Get(ical.PropDuration) == nil:
			// An RDATE PERIOD gave this instance its own end.
			setTime(c, ical.PropDateTimeEnd, in.End, in.AllDay, floating)
		}
		if !in.RecurrenceID.IsZero() {
			setTime(c, ical.PropRecurrenceID, in.RecurrenceID, in.AllDay, floating)
		}
		out.Children = append(out.Children, c)
	}
	if len(out.Children) == 0 {
		return data
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(out); err != nil {
		return data
	}
	return buf.Bytes()
}

func setTime(c *ical.Component, name string, t time.Time, allDay bool, floating *time.Location) {
	p := ical.NewProp(name)
	if allDay {
		p.SetDate(t.In(floating))
	} else {
		p.SetDateTime(t.UTC())
	}
	c.Props.Set(p)
}
