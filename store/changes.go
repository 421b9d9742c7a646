package store

import (
	"cmp"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Changes returns, for the calendar, the latest change of each object name
// after the sync token (empty token: every current object as an upsert), in
// sequence order, at most limit of them (limit <= 0: all), the token to give
// the client, and whether more changes remain. A token from another calendar
// or an older epoch is ErrInvalidSyncToken.
//
// When more is true the returned token is the seq of the last change
// returned, so asking again with it continues where this call stopped;
// otherwise it is the calendar's current token. A token is also invalid when
// its seq is beyond the calendar's SyncSeq, or older than the retained
// change log (tokens below the calendar's pruned-below mark; nothing is
// pruned yet, so that mark is 0 and every token the calendar issued stays
// valid).
func (db *DB) Changes(owner, calendar, token string, limit int) ([]Change, string, bool, error) {
	var (
		initial = token == ""
		tokID   string
		after   uint64
	)
	if !initial {
		var err error
		if tokID, after, err = ParseSyncToken(token); err != nil {
			return nil, "", false, fmt.Errorf("%w: %q is not a calbolt sync token", ErrInvalidSyncToken, token)
		}
	}
	var (
		out  []Change
		next string
		more bool
	)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c, err := loadCal(tx, owner, calendar)
		if err != nil {
			return err
		}
		cal, err := c.calendar()
		if err != nil {
			return err
		}
		if !initial {
			switch {
			case tokID != cal.ID:
				return fmt.Errorf("%w: token %q was not issued by calendar %q", ErrInvalidSyncToken, token, calendar)
			case after > c.st.seq:
				return fmt.Errorf("%w: token %q is ahead of calendar %q (seq %d)", ErrInvalidSyncToken, token, calendar, c.st.seq)
			case after < c.st.prunedBelow:
				return fmt.Errorf("%w: token %q is older than the change log of calendar %q", ErrInvalidSyncToken, token, calendar)
			}
		}
		if initial {
			out, more, err = c.currentObjects(limit)
		} else {
			out, more, err = c.changesAfter(after, limit)
		}
		if err != nil {
			return err
		}
		last := c.st.seq
		if more {
			last = out[len(out)-1].Seq
		}
		next = FormatSyncToken(cal.ID, last)
		return nil
	})
	if err != nil {
		return nil, "", false, err
	}
	return out, next, more, nil
}

// currentObjects returns every object as an upsert in seq order, at most
// limit of them. Reading the info bucket in one pass and sorting is much
// faster than a lookup per change-log entry; since every object's change
// entry sits at its info seq, the result is the same.
func (c *calTx) currentObjects(limit int) ([]Change, bool, error) {
	out := make([]Change, 0, c.st.objects)
	err := c.info.ForEach(func(k, v []byte) error {
		info, err := decodeInfo(v)
		if err != nil {
			return fmt.Errorf("store: object %q in calendar %q: %w", k, c.name, err)
		}
		out = append(out, Change{Name: string(k), Kind: ChangeKindUpsert, ETag: info.etag, Seq: info.seq})
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	slices.SortFunc(out, func(a, b Change) int { return cmp.Compare(a.Seq, b.Seq) })
	if limit > 0 && len(out) > limit {
		return out[:limit:limit], true, nil
	}
	return out, false, nil
}

// changesAfter returns the change-log entries after seq in seq order, at
// most limit of them, and whether more remain.
func (c *calTx) changesAfter(after uint64, limit int) ([]Change, bool, error) {
	var out []Change
	cur := c.changes.Cursor()
	for k, v := cur.Seek(seqKey(after + 1)); k != nil; k, v = cur.Next() {
		seq, kind, name, err := decodeChange(k, v)
		if err != nil {
			return nil, false, fmt.Errorf("store: calendar %q: %w", c.name, err)
		}
		if limit > 0 && len(out) == limit {
			return out, true, nil
		}
		ch := Change{Name: name, Kind: kind, Seq: seq}
		if kind == ChangeKindUpsert {
			info, ok, err := c.lookup(name)
			if err != nil {
				return nil, false, err
			}
			if !ok {
				return nil, false, fmt.Errorf("store: calendar %q: change %d names missing object %q", c.name, seq, name)
			}
			ch.ETag = info.etag
		}
		out = append(out, ch)
	}
	return out, false, nil
}
