package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/calbolt/calbolt/store"
)

const (
	// defaultDataDir is the data directory when neither --data nor
	// CALBOLT_DATA says otherwise.
	defaultDataDir = "./data"
	// dataFileName is the store's file inside the data directory.
	dataFileName = "calbolt.db"
	// lockTimeout bounds the wait for a data file another process holds:
	// a command fails with a clear message instead of hanging.
	lockTimeout = time.Second
)

// dataFile returns the store file of the data directory dir. With create
// it makes the directory (0700: it holds password hashes) if needed;
// without, the file must already exist.
func dataFile(dir string, create bool) (string, error) {
	if dir == "" {
		return "", usagef("", "the data directory must not be empty (--data or CALBOLT_DATA)")
	}
	path := filepath.Join(dir, dataFileName)
	if create {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("creating the data directory: %w", err)
		}
		return path, nil
	}
	return path, mustExist(path)
}

// mustExist checks that a store file exists before a command that only
// reads or changes one opens it (opening would create an empty one).
func mustExist(path string) error {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no calbolt data file at %s (check --data or CALBOLT_DATA; 'calbolt serve' and 'calbolt user add' create it)", path)
	}
	return err
}

// lockedError reports a data file held by another process, with what to do
// about it. It wraps store.ErrLocked.
type lockedError struct {
	path string
	hint string
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("the data file %s is in use by a running calbolt server; %s", e.path, e.hint)
}

func (e *lockedError) Unwrap() error { return store.ErrLocked }

// openStore opens the store at path, waiting at most lockTimeout for a lock
// another process holds; hint says what to do in that case.
func openStore(path string, readOnly bool, log *slog.Logger, hint string) (*store.DB, error) {
	db, err := store.Open(path, &store.Options{Timeout: lockTimeout, ReadOnly: readOnly, Logger: log})
	if errors.Is(err, store.ErrLocked) {
		return nil, &lockedError{path: path, hint: hint}
	}
	if err != nil {
		return nil, fmt.Errorf("opening the data file %s: %w", path, err)
	}
	return db, nil
}

// closeStore closes db, naming the failure.
func closeStore(db *store.DB) error {
	if err := db.Close(); err != nil {
		return fmt.Errorf("closing the data file: %w", err)
	}
	return nil
}

// adminLogger is the logger the admin commands hand the store: warnings and
// errors only, on standard error.
func (a *app) adminLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
