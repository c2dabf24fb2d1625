package ttlcache

import (
	"errors"
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
