package caldav

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/busytime"
	"github.com/calbolt/calbolt/freebusy"
)

// maxRecipients caps the attendees of one free-busy request
// (RFC 6638 §5.3 CALDAV:max-recipients).
const maxRecipients = 100

// maxSchedulingBody caps a scheduling message: a VFREEBUSY request with
// maxRecipients attendees fits in far less.
const maxSchedulingBody = 256 << 10

// scheduleError answers a scheduling POST with an RFC 6638 precondition.
func scheduleError(status int, cond, msg string) error {
	return precondition(status, "c:"+cond, msg)
}

// serveOutbox answers a POST to the user's scheduling outbox: a free-busy
// request (RFC 6638 §5, the iTIP VFREEBUSY REQUEST of RFC 5546 §3.3.1),
// answered with a CALDAV:schedule-response holding one response per
// ATTENDEE: request-status 2.0 and a VFREEBUSY REPLY for calendar users of
// this server whose busy time the sender may see, 3.7 for any other address
// (unknown and not visible look the same, so the answer tells nothing about
// who exists). It is what Thunderbird's and Apple Calendar's attendee
// availability grids ask. Invitations (VEVENT requests) are not delivered:
// calbolt does not advertise calendar-auto-schedule, so clients send them by
// mail themselves.
func (h *handler) serveOutbox(w http.ResponseWriter, r *http.Request, res resource) error {
	if err := h.access(r, res); err != nil {
		return err
	}
	if _, err := h.load(r, res, false); err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "text/calendar") {
		return scheduleError(http.StatusUnsupportedMediaType, "supported-calendar-data",
			"a scheduling message must be text/calendar")
	}
	if r.ContentLength > maxSchedulingBody {
		return errorf(http.StatusRequestEntityTooLarge, "the scheduling message is too large")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSchedulingBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "the scheduling message is too large")
		}
		return errorf(http.StatusBadRequest, "could not read the request body")
	}
	msg, err := decodeCalendar(body)
	if err != nil {
		return scheduleError(http.StatusBadRequest, "valid-calendar-data", err.Error())
	}
	fbReq, err := parseFreeBusyRequest(msg)
	if err != nil {
		return err
	}
	user := userOf(r)
	// RFC 6638 §6.1.1 / §5: the ORGANIZER of a free-busy request is the
	// sender, and must be one of the sender's own addresses.
	if who, ok := h.fb.Resolve(fbReq.organizer.Value, r.Host); !ok || who != user {
		return scheduleError(http.StatusForbidden, "organizer-allowed",
			"the ORGANIZER must be one of your own calendar user addresses")
	}

	now := time.Now()
	ms := &bytes.Buffer{}
	ms.WriteString(xmlHeader + "<c:schedule-response" + nsDecls + ">")
	for _, att := range fbReq.attendees {
		ms.WriteString("<c:response><c:recipient>" + hrefXML(att.Value) + "</c:recipient>")
		target, ok := h.fb.Resolve(att.Value, r.Host)
		var periods []freebusy.Period
		if ok {
			periods, err = h.fb.User(user, target, fbReq.start, fbReq.end, r.Host)
			if errors.Is(err, busytime.ErrNotFound) {
				ok = false
			} else if err != nil {
				return err
			}
		}
		if !ok {
			// RFC 5546 §3.6: 3.7 Invalid calendar user.
			ms.WriteString("<c:request-status>3.7;Invalid calendar user</c:request-status></c:response>")
			continue
		}
		reply, err := freeBusyReply(fbReq, att, periods, now)
		if err != nil {
			return err
		}
		ms.WriteString("<c:request-status>2.0;Success</c:request-status>")
		ms.WriteString("<c:calendar-data>" + escape(reply) + "</c:calendar-data></c:response>")
	}
	ms.WriteString("</c:schedule-response>\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(ms.Bytes())
	return err
}

type freeBusyRequest struct {
	uid        string
	start, end time.Time
	organizer  ical.Prop
	attendees  []ical.Prop
}

// parseFreeBusyRequest checks an iTIP free-busy request (RFC 5546
// §3.3.1: METHOD:REQUEST, one VFREEBUSY with DTSTART, DTEND, ORGANIZER and
// ATTENDEEs).
func parseFreeBusyRequest(msg *ical.Calendar) (*freeBusyRequest, error) {
	invalid := func(s string) error {
		return scheduleError(http.StatusForbidden, "valid-scheduling-message", s)
	}
	if m := msg.Props.Get(ical.PropMethod); m == nil || !strings.EqualFold(m.Value, "REQUEST") {
		return nil, invalid("only METHOD:REQUEST free-busy requests can be sent here")
	}
	var fb *ical.Component
	for _, c := range msg.Children {
		switch c.Name {
		case ical.CompTimezone:
		case ical.CompFreeBusy:
			if fb != nil {
				return nil, invalid("a free-busy request holds one VFREEBUSY")
			}
			fb = c
		default:
			return nil, invalid("calbolt answers free-busy requests only; it does not deliver " + c.Name + " invitations (clients send those by mail)")
		}
	}
	if fb == nil {
		return nil, invalid("no VFREEBUSY in the request")
	}
	req := &freeBusyRequest{}
	if p := fb.Props.Get(ical.PropUID); p != nil {
		req.uid = p.Value
	}
	var err error
	if req.start, err = utcProp(fb, ical.PropDateTimeStart); err != nil {
		return nil, invalid("VFREEBUSY needs DTSTART as a UTC date-time")
	}
	if req.end, err = utcProp(fb, ical.PropDateTimeEnd); err != nil {
		return nil, invalid("VFREEBUSY needs DTEND as a UTC date-time")
	}
	if err := busytime.CheckWindow(req.start, req.end); err != nil {
		return nil, invalid("DTEND must be after DTSTART, at most 400 days later")
	}
	org := fb.Props.Get(ical.PropOrganizer)
	if org == nil {
		return nil, scheduleError(http.StatusForbidden, "organizer-allowed", "the request has no ORGANIZER")
	}
	req.organizer = *org
	req.attendees = fb.Props.Values(ical.PropAttendee)
	if len(req.attendees) == 0 {
		return nil, scheduleError(http.StatusForbidden, "recipient-specified", "the request names no ATTENDEE")
	}
	if len(req.attendees) > maxRecipients {
		return nil, scheduleError(http.StatusForbidden, "max-recipients", "at most 100 attendees per request")
	}
	return req, nil
}

func utcProp(c *ical.Component, name string) (time.Time, error) {
	p := c.Props.Get(name)
	if p == nil {
		return time.Time{}, errors.New("missing")
	}
	return parseUTC(strings.TrimSpace(p.Value))
}

// freeBusyReply renders the iTIP REPLY for one attendee (RFC 5546 §3.3.2):
// the request's UID, ORGANIZER and window, the attendee, and busy periods —
// never what the events are.
func freeBusyReply(req *freeBusyRequest, att ical.Prop, periods []freebusy.Period, now time.Time) (string, error) {
	c := freebusy.Component(periods, req.start, req.end, now)
	if req.uid != "" {
		c.Props.SetText(ical.PropUID, req.uid)
	}
	org := req.organizer
	c.Props.Set(&org)
	a := ical.NewProp(ical.PropAttendee)
	a.Value = att.Value
	if cn := att.Params.Get(ical.ParamCommonName); cn != "" {
		a.Params.Set(ical.ParamCommonName, cn)
	}
	c.Props.Set(a)
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, productID)
	cal.Props.SetText(ical.PropMethod, "REPLY")
	cal.Children = append(cal.Children, c)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return "", err
	}
	return buf.String(), nil
}
