package store

import (
	"bytes"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Access is what a grant lets another user do with an owner's calendars.
// Each level includes the ones below it.
type Access uint8

const (
	// AccessNone removes a grant.
	AccessNone Access = iota
	// AccessFreeBusy lets the grantee see when the owner is busy, never
	// what the events are (CALDAV:read-free-busy, RFC 4791 §6.1.1).
	AccessFreeBusy
	// AccessRead lets the grantee read the calendar.
	AccessRead
	// AccessReadWrite lets the grantee read and change the calendar.
	AccessReadWrite
)

func (a Access) String() string {
	switch a {
	case AccessNone:
		return "none"
	case AccessFreeBusy:
		return "freebusy"
	case AccessRead:
		return "read"
	case AccessReadWrite:
		return "read-write"
	}
	return fmt.Sprintf("access(%d)", uint8(a))
}

// ParseAccess is the inverse of Access.String.
func ParseAccess(s string) (Access, error) {
	for a := AccessNone; a <= AccessReadWrite; a++ {
		if s == a.String() {
			return a, nil
		}
	}
	return 0, fmt.Errorf("store: unknown access %q (want none, freebusy, read or read-write)", s)
}

// Grant gives a grantee access to one calendar of an owner, or to all of
// them when Calendar is empty.
type Grant struct {
	Calendar string
	Grantee  string
	Access   Access
}

// Grants are kept in a top-level bucket, keyed owner NUL calendar NUL
// grantee, valued by one Access byte: a lookup of what one owner granted is
// a prefix scan, and deleting a user or calendar removes its grants in the
// same transaction.
var bucketGrants = []byte("grants")

func grantKey(owner, calendar, grantee string) []byte {
	return []byte(owner + "\x00" + calendar + "\x00" + grantee)
}

func splitGrantKey(k []byte) (owner, calendar, grantee string, ok bool) {
	parts := strings.Split(string(k), "\x00")
	if len(parts) != 3 {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// SetGrant records what owner grants g.Grantee on g.Calendar (all
// calendars when empty), replacing an earlier grant of the same pair;
// AccessNone removes it. ErrNotFound if the owner, the grantee or the
// calendar does not exist; ErrInvalidName for a grant to oneself.
func (db *DB) SetGrant(owner string, g Grant) error {
	if g.Access > AccessReadWrite {
		return fmt.Errorf("store: set grant: unknown access %d", g.Access)
	}
	if g.Grantee == owner {
		return fmt.Errorf("%w: a user cannot grant access to themselves", ErrInvalidName)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(ownerKey(owner))
		if ob == nil {
			return userNotFound(owner)
		}
		if _, err := user(tx, g.Grantee); err != nil {
			return err
		}
		if g.Calendar != "" && ob.Bucket([]byte(g.Calendar)) == nil {
			return fmt.Errorf("%w: calendar %q of user %q", ErrNotFound, g.Calendar, owner)
		}
		gb, err := tx.CreateBucketIfNotExists(bucketGrants)
		if err != nil {
			return fmt.Errorf("store: set grant: %w", err)
		}
		k := grantKey(owner, g.Calendar, g.Grantee)
		if g.Access == AccessNone {
			return gb.Delete(k)
		}
		return gb.Put(k, []byte{byte(g.Access)})
	})
}

// Grants lists what owner has granted, sorted by calendar then grantee.
func (db *DB) Grants(owner string) ([]Grant, error) {
	var out []Grant
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(ownerKey(owner)) == nil {
			return userNotFound(owner)
		}
		gb := tx.Bucket(bucketGrants)
		if gb == nil {
			return nil
		}
		prefix := []byte(owner + "\x00")
		c := gb.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			_, cal, grantee, ok := splitGrantKey(k)
			if !ok || len(v) != 1 {
				return fmt.Errorf("store: corrupt grant %q", k)
			}
			out = append(out, Grant{Calendar: cal, Grantee: grantee, Access: Access(v[0])})
		}
		return nil
	})
	return out, err
}

// deleteGrants removes the grants of owner (on calendar, or on everything
// when calendar is empty) and, when grantee is set, every grant to grantee.
func deleteGrants(tx *bolt.Tx, owner, calendar string, allCalendars bool, grantee string) error {
	gb := tx.Bucket(bucketGrants)
	if gb == nil {
		return nil
	}
	var dead [][]byte
	err := gb.ForEach(func(k, _ []byte) error {
		o, cal, g, ok := splitGrantKey(k)
		if !ok {
			return nil
		}
		if (o == owner && (allCalendars || cal == calendar)) || (grantee != "" && g == grantee) {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := gb.Delete(k); err != nil {
			return fmt.Errorf("store: delete grants: %w", err)
		}
	}
	return nil
}
