package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

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

const (
	defaultTimeout = time.Second
	// initialMmapSize is mapped up front so that a long read transaction
	// does not block a writer that grows the file (bbolt remaps on growth
	// and must wait for readers). The file itself grows only as written.
	initialMmapSize = 64 << 20
)

// DB is a calbolt store backed by one bbolt file. It is safe for concurrent
// use.
type DB struct {
	bolt  *bolt.DB
	path  string
	log   *slog.Logger
	group committer // group commit of PutObject and DeleteObject (commit.go)
}

// Open opens (creating if needed) the store at path. The parent directory
// must exist; a new file gets mode 0600. If another process holds the file,
// Open waits Options.Timeout and then returns an error wrapping ErrLocked.
func Open(path string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         o.Timeout,
		ReadOnly:        o.ReadOnly,
		NoSync:          o.NoSync,
		InitialMmapSize: initialMmapSize,
		FreelistType:    bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: another calbolt process holds the file (waited %s): %w", path, o.Timeout, ErrLocked)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{bolt: bdb, path: path, log: o.Logger}
	if err := db.init(o.ReadOnly); err != nil {
		bdb.Close()
		return nil, err
	}
	db.log.Debug("store opened", slog.String("path", path), slog.Bool("readOnly", o.ReadOnly))
	return db, nil
}

// init creates the top-level buckets of a new file and checks the format
// of an existing one.
func (db *DB) init(readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMeta)
		if mb == nil {
			return nil
		}
		if f := mb.Get(keyFormat); !bytes.Equal(f, formatV1) {
			return fmt.Errorf("store: open %s: unsupported file format %v (want %v)", db.path, f, formatV1)
		}
		return nil
	}
	if readOnly {
		return db.bolt.View(check)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		mb, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("store: init: %w", err)
		}
		if mb.Get(keyFormat) == nil {
			if err := mb.Put(keyFormat, formatV1); err != nil {
				return fmt.Errorf("store: init: %w", err)
			}
		}
		if _, err := tx.CreateBucketIfNotExists(bucketUsers); err != nil {
			return fmt.Errorf("store: init: %w", err)
		}
		return nil
	})
}

// Close closes the database file.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Path returns the file the store was opened on.
func (db *DB) Path() string { return db.path }

// --- users ---

func userNotFound(name string) error { return fmt.Errorf("%w: user %q", ErrNotFound, name) }

// CreateUser adds a user; ErrExists if the name is taken, ErrInvalidName if
// it is not 1-64 bytes of [A-Za-z0-9._@+-] or starts with '.'. The store
// sets Created.
//
// The calendars given are created with the user, in the same transaction,
// as by CreateCalendar: an account never exists without them, even after a
// crash.
func (db *DB) CreateUser(u User, cals ...Calendar) error {
	if err := CheckUserName(u.Name); err != nil {
		return err
	}
	u.Created = now()
	v, err := encodeUser(u)
	if err != nil {
		return err
	}
	ncs := make([]newCalendar, len(cals))
	for i, c := range cals {
		if ncs[i], err = prepareCalendar(c); err != nil {
			return err
		}
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUsers)
		if ub == nil {
			return errors.New("store: create user: missing users bucket")
		}
		if ub.Get([]byte(u.Name)) != nil {
			return fmt.Errorf("%w: user %q", ErrExists, u.Name)
		}
		if err := ub.Put([]byte(u.Name), v); err != nil {
			return fmt.Errorf("store: create user %q: %w", u.Name, err)
		}
		ob, err := tx.CreateBucket(ownerKey(u.Name))
		if err != nil {
			return fmt.Errorf("store: create user %q: %w", u.Name, err)
		}
		for i := range ncs {
			if err := ncs[i].put(ob, u.Name); err != nil {
				return err
			}
		}
		return nil
	})
}

// user reads a user inside tx.
func user(tx *bolt.Tx, name string) (User, error) {
	ub := tx.Bucket(bucketUsers)
	if ub == nil {
		return User{}, userNotFound(name)
	}
	v := ub.Get([]byte(name))
	if v == nil {
		return User{}, userNotFound(name)
	}
	return decodeUser(v)
}

// User returns the named user or ErrNotFound.
func (db *DB) User(name string) (User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		u, err = user(tx, name)
		return err
	})
	return u, err
}

// PasswordHash returns the user's stored hash or ErrNotFound. It satisfies
// auth.UserLookup.
func (db *DB) PasswordHash(name string) (string, error) {
	u, err := db.User(name)
	if err != nil {
		return "", err
	}
	return u.PasswordHash, nil
}

// SetPasswordHash replaces the user's password hash; ErrNotFound if absent.
func (db *DB) SetPasswordHash(name, hash string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		u, err := user(tx, name)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		v, err := encodeUser(u)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketUsers).Put([]byte(name), v); err != nil {
			return fmt.Errorf("store: set password of %q: %w", name, err)
		}
		return nil
	})
}

// Users lists all users sorted by name.
func (db *DB) Users() ([]User, error) {
	var users []User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUsers)
		if ub == nil {
			return nil
		}
		return ub.ForEach(func(_, v []byte) error {
			u, err := decodeUser(v)
			if err != nil {
				return err
			}
			users = append(users, u)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// DeleteUser removes a user and all their calendars; ErrNotFound if absent.
func (db *DB) DeleteUser(name string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUsers)
		if ub == nil || ub.Get([]byte(name)) == nil {
			return userNotFound(name)
		}
		if err := ub.Delete([]byte(name)); err != nil {
			return fmt.Errorf("store: delete user %q: %w", name, err)
		}
		if err := tx.DeleteBucket(ownerKey(name)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("store: delete user %q: %w", name, err)
		}
		// A user created later under the same name must not inherit
		// what was granted to this one.
		return deleteGrants(tx, name, "", true, name)
	})
}

// --- calendars ---

// CreateCalendar creates a calendar for owner; ErrNotFound if the owner does
// not exist, ErrExists if the name is taken, ErrInvalidName if the name is
// not 1-255 bytes of UTF-8 without '/' or control characters. The store
// sets ID, Created, Modified, SyncSeq (0) and Objects (0), ignoring what cal
// holds. It returns the stored calendar.
func (db *DB) CreateCalendar(owner string, cal Calendar) (Calendar, error) {
	nc, err := prepareCalendar(cal)
	if err != nil {
		return Calendar{}, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(ownerKey(owner))
		if ob == nil {
			return userNotFound(owner)
		}
		return nc.put(ob, owner)
	})
	if err != nil {
		return Calendar{}, err
	}
	return nc.cal, nil
}

// newCalendar is a calendar ready to be written: its ID and times set, its
// record encoded, outside the write transaction.
type newCalendar struct {
	cal  Calendar
	meta []byte
	st   calState
}

func prepareCalendar(cal Calendar) (newCalendar, error) {
	if err := checkName("calendar", cal.Name); err != nil {
		return newCalendar{}, err
	}
	id, err := newCalendarID()
	if err != nil {
		return newCalendar{}, err
	}
	t := now()
	cal.Components = slices.Clone(cal.Components)
	cal.DeadProps = maps.Clone(cal.DeadProps)
	cal.ID, cal.Created, cal.Modified, cal.SyncSeq, cal.Objects = id, t, t, 0, 0
	meta, err := json.Marshal(recordOf(&cal))
	if err != nil {
		return newCalendar{}, fmt.Errorf("store: create calendar %q: %w", cal.Name, err)
	}
	return newCalendar{cal: cal, meta: meta, st: calState{modified: t.UnixNano()}}, nil
}

// put creates the calendar's buckets in owner's bucket ob.
func (nc *newCalendar) put(ob *bolt.Bucket, owner string) error {
	name := nc.cal.Name
	cb, err := ob.CreateBucket([]byte(name))
	if errors.Is(err, berrors.ErrBucketExists) {
		return fmt.Errorf("%w: calendar %q of user %q", ErrExists, name, owner)
	}
	if err != nil {
		return fmt.Errorf("store: create calendar %q: %w", name, err)
	}
	for _, sub := range calendarSubBuckets {
		if _, err := cb.CreateBucket(sub); err != nil {
			return fmt.Errorf("store: create calendar %q: %w", name, err)
		}
	}
	if err := cb.Put(keyCalMeta, nc.meta); err != nil {
		return fmt.Errorf("store: create calendar %q: %w", name, err)
	}
	if err := cb.Put(keyCalState, nc.st.encode()); err != nil {
		return fmt.Errorf("store: create calendar %q: %w", name, err)
	}
	return nil
}

// Calendar returns one calendar of owner or ErrNotFound.
func (db *DB) Calendar(owner, name string) (Calendar, error) {
	var cal Calendar
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, name)
		if err != nil {
			return err
		}
		cal, err = c.calendar()
		return err
	})
	return cal, err
}

// Calendars lists owner's calendars sorted by name; ErrNotFound if the owner
// does not exist.
func (db *DB) Calendars(owner string) ([]Calendar, error) {
	var cals []Calendar
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ob := tx.Bucket(ownerKey(owner))
		if ob == nil {
			return userNotFound(owner)
		}
		return ob.ForEachBucket(func(k []byte) error {
			c, err := openCal(ob.Bucket(k), string(k))
			if err != nil {
				return err
			}
			cal, err := c.calendar()
			if err != nil {
				return err
			}
			cals = append(cals, cal)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return cals, nil
}

// UpdateCalendar applies fn to the stored calendar's properties in one
// transaction. Fields set by the store cannot be changed by fn (Name, ID,
// SyncSeq, Created and Objects are restored after it); Modified becomes the
// current time. SyncSeq is not bumped: properties are not members. An error
// from fn aborts the update and is returned as is.
func (db *DB) UpdateCalendar(owner, name string, fn func(*Calendar) error) (Calendar, error) {
	var out Calendar
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, name)
		if err != nil {
			return err
		}
		orig, err := c.calendar()
		if err != nil {
			return err
		}
		cal := orig
		cal.Components = slices.Clone(orig.Components)
		cal.DeadProps = maps.Clone(orig.DeadProps)
		if err := fn(&cal); err != nil {
			return err
		}
		t := now()
		cal.Name, cal.ID, cal.SyncSeq, cal.Created, cal.Objects = orig.Name, orig.ID, orig.SyncSeq, orig.Created, orig.Objects
		cal.Modified = t
		meta, err := json.Marshal(recordOf(&cal))
		if err != nil {
			return fmt.Errorf("store: update calendar %q: %w", name, err)
		}
		if err := c.b.Put(keyCalMeta, meta); err != nil {
			return fmt.Errorf("store: update calendar %q: %w", name, err)
		}
		c.st.modified = t.UnixNano()
		if err := c.flush(); err != nil {
			return err
		}
		out = cal
		return nil
	})
	if err != nil {
		return Calendar{}, err
	}
	return out, nil
}

// DeleteCalendar removes a calendar and every object in it; ErrNotFound if
// it does not exist. A calendar created later under the same name gets a
// new ID, so sync tokens of the deleted one stay invalid.
func (db *DB) DeleteCalendar(owner, name string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(ownerKey(owner))
		if ob == nil || name == "" || ob.Bucket([]byte(name)) == nil {
			return fmt.Errorf("%w: calendar %q of user %q", ErrNotFound, name, owner)
		}
		if err := ob.DeleteBucket([]byte(name)); err != nil {
			return fmt.Errorf("store: delete calendar %q: %w", name, err)
		}
		return deleteGrants(tx, owner, name, false, "")
	})
}

// ReissueSyncTokens gives every calendar a new ID, the part of every sync
// token (and CTag) naming the calendar, so each token issued before is
// refused with ErrInvalidSyncToken and clients sync afresh. It is for a
// restored backup: clients may hold tokens issued after the backup was
// taken, whose sequence numbers the restored calendar will reach again
// with other changes; a client that kept such a token would miss them.
// It returns the number of calendars.
func (db *DB) ReissueSyncTokens() (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		n = 0
		return tx.ForEach(func(name []byte, ob *bolt.Bucket) error {
			if !bytes.HasPrefix(name, []byte(ownerPrefix)) {
				return nil
			}
			return ob.ForEachBucket(func(k []byte) error {
				cb := ob.Bucket(k)
				rec, err := decodeCalendarRecord(cb.Get(keyCalMeta))
				if err != nil {
					return fmt.Errorf("store: calendar %q: %w", k, err)
				}
				if rec.ID, err = newCalendarID(); err != nil {
					return err
				}
				meta, err := json.Marshal(rec)
				if err != nil {
					return err
				}
				n++
				return cb.Put(keyCalMeta, meta)
			})
		})
	})
	return n, err
}
