package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// dedupTTL is long enough never to expire during a test that does not
// test expiry.
const dedupTTL = time.Hour

// item returns a delivery without deduplication ids.
func item(key string, priority int, payload string) store.Delivery {
	return store.Delivery{Key: key, Priority: priority, Payload: []byte(payload)}
}

func mustEnqueue(t *testing.T, s store.Store, d store.Delivery, want bool) {
	t.Helper()
	got, err := s.Enqueue(testContext(t), d, dedupTTL)
	if err != nil {
		t.Fatalf("Enqueue(%q): %v", d.Payload, err)
	}
	if got != want {
		t.Fatalf("Enqueue(%q) stored = %v, want %v", d.Payload, got, want)
	}
}

func mustClaim(t *testing.T, s store.Store, lease time.Duration) *store.Delivery {
	t.Helper()
	d, err := s.Claim(testContext(t), lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if d == nil {
		t.Fatal("Claim returned nothing, want an item")
	}
	return d
}

func claimNone(t *testing.T, s store.Store, why string) {
	t.Helper()
	d, err := s.Claim(testContext(t), time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if d != nil {
		t.Fatalf("Claim returned %q (key %q), want nothing: %s", d.Payload, d.Key, why)
	}
}

// claimSeq claims and checks the payload, returning the delivery.
func claimPayload(t *testing.T, s store.Store, want string) *store.Delivery {
	t.Helper()
	d := mustClaim(t, s, time.Minute)
	if string(d.Payload) != want {
		t.Fatalf("claimed %q (key %q, priority %d), want %q", d.Payload, d.Key, d.Priority, want)
	}
	return d
}

func mustAck(t *testing.T, s store.Store, d *store.Delivery) {
	t.Helper()
	if err := s.Ack(testContext(t), d); err != nil {
		t.Fatalf("Ack(%q): %v", d.Payload, err)
	}
}

func wantDepth(t *testing.T, s store.Store, want int64) {
	t.Helper()
	n, err := s.InboxDepth(testContext(t))
	if err != nil || n != want {
		t.Fatalf("InboxDepth = %d, %v; want %d", n, err, want)
	}
}

func runInbox(t *testing.T, h Harness) {
	t.Run("Empty", func(t *testing.T) {
		s := h.New(t)
		claimNone(t, s, "the inbox is empty")
		wantDepth(t, s, 0)
	})
	t.Run("RoundTrip", func(t *testing.T) {
		s := h.New(t)
		at := time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)
		in := store.Delivery{WebhookID: "w1", EventID: "e1", Key: "PABC123", Priority: 3,
			Payload: []byte{0, '{', 0xff, '}'}, EnqueuedAt: at}
		mustEnqueue(t, s, in, true)
		mustEnqueue(t, s, item("other", 9, "stamped"), true)
		wantDepth(t, s, 2)
		d := mustClaim(t, s, time.Minute)
		if d.Seq <= 0 || d.Key != in.Key || d.Priority != 3 || d.WebhookID != "w1" || d.EventID != "e1" ||
			!bytes.Equal(d.Payload, in.Payload) || !d.EnqueuedAt.Equal(at) || d.Attempts != 1 || d.Lease == "" {
			t.Fatalf("claimed %+v, want the enqueued fields with Seq > 0, Attempts 1 and a Lease", d)
		}
		d2 := mustClaim(t, s, time.Minute)
		if d2.Seq <= d.Seq || d2.EnqueuedAt.IsZero() || d2.Lease == d.Lease {
			t.Fatalf("second item %+v: want a later Seq, EnqueuedAt stamped by Enqueue, its own Lease", d2)
		}
		mustAck(t, s, d)
		mustAck(t, s, d2)
		wantDepth(t, s, 0)
		claimNone(t, s, "every item was acknowledged")
	})
	t.Run("DedupWebhookID", func(t *testing.T) {
		s := h.New(t)
		mustEnqueue(t, s, store.Delivery{WebhookID: "w1", Key: "k", Payload: []byte("first")}, true)
		mustEnqueue(t, s, store.Delivery{WebhookID: "w1", EventID: "e9", Key: "k", Payload: []byte("redelivery")}, false)
		// The rejected delivery must leave no trace: its event id is unseen.
		mustEnqueue(t, s, store.Delivery{EventID: "e9", Key: "k", Payload: []byte("e9")}, true)
		wantDepth(t, s, 2)
		// Processing an item does not forget that its id was seen.
		mustAck(t, s, claimPayload(t, s, "first"))
		mustEnqueue(t, s, store.Delivery{WebhookID: "w1", Key: "k", Payload: []byte("late")}, false)
	})
	t.Run("DedupEventID", func(t *testing.T) {
		s := h.New(t)
		mustEnqueue(t, s, store.Delivery{EventID: "e1", Key: "k", Payload: []byte("first")}, true)
		mustEnqueue(t, s, store.Delivery{WebhookID: "w9", EventID: "e1", Key: "k", Payload: []byte("same event")}, false)
		mustEnqueue(t, s, store.Delivery{WebhookID: "w9", Key: "k", Payload: []byte("w9")}, true)
		mustEnqueue(t, s, store.Delivery{WebhookID: "w2", EventID: "e2", Key: "k", Payload: []byte("new")}, true)
		wantDepth(t, s, 3)
	})
	t.Run("NoIDsNoDedup", func(t *testing.T) {
		s := h.New(t)
		mustEnqueue(t, s, item("k", 0, "a"), true)
		mustEnqueue(t, s, item("k", 0, "a"), true)
		wantDepth(t, s, 2)
	})
	t.Run("DedupTTLExpires", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		d := store.Delivery{WebhookID: "w", EventID: "e", Key: "k", Payload: []byte("x")}
		const ttl = 200 * time.Millisecond
		if ok, err := s.Enqueue(ctx, d, ttl); err != nil || !ok {
			t.Fatalf("first Enqueue = %v, %v", ok, err)
		}
		if ok, err := s.Enqueue(ctx, d, ttl); err != nil || ok {
			t.Fatalf("immediate redelivery Enqueue = %v, %v; want false", ok, err)
		}
		eventually(t, "dedup key expiry", func() bool {
			ok, err := s.Enqueue(ctx, d, ttl)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		})
		wantDepth(t, s, 2)
	})
	t.Run("DedupTTLInvalid", func(t *testing.T) {
		s := h.New(t)
		_, err := s.Enqueue(testContext(t), store.Delivery{WebhookID: "w", Key: "k"}, 0)
		wantCode(t, err, nova.EINVALID, "Enqueue with ids and no dedup TTL")
	})
	t.Run("PerKeyFIFO", func(t *testing.T) {
		s := h.New(t)
		for _, p := range []string{"a1", "a2", "a3"} {
			mustEnqueue(t, s, item("A", 0, p), true)
		}
		d := claimPayload(t, s, "a1")
		claimNone(t, s, "key A is leased")
		mustAck(t, s, d)
		d = claimPayload(t, s, "a2")
		if err := s.Release(testContext(t), d, 0); err != nil {
			t.Fatal(err)
		}
		// A released item stays at the head of its key.
		d = claimPayload(t, s, "a2")
		if d.Attempts != 2 {
			t.Fatalf("Attempts after release and reclaim = %d, want 2", d.Attempts)
		}
		mustAck(t, s, d)
		mustAck(t, s, claimPayload(t, s, "a3"))
		claimNone(t, s, "key A is drained")
	})
	t.Run("OneLeasePerKey", func(t *testing.T) {
		s := h.New(t)
		mustEnqueue(t, s, item("A", 0, "a1"), true)
		mustEnqueue(t, s, item("A", 0, "a2"), true)
		mustEnqueue(t, s, item("B", 0, "b1"), true)
		claimPayload(t, s, "a1")
		claimPayload(t, s, "b1")
		claimNone(t, s, "a2 waits for a1's lease to end")
	})
	t.Run("PriorityOrder", func(t *testing.T) {
		s := h.New(t)
		mustEnqueue(t, s, item("X", 2, "x"), true)
		mustEnqueue(t, s, item("Y", 0, "y"), true)
		mustEnqueue(t, s, item("Z", 2, "z"), true)
		mustEnqueue(t, s, item("W", 1, "w"), true)
		// A key's place is decided by its head item: A waits behind its
		// low-priority head even though its second item is urgent.
		mustEnqueue(t, s, item("A", 5, "a-low"), true)
		mustEnqueue(t, s, item("A", 0, "a-urgent"), true)
		mustEnqueue(t, s, item("B", 3, "b"), true)
		for _, want := range []string{"y", "w", "x", "z", "b"} {
			mustAck(t, s, claimPayload(t, s, want))
		}
		d := claimPayload(t, s, "a-low")
		mustEnqueue(t, s, item("C", 1, "c"), true)
		mustAck(t, s, d)
		claimPayload(t, s, "a-urgent")
		claimPayload(t, s, "c")
	})
	t.Run("EmptyKeyIsUnordered", func(t *testing.T) {
		s := h.New(t)
		mustEnqueue(t, s, item("", 0, "u1"), true)
		mustEnqueue(t, s, item("", 0, "u2"), true)
		a, b := claimPayload(t, s, "u1"), claimPayload(t, s, "u2")
		if a.Key != "" || b.Key != "" {
			t.Fatalf("keys %q, %q; want them left empty", a.Key, b.Key)
		}
		mustAck(t, s, b)
		mustAck(t, s, a)
		wantDepth(t, s, 0)
	})
}
