// Package ttlcache is Nova's one in-process cache: entries are fresh for a
// fixed age from when they were stored, and the cache forgets everything
// when it grows past its bound (a refill costs a few reads). Time is passed
// in, so callers use their own clock.
package ttlcache

import (
	"context"
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
	// flights are the loads under way for LoadShared, by key.
	flights map[K]*flight[V]
}

// flight is one load under way; done closes when v and err are set.
type flight[V any] struct {
	done chan struct{}
	v    V
	err  error
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
// may each call load; the last one stored wins (LoadShared shares one).
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

// LoadShared is Load for keys many callers miss at once (a storm of
// incidents on one service): the first caller loads and the others wait
// for its result, each no longer than its own ctx (then they get ctx's
// error), so a burst of misses costs one load. A failed load is shared with
// those waiting for it and stored for nobody.
func (c *Cache[K, V]) LoadShared(ctx context.Context, key K, now time.Time, load func() (V, error)) (V, error) {
	if v, ok := c.Get(key, now); ok {
		return v, nil
	}
	c.mu.Lock()
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.v, f.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	if c.flights == nil {
		c.flights = map[K]*flight[V]{}
	}
	f := &flight[V]{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.flights, key)
		c.mu.Unlock()
		close(f.done)
	}()
	f.v, f.err = c.Load(key, now, load)
	return f.v, f.err
}
