// Package storetest is the conformance suite every store backend runs from
// its own tests, so that the embedded and the replicated store cannot drift
// apart in the semantics store.go documents.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Harness is what a backend gives the suite.
type Harness struct {
	// New returns a fresh, empty store isolated from every other store New
	// returns. The backend closes it (for example with t.Cleanup).
	New func(t *testing.T) store.Store
	// Reopen closes s and opens its data again, as a restarted process
	// would; it is optional (nil skips the durability checks).
	Reopen func(t *testing.T, s store.Store) store.Store
	// TamperAudit rewrites audit entry seq in the backend's raw data,
	// bypassing the AuditLog API, the way an attacker with access to the
	// database would. Optional: nil skips the tamper checks.
	TamperAudit func(t *testing.T, s store.Store, seq int64, mutate func(*nova.AuditEntry))
	// DeleteAudit removes audit entry seq from the backend's raw data.
	DeleteAudit func(t *testing.T, s store.Store, seq int64)
}

// Run runs the whole suite against the backend h describes.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("storetest: Harness.New is required")
	}
	t.Run("Ping", func(t *testing.T) {
		s := h.New(t)
		if err := s.Ping(testContext(t)); err != nil {
			t.Fatalf("Ping on a healthy store: %v", err)
		}
	})
	t.Run("Inbox", func(t *testing.T) { runInbox(t, h) })
	t.Run("InboxLeases", func(t *testing.T) { runLeases(t, h) })
	t.Run("InboxConcurrent", func(t *testing.T) { runInboxConcurrent(t, h) })
	t.Run("Records", func(t *testing.T) { runRecords(t, h) })
	t.Run("Audit", func(t *testing.T) { runAudit(t, h) })
	t.Run("Limiter", func(t *testing.T) { runLimiter(t, h) })
	if h.Reopen != nil {
		t.Run("Durability", func(t *testing.T) { runDurability(t, h) })
	}
}

// testContext bounds every call so that a hung backend fails the test
// instead of stalling the whole run.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantCode fails unless err carries the nova error code.
func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if !nova.IsCode(err, code) {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, nova.ErrorCode(err), code)
	}
}

// eventually polls cond until it holds or a generous deadline passes; used
// for expiry so that a slow machine makes the test slower, not flaky.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 5s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runDurability(t *testing.T, h Harness) {
	ctx := testContext(t)
	s := h.New(t)
	mustEnqueue(t, s, item("k", 0, "one"), true)
	mustEnqueue(t, s, item("k", 0, "two"), true)
	if _, err := s.Put(ctx, store.KindMeta, "m", []byte("kept"), 0, 0); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, 3)

	s = h.Reopen(t, s)
	if n, err := s.InboxDepth(ctx); err != nil || n != 2 {
		t.Fatalf("InboxDepth after reopen = %d, %v; want 2", n, err)
	}
	for _, want := range []string{"one", "two"} {
		d := mustClaim(t, s, time.Minute)
		if string(d.Payload) != want {
			t.Fatalf("after reopen claimed %q, want %q", d.Payload, want)
		}
		if err := s.Ack(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if it, err := s.Get(ctx, store.KindMeta, "m"); err != nil || string(it.Value) != "kept" {
		t.Fatalf("record after reopen = %q, %v", it.Value, err)
	}
	entries := listAllAudit(t, s)
	if len(entries) != 3 {
		t.Fatalf("%d audit entries after reopen, want 3", len(entries))
	}
	// The chain must continue from the persisted tail, not restart.
	e := appendN(t, s, 1)[0]
	if e.Seq != 4 || e.PrevHash != entries[2].Hash {
		t.Fatalf("append after reopen got seq %d prev %q; want seq 4 after %q", e.Seq, e.PrevHash, entries[2].Hash)
	}
}
