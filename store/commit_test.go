package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Writers that queue behind a commit share the next one; a write that
// fails for its own reason does not take the others of its group down, and
// its caller alone sees the error.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openBolt(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")

	// Hold the first commit open until the other writers have queued, so
	// they form one group.
	release, started := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.update(func(*bolt.Tx) error {
			close(started)
			<-release
			return nil
		})
	}()
	defer func() {
		select {
		case <-release:
		default:
			close(release) // never leave the commit hanging
		}
	}()
	waitQueued := func(n int) {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			db.group.mu.Lock()
			q := len(db.group.queue)
			db.group.mu.Unlock()
			if q >= n {
				return
			}
		}
		t.Fatalf("writers did not queue")
	}
	<-started
	boom := errors.New("disk on fire")
	const writers = 20
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 7 {
				errs[i] = db.update(func(*bolt.Tx) error { return boom })
				return
			}
			_, _, errs[i] = db.PutObject("alice", "work", event(fmt.Sprintf("e%d", i), fmt.Sprintf("u%d", i), "1", 0, 10), Condition{})
		}()
	}
	waitQueued(writers)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("the held commit = %v", err)
	}
	for i, err := range errs {
		switch {
		case i == 7 && !errors.Is(err, boom):
			t.Errorf("the failing write got %v, want its own error", err)
		case i != 7 && err != nil:
			t.Errorf("write %d = %v, want success despite a failing neighbour", i, err)
		}
	}
	infos, err := db.ObjectInfos("alice", "work")
	if err != nil || len(infos) != writers-1 {
		t.Errorf("ObjectInfos = %d objects, %v; want %d", len(infos), err, writers-1)
	}
	cal, _ := db.Calendar("alice", "work")
	if cal.SyncSeq != writers-1 {
		t.Errorf("SyncSeq = %d, want %d (one per write)", cal.SyncSeq, writers-1)
	}
}

// Many writers at once, on their own objects and on a shared one with
// If-Match: every outcome is as if the writes ran one by one.
func TestGroupCommitConcurrentWriters(t *testing.T) {
	db := openBolt(t)
	mustUser(t, db, "alice")
	mustCalendar(t, db, "alice", "work")
	shared := mustPut(t, db, "alice", "work", event("shared", "shared", "0", 0, 10))
	const writers, rounds = 32, 10
	var mu sync.Mutex
	wins := map[int]int{}
	etag := shared.ETag
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				name := fmt.Sprintf("w%d-%d", w, r)
				if _, _, err := db.PutObject("alice", "work", event(name, name, "1", 0, 10), Condition{IfNoneMatch: true}); err != nil {
					t.Errorf("PutObject(%s) = %v", name, err)
				}
				if r%2 == 1 {
					if err := db.DeleteObject("alice", "work", name, Condition{}); err != nil {
						t.Errorf("DeleteObject(%s) = %v", name, err)
					}
				}
				mu.Lock()
				want := etag
				mu.Unlock()
				got, _, err := db.PutObject("alice", "work", event("shared", "shared", fmt.Sprintf("%d-%d", w, r), 0, 10), Condition{IfMatch: want})
				switch {
				case err == nil:
					mu.Lock()
					if etag != want {
						t.Errorf("two writers won with If-Match %s", want)
					}
					etag = got.ETag
					wins[r]++
					mu.Unlock()
				case !errors.Is(err, ErrPreconditionFailed):
					t.Errorf("shared PutObject = %v", err)
				}
			}
		}()
	}
	wg.Wait()
	infos, err := db.ObjectInfos("alice", "work")
	if err != nil || len(infos) != 1+writers*rounds/2 {
		t.Errorf("ObjectInfos = %d, %v; want %d", len(infos), err, 1+writers*rounds/2)
	}
	final, err := db.Object("alice", "work", "shared")
	if err != nil || final.ETag != etag {
		t.Errorf("shared object ETag = %q, %v; want the last winner's %q", final.ETag, err, etag)
	}
}
