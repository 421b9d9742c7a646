package store

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit. Every bbolt commit costs an fsync (milliseconds on real
// disks), and bbolt has one writer at a time, so concurrent writers queue
// behind each other's fsyncs. update lets them share: a writer that finds no
// commit under way runs its change at once, alone, and adds no latency;
// writers that arrive while a commit is under way queue up, and the first of
// them, when it is done, commits the whole queue in one transaction (one
// fsync). bbolt's own Batch does the same but waits a fixed delay before
// every commit, which a single client would pay on every PUT.
//
// A function in a group must not fail for reasons of its own request: a
// failed precondition, a missing object or a UID conflict is a result,
// which it records in its closure and returns nil, having written nothing.
// An error it returns (an I/O error, corruption) rolls the whole group
// back; then every function of the group runs again alone, in its own
// transaction, so each caller gets its own outcome. Functions must
// therefore reset what they record each time they run.

// maxGroup caps the writes of one group transaction.
const maxGroup = 128

type groupCall struct {
	fn   func(*bolt.Tx) error
	err  error
	done chan struct{} // closed when fn's outcome is final
	lead chan struct{} // closed when this call must commit the queue
}

type committer struct {
	mu      sync.Mutex
	queue   []*groupCall
	running bool // a group is being committed; its leader hands on
}

// update runs fn in a write transaction, grouped with concurrent calls.
func (db *DB) update(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan struct{}), lead: make(chan struct{})}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, c)
	leader := !g.running
	g.running = true
	g.mu.Unlock()
	if !leader {
		select {
		case <-c.done:
			return c.err
		case <-c.lead:
		}
	}
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	db.commitGroup(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		close(g.queue[0].lead) // the next group's leader
	} else {
		g.running = false
	}
	g.mu.Unlock()
	<-c.done
	return c.err
}

func (db *DB) commitGroup(batch []*groupCall) {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, c := range batch {
			if err := c.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		// Someone's write failed (or the commit did): give each its own
		// transaction and its own outcome.
		for _, c := range batch {
			c.err = db.bolt.Update(c.fn)
			close(c.done)
		}
		return
	}
	for _, c := range batch {
		c.err = err
		close(c.done)
	}
}
