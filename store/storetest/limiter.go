package storetest

import (
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

func take(t *testing.T, s store.Store, key string, r store.Rate, reserve int) time.Duration {
	t.Helper()
	wait, err := s.Take(testContext(t), key, r, reserve)
	if err != nil {
		t.Fatalf("Take(%s): %v", key, err)
	}
	if wait < 0 {
		t.Fatalf("Take(%s) returned negative wait %v", key, wait)
	}
	return wait
}

func runLimiter(t *testing.T, h Harness) {
	t.Run("BurstThenWait", func(t *testing.T) {
		s := h.New(t)
		r := store.Rate{Limit: 10, Period: time.Second, Burst: 5}
		for i := range r.Burst {
			if w := take(t, s, "pd:prod", r, 0); w != 0 {
				t.Fatalf("request %d of the burst had to wait %v", i+1, w)
			}
		}
		interval := r.Period / time.Duration(r.Limit)
		w := take(t, s, "pd:prod", r, 0)
		if w <= 0 || w > interval+time.Millisecond {
			t.Fatalf("request after the burst: wait %v, want in (0, %v]", w, interval)
		}
		// Waiting as told is enough.
		time.Sleep(w + 5*time.Millisecond)
		if w := take(t, s, "pd:prod", r, 0); w != 0 {
			t.Fatalf("after waiting as told, still asked to wait %v", w)
		}
		// Buckets are independent.
		if w := take(t, s, "pd:staging", r, 0); w != 0 {
			t.Fatalf("another key had to wait %v", w)
		}
	})
	t.Run("SustainedRate", func(t *testing.T) {
		s := h.New(t)
		r := store.Rate{Limit: 20, Period: 200 * time.Millisecond, Burst: 2}
		interval := r.Period / time.Duration(r.Limit)
		start := time.Now()
		allowed := 0
		for time.Since(start) < 300*time.Millisecond {
			if w := take(t, s, "k", r, 0); w > 0 {
				time.Sleep(w)
				continue
			}
			allowed++
		}
		// Never more than the burst plus one per interval; a slow machine
		// may allow fewer, so the lower bound is only a sanity check.
		limit := r.Burst + int(time.Since(start)/interval) + 2
		if allowed > limit || allowed <= r.Burst {
			t.Fatalf("%d requests allowed in %v, want more than %d and at most %d", allowed, time.Since(start), r.Burst, limit)
		}
	})
	t.Run("ReserveLeavesHeadroom", func(t *testing.T) {
		s := h.New(t)
		// A long period so that nothing refills during the test.
		r := store.Rate{Limit: 5, Period: 50 * time.Second, Burst: 5}
		for i := range 3 {
			if w := take(t, s, "k", r, 2); w != 0 {
				t.Fatalf("read %d with reserve 2 had to wait %v while 3 tokens were free", i+1, w)
			}
		}
		readWait := take(t, s, "k", r, 2)
		if readWait == 0 {
			t.Fatal("a read with reserve 2 was allowed with only 2 tokens left")
		}
		for i := range 2 {
			if w := take(t, s, "k", r, 0); w != 0 {
				t.Fatalf("write %d had to wait %v although the reads left it room", i+1, w)
			}
		}
		writeWait := take(t, s, "k", r, 0)
		readWait = take(t, s, "k", r, 2)
		if writeWait == 0 || readWait <= writeWait {
			t.Fatalf("empty bucket: write waits %v, read waits %v; want the read to wait longer", writeWait, readWait)
		}
	})
	t.Run("ReserveAboveBurst", func(t *testing.T) {
		s := h.New(t)
		// A reserve that could never be met still lets a full bucket serve one.
		r := store.Rate{Limit: 1, Period: time.Minute, Burst: 3}
		if w := take(t, s, "k", r, 10); w != 0 {
			t.Fatalf("full bucket, reserve above burst: wait %v, want 0", w)
		}
		if w := take(t, s, "k", r, 10); w == 0 {
			t.Fatal("second request with an unmeetable reserve was allowed")
		}
	})
	t.Run("InvalidRate", func(t *testing.T) {
		s := h.New(t)
		for _, r := range []store.Rate{{Limit: 0, Period: time.Second, Burst: 1}, {Limit: 1, Period: 0, Burst: 1}} {
			_, err := s.Take(testContext(t), "k", r, 0)
			wantCode(t, err, nova.EINVALID, "Take with an invalid rate")
		}
	})
}
