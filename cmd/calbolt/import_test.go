package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calbolt/calbolt/ics"
)

var corpusDir = filepath.Join("..", "..", "testdata", "import")

func TestImportExportDirect(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "alice-password\n", "user", "add", "alice", "--data", dir)
	google := filepath.Join(corpusDir, "google.ics")
	imp := []string{"import", "--data", dir, "--user", "alice"}

	res := calbolt(t, "", nil, append(imp, "--calendar", "team", google)...)
	if res.code != 1 || !strings.Contains(res.stderr, `no calendar "team"`) || !strings.Contains(res.stderr, "--create") {
		t.Fatalf("import into a missing calendar: exit %d, stderr %q; want 1 and a hint at --create", res.code, res.stderr)
	}
	res = mustRun(t, "", append(imp, "--calendar", "team", "--create", "--dry-run", google)...)
	if !strings.Contains(res.stdout, `8 objects would import into "team": 8 created`) {
		t.Fatalf("dry run printed:\n%s", res.stdout)
	}
	res = mustRun(t, "", append(imp, "--calendar", "team", "--create", google)...)
	if !strings.Contains(res.stdout, `8 objects imported into "team": 8 created, 0 updated, 0 unchanged; 0 rejected`) ||
		!strings.Contains(res.stdout, `created the calendar "team"`) {
		t.Fatalf("import printed:\n%s", res.stdout)
	}
	// Standard input, JSON: the same file again changes nothing.
	data, err := os.ReadFile(google)
	if err != nil {
		t.Fatal(err)
	}
	var rep ics.Report
	out := mustRun(t, string(data), append(imp, "--calendar", "team", "--json", "-")...).stdout
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Unchanged != 8 || rep.Created != 0 {
		t.Fatalf("import from stdin again = %+v (%v), want 8 unchanged\n%s", rep, err, out)
	}

	// A directory: rejections name the file and line, the run goes on.
	res = mustRun(t, "", append(imp, "--calendar", "personal", corpusDir)...)
	if !strings.Contains(res.stdout, "rejected "+filepath.Join(corpusDir, "radicale-broken-vevents.ics")+":17:") {
		t.Fatalf("directory import printed:\n%s", res.stdout)
	}
	// --strict: one rejection and nothing is written.
	before := calendarObjects(t, dir, "personal")
	res = calbolt(t, "", nil, append(imp, "--calendar", "personal", "--strict", filepath.Join(corpusDir, "radicale-broken-vevents.ics"), filepath.Join(corpusDir, "thunderbird.ics"))...)
	if res.code != 1 || !strings.Contains(res.stderr, "strict") {
		t.Fatalf("strict import: exit %d, stderr %q; want 1", res.code, res.stderr)
	}
	if after := calendarObjects(t, dir, "personal"); after != before {
		t.Fatalf("a failed strict import changed the object count from %d to %d", before, after)
	}

	out2 := filepath.Join(t.TempDir(), "team.ics")
	mustRun(t, "", "export", "--data", dir, "--user", "alice", "--calendar", "team", "-o", out2)
	exported, err := os.ReadFile(out2)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(exported), "BEGIN:VEVENT"); n != 10 || !strings.Contains(string(exported), "X-WR-CALNAME:Team Berlin\r\n") {
		t.Fatalf("export holds %d VEVENTs (want 10):\n%s", n, exported)
	}
	// What calbolt exports, calbolt imports: the same 8 objects. (Updated,
	// not unchanged: each now carries calbolt's PRODID, not Google's.)
	res = mustRun(t, "", append(imp, "--calendar", "team", out2)...)
	if !strings.Contains(res.stdout, "8 objects imported into \"team\": 0 created, 8 updated, 0 unchanged; 0 rejected") {
		t.Fatalf("re-import of the export printed:\n%s", res.stdout)
	}
}

func calendarObjects(t *testing.T, dir, calendar string) int {
	t.Helper()
	db := openTestStore(t, dir)
	defer db.Close()
	c, err := db.Calendar("alice", calendar)
	if err != nil {
		t.Fatal(err)
	}
	return c.Objects
}

func TestImportExportURL(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "alice-password\n", "user", "add", "alice", "--data", dir)
	s := startServer(t, dir)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("alice-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	remote := []string{"--url", s.url, "--user", "alice", "--calendar", "personal", "--password-file", pw}

	// With the server running, direct mode says what to do.
	res := calbolt(t, "", nil, "import", "--data", dir, "--user", "alice", "--calendar", "personal", filepath.Join(corpusDir, "google.ics"))
	if res.code != 1 || !strings.Contains(res.stderr, "--url") {
		t.Fatalf("direct import next to a server: exit %d, stderr %q", res.code, res.stderr)
	}
	// Two files in one request: lines are reported per file.
	res = mustRun(t, "", append(append([]string{"import"}, remote...),
		filepath.Join(corpusDir, "outlook.ics"), filepath.Join(corpusDir, "radicale-broken-vevents.ics"))...)
	if !strings.Contains(res.stdout, "4 objects imported into \"personal\": 4 created") ||
		!strings.Contains(res.stdout, "rejected "+filepath.Join(corpusDir, "radicale-broken-vevents.ics")+":17:") {
		t.Fatalf("import --url printed:\n%s", res.stdout)
	}
	res = mustRun(t, "", append(append([]string{"import"}, remote...), filepath.Join(corpusDir, "outlook.ics"))...)
	if !strings.Contains(res.stdout, "0 created, 0 updated, 3 unchanged") {
		t.Fatalf("second import --url printed:\n%s", res.stdout)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("wrong-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res = calbolt(t, "", nil, "import", "--url", s.url, "--user", "alice", "--calendar", "personal", "--password-file", wrong, filepath.Join(corpusDir, "apple.ics"))
	if res.code != 1 || !strings.Contains(res.stderr, "401") {
		t.Fatalf("import --url with a wrong password: exit %d, stderr %q; want 1 and the 401", res.code, res.stderr)
	}
	out := mustRun(t, "", append([]string{"export"}, remote...)...).stdout
	if n := strings.Count(out, "BEGIN:VEVENT"); n != 5 || !strings.Contains(out, "TZID:Europe/Berlin") {
		t.Fatalf("export --url holds %d VEVENTs (want 5):\n%s", n, out)
	}
	s.stop()
	if n := calendarObjects(t, dir, "personal"); n != 4 {
		t.Fatalf("the store holds %d objects after the imports, want 4", n)
	}
}
