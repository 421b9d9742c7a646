package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func (a *app) restoreCommand() *command {
	var dir string
	fs := newFlagSet("restore")
	dataFlag(fs, &dir)
	return &command{
		name:    "restore",
		args:    "[flags] BACKUP",
		summary: "replace the data file with a backup",
		help: `
Check BACKUP (a file written by calbolt backup), then make it the data file
of --data. The current data file, if any, is kept beside it as
calbolt.db.pre-restore-TIMESTAMP. Every calendar gets a new sync-token
identity, so clients that synced after the backup was taken fall back to a
full sync instead of missing changes. The server must be stopped.`,
		examples: []string{
			"calbolt restore --data /var/lib/calbolt /backups/calbolt-2025-01-31.db",
		},
		flags: fs,
		env:   map[string]string{"data": "CALBOLT_DATA"},
		run: func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return usagef("restore", "restore needs exactly one BACKUP file, got %d arguments", len(args))
			}
			return a.restore(dir, args[0])
		},
	}
}

func (a *app) restore(dir, backup string) (err error) {
	if err := mustExist(backup); err != nil {
		return err
	}
	path, err := dataFile(dir, true)
	if err != nil {
		return err
	}
	if sameFile(path, backup) {
		return usagef("restore", "BACKUP %s is the data file itself", backup)
	}
	// Hold the current data file's lock for the whole restore, so no
	// server starts on it meanwhile, and refuse if one runs.
	var current interface{ Close() error }
	if _, statErr := os.Stat(path); statErr == nil {
		db, err := openStore(path, false, a.adminLogger(), userLockedHint)
		if err != nil {
			return err
		}
		current = db
		defer func() {
			if current != nil {
				err = errors.Join(err, current.Close())
			}
		}()
	}
	if problems, err := checkFile(backup); err != nil || len(problems) > 0 {
		return fmt.Errorf("the backup %s does not pass check (%v, %d problems; see calbolt check %s); nothing changed", backup, err, len(problems), backup)
	}
	tmp, err := os.CreateTemp(dir, ".restore-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	src, err := os.Open(backup)
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, src)
	src.Close()
	if err != nil {
		return fmt.Errorf("copying the backup: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("writing the restored file: %w", err)
	}
	restored, err := openStore(tmp.Name(), false, a.adminLogger(), "")
	if err != nil {
		return err
	}
	n, err := restored.ReissueSyncTokens()
	if err = errors.Join(err, closeStore(restored)); err != nil {
		return fmt.Errorf("renewing the sync tokens: %w", err)
	}
	if current != nil {
		if err := current.Close(); err != nil {
			return err
		}
		current = nil
		old := path + ".pre-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, old); err != nil {
			return fmt.Errorf("moving the current data file aside: %w", err)
		}
		fmt.Fprintf(a.stdout, "kept the previous data file as %s\n", old)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("moving the restored file into place: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "restored %s into %s; %d calendars get new sync tokens (clients resync)\n", backup, path, n)
	return nil
}
