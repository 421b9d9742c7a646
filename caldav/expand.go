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
		c := ical.NewComponent(in.Component.Name)
		for name, props := range in.Component.Props {
			switch name {
			case ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates,
				ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDuration, ical.PropRecurrenceID:
				continue
			}
			c.Props[name] = props
		}
		c.Children = in.Component.Children
		allDay := isDate(in.Component.Props.Get(ical.PropDateTimeStart))
		setTime(c, ical.PropDateTimeStart, in.Start, allDay, floating)
		if in.Component.Name == ical.CompEvent {
			setTime(c, ical.PropDateTimeEnd, in.End, allDay, floating)
		}
		if !in.RecurrenceID.IsZero() {
			setTime(c, ical.PropRecurrenceID, in.RecurrenceID, allDay, floating)
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

func isDate(p *ical.Prop) bool {
	return p != nil && p.ValueType() == ical.ValueDate
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
