package ics

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"github.com/calbolt/calbolt/internal/recur"
)

// corpus lists testdata/import (see testdata/SOURCES.md) with what an
// import of each file must give.
var corpus = []struct {
	file              string
	objects, rejected int
	repairs           []string
	roundTrip         bool // every component must come back from an export
	calName, calZone  string
}{
	{file: "google.ics", objects: 8, roundTrip: true, repairs: []string{RepairMethod}, calName: "Team Berlin", calZone: "Europe/Berlin"},
	{file: "outlook.ics", objects: 3, roundTrip: true, calName: "Kalender",
		repairs: []string{RepairMethod, RepairWindowsTZID, RepairTZIDSpaces, RepairDTSTAMP, RepairEmptyLines}},
	{file: "apple.ics", objects: 3, roundTrip: true, calName: "Home", calZone: "America/New_York"},
	{file: "nextcloud.ics", objects: 3, roundTrip: true, calName: "Projekte"},
	{file: "radicale.ics", objects: 2, roundTrip: true},
	{file: "thunderbird.ics", objects: 1, roundTrip: true},
	{file: "icalendar-alarm_google_future.ics", objects: 1, roundTrip: true, repairs: []string{RepairMethod}},
	{file: "icalendar-alarm_thunderbird_snoozed_until_1457.ics", objects: 1, roundTrip: true},
	{file: "radicale-event_daily_rrule_overridden.ics", objects: 1, roundTrip: true},
	{file: "radicale-todo1.ics", objects: 1, roundTrip: true},
	// Events without DTSTART: refused one by one, with their lines.
	{file: "icalendar-issue_1050_multiple_calendars.ics", objects: 0, rejected: 2},
	{file: "radicale-broken-vevents.ics", objects: 1, rejected: 1},
}

func readInput(t *testing.T, file string) Input {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "import", file))
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: file, R: bytes.NewReader(data), Size: int64(len(data))}
}

func TestCorpus(t *testing.T) {
	for _, tc := range corpus {
		t.Run(tc.file, func(t *testing.T) {
			db := openStore(t)
			in := readInput(t, tc.file)
			rep, err := Import(context.Background(), db, "alice", "imported", []Input{in}, &Options{Create: true})
			if err != nil && tc.objects > 0 {
				t.Fatalf("Import: %v", err)
			}
			if rep.Objects != tc.objects || rep.Created != tc.objects || rep.Rejected != tc.rejected {
				t.Fatalf("report = %+v\nwant %d objects created, %d rejected", rep, tc.objects, tc.rejected)
			}
			for _, r := range tc.repairs {
				if rep.Repairs[r] == 0 {
					t.Errorf("repair %q missing from %v", r, rep.Repairs)
				}
			}
			for _, rej := range rep.Rejections {
				if rej.Line == 0 || rej.Reason == "" {
					t.Errorf("rejection without line or reason: %+v", rej)
				}
			}
			if tc.objects == 0 {
				return
			}
			cal, err := db.Calendar("alice", "imported")
			if err != nil {
				t.Fatal(err)
			}
			if cal.Objects != tc.objects {
				t.Errorf("calendar holds %d objects, want %d", cal.Objects, tc.objects)
			}
			if tc.calName != "" && cal.DisplayName != tc.calName {
				t.Errorf("calendar name %q, want X-WR-CALNAME %q", cal.DisplayName, tc.calName)
			}
			if tc.calZone != "" && !strings.Contains(cal.Timezone, "TZID:"+tc.calZone+"\r\n") {
				t.Errorf("calendar time zone %q, want %s", cal.Timezone, tc.calZone)
			}
			again, err := Import(context.Background(), db, "alice", "imported", []Input{in}, nil)
			if err != nil || again.Unchanged != tc.objects || again.Created+again.Updated != 0 {
				t.Fatalf("second import = %+v, %v; want %d unchanged", again, err, tc.objects)
			}
		})
	}
}

// TestRoundTrip imports each clean corpus file, exports the calendar and
// compares every component semantically with the original: UID,
// RECURRENCE-ID, DTSTART/DTEND with their TZID, RRULE/RDATE/EXDATE,
// SUMMARY, DESCRIPTION, LOCATION, ATTENDEE with all parameters, VALARM,
// X- properties — every property and parameter, in fact, with only the
// documented repairs applied to the original (TZIDs trimmed and mapped
// from Windows names, DTSTAMP added).
func TestRoundTrip(t *testing.T) {
	for _, tc := range corpus {
		if !tc.roundTrip {
			continue
		}
		t.Run(tc.file, func(t *testing.T) {
			db := openStore(t)
			in := readInput(t, tc.file)
			if _, err := Import(context.Background(), db, "alice", "rt", []Input{in}, &Options{Create: true}); err != nil {
				t.Fatal(err)
			}
			cal, err := db.Calendar("alice", "rt")
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Export(&out, db, "alice", cal); err != nil {
				t.Fatal(err)
			}
			exported := decodeAll(t, out.Bytes())
			if len(exported) != 1 {
				t.Fatalf("export holds %d VCALENDARs, want 1", len(exported))
			}
			if p := exported[0].Props.Get("X-WR-CALNAME"); p == nil || p.Value == "" {
				t.Errorf("export lacks X-WR-CALNAME")
			}
			got := componentsByID(exported)
			want := componentsByID(decodeAll(t, readAll(t, in)))
			if len(got) != len(want) {
				t.Errorf("export has %d components, original %d", len(got), len(want))
			}
			if len(want) == 0 {
				t.Fatal("the original has no components to compare")
			}
			for id, w := range want {
				g, ok := got[id]
				if !ok {
					t.Errorf("component %s missing from the export", id)
					continue
				}
				wl, gl := canonical(w, true), canonical(g, w.Props.Get(ical.PropDateTimeStamp) != nil)
				if !slices.Equal(wl, gl) {
					t.Errorf("component %s differs:\noriginal: %q\nexported: %q", id, wl, gl)
				}
			}
			// Every TZID used has its VTIMEZONE, once.
			zones := map[string]int{}
			for _, c := range exported[0].Children {
				if c.Name == ical.CompTimezone {
					zones[c.Props.Get(ical.PropTimezoneID).Value]++
				}
			}
			for id, n := range zones {
				if n != 1 {
					t.Errorf("VTIMEZONE %s appears %d times", id, n)
				}
			}
			for id, c := range got {
				for _, tzid := range tzids(c) {
					if zones[tzid] == 0 {
						if _, err := recur.LoadLocation(tzid, nil); err != nil {
							t.Errorf("component %s uses TZID %q without a VTIMEZONE", id, tzid)
						}
					}
				}
			}
		})
	}
}

func readAll(t *testing.T, in Input) []byte {
	b, err := io.ReadAll(io.NewSectionReader(in.R, 0, in.Size))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeAll(t *testing.T, data []byte) []*ical.Calendar {
	t.Helper()
	dec := ical.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, bom)))
	var cals []*ical.Calendar
	for {
		c, err := dec.Decode()
		if err == io.EOF {
			return cals
		}
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		cals = append(cals, c)
	}
}

// componentsByID keys the non-VTIMEZONE components by UID and
// RECURRENCE-ID.
func componentsByID(cals []*ical.Calendar) map[string]*ical.Component {
	m := map[string]*ical.Component{}
	for _, cal := range cals {
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				continue
			}
			id := c.Name + " " + c.Props.Get(ical.PropUID).Value
			if rid := c.Props.Get(ical.PropRecurrenceID); rid != nil {
				id += " " + rid.Value
			}
			m[id] = c
		}
	}
	return m
}

// canonical lists a component's properties (parameters sorted, TZIDs
// normalized as the import does) and its subcomponents, sorted.
func canonical(c *ical.Component, withStamp bool) []string {
	var out []string
	for name, props := range c.Props {
		if name == ical.PropDateTimeStamp && !withStamp {
			continue
		}
		for _, p := range props {
			var params []string
			for k, vs := range p.Params {
				for i, v := range vs {
					if k == ical.ParamTimezoneID {
						v = strings.TrimSpace(v)
						if iana, ok := recur.WindowsZone(v); ok {
							v = iana
						}
						vs[i] = v
					}
				}
				params = append(params, k+"="+strings.Join(vs, ","))
			}
			slices.Sort(params)
			out = append(out, name+";"+strings.Join(params, ";")+":"+p.Value)
		}
	}
	for _, child := range c.Children {
		out = append(out, "BEGIN:"+child.Name+"|"+strings.Join(canonical(child, true), "|"))
	}
	slices.Sort(out)
	return out
}

func tzids(c *ical.Component) []string {
	var ids []string
	for _, props := range c.Props {
		for _, p := range props {
			if v := p.Params.Get(ical.ParamTimezoneID); v != "" {
				ids = append(ids, v)
			}
		}
	}
	return ids
}

// TestExportEmpty checks an empty calendar exports as a valid VCALENDAR
// with its name.
func TestExportEmpty(t *testing.T) {
	db := openStore(t)
	cal, _ := db.Calendar("alice", "work")
	cal.DisplayName = "Work; and more, really"
	var out bytes.Buffer
	if err := Export(&out, db, "alice", cal); err != nil {
		t.Fatal(err)
	}
	cals := decodeAll(t, out.Bytes())
	if len(cals) != 1 || cals[0].Props.Get("X-WR-CALNAME").Value != `Work\; and more\, really` {
		t.Fatalf("export of an empty calendar = %q", out.String())
	}
}
