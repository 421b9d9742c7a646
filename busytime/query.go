package busytime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/freebusy"
	"github.com/calbolt/calbolt/internal/recur"
)

// Operator is the asker of `calbolt freebusy` on a data file: the person
// who holds the file sees everyone's busy time. No login name can equal it.
const Operator = "\x00operator"

// DefaultDays is the window when a query names no end: 30 days.
const DefaultDays = 30

// MaxUsers caps the users of one query.
const MaxUsers = 100

// A Query is a free-busy question in the terms of the /freebusy endpoint
// and `calbolt freebusy`: whose busy time, over which window, and whether
// to find free slots. ParseQuery reads it from URL query parameters, so the
// command line and the endpoint share one parser.
type Query struct {
	Users      []string // login names or calendar user addresses
	Start, End time.Time
	Loc        *time.Location // for dates and working hours
	// SlotLength, when not zero, asks for free slots of at least this
	// length common to all Users.
	SlotLength time.Duration
	WorkHours  *freebusy.WorkHours
}

// QueryError reports a query the user must fix; its text says how.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

func queryErr(format string, args ...any) error {
	return &QueryError{Msg: fmt.Sprintf(format, args...)}
}

// ParseQuery reads a Query from parameters:
//
//	user=NAME (repeatable) or users=A,B   whose busy time (at least one)
//	start, end     RFC 3339 (2026-11-23T09:00:00Z), iCalendar UTC
//	               (20261123T090000Z) or a date (2026-11-23, midnight in tz);
//	               default: today in tz, for 30 days
//	tz             IANA zone for dates and working hours (default UTC)
//	duration       free slots of at least this length (PT30M, 1h30m)
//	hours          working hours for slots, e.g. 09:00-17:00
//	days           working days for slots, e.g. MO,TU,WE,TH,FR (default
//	               Monday to Friday when hours are given)
//
// defaultUsers are used when the parameters name none (the path's user).
func ParseQuery(v url.Values, defaultUsers []string, now time.Time) (Query, error) {
	var q Query
	for _, u := range v["user"] {
		q.Users = append(q.Users, splitList(u)...)
	}
	for _, u := range v["users"] {
		q.Users = append(q.Users, splitList(u)...)
	}
	if len(q.Users) == 0 {
		q.Users = defaultUsers
	}
	if len(q.Users) == 0 {
		return q, queryErr("name at least one user (user=NAME)")
	}
	if len(q.Users) > MaxUsers {
		return q, queryErr("at most %d users per query", MaxUsers)
	}
	q.Loc = time.UTC
	if tz := v.Get("tz"); tz != "" {
		loc, err := recur.LoadLocation(tz, nil)
		if err != nil {
			return q, queryErr("unknown time zone %q (use an IANA name such as Europe/Berlin)", tz)
		}
		q.Loc = loc
	}
	var err error
	if s := v.Get("start"); s != "" {
		if q.Start, err = parseTime(s, q.Loc); err != nil {
			return q, queryErr("start: %v", err)
		}
	} else {
		n := now.In(q.Loc)
		q.Start = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, q.Loc)
	}
	if s := v.Get("end"); s != "" {
		if q.End, err = parseTime(s, q.Loc); err != nil {
			return q, queryErr("end: %v", err)
		}
	} else {
		q.End = q.Start.AddDate(0, 0, DefaultDays)
	}
	q.Start, q.End = q.Start.UTC(), q.End.UTC()
	if err := CheckWindow(q.Start, q.End); err != nil {
		return q, queryErr("the window must end after it starts and span at most 400 days")
	}
	if d := v.Get("duration"); d != "" {
		if q.SlotLength, err = parseLength(d); err != nil || q.SlotLength <= 0 || q.SlotLength > 7*24*time.Hour {
			return q, queryErr("duration must be a positive length of at most a week, such as PT30M or 1h")
		}
	}
	hours, days := v.Get("hours"), v.Get("days")
	if (hours != "" || days != "") && q.SlotLength == 0 {
		return q, queryErr("hours and days apply to free slots: add duration")
	}
	if hours != "" || days != "" {
		wh := &freebusy.WorkHours{Loc: q.Loc, From: 0, To: 24 * time.Hour}
		if hours != "" {
			from, to, ok := strings.Cut(hours, "-")
			f, err1 := parseClock(from)
			t, err2 := parseClock(to)
			if !ok || err1 != nil || err2 != nil || f >= t {
				return q, queryErr("hours must look like 09:00-17:00")
			}
			wh.From, wh.To = f, t
		}
		if days == "" {
			days = "MO,TU,WE,TH,FR"
		}
		for _, d := range splitList(days) {
			wd, ok := weekdays[strings.ToUpper(d)]
			if !ok {
				return q, queryErr("days must be a list such as MO,TU,WE,TH,FR")
			}
			wh.Days[wd] = true
		}
		q.WorkHours = wh
	}
	return q, nil
}

var weekdays = map[string]time.Weekday{
	"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday,
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("20060102T150405Z", s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("20060102", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date or a date-time such as 2026-11-23 or 2026-11-23T09:00:00Z", s)
}

func parseLength(s string) (time.Duration, error) {
	if strings.HasPrefix(strings.ToUpper(s), "P") {
		return recur.ParseDuration(strings.ToUpper(s))
	}
	return time.ParseDuration(s)
}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// An Answer is the reply to a Query, as JSON or as iCalendar.
type Answer struct {
	Start  time.Time    `json:"start"`
	End    time.Time    `json:"end"`
	Users  []UserBusy   `json:"users"`
	Merged []PeriodJSON `json:"merged"`
	// Slots lists free time common to all users, at least SlotLength
	// long, when the query asked for it.
	Slots []PeriodJSON `json:"slots,omitzero"`
}

// UserBusy is one user's busy time.
type UserBusy struct {
	User    string       `json:"user"`
	Address string       `json:"address"`
	Busy    []PeriodJSON `json:"busy"`
}

// PeriodJSON is a period in JSON: RFC 3339 UTC times and the FBTYPE.
type PeriodJSON struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Type  string    `json:"type,omitempty"`
}

func jsonPeriods(ps []freebusy.Period, withType bool) []PeriodJSON {
	out := make([]PeriodJSON, len(ps))
	for i, p := range ps {
		out[i] = PeriodJSON{Start: p.Start.UTC(), End: p.End.UTC()}
		if withType {
			out[i].Type = p.Type.String()
		}
	}
	return out
}

// Answer runs q for asker. A user that does not exist or whose busy time
// asker may not see is ErrNotFound naming what the query said.
func (s *Service) Answer(asker string, q Query, host string) (*Answer, error) {
	a := &Answer{Start: q.Start, End: q.End}
	var names []string
	for _, u := range q.Users {
		name, ok := s.Resolve(u, host)
		if !ok {
			return nil, &UserError{User: u}
		}
		names = append(names, name)
	}
	each, merged, err := s.Users(asker, names, q.Start, q.End, host)
	var ue *UserError
	if errors.As(err, &ue) {
		if i := slices.Index(names, ue.User); i >= 0 {
			ue.User = q.Users[i]
		}
	}
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		u, err := s.db.User(name)
		if err != nil {
			return nil, notFound(err)
		}
		a.Users = append(a.Users, UserBusy{User: name, Address: Address(u, host), Busy: jsonPeriods(each[i], true)})
	}
	a.Merged = jsonPeriods(merged, true)
	if q.SlotLength > 0 {
		slots, err := freebusy.FreeSlots(merged, q.Start, q.End, q.SlotLength, q.WorkHours)
		if err != nil {
			return nil, queryErr("%v", err)
		}
		a.Slots = jsonPeriods(slots, false)
		if a.Slots == nil {
			a.Slots = []PeriodJSON{}
		}
	}
	return a, nil
}

// UserError names a user of a query that does not exist or whose busy
// time the asker may not see (the two look the same). It wraps ErrNotFound.
type UserError struct{ User string }

func (e *UserError) Error() string {
	return fmt.Sprintf("busytime: no user %q whose busy time you may see", e.User)
}

func (e *UserError) Unwrap() error { return ErrNotFound }

// WriteJSON writes a as indented JSON.
func (a *Answer) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(a)
}

// WriteICS writes a as one VCALENDAR (METHOD:PUBLISH, RFC 5546 §3.3.1)
// with a VFREEBUSY per user whose ORGANIZER is the user, the form of
// published free-busy (Outlook's .ifb).
func (a *Answer) WriteICS(w io.Writer, now time.Time) error {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//calbolt//calbolt//EN")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	for _, u := range a.Users {
		ps := make([]freebusy.Period, len(u.Busy))
		for i, p := range u.Busy {
			ps[i] = freebusy.Period{Start: p.Start, End: p.End, Type: freebusy.ParseFBType(p.Type)}
		}
		c := freebusy.Component(ps, a.Start, a.End, now)
		org := ical.NewProp(ical.PropOrganizer)
		org.Value = u.Address
		c.Props.Set(org)
		cal.Children = append(cal.Children, c)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// IsQueryError reports whether err is the user's to fix.
func IsQueryError(err error) bool {
	var qe *QueryError
	return errors.As(err, &qe)
}
