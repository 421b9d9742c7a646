package store

import (
	"errors"
	"io"
	"log/slog"
	"time"
)

var errUnimplemented = errors.New("store: unimplemented")

// Options configure Open. A nil *Options means the defaults.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process;
	// zero means one second. After it Open returns ErrLocked.
	Timeout time.Duration
	// ReadOnly opens the file for reading only (backup, check, export).
	ReadOnly bool
	// Logger receives the store's few log lines; nil means slog.Default().
	Logger *slog.Logger
	// NoSync skips fsync on commit. For benchmarks and tests only: a crash
	// may lose acknowledged writes.
	NoSync bool
}

// DB is a calbolt store backed by one bbolt file. It is safe for concurrent
// use.
type DB struct{}

// Open opens (creating if needed) the store at path.
func Open(path string, opts *Options) (*DB, error) { return nil, errUnimplemented }

// Close closes the database file.
func (db *DB) Close() error { return errUnimplemented }

// Path returns the file the store was opened on.
func (db *DB) Path() string { return "" }

// --- users ---

// CreateUser adds a user; ErrExists if the name is taken.
func (db *DB) CreateUser(u User) error { return errUnimplemented }

// User returns the named user or ErrNotFound.
func (db *DB) User(name string) (User, error) { return User{}, errUnimplemented }

// PasswordHash returns the user's stored hash or ErrNotFound. It satisfies
// auth.UserLookup.
func (db *DB) PasswordHash(name string) (string, error) { return "", errUnimplemented }

// SetPasswordHash replaces the user's password hash; ErrNotFound if absent.
func (db *DB) SetPasswordHash(name, hash string) error { return errUnimplemented }

// Users lists all users sorted by name.
func (db *DB) Users() ([]User, error) { return nil, errUnimplemented }

// DeleteUser removes a user and all their calendars; ErrNotFound if absent.
func (db *DB) DeleteUser(name string) error { return errUnimplemented }

// --- calendars ---

// CreateCalendar creates a calendar for owner; ErrNotFound if the owner does
// not exist, ErrExists if the name is taken. It returns the stored calendar.
func (db *DB) CreateCalendar(owner string, cal Calendar) (Calendar, error) {
	return Calendar{}, errUnimplemented
}

// Calendar returns one calendar of owner or ErrNotFound.
func (db *DB) Calendar(owner, name string) (Calendar, error) { return Calendar{}, errUnimplemented }

// Calendars lists owner's calendars sorted by name; ErrNotFound if the owner
// does not exist.
func (db *DB) Calendars(owner string) ([]Calendar, error) { return nil, errUnimplemented }

// UpdateCalendar applies fn to the stored calendar's properties in one
// transaction. Fields set by the store cannot be changed by fn. An error from
// fn aborts the update and is returned as is.
func (db *DB) UpdateCalendar(owner, name string, fn func(*Calendar) error) (Calendar, error) {
	return Calendar{}, errUnimplemented
}

// DeleteCalendar removes a calendar and every object in it.
func (db *DB) DeleteCalendar(owner, name string) error { return errUnimplemented }

// --- objects ---

// PutObject creates or replaces an object, checking cond and the UID index in
// the same transaction. It returns the stored object's info (without Data)
// and whether it was created.
func (db *DB) PutObject(owner, calendar string, obj Object, cond Condition) (Object, bool, error) {
	return Object{}, false, errUnimplemented
}

// Object returns one object with its data, or ErrNotFound.
func (db *DB) Object(owner, calendar, name string) (Object, error) {
	return Object{}, errUnimplemented
}

// ObjectInfos lists a calendar's objects without their data, sorted by name.
func (db *DB) ObjectInfos(owner, calendar string) ([]Object, error) {
	return nil, errUnimplemented
}

// Objects returns the named objects with data; names that do not exist are
// left out (callers report them as 404).
func (db *DB) Objects(owner, calendar string, names []string) ([]Object, error) {
	return nil, errUnimplemented
}

// ObjectsInRange returns, with data, the objects whose span overlaps the
// half-open window [start, end) in Unix seconds, using the span index.
func (db *DB) ObjectsInRange(owner, calendar string, start, end int64) ([]Object, error) {
	return nil, errUnimplemented
}

// ObjectByUID returns the name of the object holding uid, or ErrNotFound.
func (db *DB) ObjectByUID(owner, calendar, uid string) (string, error) {
	return "", errUnimplemented
}

// DeleteObject deletes an object, checking cond.IfMatch in the transaction.
func (db *DB) DeleteObject(owner, calendar, name string, cond Condition) error {
	return errUnimplemented
}

// MoveObject moves (or, with keep, copies) an object within owner's
// calendars. cond applies to the destination (Overwrite: F is
// Condition{IfNoneMatch: true}); the UID rule applies in the destination
// calendar. It returns whether the destination was created.
func (db *DB) MoveObject(owner, fromCal, fromName, toCal, toName string, keep bool, cond Condition) (bool, error) {
	return false, errUnimplemented
}

// Changes returns, for the calendar, the latest change of each object name
// after the sync token (empty token: every current object as an upsert), in
// sequence order, at most limit of them (limit <= 0: all), the token to give
// the client, and whether more changes remain. A token from another calendar
// or an older epoch is ErrInvalidSyncToken.
func (db *DB) Changes(owner, calendar, token string, limit int) ([]Change, string, bool, error) {
	return nil, "", false, errUnimplemented
}

// PutObjects writes objects to a calendar in one transaction, idempotently by
// UID: an object whose UID exists is replaced in place (keeping its name),
// or counted as unchanged when its data is byte-identical.
func (db *DB) PutObjects(owner, calendar string, objs []Object) (ImportResult, error) {
	return ImportResult{}, errUnimplemented
}

// Check verifies the store's invariants and returns every violation found.
func (db *DB) Check() []error { return []error{errUnimplemented} }

// Backup writes a consistent copy of the database to w while it stays in use.
func (db *DB) Backup(w io.Writer) (int64, error) { return 0, errUnimplemented }
