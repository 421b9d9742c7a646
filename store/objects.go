package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

func objectNotFound(calendar, name string) error {
	return fmt.Errorf("%w: object %q in calendar %q", ErrNotFound, name, calendar)
}

// PutObject creates or replaces an object, checking cond and the UID index in
// the same transaction. It returns the stored object's info (without Data)
// and whether it was created.
//
// The object needs a valid name (else ErrInvalidName), a UID, a component and
// a span that does not end before it starts (else ErrInvalidObject). If
// another object of the calendar holds obj.UID, the error is a
// *UIDConflictError naming it. Replacing an object with one of another UID
// is allowed and reindexes it. Every successful put bumps the calendar's
// SyncSeq, even when the bytes are unchanged.
func (db *DB) PutObject(owner, calendar string, obj Object, cond Condition) (Object, bool, error) {
	if err := checkObject(&obj); err != nil {
		return Object{}, false, err
	}
	etag := etagOf(obj.Data)
	var (
		info    objInfo
		created bool
		result  error // the request's own failure; see commit.go
	)
	err := db.update(func(tx *bolt.Tx) error {
		info, created, result = objInfo{}, false, nil
		t := now().UnixNano() // under the writer lock, so times follow commit order
		c, err := loadCal(tx, owner, calendar)
		if errors.Is(err, ErrNotFound) {
			result = err
			return nil
		} else if err != nil {
			return err
		}
		old, exists, err := c.lookup(obj.Name)
		if err != nil {
			return err
		}
		if err := checkCondition(cond, obj.Name, exists, old.etag); err != nil {
			result = err
			return nil
		}
		if holder := c.uidOwner(obj.UID); holder != "" && holder != obj.Name {
			result = &UIDConflictError{Calendar: calendar, Name: holder}
			return nil
		}
		o := obj // write may adjust its argument; a retry starts afresh
		if info, created, err = c.write(&o, etag, t); err != nil {
			return err
		}
		return c.flush()
	})
	if err == nil {
		err = result
	}
	if err != nil {
		return Object{}, false, err
	}
	return info.object(obj.Name), created, nil
}

// Object returns one object with its data, or ErrNotFound.
func (db *DB) Object(owner, calendar, name string) (Object, error) {
	var obj Object
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		info, ok, err := c.lookup(name)
		if err != nil {
			return err
		}
		if !ok {
			return objectNotFound(calendar, name)
		}
		obj = info.object(name)
		obj.Data = c.data(name)
		return nil
	})
	if err != nil {
		return Object{}, err
	}
	return obj, nil
}

// ObjectInfos lists a calendar's objects without their data, sorted by name.
// It reads only the object-info index, never the object bytes.
func (db *DB) ObjectInfos(owner, calendar string) ([]Object, error) {
	var objs []Object
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		objs = make([]Object, 0, c.st.objects)
		return c.info.ForEach(func(k, v []byte) error {
			info, err := decodeInfo(v)
			if err != nil {
				return fmt.Errorf("store: object %q in calendar %q: %w", k, calendar, err)
			}
			objs = append(objs, info.object(string(k)))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return objs, nil
}

// Objects returns the named objects with data, in the order of names;
// names that do not exist are left out (callers report them as 404).
func (db *DB) Objects(owner, calendar string, names []string) ([]Object, error) {
	var objs []Object
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		objs, err = c.objectsWithData(names)
		return err
	})
	if err != nil {
		return nil, err
	}
	return objs, nil
}

// objectsWithData returns the existing objects among names, with data.
func (c *calTx) objectsWithData(names []string) ([]Object, error) {
	objs := make([]Object, 0, len(names))
	for _, name := range names {
		info, ok, err := c.lookup(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		o := info.object(name)
		o.Data = c.data(name)
		objs = append(objs, o)
	}
	return objs, nil
}

// ObjectsInRange returns, with data, the objects whose span overlaps the
// half-open window [start, end) in Unix seconds, using the span index. They
// come in order of span start.
func (db *DB) ObjectsInRange(owner, calendar string, start, end int64) ([]Object, error) {
	return db.inRange(owner, calendar, start, end, true)
}

// ObjectInfosInRange is ObjectsInRange without the data: names, UIDs,
// components, spans and ETags from the index alone.
func (db *DB) ObjectInfosInRange(owner, calendar string, start, end int64) ([]Object, error) {
	return db.inRange(owner, calendar, start, end, false)
}

func (db *DB) inRange(owner, calendar string, start, end int64, withData bool) ([]Object, error) {
	var objs []Object
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		var names []string
		cur := c.spans.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			if len(k) < 8 || len(v) != 8 {
				return fmt.Errorf("store: calendar %q: corrupt span index entry", calendar)
			}
			if unsortableInt(binary.BigEndian.Uint64(k)) >= end {
				break // keys are ordered by start: nothing later can overlap
			}
			if unsortableInt(binary.BigEndian.Uint64(v)) > start {
				names = append(names, string(k[8:]))
			}
		}
		if withData {
			objs, err = c.objectsWithData(names)
			return err
		}
		objs = make([]Object, 0, len(names))
		for _, name := range names {
			info, ok, err := c.lookup(name)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("store: calendar %q: span index names missing object %q", calendar, name)
			}
			objs = append(objs, info.object(name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return objs, nil
}

// ObjectByUID returns the name of the object holding uid, or ErrNotFound.
func (db *DB) ObjectByUID(owner, calendar, uid string) (string, error) {
	var name string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		if uid != "" {
			name = c.uidOwner(uid)
		}
		if name == "" {
			return fmt.Errorf("%w: uid %q in calendar %q", ErrNotFound, uid, calendar)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return name, nil
}

// DeleteObject deletes an object, checking cond in the transaction: an
// object that does not exist is ErrNotFound whatever cond says; one whose
// ETag does not match cond.IfMatch (or that exists while cond.IfNoneMatch)
// is ErrPreconditionFailed. The deletion enters the change log.
func (db *DB) DeleteObject(owner, calendar, name string, cond Condition) error {
	var result error // the request's own failure; see commit.go
	err := db.update(func(tx *bolt.Tx) error {
		result = nil
		t := now().UnixNano() // under the writer lock, so times follow commit order
		c, err := loadCal(tx, owner, calendar)
		if errors.Is(err, ErrNotFound) {
			result = err
			return nil
		} else if err != nil {
			return err
		}
		old, ok, err := c.lookup(name)
		if err != nil {
			return err
		}
		if !ok {
			result = objectNotFound(calendar, name)
			return nil
		}
		if err := checkCondition(cond, name, true, old.etag); err != nil {
			result = err
			return nil
		}
		if err := c.remove(name, &old, t); err != nil {
			return err
		}
		return c.flush()
	})
	if err != nil {
		return err
	}
	return result
}

// MoveObject moves (or, with keep, copies) an object within owner's
// calendars. cond applies to the destination (Overwrite: F is
// Condition{IfNoneMatch: true}); the UID rule applies in the destination
// calendar. It returns whether the destination was created.
//
// Both calendars and the source must exist (ErrNotFound); the destination
// name must be valid (ErrInvalidName). A destination calendar in which
// another object than the destination name already holds the UID gives a
// *UIDConflictError; moving within one calendar is a rename, copying within
// one calendar under another name always conflicts. The destination gets a
// change-log upsert in its calendar and a moved source a delete in its own,
// all in one transaction. src is checked against the source (RFC 7232
// If-Match / If-None-Match on the request URI), dst against the destination
// (Overwrite: F is Condition{IfNoneMatch: true}). Moving or copying an
// object onto itself checks both and changes nothing.
func (db *DB) MoveObject(owner, fromCal, fromName, toCal, toName string, keep bool, src, dst Condition) (bool, error) {
	if err := checkName("object", toName); err != nil {
		return false, err
	}
	var created bool
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		t := now().UnixNano() // under the writer lock, so times follow commit order
		from, err := loadCal(tx, owner, fromCal)
		if err != nil {
			return err
		}
		to := from
		sameCal := fromCal == toCal
		if !sameCal {
			if to, err = loadCal(tx, owner, toCal); err != nil {
				return err
			}
		}
		info, ok, err := from.lookup(fromName)
		if err != nil {
			return err
		}
		if !ok {
			return objectNotFound(fromCal, fromName)
		}
		if err := checkCondition(src, fromName, true, info.etag); err != nil {
			return err
		}
		old, exists, err := to.lookup(toName)
		if err != nil {
			return err
		}
		if err := checkCondition(dst, toName, exists, old.etag); err != nil {
			return err
		}
		if sameCal && fromName == toName {
			return nil
		}
		holder := to.uidOwner(info.uid)
		if holder != "" && holder != toName && !(sameCal && !keep && holder == fromName) {
			return &UIDConflictError{Calendar: toCal, Name: holder}
		}
		obj := Object{Name: toName, UID: info.uid, Component: info.component, Span: info.span, Data: from.data(fromName)}
		if !keep {
			// Remove the source first so that, within one calendar, its UID
			// entry is gone before the destination claims the UID.
			if err := from.remove(fromName, &info, t); err != nil {
				return err
			}
		}
		if _, created, err = to.write(&obj, info.etag, t); err != nil {
			return err
		}
		if err := to.flush(); err != nil {
			return err
		}
		if !sameCal {
			return from.flush()
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return created, nil
}

// PutObjects writes objects to a calendar in one transaction, idempotently by
// UID: an object whose UID exists is replaced in place (keeping its name),
// or counted as unchanged when its data is byte-identical and its component
// and span are the same (no SyncSeq bump then); an object with a new UID is
// created under its Name. If that name is held by an object of another UID,
// PutObjects returns an error wrapping ErrUIDConflict and writes nothing.
// Invalid objects are refused before the transaction starts (ErrInvalidName,
// ErrInvalidObject). Callers import large sets in chunks of about a thousand.
func (db *DB) PutObjects(owner, calendar string, objs []Object) (ImportResult, error) {
	etags := make([]string, len(objs))
	for i := range objs {
		if err := checkObject(&objs[i]); err != nil {
			return ImportResult{}, err
		}
		etags[i] = etagOf(objs[i].Data)
	}
	var res ImportResult
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		t := now().UnixNano() // under the writer lock, so times follow commit order
		res = ImportResult{}
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		for i := range objs {
			obj := objs[i]
			if holder := c.uidOwner(obj.UID); holder != "" {
				old, ok, err := c.lookup(holder)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("store: calendar %q: uid %q indexed to missing object %q", calendar, obj.UID, holder)
				}
				if old.etag == etags[i] && old.component == obj.Component && old.span == obj.Span &&
					bytes.Equal(c.objs.Get([]byte(holder)), obj.Data) {
					res.Unchanged++
					continue
				}
				obj.Name = holder
				if _, _, err := c.write(&obj, etags[i], t); err != nil {
					return err
				}
				res.Updated++
				continue
			}
			old, exists, err := c.lookup(obj.Name)
			if err != nil {
				return err
			}
			if exists {
				return fmt.Errorf("%w: import of uid %q into calendar %q: name %q is held by uid %q",
					ErrUIDConflict, obj.UID, calendar, obj.Name, old.uid)
			}
			if _, _, err := c.write(&obj, etags[i], t); err != nil {
				return err
			}
			res.Created++
		}
		if res.Created+res.Updated == 0 {
			return nil
		}
		return c.flush()
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}
