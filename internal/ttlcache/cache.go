// Package ttlcache is Nova's one in-process cache: entries are fresh for a
// fixed age from when they were stored, and the cache forgets everything
// when it grows past its bound (a refill costs a few reads). Time is passed
// in, so callers use their own clock.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values that are fresh for MaxAge. It is safe for
// concurrent use; the zero value is not (use New).
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	maxAge   time.Duration
	maxItems int
	items    map[K]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// New returns a cache whose entries are fresh for maxAge and which holds at
// most maxItems entries (0: unbounded).
func New[K comparable, V any](maxAge time.Duration, maxItems int) *Cache[K, V] {
	return &Cache[K, V]{maxAge: maxAge, maxItems: maxItems, items: map[K]entry[V]{}}
}

// Get returns the value stored under key if it is younger than the cache's
// age at now.
func (c *Cache[K, V]) Get(key K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[key]
	if !ok || now.Sub(it.at) >= c.maxAge {
		var zero V
		return zero, false
	}
	return it.v, true
}

// Put stores v under key as of now.
func (c *Cache[K, V]) Put(key K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; !ok && c.maxItems > 0 && len(c.items) >= c.maxItems {
		c.items = map[K]entry[V]{}
	}
	c.items[key] = entry[V]{v: v, at: now}
}

// Forget drops key, so the next Get misses.
func (c *Cache[K, V]) Forget(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, key)
}

// Load returns the fresh value under key, or calls load, stores what it
// returns and returns it. A failed load stores nothing. Concurrent misses
// may each call load; the last one stored wins.
func (c *Cache[K, V]) Load(key K, now time.Time, load func() (V, error)) (V, error) {
	if v, ok := c.Get(key, now); ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.Put(key, v, now)
	return v, nil
}
