package caldav

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	gocaldav "github.com/emersion/go-webdav/caldav"

	"github.com/calbolt/calbolt/internal/recur"
)

// mfParse decodes an iCalendar text written with "\n" line ends; a body
// without BEGIN:VCALENDAR is wrapped in one.
func mfParse(t testing.TB, s string) *ical.Calendar {
	t.Helper()
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "BEGIN:VCALENDAR") {
		s = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//calbolt//test//EN\n" + s + "\nEND:VCALENDAR"
	}
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n") + "\r\n"
	cal, err := ical.NewDecoder(strings.NewReader(s)).Decode()
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return cal
}

var mfNowYear = regexp.MustCompile(`\$now\.year\.[0-9]:`)

// mfSample reads testdata/recur/name, with CalDAVTester's "$now.year.N:"
// placeholders replaced by the year 2026+N.
func mfSample(t testing.TB, name string) *ical.Calendar {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "recur", name))
	if err != nil {
		t.Fatal(err)
	}
	return mfParse(t, mfNowYear.ReplaceAllStringFunc(string(b), func(m string) string {
		return strconv.Itoa(2026 + int(m[len(m)-2]-'0'))
	}))
}

func mfTime(t testing.TB, s string) time.Time {
	t.Helper()
	if s == "" {
		return time.Time{}
	}
	v, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mfQuery builds VCALENDAR > comp with an optional time-range.
func mfQuery(t testing.TB, comp, start, end string, props []gocaldav.PropFilter, comps ...gocaldav.CompFilter) *gocaldav.CompFilter {
	return &gocaldav.CompFilter{Name: "VCALENDAR", Comps: []gocaldav.CompFilter{{
		Name: comp, Start: mfTime(t, start), End: mfTime(t, end), Props: props, Comps: comps,
	}}}
}

func TestMatchTimeRange(t *testing.T) {
	const simple = "BEGIN:VEVENT\nUID:1\nDTSTAMP:20250101T000000Z\nDTSTART:20260101T100000Z\nDTEND:20260101T110000Z\nEND:VEVENT"
	const zero = "BEGIN:VEVENT\nUID:1\nDTSTAMP:20250101T000000Z\nDTSTART:20260101T100000Z\nEND:VEVENT"
	const floating = "BEGIN:VEVENT\nUID:1\nDTSTAMP:20250101T000000Z\nDTSTART:20260110T090000\nDURATION:PT1H\nEND:VEVENT"
	const daily = "BEGIN:VEVENT\nUID:1\nDTSTAMP:20250101T000000Z\nDTSTART;TZID=Europe/Berlin:20260327T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY\nEND:VEVENT"
	newYork, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name       string
		ics, file  string
		comp       string
		start, end string
		floating   *time.Location
		want       bool
	}{
		{name: "ends at range start", ics: simple, comp: "VEVENT", start: "20260101T110000Z", end: "20260101T120000Z", want: false},
		{name: "starts at range end", ics: simple, comp: "VEVENT", start: "20260101T090000Z", end: "20260101T100000Z", want: false},
		{name: "inside", ics: simple, comp: "VEVENT", start: "20260101T103000Z", end: "20260101T103001Z", want: true},
		{name: "open end", ics: simple, comp: "VEVENT", start: "20260101T103000Z", want: true},
		{name: "open start", ics: simple, comp: "VEVENT", end: "20260101T100001Z", want: true},
		{name: "zero duration at range start", ics: zero, comp: "VEVENT", start: "20260101T100000Z", end: "20260101T110000Z", want: true},
		{name: "zero duration at range end", ics: zero, comp: "VEVENT", start: "20260101T090000Z", end: "20260101T100000Z", want: false},
		{name: "wrong component", ics: simple, comp: "VTODO", start: "20260101T090000Z", end: "20260102T000000Z", want: false},
		{name: "floating in utc", ics: floating, comp: "VEVENT", start: "20260110T090000Z", end: "20260110T100000Z", want: true},
		{name: "floating in new york", ics: floating, comp: "VEVENT", start: "20260110T090000Z", end: "20260110T100000Z", floating: newYork, want: false},
		{name: "floating in new york later", ics: floating, comp: "VEVENT", start: "20260110T140000Z", end: "20260110T150000Z", floating: newYork, want: true},
		{name: "daily after dst keeps local time", ics: daily, comp: "VEVENT", start: "20260330T070000Z", end: "20260330T071000Z", want: true},
		{name: "daily after dst not at old utc time", ics: daily, comp: "VEVENT", start: "20260330T080000Z", end: "20260330T090000Z", want: false},
		{name: "daily far in the future", ics: daily, comp: "VEVENT", start: "21000601T070000Z", end: "21000601T070100Z", want: true},
		// An override moved away from its slot and into another.
		{name: "moved override: old slot empty", file: "caldavtester-reports-put-23.ics", comp: "VEVENT", start: "20281120T150000Z", end: "20281120T160000Z", want: false},
		{name: "moved override: new slot", file: "caldavtester-reports-put-23.ics", comp: "VEVENT", start: "20281119T170000Z", end: "20281119T180000Z", want: true},
		{name: "moved override: next instance", file: "caldavtester-reports-put-23.ics", comp: "VEVENT", start: "20281121T150000Z", end: "20281121T160000Z", want: true},
		{name: "excluded instance", file: "caldavtester-reports-put-24.ics", comp: "VEVENT", start: "20290101T000000Z", end: "20290102T000000Z", want: false},
		{name: "after excluded instance", file: "caldavtester-reports-put-24.ics", comp: "VEVENT", start: "20290102T000000Z", end: "20290103T000000Z", want: true},
		{name: "after count", file: "caldavtester-reports-put-24.ics", comp: "VEVENT", start: "20290105T000000Z", end: "20290201T000000Z", want: false},
		{name: "override moved to another day", file: "caldavtester-reports-put-26.ics", comp: "VEVENT", start: "20270108T000000Z", end: "20270109T000000Z", want: false},
		{name: "override on its new day", file: "caldavtester-reports-put-26.ics", comp: "VEVENT", start: "20270109T000000Z", end: "20270110T000000Z", want: true},
		{name: "all-day", file: "caldavtester-reports-put-27.ics", comp: "VEVENT", start: "20281015T230000Z", end: "20281016T000000Z", want: true},
		{name: "all-day next day", file: "caldavtester-reports-put-27.ics", comp: "VEVENT", start: "20281016T000000Z", end: "20281017T000000Z", want: false},
		{name: "all-day in new york", file: "caldavtester-reports-put-27.ics", comp: "VEVENT", start: "20281016T000000Z", end: "20281016T010000Z", floating: newYork, want: true},
		{name: "cancelled override still matches", file: "caldavtester-recurrenceput-23.ics", comp: "VEVENT", start: "20270108T170000Z", end: "20270108T180000Z", want: true},
		{name: "override matching no instance", file: "caldavtester-recurrenceput-23.ics", comp: "VEVENT", start: "20270202T170000Z", end: "20270202T180000Z", want: true},
		{name: "windows tzid", file: "radicale-event_issue2151.ics", comp: "VEVENT", start: "20260327T100000Z", end: "20260327T110000Z", want: true},
		{name: "windows tzid floating exdate", file: "radicale-event_issue2151.ics", comp: "VEVENT", start: "20260403T000000Z", end: "20260404T000000Z", want: false},
		// VTODO rows of RFC 4791 §9.9.
		{name: "todo start+due", file: "radicale-todo2.ics", comp: "VTODO", start: "20131002T000000Z", end: "20131002T010000Z", want: true},
		{name: "todo start+due between", file: "radicale-todo2.ics", comp: "VTODO", start: "20131010T000000Z", end: "20131020T000000Z", want: false},
		{name: "todo start+duration ending at range start", file: "radicale-todo1.ics", comp: "VTODO", start: "20130901T210000Z", end: "20130902T000000Z", want: true},
		{name: "todo start only", file: "radicale-todo3.ics", comp: "VTODO", start: "20130901T160000Z", end: "20130901T160001Z", want: true},
		{name: "todo start only before", file: "radicale-todo3.ics", comp: "VTODO", start: "20130901T150000Z", end: "20130901T160000Z", want: false},
		{name: "todo due only at range end", ics: "BEGIN:VTODO\nUID:1\nDUE:20260101T100000Z\nEND:VTODO", comp: "VTODO", start: "20260101T090000Z", end: "20260101T100000Z", want: true},
		{name: "todo due only at range start", ics: "BEGIN:VTODO\nUID:1\nDUE:20260101T100000Z\nEND:VTODO", comp: "VTODO", start: "20260101T100000Z", end: "20260101T110000Z", want: false},
		{name: "todo completed inside", ics: "BEGIN:VTODO\nUID:1\nCOMPLETED:20260105T100000Z\nEND:VTODO", comp: "VTODO", start: "20260105T000000Z", end: "20260105T100000Z", want: true},
		{name: "todo completed before", ics: "BEGIN:VTODO\nUID:1\nCOMPLETED:20260105T100000Z\nEND:VTODO", comp: "VTODO", start: "20260105T100001Z", end: "20260106T000000Z", want: false},
		{name: "todo created", ics: "BEGIN:VTODO\nUID:1\nCREATED:20260105T100000Z\nEND:VTODO", comp: "VTODO", start: "20260101T000000Z", end: "20260105T100001Z", want: true},
		{name: "todo created after range", ics: "BEGIN:VTODO\nUID:1\nCREATED:20260105T100000Z\nEND:VTODO", comp: "VTODO", start: "20260101T000000Z", end: "20260105T100000Z", want: false},
		{name: "todo created and completed", ics: "BEGIN:VTODO\nUID:1\nCREATED:20260101T100000Z\nCOMPLETED:20260110T100000Z\nEND:VTODO", comp: "VTODO", start: "20260105T000000Z", end: "20260106T000000Z", want: true},
		{name: "todo undated", file: "caldavtester-vtodos-1.ics", comp: "VTODO", start: "20260105T000000Z", end: "20260106T000000Z", want: true},
		// VJOURNAL.
		{name: "journal without dtstart", file: "radicale-journal1.ics", comp: "VJOURNAL", start: "19900101T000000Z", end: "20300101T000000Z", want: false},
		{name: "journal date", ics: "BEGIN:VJOURNAL\nUID:1\nDTSTART;VALUE=DATE:20260105\nEND:VJOURNAL", comp: "VJOURNAL", start: "20260105T230000Z", end: "20260106T000000Z", want: true},
		// VFREEBUSY.
		{name: "freebusy periods", ics: "BEGIN:VFREEBUSY\nUID:1\nFREEBUSY:20260101T090000Z/PT1H,20260102T090000Z/PT1H\nEND:VFREEBUSY", comp: "VFREEBUSY", start: "20260102T093000Z", end: "20260102T100000Z", want: true},
		{name: "freebusy period ends at range start", ics: "BEGIN:VFREEBUSY\nUID:1\nFREEBUSY:20260101T090000Z/PT1H\nEND:VFREEBUSY", comp: "VFREEBUSY", start: "20260101T100000Z", end: "20260102T100000Z", want: false},
		{name: "freebusy dtstart dtend", ics: "BEGIN:VFREEBUSY\nUID:1\nDTSTART:20260101T000000Z\nDTEND:20260102T000000Z\nEND:VFREEBUSY", comp: "VFREEBUSY", start: "20260102T000000Z", end: "20260103T000000Z", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cal *ical.Calendar
			if tt.file != "" {
				cal = mfSample(t, tt.file)
			} else {
				cal = mfParse(t, tt.ics)
			}
			got, err := matchCompFilter(mfQuery(t, tt.comp, tt.start, tt.end, nil), cal, &recur.Options{Floating: tt.floating})
			if err != nil {
				t.Fatalf("matchCompFilter = %v", err)
			}
			if got != tt.want {
				t.Errorf("matchCompFilter([%s, %s)) = %v, want %v", tt.start, tt.end, got, tt.want)
			}
		})
	}
}

func TestMatchFilters(t *testing.T) {
	const meeting = `BEGIN:VEVENT
UID:1
DTSTAMP:20250101T000000Z
DTSTART:20260101T100000Z
DTEND:20260101T110000Z
SUMMARY:Budget\, review
CATEGORIES:Work,Personal
ATTENDEE;PARTSTAT=ACCEPTED;CN=Alice:mailto:alice@example.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
DESCRIPTION:x
END:VALARM
END:VEVENT`
	tm := func(text string, negate bool) *gocaldav.TextMatch {
		return &gocaldav.TextMatch{Text: text, NegateCondition: negate}
	}
	octet := tm("work", false)
	tests := []struct {
		name  string
		props []gocaldav.PropFilter
		comps []gocaldav.CompFilter
		want  bool
	}{
		{"summary substring, escaped comma", []gocaldav.PropFilter{{Name: "SUMMARY", TextMatch: tm("budget, REV", false)}}, nil, true},
		{"summary negated", []gocaldav.PropFilter{{Name: "SUMMARY", TextMatch: tm("budget", true)}}, nil, false},
		{"second attendee line", []gocaldav.PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob@", false)}}, nil, true},
		{"category in a list", []gocaldav.PropFilter{{Name: "CATEGORIES", TextMatch: tm("personal", false)}}, nil, true},
		{"category negated over the list", []gocaldav.PropFilter{{Name: "CATEGORIES", TextMatch: tm("work", true)}}, nil, false},
		{"category octet collation", []gocaldav.PropFilter{{Name: "CATEGORIES", TextMatch: octet}}, nil, false},
		{"missing property", []gocaldav.PropFilter{{Name: "LOCATION", IsNotDefined: true}}, nil, true},
		{"present property is-not-defined", []gocaldav.PropFilter{{Name: "SUMMARY", IsNotDefined: true}}, nil, false},
		{"missing property text-match", []gocaldav.PropFilter{{Name: "LOCATION", TextMatch: tm("", false)}}, nil, false},
		{"param text-match on the right line", []gocaldav.PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob", false), ParamFilter: []gocaldav.ParamFilter{{Name: "PARTSTAT", TextMatch: tm("NEEDS-ACTION", false)}}}}, nil, true},
		{"param text-match on the wrong line", []gocaldav.PropFilter{{Name: "ATTENDEE", TextMatch: tm("alice", false), ParamFilter: []gocaldav.ParamFilter{{Name: "PARTSTAT", TextMatch: tm("NEEDS-ACTION", false)}}}}, nil, false},
		{"param is-not-defined", []gocaldav.PropFilter{{Name: "ATTENDEE", TextMatch: tm("bob", false), ParamFilter: []gocaldav.ParamFilter{{Name: "CN", IsNotDefined: true}}}}, nil, true},
		{"prop time-range on DTSTAMP", []gocaldav.PropFilter{{Name: "DTSTAMP", Start: mfTime(t, "20250101T000000Z"), End: mfTime(t, "20250102T000000Z")}}, nil, true},
		{"prop time-range on DTSTAMP at range end", []gocaldav.PropFilter{{Name: "DTSTAMP", Start: mfTime(t, "20241231T000000Z"), End: mfTime(t, "20250101T000000Z")}}, nil, false},
		{"prop time-range on text", []gocaldav.PropFilter{{Name: "SUMMARY", Start: mfTime(t, "20250101T000000Z")}}, nil, false},
		{"alarm defined", nil, []gocaldav.CompFilter{{Name: "VALARM"}}, true},
		{"alarm not defined", nil, []gocaldav.CompFilter{{Name: "VALARM", IsNotDefined: true}}, false},
		{"alarm trigger in range", nil, []gocaldav.CompFilter{{Name: "VALARM", Start: mfTime(t, "20260101T094500Z"), End: mfTime(t, "20260101T094501Z")}}, true},
		{"alarm trigger before range", nil, []gocaldav.CompFilter{{Name: "VALARM", Start: mfTime(t, "20260101T094501Z"), End: mfTime(t, "20260101T100000Z")}}, false},
	}
	cal := mfParse(t, meeting)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mfQuery(t, "VEVENT", "", "", tt.props, tt.comps...)
			got, err := matchCompFilterCollations(f, cal, nil, map[*gocaldav.TextMatch]string{octet: "i;octet"})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("matchCompFilter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchComponents(t *testing.T) {
	cal := mfParse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T100000Z\nEND:VEVENT")
	tests := []struct {
		name string
		f    *gocaldav.CompFilter
		want bool
	}{
		{"vcalendar only", &gocaldav.CompFilter{Name: "VCALENDAR"}, true},
		{"not vcalendar", &gocaldav.CompFilter{Name: "VEVENT"}, false},
		{"vtodo not defined", &gocaldav.CompFilter{Name: "VCALENDAR", Comps: []gocaldav.CompFilter{{Name: "VTODO", IsNotDefined: true}}}, true},
		{"vevent not defined", &gocaldav.CompFilter{Name: "VCALENDAR", Comps: []gocaldav.CompFilter{{Name: "VEVENT", IsNotDefined: true}}}, false},
		{"lower-case name", &gocaldav.CompFilter{Name: "vcalendar", Comps: []gocaldav.CompFilter{{Name: "vevent"}}}, true},
		{"time-range on vcalendar", &gocaldav.CompFilter{Name: "VCALENDAR", Start: mfTime(t, "20260101T100000Z"), End: mfTime(t, "20260101T100001Z")}, true},
	}
	for _, tt := range tests {
		if got, err := matchCompFilter(tt.f, cal, nil); err != nil || got != tt.want {
			t.Errorf("%s: matchCompFilter = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestMatchRecurringAlarm(t *testing.T) {
	// Monthly; only the February overrides carry alarms (-PT8M, -PT5M).
	cal := mfSample(t, "caldavtester-recurrenceput-22.ics")
	alarm := func(start, end string) *gocaldav.CompFilter {
		return mfQuery(t, "VEVENT", "", "", nil, gocaldav.CompFilter{Name: "VALARM", Start: mfTime(t, start), End: mfTime(t, end)})
	}
	for _, tt := range []struct {
		start, end string
		want       bool
	}{
		{"20270201T165000Z", "20270201T165500Z", true},  // 12:00 EST - 8 min
		{"20270201T165500Z", "20270201T170000Z", false}, // after it
		{"20280201T165500Z", "20280201T170000Z", true},  // next year's override, -5 min
		{"20270301T165000Z", "20270301T170000Z", false}, // the master has no alarm
	} {
		if got, err := matchCompFilter(alarm(tt.start, tt.end), cal, nil); err != nil || got != tt.want {
			t.Errorf("VALARM [%s, %s) = %v, %v; want %v", tt.start, tt.end, got, err, tt.want)
		}
	}
}

func TestMatchInvalidObject(t *testing.T) {
	cal := mfParse(t, "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Mars/Olympus:20260101T100000\nEND:VEVENT")
	_, err := matchCompFilter(mfQuery(t, "VEVENT", "20260101T000000Z", "20260102T000000Z", nil), cal, nil)
	if !errors.Is(err, recur.ErrInvalid) {
		t.Errorf("matchCompFilter = %v, want recur.ErrInvalid", err)
	}
	// Without a time-range the dates are not read.
	if ok, err := matchCompFilter(mfQuery(t, "VEVENT", "", "", nil), cal, nil); err != nil || !ok {
		t.Errorf("matchCompFilter without time-range = %v, %v; want true", ok, err)
	}
}
