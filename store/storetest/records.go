package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

func mustPut(t *testing.T, s store.Store, kind, id, value string, version int64, ttl time.Duration) int64 {
	t.Helper()
	v, err := s.Put(testContext(t), kind, id, []byte(value), version, ttl)
	if err != nil {
		t.Fatalf("Put %s/%s (version %d): %v", kind, id, version, err)
	}
	if v <= 0 {
		t.Fatalf("Put %s/%s returned version %d, want > 0", kind, id, v)
	}
	return v
}

func wantRecord(t *testing.T, s store.Store, kind, id, value string, version int64) {
	t.Helper()
	it, err := s.Get(testContext(t), kind, id)
	if err != nil {
		t.Fatalf("Get %s/%s: %v", kind, id, err)
	}
	if it.ID != id || string(it.Value) != value || it.Version != version {
		t.Fatalf("Get %s/%s = {%q %q %d}, want {%q %q %d}", kind, id, it.ID, it.Value, it.Version, id, value, version)
	}
}

func wantMissing(t *testing.T, s store.Store, kind, id string) {
	t.Helper()
	_, err := s.Get(testContext(t), kind, id)
	wantCode(t, err, nova.ENOTFOUND, "Get "+kind+"/"+id)
}

func runRecords(t *testing.T, h Harness) {
	const k = store.KindApproval
	t.Run("CreateOnly", func(t *testing.T) {
		s := h.New(t)
		wantMissing(t, s, k, "a")
		v1 := mustPut(t, s, k, "a", "one", 0, 0)
		_, err := s.Put(testContext(t), k, "a", []byte("again"), 0, 0)
		wantCode(t, err, nova.ECONFLICT, "create of an existing record")
		wantRecord(t, s, k, "a", "one", v1)
		_, err = s.Put(testContext(t), k, "b", []byte("x"), 5, 0)
		wantCode(t, err, nova.ECONFLICT, "Put with a version on a missing record")
		wantMissing(t, s, k, "b")
	})
	t.Run("CompareAndSet", func(t *testing.T) {
		s := h.New(t)
		v1 := mustPut(t, s, k, "a", "one", 0, 0)
		v2 := mustPut(t, s, k, "a", "two", v1, 0)
		if v2 <= v1 {
			t.Fatalf("version went from %d to %d, want increasing", v1, v2)
		}
		_, err := s.Put(testContext(t), k, "a", []byte("stale"), v1, 0)
		wantCode(t, err, nova.ECONFLICT, "Put with a stale version")
		wantRecord(t, s, k, "a", "two", v2)
		v3 := mustPut(t, s, k, "a", "three", store.AnyVersion, 0)
		if v3 <= v2 {
			t.Fatalf("unconditional Put: version %d after %d, want increasing", v3, v2)
		}
		mustPut(t, s, k, "fresh", "x", store.AnyVersion, 0)
	})
	t.Run("Delete", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		v1 := mustPut(t, s, k, "a", "one", 0, 0)
		wantCode(t, s.Delete(ctx, k, "a", v1+1000), nova.ECONFLICT, "Delete with a wrong version")
		wantRecord(t, s, k, "a", "one", v1)
		if err := s.Delete(ctx, k, "a", v1); err != nil {
			t.Fatal(err)
		}
		wantMissing(t, s, k, "a")
		if err := s.Delete(ctx, k, "a", v1); err != nil {
			t.Fatalf("Delete of a missing record: %v", err)
		}
		// A record created again must not accept the old version (ABA).
		v2 := mustPut(t, s, k, "a", "reborn", 0, 0)
		if _, err := s.Put(ctx, k, "a", []byte("stale"), v1, 0); v2 == v1 || err == nil {
			t.Fatalf("version %d of a deleted record still matches the recreated one (%d)", v1, v2)
		}
		if err := s.Delete(ctx, k, "a", store.AnyVersion); err != nil {
			t.Fatal(err)
		}
		wantMissing(t, s, k, "a")
	})
	t.Run("KindsAreSeparate", func(t *testing.T) {
		s := h.New(t)
		mustPut(t, s, store.KindIncident, "P1", "incident", 0, 0)
		mustPut(t, s, store.KindService, "P1", "service", 0, 0)
		mustPut(t, s, "inc", "P1x", "prefix kind", 0, 0)
		items, err := s.List(testContext(t), store.KindIncident, "", 10)
		if err != nil || len(items) != 1 || string(items[0].Value) != "incident" {
			t.Fatalf("List incident = %v, %v; want only the incident record", items, err)
		}
		if err := s.Delete(testContext(t), store.KindService, "P1", store.AnyVersion); err != nil {
			t.Fatal(err)
		}
		it, err := s.Get(testContext(t), store.KindIncident, "P1")
		if err != nil || string(it.Value) != "incident" {
			t.Fatalf("deleting service/P1 touched incident/P1: %q, %v", it.Value, err)
		}
	})
	t.Run("Values", func(t *testing.T) {
		s := h.New(t)
		bin := []byte{0, 1, 2, 0xff, '\n', 0}
		v, err := s.Put(testContext(t), k, "bin", bin, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		it, err := s.Get(testContext(t), k, "bin")
		if err != nil || !bytes.Equal(it.Value, bin) || it.Version != v {
			t.Fatalf("binary value came back as %v (version %d), %v", it.Value, it.Version, err)
		}
		empty := mustPut(t, s, k, "empty", "", 0, 0)
		wantRecord(t, s, k, "empty", "", empty)
	})
	t.Run("TTL", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		const ttl = 200 * time.Millisecond
		mustPut(t, s, store.KindOnce, "short", "x", 0, ttl)
		vb := mustPut(t, s, store.KindOnce, "kept", "b", 0, ttl)
		// Writing again with ttl 0 removes the expiry.
		vb = mustPut(t, s, store.KindOnce, "kept", "b2", vb, 0)
		eventually(t, "record expiry", func() bool {
			_, err := s.Get(ctx, store.KindOnce, "short")
			return nova.IsCode(err, nova.ENOTFOUND)
		})
		items, err := s.List(ctx, store.KindOnce, "", 10)
		if err != nil || len(items) != 1 || items[0].ID != "kept" {
			t.Fatalf("List after expiry = %v, %v; want only the record without ttl", items, err)
		}
		wantRecord(t, s, store.KindOnce, "kept", "b2", vb)
		// An expired record counts as missing for create-only Put.
		mustPut(t, s, store.KindOnce, "short", "again", 0, 0)
	})
	t.Run("ListPaging", func(t *testing.T) { testListPaging(t, h) })
	t.Run("ConcurrentUpdate", func(t *testing.T) { testConcurrentUpdate(t, h) })
}

func testListPaging(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := testContext(t)
	ids := []string{"a", "a1", "ab", "b", "B", "b-2", "zz", "Ω", "a/b", "0"}
	for i := range 15 {
		ids = append(ids, fmt.Sprintf("inc-%03d", i))
	}
	for _, i := range rand.Perm(len(ids)) {
		mustPut(t, s, store.KindIncident, ids[i], "v-"+ids[i], 0, 0)
	}
	mustPut(t, s, store.KindService, "other-kind", "x", 0, 0)
	slices.Sort(ids) // byte order, as the contract orders ids
	var got []string
	after := ""
	for page := 0; ; page++ {
		items, err := s.List(ctx, store.KindIncident, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 7 || page > len(ids) {
			t.Fatalf("page %d has %d items (limit 7)", page, len(items))
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			if string(it.Value) != "v-"+it.ID || it.Version <= 0 {
				t.Fatalf("listed %+v: value or version wrong", it)
			}
			got = append(got, it.ID)
		}
		after = items[len(items)-1].ID
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("paging listed %q, want %q", got, ids)
	}
	items, err := s.List(ctx, store.KindIncident, "inc-0105", 3)
	if err != nil || len(items) != 3 || items[0].ID != "inc-011" {
		t.Fatalf("List after an id that does not exist = %v, %v; want from inc-011", items, err)
	}
	items, err = s.List(ctx, "no-such-kind", "", 10)
	if err != nil || len(items) != 0 {
		t.Fatalf("List of an unused kind = %v, %v; want empty", items, err)
	}
}

// testConcurrentUpdate checks that read-modify-write through store.Update
// loses no increment when writers race.
func testConcurrentUpdate(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := testContext(t)
	type counter struct{ N int }
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for done := 0; done < each; {
				_, err := store.Update(ctx, s, store.KindMeta, "counter", func(c *counter, _ bool) error {
					c.N++
					return nil
				})
				// Giving up under contention is allowed; losing an update is not.
				if nova.IsCode(err, nova.ECONFLICT) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				done++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, _, err := store.Load[counter](ctx, s, store.KindMeta, "counter")
	if err != nil || c.N != writers*each {
		t.Fatalf("counter = %d, %v; want %d", c.N, err, writers*each)
	}
}
