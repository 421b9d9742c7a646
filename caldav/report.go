package caldav

import (
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// serveReport dispatches REPORT (RFC 3253 §3.6) by the body's root element.
//
// free-busy-query may reach another user's calendar or home (with
// read-free-busy, RFC 4791 §6.1.1); every other report answers there as
// on a resource that does not exist.
func (h *handler) serveReport(w http.ResponseWriter, r *http.Request, res resource) error {
	denied := h.access(r, res)
	if denied != nil && res.kind != kindCalendar && res.kind != kindHome {
		return denied
	}
	body, err := requireXMLBody(r)
	if err != nil {
		if denied != nil {
			return denied
		}
		return err
	}
	root, err := rootName(body)
	if err != nil {
		if denied != nil {
			return denied
		}
		return err
	}
	if root == name(nsCalDAV, "free-busy-query") {
		return h.reportFreeBusy(w, r, res, body)
	}
	if denied != nil {
		return denied
	}
	switch root {
	case name(nsCalDAV, "calendar-query"):
		return h.reportQuery(w, r, res, body)
	case name(nsCalDAV, "calendar-multiget"):
		return h.reportMultiget(w, r, res, body)
	case name(nsDAV, "sync-collection"):
		return h.reportSync(w, r, res, body)
	}
	if _, err := h.load(r, res, false); err != nil {
		return err
	}
	return errUnsupportedRep
}

// reportProps is the DAV:prop of a REPORT body, keeping each requested
// property's element so calendar-data's children (expand, comp) are seen.
type reportProps struct {
	Props []rawProp `xml:",any"`
}

// dataRequest is what a CALDAV:calendar-data element asks for
// (RFC 4791 §9.6).
type dataRequest struct {
	expand     bool
	start, end time.Time
	comp       *gocaldav.CalendarCompRequest // nil: the whole object
	// zones memoises each calendar's floating zone for expand, keyed by
	// calendar ID, so a REPORT parses a calendar-timezone once.
	zones map[string]*time.Location
}

// floating returns the zone cal's floating times are read in.
func (dr dataRequest) floating(cal *store.Calendar) *time.Location {
	if loc, ok := dr.zones[cal.ID]; ok {
		return loc
	}
	loc := floatingZone(cal)
	if dr.zones != nil {
		dr.zones[cal.ID] = loc
	}
	return loc
}

// propRequestOf turns a REPORT's DAV:prop into a propRequest and reads the
// calendar-data request. An absent DAV:prop asks for DAV:getetag only.
func propRequestOf(r *http.Request, p *reportProps) (propRequest, dataRequest, error) {
	pr := propRequest{minimal: preferMinimal(r)}
	var dr dataRequest
	if p == nil {
		pr.names = []xml.Name{pGetETag}
		return pr, dr, nil
	}
	for _, el := range p.Props {
		pr.names = append(pr.names, el.XMLName)
		if el.XMLName != pCalendarData {
			continue
		}
		dr.comp = compRequest(el)
		for _, c := range el.Children {
			if c.XMLName != name(nsCalDAV, "expand") {
				continue
			}
			start, err := parseUTC(c.attr("start"))
			if err != nil {
				return pr, dr, validFilter("expand needs UTC start and end")
			}
			end, err := parseUTC(c.attr("end"))
			if err != nil || !end.After(start) {
				return pr, dr, validFilter("expand needs UTC start and end, end after start")
			}
			dr.expand, dr.start, dr.end = true, start, end
			dr.zones = map[string]*time.Location{} // shared by every copy of dr
		}
	}
	return pr, dr, nil
}

// parseUTC parses a CalDAV time-range/expand attribute: an iCalendar
// DATE-TIME in UTC (RFC 4791 §9.9).
func parseUTC(s string) (time.Time, error) {
	return time.Parse("20060102T150405Z", strings.TrimSpace(s))
}

func validFilter(msg string) error {
	return precondition(http.StatusForbidden, "c:valid-filter", msg)
}

// writeObjects writes one DAV:response per object.
func (h *handler) writeObjects(ms *msWriter, r *http.Request, user string, cal *store.Calendar, objs []store.Object, pr propRequest, dr dataRequest) {
	for i := range objs {
		o := &objs[i]
		if dr.expand && o.Data != nil {
			o.Data = expandData(o.Data, dr, dr.floating(cal))
		}
		if dr.comp != nil && o.Data != nil {
			o.Data = partialData(o.Data, dr.comp)
		}
		h.writeProps(ms, r, objectTarget(user, cal, o), pr)
	}
}

// floatingZone returns the zone floating times of cal are read in: its
// calendar-timezone when it has one, else UTC.
func floatingZone(cal *store.Calendar) *time.Location {
	if cal == nil {
		return time.UTC
	}
	if loc := zoneOf(cal.Timezone); loc != nil {
		return loc
	}
	return time.UTC
}

// zoneOf returns the zone of a VCALENDAR holding a VTIMEZONE (the value of
// CALDAV:calendar-timezone or CALDAV:timezone), or nil.
func zoneOf(vtimezone string) *time.Location {
	if vtimezone == "" {
		return nil
	}
	ic, err := decodeCalendar([]byte(vtimezone))
	if err != nil {
		return nil
	}
	for _, c := range ic.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		if id := c.Props.Get(ical.PropTimezoneID); id != nil {
			if loc, err := recur.LoadLocation(id.Value, ic); err == nil {
				return loc
			}
		}
	}
	return nil
}
