package freebusy

import (
	"errors"
	"testing"
	"time"
)

func TestFreeSlotsErrors(t *testing.T) {
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	if _, err := FreeSlots(nil, start, start, 0, nil); !errors.Is(err, ErrInvalidWindow) {
		t.Errorf("FreeSlots(empty window) error = %v, want ErrInvalidWindow", err)
	}
	for _, wh := range []WorkHours{
		{From: 17 * time.Hour, To: 9 * time.Hour},
		{From: 9 * time.Hour, To: 9 * time.Hour},
		{From: -time.Hour, To: 9 * time.Hour},
		{From: 9 * time.Hour, To: 25 * time.Hour},
	} {
		if _, err := FreeSlots(nil, start, start.Add(time.Hour), 0, &wh); !errors.Is(err, ErrInvalidWorkHours) {
			t.Errorf("FreeSlots(%+v) error = %v, want ErrInvalidWorkHours", wh, err)
		}
	}
}

// Working hours around the clock join across midnight: a free slot is
// maximal, so two free days in a row are one slot of 48 hours.
func TestFreeSlotsAcrossMidnight(t *testing.T) {
	all := [7]bool{true, true, true, true, true, true, true}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	end := start.Add(72 * time.Hour)
	busy := []Period{{Start: end.Add(-24 * time.Hour), End: end, Type: FBTypeBusy}}
	wh := &WorkHours{Loc: time.UTC, Days: all, From: 0, To: 24 * time.Hour}
	got, err := FreeSlots(busy, start, end, 36*time.Hour, wh)
	if err != nil {
		t.Fatal(err)
	}
	want := []Period{{Start: start, End: start.Add(48 * time.Hour), Type: FBTypeFree}}
	if formatPeriods(got) != formatPeriods(want) {
		t.Errorf("FreeSlots(00:00-24:00 every day, 36h) =\n%swant\n%s", formatPeriods(got), formatPeriods(want))
	}
}

func TestFreeSlotsWorkHoursDST(t *testing.T) {
	// 09:00-17:00 Europe/Berlin on the weekend of the spring change and the
	// Monday after: 08-16Z on Saturday 28 March, 07-15Z from Sunday.
	days := [7]bool{time.Saturday: true, time.Sunday: true, time.Monday: true}
	start := time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)
	end := start.Add(72 * time.Hour)
	busy := []Period{
		{Start: time.Date(2026, 3, 29, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 29, 11, 0, 0, 0, time.UTC), Type: FBTypeBusyTentative},
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := FreeSlots(busy, start, end, time.Hour, &WorkHours{Loc: berlin, Days: days, From: 9 * time.Hour, To: 17 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want := "20260328T080000Z/20260328T160000Z FREE\n" +
		"20260329T070000Z/20260329T100000Z FREE\n" +
		"20260329T110000Z/20260329T150000Z FREE\n" +
		"20260330T070000Z/20260330T150000Z FREE\n"
	if g := formatPeriods(got); g != want {
		t.Errorf("FreeSlots(09-17 Berlin, 28-30 March) =\n%swant\n%s", g, want)
	}
}
