package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// offlineHint is what to do when backup or check finds the data file held
// by a running server: a read-only open needs a shared lock, which the
// server's exclusive lock excludes.
const offlineHint = "stop it first (online backup through the server is not available yet)"

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
calbolt.db to restore it. backup opens the store read-only, which a running
server does not allow: stop the server first (backing up a live server
through the server itself will come later). Never copy calbolt.db with cp
while a server runs; that copy can be corrupt.`,
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
	db, err := openStore(path, true, a.adminLogger(), offlineHint)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore(db)) }()

	if dest == "-" {
		if _, err := db.Backup(a.stdout); err != nil {
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
	n, err := db.Backup(tmp)
	if err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("syncing the backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing the backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("renaming the backup into place: %w", err)
	}
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return fmt.Errorf("syncing the backup's directory: %w", err)
	}
	fmt.Fprintf(a.stdout, "wrote %d bytes to %s\n", n, dest)
	return nil
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
check opens the file read-only, which a running server does not allow: stop
the server first.`,
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
	db, err := openStore(path, true, a.adminLogger(), offlineHint)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeStore(db)) }()
	problems := db.Check()
	for _, p := range problems {
		fmt.Fprintf(a.stdout, "%s: %v\n", path, p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %d invariant violations found", path, len(problems))
	}
	fmt.Fprintf(a.stdout, "%s: ok\n", path)
	return nil
}
