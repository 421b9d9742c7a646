package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calbolt/calbolt/store"
)

// calbolt backup and check reach a running server through its admin socket:
// a hot, consistent copy while writes go on, checked before it is kept.
func TestOnlineBackupAndCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dir)
	password := passwordRE.FindStringSubmatch(s.log())
	if password == nil {
		t.Fatalf("no first-run password in the log:\n%s", s.log())
	}
	if fi, err := os.Stat(filepath.Join(dir, adminSocketName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v, %v; want mode 0600", fi, err)
	}
	c := newClient()
	// Writers keep going while the backups are taken.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				resp, body := do(t, c, http.MethodPut, fmt.Sprintf("%sdav/calendars/admin/personal/w%d-%d.ics", s.url, w, i), "admin", password[1],
					fbEvent(fmt.Sprintf("w%d-%d", w, i), "20260310T090000Z", "20260310T100000Z"), map[string]string{"Content-Type": "text/calendar"})
				if resp.StatusCode != http.StatusCreated {
					t.Errorf("PUT during backup = %d %s", resp.StatusCode, body)
					return
				}
				written.Add(1)
			}
		}()
	}
	for written.Load() < 20 && !t.Failed() {
		time.Sleep(10 * time.Millisecond)
	}
	backups := t.TempDir()
	for i := range 3 {
		dest := filepath.Join(backups, fmt.Sprintf("b%d.db", i))
		res := mustRun(t, "", "backup", "--data", dir, dest)
		if !strings.Contains(res.stdout, "from the running server; checked") {
			t.Errorf("backup said %q", res.stdout)
		}
		if res := mustRun(t, "", "check", dest); !strings.Contains(res.stdout, "ok") {
			t.Errorf("check %s said %q", dest, res.stdout)
		}
	}
	res := mustRun(t, "", "backup", "--data", dir, "-")
	if len(res.stdout) < 4096 {
		t.Errorf("backup to stdout wrote %d bytes", len(res.stdout))
	}
	if res := mustRun(t, "", "check", "--data", dir); !strings.Contains(res.stdout, "ok") {
		t.Errorf("check of the live store said %q", res.stdout)
	}
	stop.Store(true)
	wg.Wait()

	// The last backup is a working store holding what was acknowledged
	// before it started.
	db, err := store.Open(filepath.Join(backups, "b2.db"), &store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	infos, err := db.ObjectInfos("admin", "personal")
	db.Close()
	if err != nil || len(infos) < 20 {
		t.Errorf("the backup holds %d objects, %v; want at least the 20 written before it", len(infos), err)
	}
	s.stop()
	if _, err := os.Stat(filepath.Join(dir, adminSocketName)); !os.IsNotExist(err) {
		t.Errorf("the admin socket outlived the server: %v", err)
	}

	// A socket left by a killed server does not stop the next one.
	s = startServer(t, dir)
	s.cmd.Process.Kill()
	<-s.done
	s = startServer(t, dir)
	mustRun(t, "", "backup", "--data", dir, filepath.Join(backups, "after-kill.db"))
	s.stop()
	// Offline, backup reads the file itself.
	if res := mustRun(t, "", "backup", "--data", dir, filepath.Join(backups, "offline.db")); !strings.Contains(res.stdout, "from the stopped data file") {
		t.Errorf("offline backup said %q", res.stdout)
	}
}

// restore puts a backup in place, keeps the old file, and makes every
// sync token issued before unusable, so clients resync.
func TestRestore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, dir)
	password := passwordRE.FindStringSubmatch(s.log())[1]
	c := newClient()
	put := func(name string) {
		resp, body := do(t, c, http.MethodPut, s.url+"dav/calendars/admin/personal/"+name+".ics", "admin", password,
			fbEvent(name, "20260310T090000Z", "20260310T100000Z"), map[string]string{"Content-Type": "text/calendar"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s = %d %s", name, resp.StatusCode, body)
		}
	}
	put("before")
	backup := filepath.Join(t.TempDir(), "b.db")
	mustRun(t, "", "backup", "--data", dir, backup)
	put("after")
	s.stop()
	db := openTestStore(t, dir)
	cal, err := db.Calendar("admin", "personal")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	lateToken := cal.SyncToken()

	if res := calbolt(t, "", nil, "restore", "--data", dir, filepath.Join(t.TempDir(), "missing.db")); res.code != 1 {
		t.Errorf("restore of a missing file: exit %d, %q", res.code, res.stderr)
	}
	res := mustRun(t, "", "restore", "--data", dir, backup)
	if !strings.Contains(res.stdout, "kept the previous data file as") || !strings.Contains(res.stdout, "1 calendars get new sync tokens") {
		t.Errorf("restore said %q", res.stdout)
	}
	db = openTestStore(t, dir)
	defer db.Close()
	infos, _ := db.ObjectInfos("admin", "personal")
	if len(infos) != 1 || infos[0].Name != "before.ics" {
		t.Errorf("restored objects = %+v, want before.ics only", infos)
	}
	if _, _, _, err := db.Changes("admin", "personal", lateToken, 0); err == nil {
		t.Errorf("a sync token issued after the backup still works after restore")
	}
	old, _ := filepath.Glob(filepath.Join(dir, "calbolt.db.pre-restore-*"))
	if len(old) != 1 {
		t.Errorf("previous data file kept as %v, want one", old)
	}
}
