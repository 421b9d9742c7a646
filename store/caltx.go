package store

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// calTx is one calendar's buckets inside one transaction. Write methods keep
// the indexes, change log and state in step; flush stores the state.
type calTx struct {
	name                                   string
	b                                      *bolt.Bucket
	objs, info, uids, spans, changes, tomb *bolt.Bucket
	st                                     calState
}

// loadCal finds owner's calendar in tx; ErrNotFound if either is missing.
func loadCal(tx *bolt.Tx, owner, name string) (*calTx, error) {
	ob := tx.Bucket(ownerKey(owner))
	if ob == nil || name == "" {
		return nil, fmt.Errorf("%w: calendar %q of user %q", ErrNotFound, name, owner)
	}
	cb := ob.Bucket([]byte(name))
	if cb == nil {
		return nil, fmt.Errorf("%w: calendar %q of user %q", ErrNotFound, name, owner)
	}
	return openCal(cb, name)
}

func openCal(cb *bolt.Bucket, name string) (*calTx, error) {
	st, err := decodeState(cb.Get(keyCalState))
	if err != nil {
		return nil, fmt.Errorf("store: calendar %q: %w", name, err)
	}
	c := &calTx{
		name:    name,
		b:       cb,
		objs:    cb.Bucket(bucketObjs),
		info:    cb.Bucket(bucketInfo),
		uids:    cb.Bucket(bucketUIDs),
		spans:   cb.Bucket(bucketSpans),
		changes: cb.Bucket(bucketChange),
		tomb:    cb.Bucket(bucketTombs),
		st:      st,
	}
	if c.objs == nil || c.info == nil || c.uids == nil || c.spans == nil || c.changes == nil || c.tomb == nil {
		return nil, fmt.Errorf("store: calendar %q: missing sub-bucket", name)
	}
	return c, nil
}

// calendar decodes the calendar's properties and adds its state.
func (c *calTx) calendar() (Calendar, error) {
	rec, err := decodeCalendarRecord(c.b.Get(keyCalMeta))
	if err != nil {
		return Calendar{}, fmt.Errorf("store: calendar %q: %w", c.name, err)
	}
	return rec.calendar(c.name, c.st), nil
}

// lookup returns the info of the named object and whether it exists.
func (c *calTx) lookup(name string) (objInfo, bool, error) {
	v := c.info.Get([]byte(name))
	if v == nil {
		return objInfo{}, false, nil
	}
	i, err := decodeInfo(v)
	if err != nil {
		return objInfo{}, false, fmt.Errorf("store: object %q in calendar %q: %w", name, c.name, err)
	}
	return i, true, nil
}

// uidOwner returns the name of the object holding uid, or "".
func (c *calTx) uidOwner(uid string) string {
	return string(c.uids.Get([]byte(uid)))
}

// data returns a copy of the named object's bytes.
func (c *calTx) data(name string) []byte {
	return bytes.Clone(c.objs.Get([]byte(name)))
}

// nextSeq bumps and returns the calendar's sequence.
func (c *calTx) nextSeq(now int64) uint64 {
	c.st.seq++
	c.st.modified = now
	return c.st.seq
}

// unindex removes name's UID, span and change entries, given its info.
func (c *calTx) unindex(name string, old *objInfo) error {
	if c.uidOwner(old.uid) == name {
		if err := c.uids.Delete([]byte(old.uid)); err != nil {
			return err
		}
	}
	if err := c.spans.Delete(spanKey(old.span.Start, name)); err != nil {
		return err
	}
	return c.changes.Delete(seqKey(old.seq))
}

// write stores obj (data, info, UID, span and change entries) under its
// name with a new seq, replacing whatever the name held. The caller has
// checked conditions and the UID rule. It returns the stored info and
// whether the name was free before.
func (c *calTx) write(obj *Object, etag string, now int64) (objInfo, bool, error) {
	name := []byte(obj.Name)
	old, exists, err := c.lookup(obj.Name)
	if err != nil {
		return objInfo{}, false, err
	}
	if exists {
		if err := c.unindex(obj.Name, &old); err != nil {
			return objInfo{}, false, fmt.Errorf("store: write object %q: %w", obj.Name, err)
		}
	} else {
		if ts := c.tomb.Get(name); ts != nil {
			if err := c.changes.Delete(bytes.Clone(ts)); err != nil {
				return objInfo{}, false, fmt.Errorf("store: write object %q: %w", obj.Name, err)
			}
			if err := c.tomb.Delete(name); err != nil {
				return objInfo{}, false, fmt.Errorf("store: write object %q: %w", obj.Name, err)
			}
		}
		c.st.objects++
	}
	info := objInfo{
		uid:       obj.UID,
		component: obj.Component,
		etag:      etag,
		size:      int64(len(obj.Data)),
		modified:  now,
		span:      obj.Span,
		seq:       c.nextSeq(now),
	}
	for _, kv := range [...]struct {
		b    *bolt.Bucket
		k, v []byte
	}{
		{c.objs, name, obj.Data},
		{c.info, name, info.encode()},
		{c.uids, []byte(obj.UID), name},
		{c.spans, spanKey(obj.Span.Start, obj.Name), spanValue(obj.Span.End)},
		{c.changes, seqKey(info.seq), changeValue(ChangeKindUpsert, obj.Name)},
	} {
		v := kv.v
		if v == nil {
			v = []byte{} // bbolt treats a nil value as empty, but be explicit
		}
		if err := kv.b.Put(kv.k, v); err != nil {
			return objInfo{}, false, fmt.Errorf("store: write object %q: %w", obj.Name, err)
		}
	}
	return info, !exists, nil
}

// remove deletes the named object, whose info is old, leaving a tombstone
// and a delete entry in the change log.
func (c *calTx) remove(name string, old *objInfo, now int64) error {
	k := []byte(name)
	if err := c.unindex(name, old); err != nil {
		return fmt.Errorf("store: delete object %q: %w", name, err)
	}
	if err := c.objs.Delete(k); err != nil {
		return fmt.Errorf("store: delete object %q: %w", name, err)
	}
	if err := c.info.Delete(k); err != nil {
		return fmt.Errorf("store: delete object %q: %w", name, err)
	}
	seq := c.nextSeq(now)
	if err := c.tomb.Put(k, seqKey(seq)); err != nil {
		return fmt.Errorf("store: delete object %q: %w", name, err)
	}
	if err := c.changes.Put(seqKey(seq), changeValue(ChangeKindDelete, name)); err != nil {
		return fmt.Errorf("store: delete object %q: %w", name, err)
	}
	c.st.objects--
	return nil
}

// flush stores the calendar's state.
func (c *calTx) flush() error {
	if err := c.b.Put(keyCalState, c.st.encode()); err != nil {
		return fmt.Errorf("store: calendar %q: %w", c.name, err)
	}
	return nil
}

// checkCondition applies cond to an object that exists (with etag) or not.
func checkCondition(cond Condition, name string, exists bool, etag string) error {
	if cond.IfNoneMatch && exists {
		return fmt.Errorf("%w: If-None-Match: object %q exists", ErrPreconditionFailed, name)
	}
	if cond.IfMatch != "" {
		if !exists {
			return fmt.Errorf("%w: If-Match: object %q does not exist", ErrPreconditionFailed, name)
		}
		if cond.IfMatch != "*" && cond.IfMatch != etag {
			return fmt.Errorf("%w: If-Match: object %q has etag %q, not %q", ErrPreconditionFailed, name, etag, cond.IfMatch)
		}
	}
	return nil
}
