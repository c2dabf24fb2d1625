package ttlcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFreshForMaxAge(t *testing.T) {
	c := New[string, int](time.Minute, 0)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	c.Put("a", 1, t0)
	if v, ok := c.Get("a", t0.Add(59*time.Second)); !ok || v != 1 {
		t.Fatalf("Get before the age = %d, %v", v, ok)
	}
	if _, ok := c.Get("a", t0.Add(time.Minute)); ok {
		t.Fatal("an entry as old as the cache's age is still served")
	}
	c.Put("a", 2, t0)
	c.Forget("a")
	if _, ok := c.Get("a", t0); ok {
		t.Fatal("Forget left the entry")
	}
}

func TestLoadCachesSuccessesOnly(t *testing.T) {
	c := New[string, string](time.Minute, 0)
	now := time.Now()
	calls := 0
	load := func(v string, err error) func() (string, error) {
		return func() (string, error) { calls++; return v, err }
	}
	if _, err := c.Load("k", now, load("", errors.New("down"))); err == nil {
		t.Fatal("a failed load returned no error")
	}
	if v, err := c.Load("k", now, load("x", nil)); err != nil || v != "x" {
		t.Fatalf("Load = %q, %v", v, err)
	}
	if v, _ := c.Load("k", now.Add(time.Second), load("y", nil)); v != "x" || calls != 2 {
		t.Fatalf("a fresh entry was loaded again: %q after %d loads", v, calls)
	}
}

func TestBoundForgetsEverything(t *testing.T) {
	c := New[int, int](time.Hour, 2)
	now := time.Now()
	c.Put(1, 1, now)
	c.Put(2, 2, now)
	c.Put(2, 3, now) // replacing a key does not count as growth
	if _, ok := c.Get(1, now); !ok {
		t.Fatal("replacing an entry dropped the others")
	}
	c.Put(3, 3, now)
	if _, ok := c.Get(1, now); ok {
		t.Fatal("growing past the bound kept old entries")
	}
	if v, ok := c.Get(3, now); !ok || v != 3 {
		t.Fatal("the new entry was not kept")
	}
}

// TestLoadSharedLoadsOnceForConcurrentMisses: callers that miss the same
// key at once share one load; a waiter whose context ends stops waiting
// with its context's error; a failed load is shared and stored for nobody.
func TestLoadSharedLoadsOnceForConcurrentMisses(t *testing.T) {
	c := New[string, int](time.Minute, 0)
	now := time.Unix(1_700_000_000, 0)
	release := make(chan struct{})
	var loads atomic.Int32
	load := func() (int, error) {
		loads.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	results := make([]int, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = c.LoadShared(context.Background(), "k", now, load)
		}()
	}
	for !c.inFlight("k") {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.LoadShared(ctx, "k", now, load); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context ended got %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads for concurrent misses, want 1", n)
	}
	for i, v := range results {
		if v != 42 {
			t.Errorf("caller %d got %d, want 42", i, v)
		}
	}
	boom := errors.New("boom")
	if _, err := c.LoadShared(context.Background(), "bad", now, func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("failed load returned %v", err)
	}
	if _, ok := c.Get("bad", now); ok {
		t.Error("a failed load was stored")
	}
}

// inFlight reports whether a LoadShared of key is under way .
func (c *Cache[K, V]) inFlight(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.flights[key]
	return ok
}
