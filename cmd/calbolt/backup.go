package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/calbolt/calbolt/store"
)

// offlineHint is what to do when check of a FILE finds it held by a
// running server.
const offlineHint = "check a backup of it instead: calbolt backup, then calbolt check FILE"

func (a *app) backupCommand() *command {
	var dir string
	fs := newFlagSet("backup")
	dataFlag(fs, &dir)
	return &command{
		name:    "backup",
		args:    "[flags] FILE",
		summary: "write a consistent copy of the data file",
		help: `
Write a consistent copy of the store in --data to FILE ("-" for standard
output). The copy is written to a temporary file next to FILE, synced to disk
and renamed over FILE, so FILE is always either the old or the complete new
backup. The copy is a working data file: put it in a data directory as
calbolt.db to restore it. When a server is running, backup asks it, through its admin socket
(calbolt.sock in --data, reachable only by the account that runs it), for a
hot copy taken in one read transaction while it keeps serving. The new copy
is checked (as by calbolt check) before it replaces FILE. Never copy
calbolt.db with cp while a server runs; that copy can be corrupt.`,
		examples: []string{
			"calbolt backup --data /var/lib/calbolt /backups/calbolt-$(date +%F).db",
			"calbolt backup - | gzip > calbolt.db.gz",
			"calbolt check --data /var/lib/calbolt /backups/calbolt-2025-01-31.db",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return usagef("backup", "backup needs exactly one FILE to write, got %d arguments", len(args))
			}
			return a.backup(dir, args[0])
		},
	}
}

func (a *app) backup(dir, dest string) (err error) {
	path, err := dataFile(dir, false)
	if err != nil {
		return err
	}
	if dest != "-" && sameFile(path, dest) {
		return usagef("backup", "the backup FILE %s is the data file itself", dest)
	}
	// A stopped server's file is read directly; a running server's through
	// its admin socket. Either way the copy is bbolt's Tx.WriteTo, one
	// consistent read transaction, never a copy of the file.
	write := func(w io.Writer) (int64, error) {
		resp, err := adminGet(dir, "/backup")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return io.Copy(w, resp.Body)
	}
	online := true
	db, err := openStore(path, true, a.adminLogger(), "")
	switch {
	case err == nil:
		online = false
		defer func() { err = errors.Join(err, closeStore(db)) }()
		write = db.Backup
	case !errors.Is(err, store.ErrLocked):
		return err
	}

	if dest == "-" {
		if _, err := write(a.stdout); err != nil {
			return fmt.Errorf("writing the backup: %w", err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating the backup file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := write(tmp)
	if err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing the backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing the backup: %w", err)
	}
	// Check the copy before it replaces an older backup: a copy cut short
	// (the server stopped mid-way, the disk filled) fails here.
	if problems, err := checkFile(tmp.Name()); err != nil || len(problems) > 0 {
		return fmt.Errorf("the new backup does not pass check (%v, %d problems); %s is unchanged", err, len(problems), dest)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("renaming the backup into place: %w", err)
	}
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return fmt.Errorf("syncing the backup's directory: %w", err)
	}
	how := "from the stopped data file"
	if online {
		how = "from the running server"
	}
	fmt.Fprintf(a.stdout, "wrote %d bytes to %s (%s; checked)\n", n, dest, how)
	return nil
}

// checkFile opens a store file read-only and checks its invariants.
func checkFile(path string) ([]error, error) {
	db, err := store.Open(path, &store.Options{ReadOnly: true, Timeout: lockTimeout})
	if err != nil {
		return nil, err
	}
	problems := db.Check()
	return problems, db.Close()
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// syncDir fsyncs a directory so a rename in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

func (a *app) checkCommand() *command {
	var dir string
	fs := newFlagSet("check")
	dataFlag(fs, &dir)
	return &command{
		name:    "check",
		args:    "[flags] [FILE]",
		summary: "verify the data file's invariants",
		help: `
Verify the store's invariants (indexes, change logs, sync tokens, counts)
and print every violation found, one a line; exit 1 if there is any. It
checks the data file in --data, or FILE when given (a backup, for example).
Without FILE, the store of a running server is checked by the server itself
through its admin socket, in one read transaction, while it serves.`,
		examples: []string{
			"calbolt check",
			"calbolt check --data /var/lib/calbolt",
			"calbolt check /backups/calbolt-2025-01-31.db",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			switch len(args) {
			case 0:
				path, err := dataFile(dir, false)
				if err != nil {
					return err
				}
				return a.check(path)
			case 1:
				if err := mustExist(args[0]); err != nil {
					return err
				}
				return a.check(args[0])
			}
			return usagef("check", "check takes at most one FILE, got %d arguments", len(args))
		},
	}
}

func (a *app) check(path string) (err error) {
	var problems []error
	db, err := openStore(path, true, a.adminLogger(), offlineHint)
	switch {
	case err == nil:
		defer func() { err = errors.Join(err, closeStore(db)) }()
		problems = db.Check()
	case errors.Is(err, store.ErrLocked) && filepath.Base(path) == dataFileName:
		// The live store of a running server: it checks itself, in one
		// read transaction, through its admin socket.
		resp, aerr := adminGet(filepath.Dir(path), "/check")
		if aerr != nil {
			return aerr
		}
		defer resp.Body.Close()
		var msgs []string
		if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
			return fmt.Errorf("reading the running server's check: %w", err)
		}
		for _, m := range msgs {
			problems = append(problems, errors.New(m))
		}
	default:
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(a.stdout, "%s: %v\n", path, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %d invariant violations found", path, len(problems))
	}
	fmt.Fprintf(a.stdout, "%s: ok\n", path)
	return nil
}
