// Package calobj validates and indexes calendar object resources: the rules
// of RFC 4791 §4.1 (one kind of component, one UID, no METHOD, at most one
// component per RECURRENCE-ID), the iCalendar syntax of RFC 5545, the
// recurrence bounds of internal/recur, and the time-span index entry the
// store keeps. It knows no HTTP: the PUT handler in caldav and the bulk
// importer in ics run the same code, and caldav maps an *Error's Kind to
// its CalDAV precondition element.
package calobj

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/recur"
	"github.com/calbolt/calbolt/store"
)

// MaxUIDLength is the longest UID a calendar object may have, in bytes.
const MaxUIDLength = 1024

// floatSlack widens a span computed with floating times read as UTC: a
// floating or all-day time can fall anywhere from UTC-12 to UTC+14.
const floatSlack = 14 * 3600

// Kind says which rule an object breaks. The values are the names of the
// CalDAV precondition elements (RFC 4791 §5.3.2.1, §5.2.9).
type Kind string

const (
	// KindCalendarData is CALDAV:valid-calendar-data: not valid iCalendar.
	KindCalendarData Kind = "valid-calendar-data"
	// KindObjectResource is CALDAV:valid-calendar-object-resource: valid
	// iCalendar that breaks the rules of RFC 4791 §4.1.
	KindObjectResource Kind = "valid-calendar-object-resource"
	// KindComponent is CALDAV:supported-calendar-component: the calendar
	// does not accept this kind of component.
	KindComponent Kind = "supported-calendar-component"
	// KindMaxInstances is CALDAV:max-instances: the recurrence has more
	// instances than the server accepts.
	KindMaxInstances Kind = "max-instances"
)

// Error is why an object was refused. Its message is safe to show a client.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func invalidData(format string, args ...any) error {
	return &Error{Kind: KindCalendarData, Msg: fmt.Sprintf(format, args...)}
}

func invalidObject(format string, args ...any) error {
	return &Error{Kind: KindObjectResource, Msg: fmt.Sprintf(format, args...)}
}

// recurError classifies an error of internal/recur.
func recurError(prefix string, err error) error {
	if errors.Is(err, recur.ErrTooManyInstances) {
		return &Error{Kind: KindMaxInstances, Msg: err.Error()}
	}
	return invalidData("%s%v", prefix, err)
}

// Object is a validated calendar object resource.
type Object struct {
	Calendar  *ical.Calendar // the parsed (and possibly repaired) calendar
	Data      []byte         // bytes to store
	Verbatim  bool           // Data is exactly the bytes Parse was given
	UID       string
	Component string // ical.CompEvent, ical.CompToDo, …
	Span      store.Span
	// Repairs names what Check added, e.g. "DTSTAMP", "PRODID", "VERSION".
	Repairs []string
}

// Options tune Check and Parse. A nil *Options means the defaults.
type Options struct {
	// Stamp returns the DTSTAMP to give component c, which has none. Nil
	// means the current time. The importer passes a deterministic stamp so
	// that importing a file twice stores the same bytes.
	Stamp func(c *ical.Component) time.Time
}

// Decode parses exactly one VCALENDAR. It strips a UTF-8 BOM, refuses bad
// UTF-8 and control characters, and turns go-ical's panics on some
// malformed parameters into errors.
func Decode(data []byte) (cal *ical.Calendar, err error) {
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

// Parse validates body as a calendar object resource for cal (RFC 4791
// §4.1), repairs what is safe to repair (a missing DTSTAMP, PRODID or
// VERSION) and computes the time-span index entry. Data is body itself
// when nothing was repaired, else the re-encoded calendar. Errors are
// *Error.
func Parse(body []byte, cal *store.Calendar, opts *Options) (*Object, error) {
	ic, err := Decode(body)
	if err != nil {
		return nil, invalidData("%v", err)
	}
	obj, err := Check(ic, cal, opts)
	if err != nil {
		return nil, err
	}
	if len(obj.Repairs) == 0 {
		obj.Data, obj.Verbatim = body, true
		return obj, nil
	}
	if obj.Data, err = Encode(ic); err != nil {
		return nil, err
	}
	return obj, nil
}

// Encode renders ic as iCalendar bytes. An error is an *Error: go-ical's
// encoder refuses some calendars its decoder accepts.
func Encode(ic *ical.Calendar) ([]byte, error) {
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(ic); err != nil {
		return nil, invalidData("%v", err)
	}
	return buf.Bytes(), nil
}

// Check validates a decoded calendar as a calendar object resource for cal,
// repairs it in place (DTSTAMP, PRODID, VERSION; recorded in Repairs) and
// computes its span. It does not set Data. Errors are *Error.
func Check(ic *ical.Calendar, cal *store.Calendar, opts *Options) (*Object, error) {
	if ic.Props.Get(ical.PropMethod) != nil {
		return nil, invalidObject("a calendar object resource must not have METHOD (RFC 4791 §4.1)")
	}
	obj := &Object{Calendar: ic}
	stamped := false
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
		if obj.Component == "" {
			obj.Component = c.Name
		} else if obj.Component != c.Name {
			return nil, invalidObject("a calendar object resource holds one kind of component, found %s and %s", obj.Component, c.Name)
		}
		uid := c.Props.Get(ical.PropUID)
		if uid == nil || strings.TrimSpace(uid.Value) == "" {
			return nil, invalidObject("%s without UID", c.Name)
		}
		if obj.UID == "" {
			obj.UID = uid.Value
		} else if obj.UID != uid.Value {
			return nil, invalidObject("components with different UIDs belong in separate resources")
		}
		rid := ""
		if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
			rid = "RECURRENCE-ID " + p.Params.Get(ical.ParamTimezoneID) + " " + strings.TrimSpace(p.Value)
		}
		if recurrenceIDs[rid] {
			if rid == "" {
				return nil, invalidObject("two %s components with UID %s and no RECURRENCE-ID", c.Name, obj.UID)
			}
			return nil, invalidObject("two overrides of UID %s with the same RECURRENCE-ID", obj.UID)
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
			stamp := time.Now()
			if opts != nil && opts.Stamp != nil {
				stamp = opts.Stamp(c)
			}
			c.Props.SetDateTime(ical.PropDateTimeStamp, stamp.UTC().Truncate(time.Second))
			stamped = true
		}
	}
	if stamped {
		obj.Repairs = append(obj.Repairs, ical.PropDateTimeStamp)
	}
	if obj.Component == "" {
		return nil, invalidObject("no VEVENT, VTODO, VJOURNAL, VFREEBUSY or VAVAILABILITY component")
	}
	if len(obj.UID) > MaxUIDLength {
		return nil, invalidObject("UID longer than 1024 bytes")
	}
	if !Supports(cal, obj.Component) {
		return nil, &Error{Kind: KindComponent, Msg: fmt.Sprintf("this calendar does not accept %s", obj.Component)}
	}
	if ic.Props.Get(ical.PropProductID) == nil {
		ic.Props.SetText(ical.PropProductID, "-//calbolt//calbolt//EN")
		obj.Repairs = append(obj.Repairs, ical.PropProductID)
	}
	if ic.Props.Get(ical.PropVersion) == nil {
		ic.Props.SetText(ical.PropVersion, "2.0")
		obj.Repairs = append(obj.Repairs, ical.PropVersion)
	}
	if err := recur.Validate(ic, nil); err != nil {
		return nil, recurError("", err)
	}
	var err error
	if obj.Span, err = Span(ic, obj.Component); err != nil {
		return nil, recurError("", err)
	}
	return obj, nil
}

// componentSet returns the components cal accepts (CALDAV:
// supported-calendar-component-set); an empty set means VEVENT and VTODO.
func componentSet(cal *store.Calendar) []string {
	if len(cal.Components) == 0 {
		return []string{ical.CompEvent, ical.CompToDo}
	}
	return cal.Components
}

// Supports reports whether cal accepts components named comp. A
// VAVAILABILITY (RFC 7953) goes wherever events go: it shapes the owner's
// free-busy time like events do.
func Supports(cal *store.Calendar, comp string) bool {
	if comp == recur.CompAvailability && Supports(cal, ical.CompEvent) {
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
		return recurError("VAVAILABILITY: ", err)
	}
	return nil
}

// Span computes the time-span index entry: the first start and last end of
// all instances, widened for floating times. A VTODO can match a
// time-range through CREATED or COMPLETED even without dates (RFC 4791 §9.9),
// a VFREEBUSY through its FREEBUSY periods, and a VAVAILABILITY shapes
// free-busy time outside its own instances, so they span all time.
func Span(ic *ical.Calendar, component string) (store.Span, error) {
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
