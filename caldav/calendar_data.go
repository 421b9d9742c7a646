package caldav

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// Limits advertised as CalDAV properties (RFC 4791 §5.2.6-§5.2.8) and
// enforced on PUT.
const (
	minDateTime  = "19000101T000000Z"
	maxDateTime  = "22001231T235959Z"
	maxInstances = recur.DefaultMaxInstances
)

// floatSlack widens a span computed with floating times read as UTC: a
// floating or all-day time can fall anywhere from UTC-12 to UTC+14.
const floatSlack = 14 * 3600

// calendarObject is a validated calendar object resource.
type calendarObject struct {
	cal       *ical.Calendar
	data      []byte // bytes to store
	verbatim  bool   // data is exactly the request body
	uid       string
	component string
	span      store.Span
}

// invalidData answers a PUT whose body is not valid iCalendar
// (RFC 4791 §5.3.2.1 CALDAV:valid-calendar-data).
func invalidData(format string, args ...any) error {
	return precondition(http.StatusForbidden, "c:valid-calendar-data", fmt.Sprintf(format, args...))
}

// invalidObject answers a PUT whose iCalendar breaks the rules of a calendar
// object resource (RFC 4791 §4.1, CALDAV:valid-calendar-object-resource).
func invalidObject(format string, args ...any) error {
	return precondition(http.StatusForbidden, "c:valid-calendar-object-resource", fmt.Sprintf(format, args...))
}

// decodeCalendar parses exactly one VCALENDAR. It strips a UTF-8 BOM,
// refuses bad UTF-8 and NUL bytes, and turns go-ical's panics on some
// malformed parameters into errors.
func decodeCalendar(data []byte) (cal *ical.Calendar, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, errors.New("not valid UTF-8")
	}
	// RFC 5545 §3.1 and §3.3.11: no control characters but HTAB (and the
	// line breaks between content lines).
	if i := bytes.IndexFunc(data, func(r rune) bool {
		return (r < 0x20 && r != '\t' && r != '\r' && r != '\n') || r == 0x7f
	}); i >= 0 {
		return nil, fmt.Errorf("contains the control character %#02x at byte %d", data[i], i)
	}
	defer func() {
		if v := recover(); v != nil {
			cal, err = nil, fmt.Errorf("unparseable iCalendar: %v", v)
		}
	}()
	dec := ical.NewDecoder(bytes.NewReader(data))
	cal, err = dec.Decode()
	if err != nil {
		return nil, fmt.Errorf("unparseable iCalendar: %v", err)
	}
	if _, err := dec.Decode(); err != io.EOF {
		return nil, errors.New("more than one VCALENDAR in one resource")
	}
	return cal, nil
}

// parseObject validates a PUT body as a calendar object resource for cal
// (RFC 4791 §4.1), repairs what is safe to repair (a missing DTSTAMP,
// PRODID or VERSION) and computes the time-span index entry.
func parseObject(body []byte, cal *store.Calendar) (*calendarObject, error) {
	ic, err := decodeCalendar(body)
	if err != nil {
		return nil, invalidData("%v", err)
	}
	if ic.Props.Get(ical.PropMethod) != nil {
		return nil, invalidObject("a calendar object resource must not have METHOD (RFC 4791 §4.1)")
	}
	obj := &calendarObject{cal: ic}
	repaired := false
	// RFC 5545 §3.8.4.4: UID and RECURRENCE-ID identify one component, so
	// one master and at most one override per recurrence id.
	recurrenceIDs := map[string]bool{}
	for _, c := range ic.Children {
		if c.Name == ical.CompTimezone {
			continue
		}
		switch c.Name {
		case ical.CompEvent, ical.CompToDo, ical.CompJournal, ical.CompFreeBusy, recur.CompAvailability:
		default:
			if !strings.HasPrefix(c.Name, "X-") {
				return nil, invalidObject("unsupported component %s", c.Name)
			}
			continue
		}
		if obj.component == "" {
			obj.component = c.Name
		} else if obj.component != c.Name {
			return nil, invalidObject("a calendar object resource holds one kind of component, found %s and %s", obj.component, c.Name)
		}
		uid := c.Props.Get(ical.PropUID)
		if uid == nil || strings.TrimSpace(uid.Value) == "" {
			return nil, invalidObject("%s without UID", c.Name)
		}
		if obj.uid == "" {
			obj.uid = uid.Value
		} else if obj.uid != uid.Value {
			return nil, invalidObject("components with different UIDs belong in separate resources")
		}
		rid := ""
		if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
			rid = "RECURRENCE-ID " + p.Params.Get(ical.ParamTimezoneID) + " " + strings.TrimSpace(p.Value)
		}
		if recurrenceIDs[rid] {
			if rid == "" {
				return nil, invalidObject("two %s components with UID %s and no RECURRENCE-ID", c.Name, obj.uid)
			}
			return nil, invalidObject("two overrides of UID %s with the same RECURRENCE-ID", obj.uid)
		}
		recurrenceIDs[rid] = true
		if c.Name == ical.CompEvent && c.Props.Get(ical.PropDateTimeStart) == nil {
			return nil, invalidData("VEVENT without DTSTART")
		}
		if c.Name == recur.CompAvailability {
			if err := validAvailability(ic, c); err != nil {
				return nil, err
			}
		}
		if c.Props.Get(ical.PropDateTimeStamp) == nil {
			c.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC().Truncate(time.Second))
			repaired = true
		}
	}
	if obj.component == "" {
		return nil, invalidObject("no VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY component")
	}
	if len(obj.uid) > 1024 {
		return nil, invalidObject("UID longer than 1024 bytes")
	}
	if !supports(cal, obj.component) {
		return nil, precondition(http.StatusForbidden, "c:supported-calendar-component",
			fmt.Sprintf("this calendar does not accept %s", obj.component))
	}
	if ic.Props.Get(ical.PropProductID) == nil {
		ic.Props.SetText(ical.PropProductID, "-//calbolt//calbolt//EN")
		repaired = true
	}
	if ic.Props.Get(ical.PropVersion) == nil {
		ic.Props.SetText(ical.PropVersion, "2.0")
		repaired = true
	}
	if err := recur.Validate(ic, nil); err != nil {
		if errors.Is(err, recur.ErrTooManyInstances) {
			return nil, precondition(http.StatusForbidden, "c:max-instances", err.Error())
		}
		return nil, invalidData("%v", err)
	}
	if obj.span, err = objectSpan(ic, obj.component); err != nil {
		if errors.Is(err, recur.ErrTooManyInstances) {
			return nil, precondition(http.StatusForbidden, "c:max-instances", err.Error())
		}
		return nil, invalidData("%v", err)
	}
	if !repaired {
		obj.data, obj.verbatim = body, true
		return obj, nil
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(ic); err != nil {
		return nil, invalidData("%v", err)
	}
	obj.data = buf.Bytes()
	return obj, nil
}

// supports reports whether cal accepts components named comp. A
// VAVAILABILITY (RFC 7953) goes wherever events go: it shapes the owner's
// free-busy time like events do.
func supports(cal *store.Calendar, comp string) bool {
	if comp == recur.CompAvailability && supports(cal, ical.CompEvent) {
		return true
	}
	for _, c := range componentSet(cal) {
		if strings.EqualFold(c, comp) {
			return true
		}
	}
	return false
}

// validAvailability checks a VAVAILABILITY (RFC 7953 §3.1): its AVAILABLE
// subcomponents need DTSTART, and their recurrences the same bounds as an
// event's.
func validAvailability(ic *ical.Calendar, vav *ical.Component) error {
	for _, c := range vav.Children {
		if c.Name == recur.CompAvailable && c.Props.Get(ical.PropDateTimeStart) == nil {
			return invalidData("AVAILABLE without DTSTART")
		}
	}
	if err := recur.Validate(recur.AvailableSet(ic, vav), nil); err != nil {
		if errors.Is(err, recur.ErrTooManyInstances) {
			return precondition(http.StatusForbidden, "c:max-instances", err.Error())
		}
		return invalidData("VAVAILABILITY: %v", err)
	}
	return nil
}

// objectSpan computes the time-span index entry: the first start and last
// end of all instances, widened for floating times. A VTODO can match a
// time-range through CREATED or COMPLETED even without dates (RFC 4791 §9.9),
// a VFREEBUSY through its FREEBUSY periods, and a VAVAILABILITY shapes
// free-busy time outside its own instances, so they span all time.
func objectSpan(ic *ical.Calendar, component string) (store.Span, error) {
	if component != ical.CompEvent && component != ical.CompJournal {
		return store.Span{Start: math.MinInt64, End: store.SpanForever}, nil
	}
	first, last, unbounded, err := recur.Bounds(ic, nil)
	if err != nil {
		return store.Span{}, err
	}
	s := store.Span{Start: first.Unix() - floatSlack, End: last.Unix() + floatSlack}
	if unbounded {
		s.End = store.SpanForever
	}
	if s.End <= s.Start {
		s.End = s.Start + 1
	}
	return s, nil
}
