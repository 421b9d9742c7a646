package recur

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sample reads a file from the project's testdata/recur, substituting
// CalDAVTester's "$now.year.N:" placeholders with the year 2026+N.
func sample(t testing.TB, name string) *ical.Calendar {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "recur", name))
	if err != nil {
		t.Fatal(err)
	}
	s := nowYear.ReplaceAllStringFunc(string(b), func(m string) string {
		return strconv.Itoa(2026 + int(m[len(m)-2]-'0'))
	})
	return parse(t, s)
}

var nowYear = regexp.MustCompile(`\$now\.year\.[0-9]:`)

func TestExpand(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	newYork := mustLoc(t, "America/New_York")
	tests := []struct {
		name       string
		ics        string
		start, end string
		floating   *time.Location
		want       []string
	}{
		{
			name:  "daily count",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260102T090000Z/20260102T100000Z", "20260103T090000Z/20260103T100000Z"},
		},
		{
			name:  "weekly byday",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260105T090000Z\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260105T090000Z/20260105T100000Z", "20260107T090000Z/20260107T100000Z", "20260109T090000Z/20260109T100000Z", "20260112T090000Z/20260112T100000Z", "20260114T090000Z/20260114T100000Z"},
		},
		{
			name:  "monthly last friday",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260130T120000Z\nDURATION:PT30M\nRRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=3\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260130T120000Z/20260130T123000Z", "20260227T120000Z/20260227T123000Z", "20260327T120000Z/20260327T123000Z"},
		},
		{
			name:  "window cuts",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY\nEND:VEVENT",
			start: "20260110T100000Z", end: "20260112T090000Z",
			want: []string{"20260111T090000Z/20260111T100000Z"},
		},
		{
			name:  "until utc inclusive",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;UNTIL=20260103T090000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T090000Z", "20260102T090000Z/20260102T090000Z", "20260103T090000Z/20260103T090000Z"},
		},
		{
			name:  "until utc with zoned start",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260101T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=20260103T075959Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T080000Z/20260101T090000Z", "20260102T080000Z/20260102T090000Z"},
		},
		{
			name:  "until local read in dtstart zone",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260101T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=20260103T090000\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T080000Z/20260101T090000Z", "20260102T080000Z/20260102T090000Z", "20260103T080000Z/20260103T090000Z"},
		},
		{
			name:  "until date with date-time start covers the day",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T220000Z\nRRULE:FREQ=DAILY;UNTIL=20260102\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T220000Z/20260101T220000Z", "20260102T220000Z/20260102T220000Z"},
		},
		{
			name:  "until before dtstart",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nRRULE:FREQ=DAILY;UNTIL=20250101T000000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T090000Z"},
		},
		{
			name:  "exdate lists",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=6\nEXDATE:20260102T090000Z,20260104T090000Z\nEXDATE:20260106T090000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260103T090000Z/20260103T100000Z", "20260105T090000Z/20260105T100000Z"},
		},
		{
			name:  "exdate of dtstart",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260101T090000\nRRULE:FREQ=DAILY;COUNT=2\nEXDATE;TZID=Europe/Berlin:20260101T090000\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260102T080000Z/20260102T080000Z"},
		},
		{
			name:  "exdate date on date-time rule",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260101T090000\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE;VALUE=DATE:20260102\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T080000Z/20260101T080000Z", "20260103T080000Z/20260103T080000Z"},
		},
		{
			name:  "floating exdate with zoned dtstart",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260101T090000\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE:20260102T090000\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T080000Z/20260101T080000Z", "20260103T080000Z/20260103T080000Z"},
		},
		{
			name:  "rdate lists and period",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRDATE:20260105T090000Z,20260110T100000Z\nRDATE;VALUE=PERIOD:20260120T120000Z/PT2H,20260121T120000Z/20260121T123000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260105T090000Z/20260105T100000Z", "20260110T100000Z/20260110T110000Z", "20260120T120000Z/20260120T140000Z", "20260121T120000Z/20260121T123000Z"},
		},
		{
			name:  "rdate with rrule and duplicate",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=2\nRDATE:20260102T090000Z,20260201T090000Z\nEXDATE:20260201T090000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260102T090000Z/20260102T100000Z"},
		},
		{
			name:  "rdate only all-day",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;VALUE=DATE:20260101\nRDATE;VALUE=DATE:20260105,20260107\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T000000Z/20260102T000000Z", "20260105T000000Z/20260106T000000Z", "20260107T000000Z/20260108T000000Z"},
		},
		{
			name:  "override moves and shortens",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\nBEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260102T090000Z\nDTSTART:20260102T150000Z\nDTEND:20260102T153000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260102T150000Z/20260102T153000Z", "20260103T090000Z/20260103T100000Z"},
		},
		{
			name:  "override moved into window",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=WEEKLY\nEND:VEVENT\nBEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260108T090000Z\nDTSTART:20260110T090000Z\nDTEND:20260110T100000Z\nEND:VEVENT",
			start: "20260109T000000Z", end: "20260111T000000Z",
			want: []string{"20260110T090000Z/20260110T100000Z"},
		},
		{
			name:  "override moved out of window",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=WEEKLY\nEND:VEVENT\nBEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260108T090000Z\nDTSTART:20260110T090000Z\nDTEND:20260110T100000Z\nEND:VEVENT",
			start: "20260108T000000Z", end: "20260109T000000Z",
			want: nil,
		},
		{
			name: "thisandfuture",
			ics: "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY;COUNT=5\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:1\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260103T090000Z\nDTSTART:20260103T110000Z\nDTEND:20260103T113000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260102T090000Z/20260102T100000Z", "20260103T110000Z/20260103T113000Z", "20260104T110000Z/20260104T113000Z", "20260105T110000Z/20260105T113000Z"},
		},
		{
			name: "thisandfuture keeps wall time across dst",
			ics: "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260325T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=6\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:1\nRECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260327T090000\nDTSTART;TZID=Europe/Berlin:20260327T100000\nDURATION:PT1H\nEND:VEVENT",
			start: "20260328T000000Z", end: "20260331T000000Z",
			want: []string{"20260328T090000Z/20260328T100000Z", "20260329T080000Z/20260329T090000Z", "20260330T080000Z/20260330T090000Z"},
		},
		{
			name: "specific override beats thisandfuture",
			ics: "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY;COUNT=4\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:1\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260102T090000Z\nDTSTART:20260102T120000Z\nDTEND:20260102T130000Z\nEND:VEVENT\n" +
				"BEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260103T090000Z\nDTSTART:20260103T070000Z\nDTEND:20260103T080000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260101T090000Z/20260101T100000Z", "20260102T120000Z/20260102T130000Z", "20260103T070000Z/20260103T080000Z", "20260104T120000Z/20260104T130000Z"},
		},
		{
			name:  "orphan override",
			ics:   "BEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260102T090000Z\nDTSTART:20260102T150000Z\nDTEND:20260102T153000Z\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260102T150000Z/20260102T153000Z"},
		},
		{
			name:  "all-day in floating zone across dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;VALUE=DATE:20260329\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z", floating: berlin,
			want: []string{"20260328T230000Z/20260329T220000Z", "20260329T220000Z/20260330T220000Z"},
		},
		{
			name:  "all-day with dtend",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;VALUE=DATE:20260301\nDTEND;VALUE=DATE:20260303\nRRULE:FREQ=YEARLY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20280101T000000Z",
			want: []string{"20260301T000000Z/20260303T000000Z", "20270301T000000Z/20270303T000000Z"},
		},
		{
			name:  "floating in floating zone",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260110T090000\nDURATION:PT1H\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z", floating: newYork,
			want: []string{"20260110T140000Z/20260110T150000Z"},
		},
		{
			name:  "floating defaults to utc",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260110T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=20260111T090000\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260110T090000Z/20260110T100000Z", "20260111T090000Z/20260111T100000Z"},
		},
		{
			name:  "nominal day duration across dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260328T120000\nDURATION:P1D\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260328T110000Z/20260329T100000Z"},
		},
		{
			name:  "exact dtend duration across dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260327T120000\nDTEND;TZID=Europe/Berlin:20260328T120000\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260327T110000Z/20260328T110000Z", "20260328T110000Z/20260329T110000Z"},
		},
		{
			name:  "no dtend: zero length",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20260110T090000Z\nEND:VEVENT",
			start: "20260110T090000Z", end: "20260110T090001Z",
			want: []string{"20260110T090000Z/20260110T090000Z"},
		},
		{
			name:  "no dtend all-day: one day",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;VALUE=DATE:20260110\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260110T000000Z/20260111T000000Z"},
		},
		{
			name:  "berlin spring dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260327T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=4\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260327T080000Z/20260327T090000Z", "20260328T080000Z/20260328T090000Z", "20260329T070000Z/20260329T080000Z", "20260330T070000Z/20260330T080000Z"},
		},
		{
			name:  "berlin autumn dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20261023T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=4\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20261023T070000Z/20261023T080000Z", "20261024T070000Z/20261024T080000Z", "20261025T080000Z/20261025T090000Z", "20261026T080000Z/20261026T090000Z"},
		},
		{
			name:  "new york spring dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20260306T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=4\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260306T140000Z/20260306T150000Z", "20260307T140000Z/20260307T150000Z", "20260308T130000Z/20260308T140000Z", "20260309T130000Z/20260309T140000Z"},
		},
		{
			name:  "new york autumn dst",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20261030T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=4\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20261030T130000Z/20261030T140000Z", "20261031T130000Z/20261031T140000Z", "20261101T140000Z/20261101T150000Z", "20261102T140000Z/20261102T150000Z"},
		},
		{
			name:  "nonexistent local time moves forward",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260328T023000\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260328T013000Z/20260328T013000Z", "20260329T013000Z/20260329T013000Z"},
		},
		{
			name:  "repeated local time means the first",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20261024T023000\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20261024T003000Z/20261024T003000Z", "20261025T003000Z/20261025T003000Z", "20261026T013000Z/20261026T013000Z"},
		},
		{
			name:  "repeated local time in new york",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20261101T013000\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20261101T053000Z/20261101T053000Z"},
		},
		{
			name:  "windows tzid",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=W. Europe Standard Time:20260328T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260328T080000Z/20260328T090000Z", "20260329T070000Z/20260329T080000Z"},
		},
		{
			name:  "windows eastern",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Eastern Standard Time:20260307T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260307T140000Z/20260307T150000Z", "20260308T130000Z/20260308T140000Z"},
		},
		{
			name:  "mozilla tzid",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20260328T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260328T080000Z/20260328T090000Z", "20260329T070000Z/20260329T080000Z"},
		},
		{
			name: "custom vtimezone",
			ics: "BEGIN:VTIMEZONE\nTZID:Mitteleuropäische Zeit \nBEGIN:STANDARD\nDTSTART:20001025T020000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:20000329T010000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nEND:DAYLIGHT\nEND:VTIMEZONE\n" +
				"BEGIN:VEVENT\nUID:1\nDTSTART;TZID=\"Mitteleuropäische Zeit \":20260328T090000\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=2\nEND:VEVENT",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260328T080000Z/20260328T090000Z", "20260329T070000Z/20260329T080000Z"},
		},
		{
			name:  "vtodo dtstart and due",
			ics:   "BEGIN:VTODO\nUID:1\nDTSTART:20260110T090000Z\nDUE:20260111T090000Z\nRRULE:FREQ=WEEKLY;COUNT=2\nEND:VTODO",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260110T090000Z/20260111T090000Z", "20260117T090000Z/20260118T090000Z"},
		},
		{
			name:  "vtodo due only",
			ics:   "BEGIN:VTODO\nUID:1\nDUE:20260111T090000Z\nEND:VTODO",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260111T090000Z/20260111T090000Z"},
		},
		{
			name:  "vtodo undated has no instance",
			ics:   "BEGIN:VTODO\nUID:1\nSUMMARY:x\nEND:VTODO",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: nil,
		},
		{
			name:  "vjournal date",
			ics:   "BEGIN:VJOURNAL\nUID:1\nDTSTART;VALUE=DATE:20260110\nEND:VJOURNAL",
			start: "20250101T000000Z", end: "20270101T000000Z",
			want: []string{"20260110T000000Z/20260111T000000Z"},
		},
		{
			name:  "unbounded far from dtstart",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:19900101T090000\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH\nEND:VEVENT",
			start: "20260101T000000Z", end: "20260115T000000Z",
			// 2025-12-29 starts week 1878 after 1990-01-01: an even one.
			want: []string{"20260101T080000Z/20260101T090000Z", "20260113T080000Z/20260113T090000Z"},
		},
		{
			name:  "long event from before the window",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART:20000101T000000Z\nDURATION:P20D\nRRULE:FREQ=MONTHLY\nEND:VEVENT",
			start: "20260115T000000Z", end: "20260116T000000Z",
			want: []string{"20260101T000000Z/20260121T000000Z"},
		},
		{
			name:  "yearly birthday from 1604",
			ics:   "BEGIN:VEVENT\nUID:1\nDTSTART;VALUE=DATE:16040315\nRRULE:FREQ=YEARLY\nEND:VEVENT",
			start: "20260101T000000Z", end: "20270101T000000Z",
			want: []string{"20260315T000000Z/20260316T000000Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := parse(t, tt.ics)
			opts := &Options{Floating: tt.floating}
			if err := Validate(cal, opts); err != nil {
				t.Fatalf("Validate = %v", err)
			}
			ins, err := Expand(cal, ts(t, tt.start), ts(t, tt.end), opts)
			if err != nil {
				t.Fatalf("Expand = %v", err)
			}
			if got := spans(ins); !slices.Equal(got, tt.want) {
				t.Errorf("Expand =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestInstanceFields(t *testing.T) {
	cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n"+
		"BEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260102T090000Z\nDTSTART:20260102T090000Z\nDURATION:PT2H\nSTATUS:CANCELLED\nEND:VEVENT\n"+
		"BEGIN:VEVENT\nUID:2\nDTSTART;VALUE=DATE:20260101\nEND:VEVENT")
	ins, err := Expand(cal, time.Time{}, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 4 {
		t.Fatalf("Expand = %d instances, want 4: %q", len(ins), spans(ins))
	}
	allDay, first, cancelled, third := ins[0], ins[1], ins[2], ins[3]
	if !allDay.AllDay || !allDay.RecurrenceID.IsZero() || allDay.HasEnd {
		t.Errorf("all-day instance = %+v", allDay)
	}
	if !first.HasEnd || !first.HasStart || first.HasDuration || !first.RecurrenceID.Equal(ts(t, "20260101T090000Z")) {
		t.Errorf("first instance = %+v", first)
	}
	if s, _ := cancelled.Component.Props.Text(ical.PropStatus); s != "CANCELLED" || !cancelled.HasDuration || !cancelled.RecurrenceID.Equal(ts(t, "20260102T090000Z")) {
		t.Errorf("cancelled override = %+v", cancelled)
	}
	if !third.RecurrenceID.Equal(ts(t, "20260103T090000Z")) {
		t.Errorf("third instance = %+v", third)
	}
}

func TestSelect(t *testing.T) {
	cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nRRULE:FREQ=DAILY\nEND:VEVENT\n"+
		"BEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260102T090000Z\nDTSTART:20260102T120000Z\nDTEND:20260102T130000Z\nTRANSP:TRANSPARENT\nEND:VEVENT")
	override := cal.Children[1]
	opts := &Options{Select: func(c *ical.Component) bool { return c == override }}
	ins, err := Expand(cal, time.Time{}, time.Time{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := spans(ins); !slices.Equal(got, []string{"20260102T120000Z/20260102T130000Z"}) {
		t.Errorf("Expand with Select = %q", got)
	}
}

func TestSamples(t *testing.T) {
	tests := []struct {
		file       string
		start, end string
		want       []string
	}{
		{
			// BYSETPOS every other month, DTSTART off the rule and
			// excluded, EXDATEs, an override on the same time.
			file: "caldavtester-recurrenceput-25.ics", start: "20150101T000000Z", end: "20160201T000000Z",
			want: []string{"20150731T200000Z/20150731T204500Z", "20150930T200000Z/20150930T204500Z", "20151130T210000Z/20151130T214500Z", "20160129T210000Z/20160129T214500Z"},
		},
		{
			// An override whose RECURRENCE-ID matches no instance is an
			// instance of its own; a cancelled one is still listed.
			file: "caldavtester-recurrenceput-23.ics", start: "20270101T000000Z", end: "20270210T000000Z",
			want: []string{"20270101T170000Z/20270101T180000Z", "20270108T170000Z/20270108T180000Z", "20270115T170000Z/20270115T180000Z", "20270122T170000Z/20270122T180000Z", "20270129T170000Z/20270129T180000Z", "20270202T170000Z/20270202T180000Z", "20270205T170000Z/20270205T180000Z"},
		},
		{
			file: "caldavtester-reports-put-23.ics", start: "20281119T000000Z", end: "20281122T000000Z",
			want: []string{"20281119T150000Z/20281119T160000Z", "20281119T170000Z/20281119T180000Z", "20281121T150000Z/20281121T160000Z"},
		},
		{
			file: "caldavtester-reports-put-24.ics", start: "20280101T000000Z", end: "20300101T000000Z",
			want: []string{"20290102T170000Z/20290102T180000Z", "20290103T170000Z/20290103T180000Z", "20290104T170000Z/20290104T180000Z"},
		},
		{
			file: "radicale-event_mixed_recurrence_id_dt_type.ics", start: "20060101T000000Z", end: "20070101T000000Z",
			want: []string{"20060102T120000Z/20060102T130000Z", "20060103T140000Z/20060103T150000Z", "20060104T120000Z/20060104T130000Z"},
		},
		{
			file: "radicale-event_mixed_datetime_and_date.ics", start: "20130101T000000Z", end: "20140101T000000Z",
			want: []string{"20130901T160000Z/20130901T170000Z", "20130903T160000Z/20130903T170000Z"},
		},
		{
			file: "radicale-event_rdate_period_start_duration_multi.ics", start: "20000101T000000Z", end: "20000110T000000Z",
			want: []string{"20000101T000000Z/20000101T010000Z", "20000102T000000Z/20000102T020000Z", "20000108T000000Z/20000108T010000Z"},
		},
		{
			// Windows TZID (with an Outlook VTIMEZONE) and a floating
			// EXDATE meant in DTSTART's zone.
			file: "radicale-event_issue2151.ics", start: "20260327T000000Z", end: "20260411T000000Z",
			want: []string{"20260327T100000Z/20260327T110000Z", "20260410T090000Z/20260410T100000Z"},
		},
		{
			// TZID "GMT +0100 (Standard) / GMT +0200 (Daylight)": only its
			// VTIMEZONE says what it is.
			file: "icalendar-issue_165_missing_event.ics", start: "20150703T000000Z", end: "20150707T000000Z",
			want: []string{"20150703T080000Z/20150703T083000Z", "20150706T080000Z/20150706T083000Z"},
		},
		{
			// A THISANDFUTURE override without its master, carrying RDATE
			// PERIODs in a VTIMEZONE-only zone.
			file: "icalendar-issue_156_RDATE_with_PERIOD_TZID_khal_2.ics", start: "20211101T000000Z", end: "20220301T000000Z",
			want: []string{"20211101T150000Z/20211101T153000Z", "20211206T150000Z/20211206T153000Z", "20220103T150000Z/20220103T153000Z", "20220207T150000Z/20220207T153000Z"},
		},
		{
			// Brazil/East: an IANA alias, found before the object's
			// outdated VTIMEZONE (Brazil dropped DST in 2019).
			file: "caldavtester-timezones-4.ics", start: "20260101T000000Z", end: "20270101T000000Z",
			want: []string{"20260402T150000Z/20260402T160000Z"},
		},
		{
			// A DATE value with a (meaningless) TZID, and UNTIL in 7006.
			file: "radicale-event_full_day_rrule_until_5000y.ics", start: "20260101T000000Z", end: "20260103T000000Z",
			want: []string{"20260101T000000Z/20260102T000000Z", "20260102T000000Z/20260103T000000Z"},
		},
		{
			// TZID "Mitteleuropäische Zeit " (trailing space), VTIMEZONE only.
			file: "radicale-event_issue2172.ics", start: "20260101T000000Z", end: "20270101T000000Z",
			want: []string{"20260701T150000Z/20260701T163000Z"},
		},
		{
			file: "icalendar-issue_218_bad_tzid.ics", start: "20170101T000000Z", end: "20180101T000000Z",
			want: []string{"20170228T120000Z/20170228T123000Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			cal := sample(t, tt.file)
			if err := Validate(cal, nil); err != nil {
				t.Fatalf("Validate = %v", err)
			}
			ins, err := Expand(cal, ts(t, tt.start), ts(t, tt.end), nil)
			if err != nil {
				t.Fatalf("Expand = %v", err)
			}
			if got := spans(ins); !slices.Equal(got, tt.want) {
				t.Errorf("Expand =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestVTimezoneZone(t *testing.T) {
	cal := sample(t, "icalendar-issue_165_missing_event.ics")
	loc, err := LoadLocation("GMT +0100 (Standard) / GMT +0200 (Daylight)", cal)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t    time.Time
		want int
	}{
		{time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), 3600},
		{time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC), 7200},
		{time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC), 3600},
		{time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), 7200},
		{time.Date(2026, 10, 25, 0, 59, 59, 0, time.UTC), 7200},
		{time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC), 3600},
		{time.Date(2180, 7, 1, 0, 0, 0, 0, time.UTC), 7200},
	} {
		if _, off := c.t.In(loc).Zone(); off != c.want {
			t.Errorf("offset at %v = %d, want %d", c.t, off, c.want)
		}
	}
}

func TestLoadLocation(t *testing.T) {
	tests := []struct{ tzid, want string }{
		{"Europe/Berlin", "Europe/Berlin"},
		{" Europe/Berlin ", "Europe/Berlin"},
		{"/mozilla.org/20050126_1/America/New_York", "America/New_York"},
		{"/softwarestudio.org/Olson_20011030_5/America/New_York", "America/New_York"},
		{"/freeassociation.sourceforge.net/Tzfile/Europe/London", "Europe/London"},
		{"posix/Europe/Vaduz", "Europe/Vaduz"},
		{"America/Los Angeles", "America/Los_Angeles"},
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"Eastern Standard Time", "America/New_York"},
		{"Pacific Standard Time", "America/Los_Angeles"},
		{"GMT Standard Time", "Europe/London"},
		{"Romance Standard Time", "Europe/Paris"},
		{"Central Europe Standard Time", "Europe/Budapest"},
		{"AUS Eastern Standard Time", "Australia/Sydney"},
		{"Tokyo Standard Time", "Asia/Tokyo"},
		{"India Standard Time", "Asia/Calcutta"},
		{"China Standard Time", "Asia/Shanghai"},
		{"Central Standard Time", "America/Chicago"},
		{"Mountain Standard Time", "America/Denver"},
		{"UTC", "UTC"},
	}
	for _, tt := range tests {
		loc, err := LoadLocation(tt.tzid, nil)
		if err != nil {
			t.Errorf("LoadLocation(%q) = %v", tt.tzid, err)
			continue
		}
		want := mustLoc(t, tt.want)
		for _, at := range []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)} {
			_, got := at.In(loc).Zone()
			_, w := at.In(want).Zone()
			if got != w {
				t.Errorf("LoadLocation(%q) offset at %v = %d, want %d", tt.tzid, at, got, w)
			}
		}
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd", "custom_America/New_York", "Bogus"} {
		if _, err := LoadLocation(bad, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("LoadLocation(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestUnknownTZID(t *testing.T) {
	cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Mars/Olympus:20260101T090000\nEND:VEVENT")
	if err := Validate(cal, nil); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Errorf("Validate = %v, want ErrInvalid naming the TZID", err)
	}
	if _, err := Expand(cal, time.Time{}, time.Time{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Expand = %v, want ErrInvalid", err)
	}
	if _, _, _, err := Bounds(cal, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Bounds = %v, want ErrInvalid", err)
	}
}

func TestRejected(t *testing.T) {
	many := make([]string, MaxDates+1)
	for i := range many {
		many[i] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("20060102T150405Z")
	}
	tests := []struct {
		name string
		body string // inside a VEVENT with DTSTART:20260101T000000Z
		want error
	}{
		{"secondly", "RRULE:FREQ=SECONDLY;INTERVAL=2;BYSECOND=1", ErrInvalid},
		{"minutely small interval", "RRULE:FREQ=MINUTELY", ErrInvalid},
		{"minutely unreachable", "RRULE:FREQ=MINUTELY;INTERVAL=30;BYMINUTE=7", ErrInvalid},
		{"negative count", "RRULE:FREQ=DAILY;COUNT=-1", ErrInvalid},
		{"zero count", "RRULE:FREQ=DAILY;COUNT=0", ErrInvalid},
		{"count beyond cap", "RRULE:FREQ=DAILY;COUNT=10001", ErrTooManyInstances},
		{"zero interval", "RRULE:FREQ=DAILY;INTERVAL=0", ErrInvalid},
		{"huge interval", "RRULE:FREQ=DAILY;INTERVAL=9223372036854775807", ErrInvalid},
		{"hourly unreachable byhour", "RRULE:FREQ=HOURLY;INTERVAL=2;BYHOUR=1", ErrInvalid},
		{"impossible date", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", ErrInvalid},
		{"impossible date with until", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;UNTIL=20270101T000000Z", ErrInvalid},
		{"impossible hourly date", "RRULE:FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31", ErrInvalid},
		{"impossible setpos", "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", ErrInvalid},
		{"daily interval never on tuesday", "RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=TU", ErrInvalid},
		{"ordinal beyond month", "RRULE:FREQ=MONTHLY;BYDAY=-10MO", ErrInvalid},
		{"byeaster", "RRULE:FREQ=YEARLY;BYEASTER=1000", ErrInvalid},
		{"bad byday", "RRULE:FREQ=WEEKLY;BYDAY=XX", ErrInvalid},
		{"no freq", "RRULE:COUNT=3", ErrInvalid},
		{"too many times a day", "RRULE:FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55", ErrInvalid},
		{"bad rdate", "RDATE:2026XX01T000000Z", ErrInvalid},
		{"rdate year", "RDATE:25000101T000000Z", ErrInvalid},
		{"too many rdates", "RDATE:" + strings.Join(many, ","), ErrTooManyInstances},
		{"too many exdates", "EXDATE:" + strings.Join(many, ","), ErrInvalid},
		{"bad duration", "DURATION:P1X", ErrInvalid},
		{"unknown exdate tzid", "EXDATE;TZID=Nowhere:20260102T000000", ErrInvalid},
		{"minutely setpos beyond set", "RRULE:FREQ=MINUTELY;COUNT=2;BYSETPOS=2", ErrInvalid},
		{"minutely negative setpos beyond set", "RRULE:FREQ=MINUTELY;COUNT=5;BYDAY=MO;BYSETPOS=-2", ErrInvalid},
		{"minutely interval setpos beyond set", "RRULE:FREQ=MINUTELY;INTERVAL=15;BYSETPOS=2", ErrInvalid},
		{"hourly setpos beyond set", "RRULE:FREQ=HOURLY;BYSETPOS=2", ErrInvalid},
		{"daily setpos beyond set", "RRULE:FREQ=DAILY;BYHOUR=9,10;BYSETPOS=3", ErrInvalid},
		{"minutely never on the right phase", "RRULE:FREQ=MINUTELY;INTERVAL=7;COUNT=2;BYHOUR=23;BYMINUTE=59;BYDAY=WE", ErrInvalid},
		{"minutely impossible day late hour", "RRULE:FREQ=MINUTELY;COUNT=2;BYHOUR=23;BYMINUTE=59;BYMONTH=2;BYMONTHDAY=30", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T000000Z\n"+tt.body+"\nEND:VEVENT")
			t0 := time.Now()
			err := Validate(cal, nil)
			if !errors.Is(err, tt.want) {
				t.Errorf("Validate = %v, want %v", err, tt.want)
			}
			if _, err := Expand(cal, ts(t, "20260101T000000Z"), ts(t, "20270101T000000Z"), nil); !errors.Is(err, tt.want) {
				t.Errorf("Expand = %v, want %v", err, tt.want)
			}
			if d := time.Since(t0); d > time.Second {
				t.Errorf("rejecting took %v", d)
			}
		})
	}
	// BYSETPOS beyond the set of a sub-daily period is refused by its
	// shape, before the probe (which would search up to the year 9999).
	for _, rule := range []string{"FREQ=MINUTELY;COUNT=2;BYSETPOS=2", "FREQ=MINUTELY;COUNT=5;BYDAY=MO;BYSETPOS=-2", "FREQ=MINUTELY;INTERVAL=15;BYSETPOS=2", "FREQ=HOURLY;BYSETPOS=2"} {
		cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nRRULE:"+rule+"\nEND:VEVENT")
		if err := Validate(cal, nil); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "BYSETPOS") {
			t.Errorf("Validate(%s) = %v, want ErrInvalid for BYSETPOS", rule, err)
		}
	}
	if err := Validate(parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:15000101T000000Z\nEND:VEVENT"), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate(year 1500) = %v, want ErrInvalid", err)
	}
}

func TestAccepted(t *testing.T) {
	for _, rule := range []string{
		"FREQ=MINUTELY;INTERVAL=15",
		"FREQ=MINUTELY;COUNT=10",
		"FREQ=HOURLY;INTERVAL=3;BYHOUR=9,12,15",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
		"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
		"FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH",
		"FREQ=WEEKLY;BYDAY=MO, TU, WE;WKST=SU",
		"freq=daily;count=3",
		"FREQ=DAILY;UNTIL=99991231T235959Z",
		"FREQ=DAILY;X-NAME=FOO;RSCALE=GREGORIAN",
		"FREQ=HOURLY;BYMINUTE=0,30;BYSETPOS=-1",
		"FREQ=MINUTELY;INTERVAL=15;BYSECOND=0,30;BYSETPOS=2",
		"FREQ=MINUTELY;INTERVAL=15;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
	} {
		cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T000000Z\nRRULE:"+rule+"\nEND:VEVENT")
		if err := Validate(cal, nil); err != nil {
			t.Errorf("Validate(%s) = %v", rule, err)
		}
		if _, err := Expand(cal, ts(t, "20260101T000000Z"), ts(t, "20260201T000000Z"), nil); err != nil {
			t.Errorf("Expand(%s) = %v", rule, err)
		}
	}
}

func TestInstanceCap(t *testing.T) {
	cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T000000Z\nRRULE:FREQ=HOURLY\nEND:VEVENT")
	t0 := time.Now()
	_, err := Expand(cal, ts(t, "20260101T000000Z"), ts(t, "20300101T000000Z"), nil)
	if !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("Expand(4 years hourly) = %v, want ErrTooManyInstances", err)
	}
	_, err = Expand(cal, ts(t, "20260101T000000Z"), ts(t, "20260201T000000Z"), &Options{MaxInstances: 100})
	if !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("Expand(month hourly, cap 100) = %v, want ErrTooManyInstances", err)
	}
	// An open end stops at the cap.
	if err := Each(cal, ts(t, "20260101T000000Z"), time.Time{}, nil, func(Instance) bool { return true }); !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("Each(open end) = %v, want ErrTooManyInstances", err)
	}
	n := 0
	if err := Each(cal, ts(t, "20260101T000000Z"), time.Time{}, nil, func(Instance) bool { n++; return n < 3 }); err != nil || n != 3 {
		t.Errorf("Each stopping early = %v after %d", err, n)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestBounds(t *testing.T) {
	tests := []struct {
		name        string
		ics         string
		first, last string
		unbounded   bool
	}{
		{"single", "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDTEND:20260101T100000Z\nEND:VEVENT", "20260101T090000Z", "20260101T100000Z", false},
		{"count", "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;COUNT=3\nEND:VEVENT", "20260101T090000Z", "20260115T100000Z", false},
		{"until", "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=20260110T235959Z\nEND:VEVENT", "20260101T090000Z", "20260110T100000Z", false},
		{"unbounded", "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY\nEND:VEVENT", "20260101T090000Z", "", true},
		{"override and rdate widen", "BEGIN:VEVENT\nUID:1\nDTSTART:20260105T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=3\nRDATE:20260201T090000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:1\nRECURRENCE-ID:20260105T090000Z\nDTSTART:20260101T090000Z\nDURATION:PT1H\nEND:VEVENT", "20260101T090000Z", "20260201T100000Z", false},
		{"excluded first", "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=3\nEXDATE:20260101T090000Z\nEND:VEVENT", "20260102T090000Z", "20260103T100000Z", false},
		{"long until", "BEGIN:VEVENT\nUID:1\nDTSTART:20000101T090000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;UNTIL=20991231T090000Z\nEND:VEVENT", "20000101T090000Z", "20991231T120000Z", false},
		{"undated todo", "BEGIN:VTODO\nUID:1\nSUMMARY:x\nEND:VTODO", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, last, unb, err := Bounds(parse(t, tt.ics), nil)
			if err != nil {
				t.Fatal(err)
			}
			f := func(s string) time.Time {
				if s == "" {
					return time.Time{}
				}
				return ts(t, s)
			}
			if !first.Equal(f(tt.first)) || unb != tt.unbounded || (!tt.unbounded && !last.Equal(f(tt.last))) {
				t.Errorf("Bounds = %v, %v, %v; want %s, %s, %v", first, last, unb, tt.first, tt.last, tt.unbounded)
			}
		})
	}
}

func TestOverlaps(t *testing.T) {
	at := func(s string) time.Time { return ts(t, s) }
	ev := &ical.Component{Name: ical.CompEvent}
	todo := &ical.Component{Name: ical.CompToDo}
	s, e := at("20260101T100000Z"), at("20260101T110000Z")
	tests := []struct {
		name       string
		in         Instance
		start, end string
		want       bool
	}{
		{"event ends at range start", Instance{Start: s, End: e, Component: ev, HasEnd: true}, "20260101T110000Z", "20260101T120000Z", false},
		{"event starts at range end", Instance{Start: s, End: e, Component: ev, HasEnd: true}, "20260101T090000Z", "20260101T100000Z", false},
		{"event inside", Instance{Start: s, End: e, Component: ev, HasEnd: true}, "20260101T103000Z", "20260101T103001Z", true},
		{"zero length at range start", Instance{Start: s, End: s, Component: ev}, "20260101T100000Z", "20260101T110000Z", true},
		{"zero length at range end", Instance{Start: s, End: s, Component: ev}, "20260101T090000Z", "20260101T100000Z", false},
		{"zero duration at range start", Instance{Start: s, End: s, Component: ev, HasDuration: true}, "20260101T100000Z", "20260101T110000Z", true},
		{"zero dtend at range start", Instance{Start: s, End: s, Component: ev, HasEnd: true}, "20260101T100000Z", "20260101T110000Z", false},
		{"todo due at range end", Instance{Start: e, End: e, Component: todo, HasEnd: true}, "20260101T100000Z", "20260101T110000Z", true},
		{"todo due at range start", Instance{Start: s, End: s, Component: todo, HasEnd: true}, "20260101T100000Z", "20260101T110000Z", false},
		{"todo start+duration ends at range start", Instance{Start: s, End: e, Component: todo, HasStart: true, HasDuration: true}, "20260101T110000Z", "20260101T120000Z", true},
		{"todo start+due ends at range start", Instance{Start: s, End: e, Component: todo, HasStart: true, HasEnd: true}, "20260101T110000Z", "20260101T120000Z", false},
		{"todo start only", Instance{Start: s, End: s, Component: todo, HasStart: true}, "20260101T100000Z", "20260101T100001Z", true},
		{"open end", Instance{Start: s, End: e, Component: ev, HasEnd: true}, "20260101T103000Z", "", true},
		{"open start", Instance{Start: s, End: e, Component: ev, HasEnd: true}, "", "20260101T100000Z", false},
	}
	for _, tt := range tests {
		var start, end time.Time
		if tt.start != "" {
			start = at(tt.start)
		}
		if tt.end != "" {
			end = at(tt.end)
		}
		if got := Overlaps(tt.in, start, end); got != tt.want {
			t.Errorf("%s: Overlaps = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPropPeriods(t *testing.T) {
	cal := parse(t, "BEGIN:VFREEBUSY\nUID:1\nFREEBUSY:20260101T090000Z/PT1H,20260102T090000Z/20260102T093000Z\nEND:VFREEBUSY")
	ps, err := PropPeriods(cal.Children[0].Props.Get(ical.PropFreeBusy), cal, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Period{{at(t, "20260101T090000Z"), at(t, "20260101T100000Z")}, {at(t, "20260102T090000Z"), at(t, "20260102T093000Z")}}
	if !slices.Equal(ps, want) {
		t.Errorf("PropPeriods = %v, want %v", ps, want)
	}
}

func at(t testing.TB, s string) time.Time { return ts(t, s) }

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"-PT15M": -15 * time.Minute, "P1DT12H": 36 * time.Hour, "P2W": 14 * 24 * time.Hour, "+PT1H30M5S": time.Hour + 30*time.Minute + 5*time.Second, "P1DT": 24 * time.Hour, "-P2WT": -14 * 24 * time.Hour} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "P", "PT", "1H", "P1H", "PT1D", "P99999999999D", "P1DTT", "P1DT1", "-PT"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", s)
		}
	}
}

// many returns n VEVENTs with distinct UIDs, each with the given body.
func many(n int, body string) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("BEGIN:VEVENT\nUID:" + strconv.Itoa(i) + "\n" + body + "\nEND:VEVENT\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestBudgetPerCall(t *testing.T) {
	// Each master alone stays well within the budget; together they do
	// not, and one call may not examine them all.
	cal := parse(t, many(10, "DTSTART:20200101T000000Z\nRRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=500"))
	opts := &Options{MaxInstances: 600} // a budget of 3200 rule occurrences
	if _, err := Expand(cal, ts(t, "20300101T000000Z"), ts(t, "20310101T000000Z"), opts); !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("Expand = %v, want ErrTooManyInstances", err)
	}
	if err := Validate(cal, &Options{MaxInstances: 4999}); !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("Validate(COUNT total 5000, cap 4999) = %v, want ErrTooManyInstances", err)
	}
	if err := Validate(cal, &Options{MaxInstances: 5000}); err != nil {
		t.Errorf("Validate(COUNT total 5000, cap 5000) = %v", err)
	}
	rd := parse(t, many(3, "DTSTART:20200101T000000Z\nRRULE:FREQ=DAILY;COUNT=40\nRDATE:20300101T000000Z,20300102T000000Z"))
	if err := Validate(rd, &Options{MaxInstances: 125}); !errors.Is(err, ErrTooManyInstances) {
		t.Errorf("Validate(COUNT+RDATE total 126, cap 125) = %v, want ErrTooManyInstances", err)
	}
	// Bounds shares the budget too, and says so rather than guess.
	_, _, unb, err := Bounds(cal, opts)
	if err != nil || !unb {
		t.Errorf("Bounds = unbounded %v, %v; want an open end", unb, err)
	}
}

func TestBoundsStopsShort(t *testing.T) {
	tests := []struct {
		name, body string
		instance   string // the end of a real instance that last must not precede
	}{
		{"rdate after until", "RRULE:FREQ=MINUTELY;INTERVAL=15;UNTIL=20270101T000000Z\nRDATE:20300101T120000Z", "20300101T120000Z"},
		{"count rule beside until", "RRULE:FREQ=MINUTELY;INTERVAL=15;UNTIL=20270101T000000Z\nRRULE:FREQ=YEARLY;COUNT=5\nRDATE:20300101T120000Z", "20300101T000000Z"},
		{"two count rules", "RRULE:FREQ=DAILY;COUNT=10000\nRRULE:FREQ=DAILY;COUNT=10000;BYHOUR=12", "20530519T120000Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T000000Z\n"+tt.body+"\nEND:VEVENT")
			first, last, unb, err := Bounds(cal, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !first.Equal(ts(t, "20260101T000000Z")) {
				t.Errorf("first = %v", first)
			}
			if !unb && last.Before(ts(t, tt.instance)) {
				t.Errorf("last = %v before the instance at %s", last, tt.instance)
			}
		})
	}
}

func TestDurationTrailingT(t *testing.T) {
	cal := parse(t, "BEGIN:VEVENT\nUID:1\nDTSTART:20260101T090000Z\nDURATION:P1DT\nEND:VEVENT")
	if err := Validate(cal, nil); err != nil {
		t.Fatalf("Validate(DURATION:P1DT) = %v", err)
	}
	ins, err := Expand(cal, time.Time{}, time.Time{}, nil)
	if want := []string{"20260101T090000Z/20260102T090000Z"}; err != nil || !slices.Equal(spans(ins), want) {
		t.Errorf("Expand = %v, %v; want %v", spans(ins), err, want)
	}
}

func TestDSTGap(t *testing.T) {
	newYork := mustLoc(t, "America/New_York")
	tests := []struct {
		name     string
		ics      string
		floating *time.Location
		want     []string
	}{
		// RFC 5545 §3.3.5: 02:30 does not exist that day; it is 03:30 EDT.
		{"rfc example west", "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20070311T023000\nEND:VEVENT", nil, []string{"20070311T073000Z/20070311T073000Z"}},
		{"east", "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Berlin:20260329T023000\nEND:VEVENT", nil, []string{"20260329T013000Z/20260329T013000Z"}},
		{"floating west", "BEGIN:VEVENT\nUID:1\nDTSTART:20070311T023000\nEND:VEVENT", newYork, []string{"20070311T073000Z/20070311T073000Z"}},
		{"duration into the gap", "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20070310T023000\nDURATION:P1D\nEND:VEVENT", nil, []string{"20070310T073000Z/20070311T073000Z"}},
		{"dtend in the gap", "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20070311T010000\nDTEND;TZID=America/New_York:20070311T023000\nEND:VEVENT", nil, []string{"20070311T060000Z/20070311T073000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := Expand(parse(t, tt.ics), time.Time{}, time.Time{}, &Options{Floating: tt.floating})
			if err != nil || !slices.Equal(spans(ins), tt.want) {
				t.Errorf("Expand = %v, %v; want %v", spans(ins), err, tt.want)
			}
		})
	}
}

func TestRuleAcrossDSTStart(t *testing.T) {
	tests := []struct {
		name, ics string
		want      []string
	}{
		// DST starts at local midnight: rrule-go's date arithmetic in the
		// zone used to lose 6 September.
		{"santiago midnight", "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/Santiago:20260823T100000\nRRULE:FREQ=WEEKLY;BYDAY=SU,SA;COUNT=6\nEND:VEVENT",
			[]string{"20260823T140000Z/20260823T140000Z", "20260829T140000Z/20260829T140000Z", "20260830T140000Z/20260830T140000Z", "20260905T140000Z/20260905T140000Z", "20260906T130000Z/20260906T130000Z", "20260912T130000Z/20260912T130000Z"}},
		// A rule instance in the gap takes the offset before it.
		{"new york gap", "BEGIN:VEVENT\nUID:1\nDTSTART;TZID=America/New_York:20070310T023000\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT",
			[]string{"20070310T073000Z/20070310T073000Z", "20070311T073000Z/20070311T073000Z", "20070312T063000Z/20070312T063000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := Expand(parse(t, tt.ics), time.Time{}, time.Time{}, nil)
			if err != nil || !slices.Equal(spans(ins), tt.want) {
				t.Errorf("Expand = %v, %v; want %v", spans(ins), err, tt.want)
			}
		})
	}
}
