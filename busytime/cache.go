package busytime

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/calbolt/calbolt/freebusy"
)

// An entry is the busy time of one object, or of a whole calendar (an
// aggregate), over one block [from, to).
type entry struct {
	etag     string
	from, to time.Time
	periods  []freebusy.Period // merged: sorted, non-overlapping
	avail    []freebusy.Availability
}

func (e *entry) size() int {
	n := 4 + len(e.periods)
	for _, a := range e.avail {
		n += 1 + len(a.Available)
	}
	return n
}

// window returns the entry's busy time within [start, end), which the
// caller checked lies within the entry's block.
func (e *entry) window(start, end time.Time) freebusy.Busy {
	i, _ := slices.BinarySearchFunc(e.periods, start, func(p freebusy.Period, t time.Time) int {
		if p.End.After(t) {
			return 1
		}
		return -1
	})
	j := i
	for j < len(e.periods) && e.periods[j].Start.Before(end) {
		j++
	}
	// Merge clips; the slice is shared, so callers must not modify it.
	return freebusy.Busy{Periods: e.periods[i:j:j], Availability: e.avail}
}

// A cache holds entries per calendar, calendar-timezone and set of owner
// addresses (see calendar). It is bounded by the total size of its
// entries; over the bound it drops the calendars used longest ago.
type cache struct {
	mu    sync.Mutex
	limit int
	size  int
	tick  uint64
	cals  map[string]*calCache
}

type calCache struct {
	c    *cache
	id   string
	used uint64
	size int
	objs map[objKey]*entry
	// aggs holds the merged busy time of the whole calendar per block,
	// each valid for the sync sequence it was built at.
	aggs map[block]aggregate
}

type objKey struct {
	name string
	b    block
}

type aggregate struct {
	seq uint64
	e   *entry
}

func newCache(limit int) *cache {
	return &cache{limit: limit, cals: map[string]*calCache{}}
}

// calendar returns the cache of one calendar (by its store ID, never
// reused), reset if its time zone or the owner's addresses changed.
//
// Each calendar ID, time zone and address set has a cache of its own, so
// a server reached under two host names (which give users without an
// e-mail address two addresses) keeps both warm; the one no longer used
// (an old time zone) ages out like any other.
func (c *cache) calendar(id, timezone, addrs string) *calCache {
	sum := sha256.Sum256([]byte(timezone + "\x00" + addrs))
	id += "\x00" + hex.EncodeToString(sum[:8])
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	cc := c.cals[id]
	if cc == nil {
		cc = &calCache{c: c, id: id, objs: map[objKey]*entry{}, aggs: map[block]aggregate{}}
		c.cals[id] = cc
	}
	cc.used = c.tick
	return cc
}

// lookup returns the entry of object name in block b if it is for etag.
func (cc *calCache) lookup(name string, b block, etag string) (*entry, bool) {
	cc.c.mu.Lock()
	e := cc.objs[objKey{name, b}]
	cc.c.mu.Unlock()
	if e == nil || e.etag != etag {
		return nil, false
	}
	return e, true
}

// aggregate returns the calendar's merged busy time over block b if it is
// current (seq).
func (cc *calCache) aggregate(seq uint64, b block) (*entry, bool) {
	cc.c.mu.Lock()
	a, ok := cc.aggs[b]
	cc.c.mu.Unlock()
	if !ok || a.seq != seq {
		return nil, false
	}
	return a.e, true
}

func (cc *calCache) setAggregate(seq uint64, b block, e *entry) {
	cc.put(func() (old, new *entry) {
		old = cc.aggs[b].e
		cc.aggs[b] = aggregate{seq: seq, e: e}
		return old, e
	})
}

func (cc *calCache) store(name string, b block, e *entry) {
	k := objKey{name, b}
	cc.put(func() (old, new *entry) {
		old, cc.objs[k] = cc.objs[k], e
		return old, e
	})
}

// put swaps an entry in under the lock, keeps the sizes and evicts the
// calendars used longest ago while the cache is over its limit.
func (cc *calCache) put(swap func() (old, new *entry)) {
	c := cc.c
	if c.limit < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cals[cc.id] != cc {
		return // the calendar was reset or evicted meanwhile
	}
	old, e := swap()
	if old != nil {
		cc.size -= old.size()
		c.size -= old.size()
	}
	cc.size += e.size()
	c.size += e.size()
	for c.size > c.limit && len(c.cals) > 0 {
		var oldest string
		var used uint64
		for id, x := range c.cals {
			if oldest == "" || x.used < used {
				oldest, used = id, x.used
			}
		}
		c.size -= c.cals[oldest].size
		delete(c.cals, oldest)
	}
}
