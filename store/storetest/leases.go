package storetest

import (
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

func runLeases(t *testing.T, h Harness) {
	t.Run("ExpiryReclaims", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		mustEnqueue(t, s, item("A", 0, "a1"), true)
		mustEnqueue(t, s, item("A", 0, "a2"), true)
		first := mustClaim(t, s, 50*time.Millisecond)
		var second *store.Delivery
		eventually(t, "reclaim after lease expiry", func() bool {
			d, err := s.Claim(ctx, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			second = d
			return d != nil
		})
		if second.Seq != first.Seq || string(second.Payload) != "a1" || second.Attempts != 2 || second.Lease == first.Lease {
			t.Fatalf("reclaimed %+v; want a1 again (seq %d) with Attempts 2 and a new lease", second, first.Seq)
		}
		// The first worker's lease is no longer current.
		wantCode(t, s.Ack(ctx, first), nova.ECONFLICT, "Ack with an expired, reclaimed lease")
		wantCode(t, s.Extend(ctx, first, time.Minute), nova.ECONFLICT, "Extend with an expired, reclaimed lease")
		wantCode(t, s.Release(ctx, first, 0), nova.ECONFLICT, "Release with an expired, reclaimed lease")
		wantDepth(t, s, 2)
		claimNone(t, s, "the reclaimed item is leased again")
		mustAck(t, s, second)
		claimPayload(t, s, "a2")
	})
	t.Run("ExtendKeepsLease", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		mustEnqueue(t, s, item("A", 0, "a1"), true)
		d := mustClaim(t, s, 100*time.Millisecond)
		if err := s.Extend(ctx, d, time.Minute); err != nil {
			t.Fatalf("Extend of a current lease: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
		claimNone(t, s, "the lease was extended")
		mustAck(t, s, d)
		wantDepth(t, s, 0)
	})
	t.Run("ExpiredButUnclaimedLeaseStillCounts", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		mustEnqueue(t, s, item("A", 0, "a1"), true)
		d := mustClaim(t, s, 20*time.Millisecond)
		time.Sleep(100 * time.Millisecond)
		// Nobody took the item over, so the slow worker's lease is still
		// the current one and finishing its work must not be refused.
		if err := s.Extend(ctx, d, time.Minute); err != nil {
			t.Fatalf("Extend after expiry without a reclaim: %v", err)
		}
		claimNone(t, s, "the lease was renewed")
		mustAck(t, s, d)
	})
	t.Run("EndedLeaseConflicts", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		mustEnqueue(t, s, item("A", 0, "a1"), true)
		mustEnqueue(t, s, item("B", 0, "b1"), true)
		a := claimPayload(t, s, "a1")
		mustAck(t, s, a)
		wantCode(t, s.Ack(ctx, a), nova.ECONFLICT, "second Ack")
		wantCode(t, s.Release(ctx, a, 0), nova.ECONFLICT, "Release after Ack")
		b := claimPayload(t, s, "b1")
		if err := s.Release(ctx, b, 0); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.Ack(ctx, b), nova.ECONFLICT, "Ack after Release")
		wantCode(t, s.Extend(ctx, b, time.Minute), nova.ECONFLICT, "Extend after Release")
		forged := *b
		forged.Lease = "not-a-lease"
		b = claimPayload(t, s, "b1")
		forged.Seq = b.Seq
		wantCode(t, s.Ack(ctx, &forged), nova.ECONFLICT, "Ack with a forged lease")
		mustAck(t, s, b)
		wantDepth(t, s, 0)
	})
	t.Run("ReleaseWithDelay", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		mustEnqueue(t, s, item("A", 0, "a1"), true)
		mustEnqueue(t, s, item("A", 0, "a2"), true)
		mustEnqueue(t, s, item("B", 1, "b1"), true)
		a := claimPayload(t, s, "a1")
		start := time.Now()
		const delay = 300 * time.Millisecond
		if err := s.Release(ctx, a, delay); err != nil {
			t.Fatal(err)
		}
		// Other keys go on; key A does not skip its delayed head.
		mustAck(t, s, claimPayload(t, s, "b1"))
		if time.Since(start) < delay {
			claimNone(t, s, "a1 is delayed")
		}
		wantDepth(t, s, 2)
		var again *store.Delivery
		eventually(t, "delayed item becoming ready", func() bool {
			d, err := s.Claim(ctx, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			again = d
			return d != nil
		})
		if string(again.Payload) != "a1" || again.Attempts != 2 {
			t.Fatalf("after the delay claimed %q with Attempts %d; want a1 with 2", again.Payload, again.Attempts)
		}
		if waited := time.Since(start); waited < delay-20*time.Millisecond {
			t.Fatalf("delayed item came back after %v, want at least %v", waited, delay)
		}
	})
	t.Run("Depth", func(t *testing.T) {
		s := h.New(t)
		ctx := testContext(t)
		for _, k := range []string{"A", "A", "B", "C"} {
			mustEnqueue(t, s, item(k, 0, k), true)
		}
		wantDepth(t, s, 4)
		a := mustClaim(t, s, time.Minute)
		wantDepth(t, s, 4) // leased items are still stored
		if err := s.Release(ctx, a, time.Hour); err != nil {
			t.Fatal(err)
		}
		wantDepth(t, s, 4) // and so are delayed ones
		mustAck(t, s, mustClaim(t, s, time.Minute))
		wantDepth(t, s, 3)
	})
}
