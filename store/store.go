// Package store is calbolt's persistence contract and its embedded bbolt
// implementation.
//
// The contract is owner-scoped: every method that touches calendar data names
// the owner, and data of another owner is unreachable by construction (each
// owner has a top-level bucket of its own). "Not yours" and "does not exist"
// are the same ErrNotFound.
//
// Every write is one bbolt transaction: an object's bytes, its UID index
// entry, its time-span index entry, its change-log entry and the calendar's
// sync-token bump commit together, and the If-Match / If-None-Match check runs
// inside the same transaction, so no update is ever lost.
//
// The store does no iCalendar parsing: callers hand it canonical bytes plus the
// facts it indexes (UID, component name, time span). That keeps write
// transactions short and lets a second backend (PostgreSQL) implement the same
// method set; contract_test.go is written against a constructor so it can run
// against any backend.
//
// Values returned by the store are copies; callers may keep them.
package store

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrNotFound reports a user, calendar or object that does not exist or
	// does not belong to the owner named in the call.
	ErrNotFound = errors.New("store: not found")
	// ErrExists reports a create of a user or calendar whose name is taken.
	ErrExists = errors.New("store: already exists")
	// ErrPreconditionFailed reports a failed If-Match / If-None-Match check.
	ErrPreconditionFailed = errors.New("store: precondition failed")
	// ErrUIDConflict reports an object whose UID is already used by another
	// object of the same calendar (RFC 4791 §5.3.2.1 no-uid-conflict). The
	// error is a *UIDConflictError that names the conflicting object.
	ErrUIDConflict = errors.New("store: uid conflict")
	// ErrInvalidSyncToken reports a sync token that this calendar did not
	// issue, or one older than the retained change log (RFC 6578 §3.2
	// valid-sync-token).
	ErrInvalidSyncToken = errors.New("store: invalid sync token")
	// ErrInvalidName reports a user, calendar or object name the store
	// refuses (empty, too long, "." or "..", not UTF-8, or containing '/'
	// or control characters; user names are limited to [A-Za-z0-9._@+-]).
	ErrInvalidName = errors.New("store: invalid name")
	// ErrInvalidObject reports an object the store refuses to index: no UID
	// or component, or a span that ends before it starts.
	ErrInvalidObject = errors.New("store: invalid object")
	// ErrLocked reports that another process holds the database file.
	ErrLocked = errors.New("store: database is locked by another process")
)

// UIDConflictError is returned (wrapping ErrUIDConflict) when a PUT would
// give a calendar two objects with the same UID.
type UIDConflictError struct {
	Calendar string // calendar holding the conflicting object
	Name     string // name of the object that already has the UID
}

func (e *UIDConflictError) Error() string {
	return fmt.Sprintf("store: uid conflict with %s/%s", e.Calendar, e.Name)
}

func (e *UIDConflictError) Unwrap() error { return ErrUIDConflict }

// Open-ended spans use SpanForever as their end.
const SpanForever = int64(math.MaxInt64)

// Span is the time an object can occupy: the first start and the last end of
// all its instances, in Unix seconds, half-open [Start, End). An object whose
// recurrence never ends has End == SpanForever.
type Span struct {
	Start, End int64
}

// Overlaps reports whether s overlaps the half-open window [start, end).
func (s Span) Overlaps(start, end int64) bool {
	return s.Start < end && s.End > start
}

// User is an account.
type User struct {
	Name         string    // login name; also the path segment of the user's principal
	PasswordHash string    // encoded slow hash (see package auth); never the password
	Email        string    // calendar user address without "mailto:"; may be empty
	Created      time.Time // set by CreateUser
}

// Calendar is a calendar collection of one owner.
type Calendar struct {
	Name        string   // path segment under the owner's calendar home
	DisplayName string   // DAV:displayname
	Description string   // CALDAV:calendar-description
	Color       string   // Apple calendar-color / RFC 7986 COLOR, e.g. "#3A87ADFF"
	Order       int      // Apple calendar-order
	Timezone    string   // CALDAV:calendar-timezone: a VCALENDAR holding one VTIMEZONE, as text
	Components  []string // supported components, e.g. ["VEVENT", "VTODO"]; empty means both
	// Transparent is true when CALDAV:schedule-calendar-transp is
	// transparent: the calendar does not count for free-busy.
	Transparent bool
	// DeadProps holds the WebDAV dead properties a client set with PROPPATCH
	// or MKCALENDAR (RFC 4918 §4.2), keyed "{namespace}local", valued by the
	// property element's inner XML.
	DeadProps map[string]string

	// Set by the store; ignored on create and update.
	ID       string    // random, never reused; part of every sync token
	SyncSeq  uint64    // sequence of the last change to the calendar's members
	Created  time.Time // creation time
	Modified time.Time // last change to the calendar or its members
	Objects  int       // number of objects in the calendar
}

// SyncToken returns the calendar's current sync token (RFC 6578), which also
// serves as its CTag.
func (c Calendar) SyncToken() string { return FormatSyncToken(c.ID, c.SyncSeq) }

// Object is a calendar object resource.
type Object struct {
	Name      string // path segment in the calendar, e.g. "abc.ics"
	UID       string // iCalendar UID shared by all components of the object
	Component string // "VEVENT", "VTODO", "VJOURNAL" or "VFREEBUSY"
	Span      Span   // time-span index entry
	Data      []byte // canonical iCalendar bytes; empty from ObjectInfos

	// Set by the store; ignored on write.
	ETag     string    // strong entity tag, without quotes
	Size     int64     // len(Data)
	Modified time.Time // time of the last write
}

// Condition holds the preconditions of a write (RFC 7232 If-Match and
// If-None-Match), checked inside the write transaction.
type Condition struct {
	IfMatch     string // when non-empty: the object must exist with this ETag ("*" any)
	IfNoneMatch bool   // when true: the object must not exist (If-None-Match: *)
}

// ChangeKind says what happened to an object in the change log.
type ChangeKind int

const (
	// ChangeKindUpsert means the object was created or modified.
	ChangeKindUpsert ChangeKind = iota
	// ChangeKindDelete means the object was deleted.
	ChangeKindDelete
)

// Change is one entry of a calendar's change log: the latest change of one
// object name since the token asked about.
type Change struct {
	Name string
	Kind ChangeKind
	ETag string // for ChangeKindUpsert
	Seq  uint64
}

// ImportResult counts what PutObjects did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// FormatSyncToken renders a calendar ID and sequence as a sync-token URI.
func FormatSyncToken(calendarID string, seq uint64) string {
	return fmt.Sprintf("urn:calbolt:sync:%s:%d", calendarID, seq)
}

// ParseSyncToken is the inverse of FormatSyncToken. It returns
// ErrInvalidSyncToken for anything it did not produce.
func ParseSyncToken(token string) (calendarID string, seq uint64, err error) {
	const prefix = "urn:calbolt:sync:"
	if len(token) <= len(prefix) || token[:len(prefix)] != prefix {
		return "", 0, ErrInvalidSyncToken
	}
	rest := token[len(prefix):]
	for i := len(rest) - 1; i >= 0; i-- {
		if rest[i] == ':' {
			var n uint64
			if _, err := fmt.Sscanf(rest[i+1:], "%d", &n); err != nil || i == 0 {
				return "", 0, ErrInvalidSyncToken
			}
			if fmt.Sprint(n) != rest[i+1:] {
				return "", 0, ErrInvalidSyncToken
			}
			return rest[:i], n, nil
		}
	}
	return "", 0, ErrInvalidSyncToken
}
