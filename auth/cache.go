package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"
)

// credCache remembers credentials that verified successfully, so a client
// that sends Basic credentials on every request pays for argon2id once per
// TTL rather than once per request. Entries are keyed by
// HMAC-SHA256(secret, user NUL password NUL storedHash): the secret is
// random per process, so the map holds nothing an attacker could test
// passwords against, and the stored hash is part of the key, so changing a
// password (or deleting the user) makes old entries unreachable. User-id and
// password cannot contain NUL (parseBasic rejects control characters), so
// the key input is unambiguous.
type credCache struct {
	secret [32]byte
	ttl    time.Duration
	max    int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]time.Time // key → expiry
	swept   time.Time                       // last full sweep of expired entries
}

func newCredCache(ttl time.Duration, max int) *credCache {
	c := &credCache{ttl: ttl, max: max, entries: make(map[[sha256.Size]byte]time.Time)}
	// crypto/rand.Read never returns an error (it crashes the program if
	// the system's randomness is unavailable).
	rand.Read(c.secret[:])
	return c
}

func (c *credCache) key(user, password, storedHash string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.secret[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	m.Write([]byte{0})
	m.Write([]byte(storedHash))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

// has reports whether k verified successfully less than the TTL before now.
func (c *credCache) has(k [sha256.Size]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.entries[k]
	if ok && !now.Before(exp) {
		delete(c.entries, k)
		ok = false
	}
	return ok
}

// add records a successful verification of k at now. When the cache is
// full it first drops expired entries (at most once per TTL, so a full
// cache of live entries does not cost a sweep per insert) and then, if
// still full, an arbitrary entry: that client merely verifies again.
func (c *credCache) add(k [sha256.Size]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		if now.Sub(c.swept) >= c.ttl {
			c.swept = now
			for k, exp := range c.entries {
				if !now.Before(exp) {
					delete(c.entries, k)
				}
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[k] = now.Add(c.ttl)
}

func (c *credCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
