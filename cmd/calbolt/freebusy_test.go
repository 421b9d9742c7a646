package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/busytime"
)

func fbEvent(uid, start, end string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
		"\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end +
		"\r\nSUMMARY:secret-summary\r\nLOCATION:secret-location\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func decodeAnswer(t *testing.T, out string) busytime.Answer {
	t.Helper()
	var a busytime.Answer
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("freebusy JSON: %v\n%s", err, out)
	}
	if strings.Contains(out, "secret") {
		t.Fatalf("freebusy output leaks event details:\n%s", out)
	}
	return a
}

// calbolt freebusy gives the same answer on the data file and through a
// running server, and share controls what a server with
// --freebusy-visibility granted shows.
func TestFreeBusyAndShareCommands(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"alice", "bob", "carol"} {
		mustRun(t, u+"-password\n", "user", "add", u, "--data", dir)
	}
	s := startServer(t, dir)
	c := newClient()
	for i, span := range [][2]string{{"20260310T090000Z", "20260310T100000Z"}, {"20260310T093000Z", "20260310T113000Z"}} {
		resp, body := do(t, c, http.MethodPut, s.url+"dav/calendars/alice/personal/e"+string(rune('0'+i))+".ics",
			"alice", "alice-password", fbEvent("e"+string(rune('0'+i)), span[0], span[1]), map[string]string{"Content-Type": "text/calendar"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT = %d %s", resp.StatusCode, body)
		}
	}
	args := []string{"freebusy", "--json", "--start", "2026-03-10", "--end", "2026-03-11", "alice"}
	remote := decodeAnswer(t, mustRun(t, "bob-password\n", append(args, "--url", s.url, "--username", "bob")...).stdout)
	want := []busytime.PeriodJSON{{Type: "BUSY"}}
	if len(remote.Merged) != 1 || remote.Merged[0].Type != want[0].Type ||
		remote.Merged[0].Start.Format("1504") != "0900" || remote.Merged[0].End.Format("1504") != "1130" {
		t.Errorf("freebusy --url merged = %+v, want BUSY 09:00-11:30", remote.Merged)
	}
	res := calbolt(t, "wrong\n", nil, append(args, "--url", s.url, "--username", "bob")...)
	if res.code != 1 || !strings.Contains(res.stderr, "401") {
		t.Errorf("freebusy with a wrong password: exit %d, stderr %q; want 1 and the 401", res.code, res.stderr)
	}
	s.stop()

	local := decodeAnswer(t, mustRun(t, "", append(args, "--data", dir)...).stdout)
	if !slices.Equal(local.Merged, remote.Merged) {
		t.Errorf("freebusy --data merged = %+v, --url merged = %+v; want the same", local.Merged, remote.Merged)
	}
	ics := mustRun(t, "", "freebusy", "--data", dir, "--start", "2026-03-10", "--end", "2026-03-11", "alice").stdout
	if !strings.Contains(ics, "BEGIN:VFREEBUSY") || !strings.Contains(ics, "FREEBUSY;FBTYPE=BUSY:20260310T090000Z/20260310T113000Z") {
		t.Errorf("freebusy as iCalendar:\n%s", ics)
	}
	slots := decodeAnswer(t, mustRun(t, "", "freebusy", "--data", dir, "--start", "2026-03-10", "--end", "2026-03-11",
		"--duration", "PT2H", "--hours", "08:00-12:00", "--days", "TU", "alice", "bob").stdout)
	if len(slots.Slots) != 0 {
		t.Errorf("two-hour slots in 08:00-12:00 around alice's 09:00-11:30 = %+v, want none", slots.Slots)
	}
	if res := calbolt(t, "", nil, "freebusy", "--data", dir, "nobody"); res.code != 1 || !strings.Contains(res.stderr, `no user "nobody"`) {
		t.Errorf("freebusy nobody: exit %d, stderr %q", res.code, res.stderr)
	}
	if res := calbolt(t, "", nil, "freebusy", "--data", dir, "--start", "soon", "alice"); res.code != 2 || !strings.Contains(res.stderr, "start") {
		t.Errorf("freebusy --start soon: exit %d, stderr %q", res.code, res.stderr)
	}

	// Sharing.
	mustRun(t, "", "share", "--data", dir, "--owner", "alice", "--with", "bob")
	if out := mustRun(t, "", "share", "--data", dir, "--owner", "alice").stdout; !strings.Contains(out, "(all)") || !strings.Contains(out, "bob") || !strings.Contains(out, "freebusy") {
		t.Errorf("share list =\n%s\nwant bob with freebusy on all calendars", out)
	}
	if res := calbolt(t, "", nil, "share", "--data", dir, "--owner", "alice", "--with", "nobody"); res.code != 1 {
		t.Errorf("share with nobody: exit %d, stderr %q; want 1", res.code, res.stderr)
	}
	if res := calbolt(t, "", nil, "share", "--data", dir, "--owner", "alice", "--with", "bob", "--access", "read-write"); res.code != 2 {
		t.Errorf("share --access read-write: exit %d, stderr %q; want 2 (not available)", res.code, res.stderr)
	}
	s = startServer(t, dir, "--freebusy-visibility", "granted")
	if res := calbolt(t, "carol-password\n", nil, append(args, "--url", s.url, "--username", "carol")...); res.code != 1 || !strings.Contains(res.stderr, "404") {
		t.Errorf("carol without a grant: exit %d, stderr %q; want 1 and the 404", res.code, res.stderr)
	}
	granted := decodeAnswer(t, mustRun(t, "bob-password\n", append(args, "--url", s.url, "--username", "bob")...).stdout)
	if !slices.Equal(granted.Merged, remote.Merged) {
		t.Errorf("bob with a grant = %+v, want %+v", granted.Merged, remote.Merged)
	}
	s.stop()
}
