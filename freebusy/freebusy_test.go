package freebusy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

// cal decodes one VCALENDAR; a body without BEGIN:VCALENDAR is wrapped in one.
func cal(t testing.TB, body string) *ical.Calendar {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(body), "BEGIN:VCALENDAR") {
		body = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//calbolt//test//EN\n" + strings.TrimSpace(body) + "\nEND:VCALENDAR\n"
	}
	return decodeAll(t, body)[0]
}

func TestParseFBType(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want FBType
	}{
		{"FREE", FBTypeFree},
		{"free", FBTypeFree},
		{"BUSY", FBTypeBusy},
		{"BUSY-TENTATIVE", FBTypeBusyTentative},
		{" busy-unavailable ", FBTypeBusyUnavailable},
		{"", FBTypeBusy},
		{"X-OUT-OF-OFFICE", FBTypeBusy},
		{"TENTATIVE", FBTypeBusy},
	} {
		if got := ParseFBType(tc.in); got != tc.want {
			t.Errorf("ParseFBType(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestFBTypeString(t *testing.T) {
	for _, ty := range []FBType{FBTypeFree, FBTypeBusyTentative, FBTypeBusyUnavailable, FBTypeBusy} {
		if got := ParseFBType(ty.String()); got != ty {
			t.Errorf("ParseFBType(%v.String()) = %v, want %v", ty, got, ty)
		}
	}
}

func TestComputeInvalidWindow(t *testing.T) {
	c := cal(t, "BEGIN:VEVENT\nUID:1\nDTSTAMP:20260101T000000Z\nDTSTART:20260302T090000Z\nDTEND:20260302T100000Z\nEND:VEVENT")
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		start, end time.Time
	}{
		{"empty", at, at},
		{"reversed", at.Add(time.Hour), at},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Compute(c, tc.start, tc.end, nil)
			if !errors.Is(err, ErrInvalidWindow) {
				t.Errorf("Compute(%v, %v) error = %v, want ErrInvalidWindow", tc.start, tc.end, err)
			}
			if len(b.Periods) != 0 || len(b.Availability) != 0 {
				t.Errorf("Compute(%v, %v) = %v, want nothing", tc.start, tc.end, b)
			}
		})
	}
}

func TestMergeEdges(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	busy := Busy{Periods: []Period{{Start: start.Add(time.Hour), End: start.Add(2 * time.Hour), Type: FBTypeBusy}}}
	for _, tc := range []struct {
		name       string
		start, end time.Time
		in         []Busy
	}{
		{"no input", start, end, nil},
		{"empty busies", start, end, []Busy{{}, {}}},
		{"zero-length window", start, start, []Busy{busy}},
		{"reversed window", end, start, []Busy{busy}},
		{"free periods only", start, end, []Busy{{Periods: []Period{{Start: start, End: end, Type: FBTypeFree}}}}},
		{"zero-length period", start, end, []Busy{{Periods: []Period{{Start: start.Add(time.Hour), End: start.Add(time.Hour), Type: FBTypeBusy}}}}},
		{"outside the window", start, end, []Busy{{Periods: []Period{{Start: end, End: end.Add(time.Hour), Type: FBTypeBusy}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Merge(tc.start, tc.end, tc.in...); got != nil {
				t.Errorf("Merge(%v, %v, %v) = %v, want nil", tc.start, tc.end, tc.in, got)
			}
		})
	}
}

func TestMergeUTC(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	in := Busy{Periods: []Period{{Start: time.Date(2026, 3, 2, 10, 0, 0, 0, berlin), End: time.Date(2026, 3, 2, 11, 0, 0, 0, berlin), Type: FBTypeBusy}}}
	got := Merge(start.In(berlin), end.In(berlin), in)
	want := []Period{{Start: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Type: FBTypeBusy}}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("Merge(Berlin times) = %v, want %v (UTC)", got, want)
	}
}

// RFC 7953 §3.1: a VAVAILABILITY may have DTEND without DTSTART; its range
// is then open at the start and ends at DTEND.
func TestComputeAvailabilityEndOnly(t *testing.T) {
	c := cal(t, `BEGIN:VAVAILABILITY
UID:1
DTSTAMP:20260101T000000Z
DTEND:20260302T120000Z
BEGIN:AVAILABLE
UID:1a
DTSTAMP:20260101T000000Z
DTSTART:20260302T090000Z
DTEND:20260302T100000Z
END:AVAILABLE
END:VAVAILABILITY`)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	b, err := Compute(c, start, end, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := formatPeriods(Merge(start, end, b))
	want := "20260302T000000Z/20260302T090000Z BUSY-UNAVAILABLE\n20260302T100000Z/20260302T120000Z BUSY-UNAVAILABLE\n"
	if got != want {
		t.Errorf("Merge(Compute(VAVAILABILITY with DTEND only)) =\n%swant\n%s", got, want)
	}
}

func TestComponent(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	end := start.Add(24 * time.Hour)
	stamp := time.Date(2026, 3, 1, 12, 0, 0, 500, time.UTC)
	periods := []Period{
		{Start: start.Add(9 * time.Hour), End: start.Add(10 * time.Hour), Type: FBTypeBusy},
		{Start: start.Add(10 * time.Hour), End: start.Add(11*time.Hour + 30*time.Minute), Type: FBTypeBusyTentative},
		{Start: start.Add(20 * time.Hour), End: end, Type: FBTypeBusyUnavailable},
	}
	c := Component(periods, start, end, stamp)

	// Encode it in a calendar, decode it back and read the periods.
	out := ical.NewCalendar()
	out.Props.SetText(ical.PropVersion, "2.0")
	out.Props.SetText(ical.PropProductID, "-//calbolt//test//EN")
	out.Props.SetText(ical.PropMethod, "REPLY")
	out.Children = append(out.Children, c)
	var buf strings.Builder
	if err := ical.NewEncoder(&buf).Encode(out); err != nil {
		t.Fatalf("encode: %v", err)
	}
	back, err := ical.NewDecoder(strings.NewReader(buf.String())).Decode()
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.String())
	}
	fbs := back.Children
	if len(fbs) != 1 || fbs[0].Name != ical.CompFreeBusy {
		t.Fatalf("Component() decoded to %d components, want one VFREEBUSY", len(fbs))
	}
	fb := fbs[0]
	for _, tc := range []struct {
		prop string
		want time.Time
	}{
		{ical.PropDateTimeStart, start},
		{ical.PropDateTimeEnd, end},
		{ical.PropDateTimeStamp, stamp.Truncate(time.Second)},
	} {
		got, err := fb.Props.DateTime(tc.prop, nil)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Component() %s = %v (%v), want %v", tc.prop, got, err, tc.want)
		}
	}
	var got []Period
	for _, p := range fb.Props.Values(ical.PropFreeBusy) {
		s, e, ok := strings.Cut(p.Value, "/")
		if !ok {
			t.Fatalf("Component() FREEBUSY %q: not a PERIOD", p.Value)
		}
		got = append(got, Period{Start: mustUTC(t, s), End: mustUTC(t, e), Type: ParseFBType(p.Params.Get(ical.ParamFreeBusyType))})
	}
	if formatPeriods(got) != formatPeriods(periods) {
		t.Errorf("Component() periods =\n%swant\n%s", formatPeriods(got), formatPeriods(periods))
	}
	for _, name := range []string{ical.PropSummary, ical.PropLocation, ical.PropDescription, ical.PropAttendee} {
		if fb.Props.Get(name) != nil {
			t.Errorf("Component() has %s, want none", name)
		}
	}
	uid := fb.Props.Get(ical.PropUID)
	if uid == nil || uid.Value == "" {
		t.Fatal("Component() has no UID")
	}
	if again := Component(periods, start, end, stamp.Add(time.Hour)); again.Props.Get(ical.PropUID).Value != uid.Value {
		t.Errorf("Component() UID = %q then %q, want the same for the same answer", uid.Value, again.Props.Get(ical.PropUID).Value)
	}
	if other := Component(periods[:1], start, end, stamp); other.Props.Get(ical.PropUID).Value == uid.Value {
		t.Errorf("Component() UID = %q for two different answers, want different", uid.Value)
	}
	if empty := Component(nil, start, end, stamp); len(empty.Props.Values(ical.PropFreeBusy)) != 0 {
		t.Errorf("Component(nil) has FREEBUSY, want none")
	}
}
