package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Check verifies the store's invariants and returns every violation found
// (nil when the store is healthy): users and owner buckets pair up; in every
// calendar, every object has its info, UID entry, span entry and exactly one
// change-log entry at its seq; every index, change-log and tombstone entry
// is backed by an object or a tombstone; no seq exceeds the calendar's
// SyncSeq; the object count and every ETag and size are right.
func (db *DB) Check() []error {
	var errs []error
	add := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("store: check: "+format, args...))
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		owners := map[string]bool{}
		err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			switch n := string(name); {
			case n == string(bucketMeta), n == string(bucketUsers), n == string(bucketGrants):
			case strings.HasPrefix(n, ownerPrefix):
				owners[strings.TrimPrefix(n, ownerPrefix)] = true
			default:
				add("unknown top-level bucket %q", n)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if mb := tx.Bucket(bucketMeta); mb == nil || !bytes.Equal(mb.Get(keyFormat), formatV1) {
			add("missing or unknown format marker")
		}
		users := map[string]bool{}
		if ub := tx.Bucket(bucketUsers); ub != nil {
			err := ub.ForEach(func(k, v []byte) error {
				name := string(k)
				users[name] = true
				if v == nil {
					add("user %q is a bucket", name)
					return nil
				}
				u, err := decodeUser(v)
				switch {
				case err != nil:
					add("user %q: %v", name, err)
				case u.Name != name:
					add("user %q: record names %q", name, u.Name)
				case !validUserName(name):
					add("user %q: invalid name", name)
				}
				if !owners[name] {
					add("user %q has no owner bucket", name)
				}
				return nil
			})
			if err != nil {
				return err
			}
		} else {
			add("missing users bucket")
		}
		if gb := tx.Bucket(bucketGrants); gb != nil {
			err := gb.ForEach(func(k, v []byte) error {
				owner, cal, grantee, ok := splitGrantKey(k)
				switch {
				case !ok || len(v) != 1 || Access(v[0]) == AccessNone || Access(v[0]) > AccessReadWrite:
					add("corrupt grant %q", k)
				case !users[owner] || !users[grantee]:
					add("grant %q names a missing user", k)
				case cal != "" && (tx.Bucket(ownerKey(owner)) == nil || tx.Bucket(ownerKey(owner)).Bucket([]byte(cal)) == nil):
					add("grant %q names a missing calendar", k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		for owner := range owners {
			if !users[owner] {
				add("owner bucket %q has no user", owner)
			}
			ob := tx.Bucket(ownerKey(owner))
			err := ob.ForEach(func(k, v []byte) error {
				if v != nil {
					add("owner %q: stray key %q", owner, k)
					return nil
				}
				checkCalendar(ob.Bucket(k), owner, string(k), add)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("store: check: %w", err))
	}
	return errs
}

// checkCalendar checks one calendar's buckets against each other.
func checkCalendar(cb *bolt.Bucket, owner, name string, add func(string, ...any)) {
	where := owner + "/" + name
	c, err := openCal(cb, name)
	if err != nil {
		add("%s: %v", where, err)
		return
	}
	cal, err := c.calendar()
	if err != nil {
		add("%s: %v", where, err)
	} else if _, herr := hex.DecodeString(cal.ID); herr != nil || len(cal.ID) != 16 {
		add("%s: calendar id %q is not 16 hex characters", where, cal.ID)
	}
	if !validName(name) {
		add("%s: invalid calendar name", where)
	}
	if c.st.prunedBelow > c.st.seq {
		add("%s: pruned below %d beyond sync seq %d", where, c.st.prunedBelow, c.st.seq)
	}
	known := map[string]bool{string(keyCalMeta): true, string(keyCalState): true}
	for _, b := range calendarSubBuckets {
		known[string(b)] = true
	}
	_ = cb.ForEach(func(k, _ []byte) error {
		if !known[string(k)] {
			add("%s: stray key %q", where, k)
		}
		return nil
	})

	infos := map[string]objInfo{}
	_ = c.info.ForEach(func(k, v []byte) error {
		n := string(k)
		info, err := decodeInfo(v)
		if err != nil {
			add("%s: object %q: %v", where, n, err)
			return nil
		}
		infos[n] = info
		data := c.objs.Get(k)
		switch {
		case !hasKey(c.objs, k):
			add("%s: object %q has info but no data", where, n)
		case int64(len(data)) != info.size:
			add("%s: object %q: size %d, info says %d", where, n, len(data), info.size)
		case etagOf(data) != info.etag:
			add("%s: object %q: etag %q, info says %q", where, n, etagOf(data), info.etag)
		}
		if got := c.uidOwner(info.uid); got != n {
			add("%s: object %q: uid %q indexed to %q", where, n, info.uid, got)
		}
		if sv := c.spans.Get(spanKey(info.span.Start, n)); !bytes.Equal(sv, spanValue(info.span.End)) {
			add("%s: object %q: span index entry missing or wrong", where, n)
		}
		if cv := c.changes.Get(seqKey(info.seq)); !bytes.Equal(cv, changeValue(ChangeKindUpsert, n)) {
			add("%s: object %q: no upsert change at its seq %d", where, n, info.seq)
		}
		if info.seq == 0 || info.seq > c.st.seq {
			add("%s: object %q: seq %d outside 1..%d", where, n, info.seq, c.st.seq)
		}
		if c.tomb.Get(k) != nil {
			add("%s: object %q is also tombstoned", where, n)
		}
		return nil
	})
	if uint64(len(infos)) != c.st.objects {
		add("%s: %d objects, state says %d", where, len(infos), c.st.objects)
	}
	_ = c.objs.ForEach(func(k, _ []byte) error {
		if _, ok := infos[string(k)]; !ok {
			add("%s: object data %q without info", where, k)
		}
		return nil
	})
	_ = c.uids.ForEach(func(k, v []byte) error {
		if info, ok := infos[string(v)]; !ok || info.uid != string(k) {
			add("%s: uid %q indexed to %q, which does not hold it", where, k, v)
		}
		return nil
	})
	_ = c.spans.ForEach(func(k, v []byte) error {
		s, e, n, err := decodeSpanEntry(k, v)
		if err != nil {
			add("%s: %v", where, err)
			return nil
		}
		if info, ok := infos[n]; !ok || info.span != (Span{s, e}) {
			add("%s: span entry [%d, %d) of %q not backed by its object", where, s, e, n)
		}
		return nil
	})
	tombs := map[string]uint64{}
	_ = c.tomb.ForEach(func(k, v []byte) error {
		n := string(k)
		if len(v) != 8 {
			add("%s: tombstone %q: corrupt seq", where, n)
			return nil
		}
		seq := binary.BigEndian.Uint64(v)
		tombs[n] = seq
		if cv := c.changes.Get(v); !bytes.Equal(cv, changeValue(ChangeKindDelete, n)) {
			add("%s: tombstone %q: no delete change at its seq %d", where, n, seq)
		}
		if seq == 0 || seq > c.st.seq {
			add("%s: tombstone %q: seq %d outside 1..%d", where, n, seq, c.st.seq)
		}
		return nil
	})
	_ = c.changes.ForEach(func(k, v []byte) error {
		seq, kind, n, err := decodeChange(k, v)
		if err != nil {
			add("%s: %v", where, err)
			return nil
		}
		if seq > c.st.seq {
			add("%s: change %d beyond sync seq %d", where, seq, c.st.seq)
		}
		switch kind {
		case ChangeKindUpsert:
			if info, ok := infos[n]; !ok || info.seq != seq {
				add("%s: upsert change %d of %q not backed by the object", where, seq, n)
			}
		case ChangeKindDelete:
			if tombs[n] != seq {
				add("%s: delete change %d of %q not backed by a tombstone", where, seq, n)
			}
		}
		return nil
	})
}

// hasKey reports whether b holds key k (bbolt's Get cannot tell an empty
// value from a missing one).
func hasKey(b *bolt.Bucket, k []byte) bool {
	got, _ := b.Cursor().Seek(k)
	return got != nil && bytes.Equal(got, k)
}

// Backup writes a consistent copy of the database to w while it stays in
// use (bbolt's Tx.WriteTo inside a read transaction; copying the live file
// instead could corrupt the copy). It returns the number of bytes written.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}
