package caldav

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/freebusy"
)

// productID is the PRODID of the iCalendar calbolt writes itself.
const productID = "-//calbolt//calbolt//EN"

type freeBusyQueryReq struct {
	XMLName   xml.Name     `xml:"urn:ietf:params:xml:ns:caldav free-busy-query"`
	TimeRange *timeRangeEl `xml:"urn:ietf:params:xml:ns:caldav time-range"`
}

// reportFreeBusy answers the CALDAV:free-busy-query REPORT (RFC 4791 §7.10)
// with a VCALENDAR holding one VFREEBUSY.
//
// On a calendar it covers that calendar. On the calendar home it covers,
// with Depth: 1 or infinity, every calendar in it that is not
// schedule-calendar-transp transparent (RFC 6638 §9.1), and with Depth: 0
// none ("the Depth header ... determines which calendar collections are
// targeted", §7.10). It needs CALDAV:read-free-busy (§6.1.1), which the
// owner has and which busytime grants others by the server's policy;
// without it the resource answers as one that does not exist.
func (h *handler) reportFreeBusy(w http.ResponseWriter, r *http.Request, res resource, body []byte) error {
	var req freeBusyQueryReq
	if err := decodeXML(body, &req); err != nil {
		return err
	}
	if req.TimeRange == nil || req.TimeRange.Start == "" || req.TimeRange.End == "" {
		return errorf(http.StatusBadRequest, "free-busy-query needs a time-range with start and end (RFC 4791 §7.10)")
	}
	start, err := parseUTC(req.TimeRange.Start)
	if err != nil {
		return errorf(http.StatusBadRequest, "time-range start must be a UTC date-time")
	}
	end, err := parseUTC(req.TimeRange.End)
	if err != nil {
		return errorf(http.StatusBadRequest, "time-range end must be a UTC date-time")
	}
	if err := busytime.CheckWindow(start, end); err != nil {
		return windowError(err)
	}
	asker := userOf(r)
	var periods []freebusy.Period
	switch res.kind {
	case kindCalendar:
		periods, err = h.fb.Calendar(asker, res.user, res.calendar, start, end, r.Host)
	case kindHome:
		d, derr := depth(r, 0)
		if derr != nil {
			return derr
		}
		if d == 0 {
			if !h.fb.MayView(asker, res.user) {
				return errNotFound
			}
			break
		}
		periods, err = h.fb.User(asker, res.user, start, end, r.Host)
	default:
		if err := h.access(r, res); err != nil {
			return err
		}
		if _, err := h.load(r, res, false); err != nil {
			return err
		}
		return errUnsupportedRep
	}
	if err != nil {
		return windowError(err)
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, productID)
	cal.Children = append(cal.Children, freebusy.Component(periods, start, end, time.Now()))
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}

// windowError maps busytime's window error to 403 with a message; other
// errors pass through.
func windowError(err error) error {
	if errors.Is(err, busytime.ErrWindow) {
		return errorf(http.StatusForbidden, "the time range must end after it starts and span at most 400 days")
	}
	return err
}
