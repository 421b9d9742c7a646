package caldav

import (
	"bytes"
	"strings"

	"github.com/emersion/go-ical"
	gocaldav "github.com/emersion/go-webdav/caldav"
)

// requiredProps are kept in a partial retrieval whatever the client asked
// for: they identify the component, and an iCalendar object without them is
// not valid (RFC 5545 §3.6).
var requiredProps = map[string][]string{
	ical.CompCalendar:         {ical.PropProductID, ical.PropVersion},
	ical.CompEvent:            {ical.PropUID, ical.PropDateTimeStamp},
	ical.CompToDo:             {ical.PropUID, ical.PropDateTimeStamp},
	ical.CompJournal:          {ical.PropUID, ical.PropDateTimeStamp},
	ical.CompFreeBusy:         {ical.PropUID, ical.PropDateTimeStamp},
	ical.CompTimezone:         {ical.PropTimezoneID},
	ical.CompTimezoneStandard: {ical.PropDateTimeStart, ical.PropTimezoneOffsetFrom, ical.PropTimezoneOffsetTo},
	ical.CompTimezoneDaylight: {ical.PropDateTimeStart, ical.PropTimezoneOffsetFrom, ical.PropTimezoneOffsetTo},
	ical.CompAlarm:            {ical.PropAction, ical.PropTrigger},
}

// compRequest reads the CALDAV:comp tree of a calendar-data element
// (RFC 4791 §9.6.1) into go-webdav's model. It returns nil when the element
// asks for the whole object.
func compRequest(calendarData rawProp) *gocaldav.CalendarCompRequest {
	for _, c := range calendarData.Children {
		if c.XMLName == name(nsCalDAV, "comp") {
			req := compTree(c)
			return &req
		}
	}
	return nil
}

func compTree(el rawProp) gocaldav.CalendarCompRequest {
	req := gocaldav.CalendarCompRequest{Name: strings.ToUpper(el.attr("name"))}
	for _, c := range el.Children {
		switch c.XMLName {
		case name(nsCalDAV, "allprop"):
			req.AllProps = true
		case name(nsCalDAV, "allcomp"):
			req.AllComps = true
		case name(nsCalDAV, "prop"):
			req.Props = append(req.Props, strings.ToUpper(c.attr("name")))
		case name(nsCalDAV, "comp"):
			req.Comps = append(req.Comps, compTree(c))
		}
	}
	return req
}

// partialData returns only the components and properties req asks for
// (RFC 4791 §9.6.1-§9.6.4), plus the ones requiredProps keeps. Data that
// cannot be pruned into a valid object is returned whole: a client asking
// for less must never get nothing.
func partialData(data []byte, req *gocaldav.CalendarCompRequest) []byte {
	if req == nil || req.Name != ical.CompCalendar {
		return data
	}
	ic, err := decodeCalendar(data)
	if err != nil {
		return data
	}
	prune(ic.Component, req)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(ic); err != nil {
		return data
	}
	return buf.Bytes()
}

func prune(c *ical.Component, req *gocaldav.CalendarCompRequest) {
	if !req.AllProps {
		keep := map[string]bool{}
		for _, p := range req.Props {
			keep[p] = true
		}
		for _, p := range requiredProps[c.Name] {
			keep[p] = true
		}
		for n := range c.Props {
			if !keep[n] {
				delete(c.Props, n)
			}
		}
	}
	if req.AllComps {
		return
	}
	var children []*ical.Component
	for _, child := range c.Children {
		for i := range req.Comps {
			if req.Comps[i].Name == child.Name {
				prune(child, &req.Comps[i])
				children = append(children, child)
				break
			}
		}
	}
	c.Children = children
}
