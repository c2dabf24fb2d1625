package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

func entry(n int) nova.AuditEntry {
	now := time.Now()
	return nova.AuditEntry{ID: nova.NewAuditID(now), Time: now, Environment: "prod", Service: "PSVC",
		Incident: "PINC", Actor: nova.ActorNova, Action: "note", Outcome: nova.OutcomeOK,
		Detail: fmt.Sprintf("entry %d", n)}
}

// appendN appends n entries and returns them as AppendAudit sealed them.
func appendN(t *testing.T, s store.Store, n int) []nova.AuditEntry {
	t.Helper()
	out := make([]nova.AuditEntry, 0, n)
	for i := range n {
		e, err := s.AppendAudit(testContext(t), entry(i))
		if err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func listAllAudit(t *testing.T, s store.Store) []nova.AuditEntry {
	t.Helper()
	var all []nova.AuditEntry
	for after := int64(0); ; {
		page, err := s.ListAudit(testContext(t), after, 50)
		if err != nil {
			t.Fatalf("ListAudit: %v", err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

func verify(entries []nova.AuditEntry) (int, string) { return nova.VerifyChain(entries, "", 0) }

func runAudit(t *testing.T, h Harness) {
	t.Run("AppendIsIdempotentByID", func(t *testing.T) {
		s := h.New(t)
		in := entry(1)
		first, err := s.AppendAudit(testContext(t), in)
		if err != nil {
			t.Fatal(err)
		}
		appendN(t, s, 1)
		// A retried act appends the same id again, maybe with other details.
		again := in
		again.Detail = "retried"
		got, err := s.AppendAudit(testContext(t), again)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != first.Seq || got.Hash != first.Hash || got.Detail != first.Detail {
			t.Fatalf("re-append returned %+v, want the stored %+v", got, first)
		}
		all := listAllAudit(t, s)
		if len(all) != 2 {
			t.Fatalf("log has %d entries after a repeated id, want 2", len(all))
		}
		if i, why := verify(all); i >= 0 {
			t.Fatalf("chain broken at %d: %s", i, why)
		}
	})
	t.Run("AppendSeals", func(t *testing.T) {
		s := h.New(t)
		if got := listAllAudit(t, s); len(got) != 0 {
			t.Fatalf("new store has %d audit entries", len(got))
		}
		in := entry(1)
		in.PagerDutyRef = "PNOTE1"
		e, err := s.AppendAudit(testContext(t), in)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != 1 || e.PrevHash != "" || e.Hash != e.ComputeHash() || e.ID != in.ID || e.PagerDutyRef != "PNOTE1" {
			t.Fatalf("first entry %+v: want seq 1, no prev hash, a valid hash and the caller's fields", e)
		}
		e2 := appendN(t, s, 1)[0]
		if e2.Seq != 2 || e2.PrevHash != e.Hash {
			t.Fatalf("second entry seq %d prev %q; want 2 after %q", e2.Seq, e2.PrevHash, e.Hash)
		}
		got := listAllAudit(t, s)
		if len(got) != 2 || got[0].Hash != e.Hash || got[1].Hash != e2.Hash || !got[0].Time.Equal(in.Time) {
			t.Fatalf("listed %+v; want exactly what AppendAudit returned", got)
		}
		if i, why := verify(got); i >= 0 {
			t.Fatalf("chain invalid at %d: %s", i, why)
		}
	})
	t.Run("ConcurrentAppend", func(t *testing.T) {
		s := h.New(t)
		const writers, each = 8, 20
		ids := make(chan string, writers*each)
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for i := range each {
					e, err := s.AppendAudit(testContext(t), entry(i))
					if err != nil {
						t.Errorf("AppendAudit: %v", err)
						return
					}
					ids <- e.ID
				}
			})
		}
		wg.Wait()
		close(ids)
		got := listAllAudit(t, s)
		if len(got) != writers*each {
			t.Fatalf("%d entries listed, want %d", len(got), writers*each)
		}
		if i, why := verify(got); i >= 0 {
			t.Fatalf("concurrent appends broke the chain at %d: %s", i, why)
		}
		listed := make(map[string]bool, len(got))
		for _, e := range got {
			listed[e.ID] = true
		}
		for id := range ids {
			if !listed[id] {
				t.Fatalf("appended entry %s is not listed", id)
			}
		}
	})
	t.Run("Paging", func(t *testing.T) {
		s := h.New(t)
		appendN(t, s, 20)
		page, err := s.ListAudit(testContext(t), 5, 7)
		if err != nil || len(page) != 7 || page[0].Seq != 6 || page[6].Seq != 12 {
			t.Fatalf("ListAudit(5, 7) = %d entries from seq %v, %v; want seqs 6..12", len(page), seqs(page), err)
		}
		page, err = s.ListAudit(testContext(t), 18, 7)
		if err != nil || len(page) != 2 || page[1].Seq != 20 {
			t.Fatalf("ListAudit(18, 7) = seqs %v, %v; want 19, 20", seqs(page), err)
		}
		page, err = s.ListAudit(testContext(t), 20, 7)
		if err != nil || len(page) != 0 {
			t.Fatalf("ListAudit past the end = %v, %v", seqs(page), err)
		}
	})
	t.Run("Head", func(t *testing.T) {
		s := h.New(t)
		if head, err := s.AuditHead(testContext(t)); err != nil || head != (nova.AuditHead{}) {
			t.Fatalf("AuditHead of an empty log = %+v, %v; want zero", head, err)
		}
		last := appendN(t, s, 3)[2]
		if head, err := s.AuditHead(testContext(t)); err != nil || head != last.Head() {
			t.Fatalf("AuditHead = %+v, %v; want the last entry's %+v", head, err, last.Head())
		}
	})
	t.Run("KeyedAndRotated", func(t *testing.T) {
		s := h.New(t)
		k1, _ := nova.NewAuditKey("k1", []byte(strings.Repeat("1", 32)))
		k2, _ := nova.NewAuditKey("k2", []byte(strings.Repeat("2", 32)))
		plain := appendN(t, s, 2) // written before a key was configured
		s.SetAuditKey(k1)
		first := appendN(t, s, 2)
		s.SetAuditKey(k2)
		second := appendN(t, s, 2)
		if plain[1].KeyID != "" || first[0].KeyID != "k1" || second[1].KeyID != "k2" || first[0].PrevHash != plain[1].Hash {
			t.Fatalf("key ids %q %q %q, want \"\", k1, k2 chained on", plain[1].KeyID, first[0].KeyID, second[1].KeyID)
		}
		if first[1].Hash != first[1].ComputeMAC(k1) || first[1].Hash == first[1].ComputeHash() {
			t.Fatal("a keyed entry's hash is not the HMAC under its key")
		}
		if head, err := s.AuditHead(testContext(t)); err != nil || head.KeyID != "k2" || head != second[1].Head() {
			t.Fatalf("AuditHead = %+v, %v; want %+v", head, err, second[1].Head())
		}
		all := listAllAudit(t, s)
		v := nova.NewChainVerifier([]*nova.AuditKey{k2, k1}, nil)
		if i, why := v.Add(all); i >= 0 || v.Finish() != "" {
			t.Fatalf("rotated keyed chain with both keys: %d %q %q", i, why, v.Finish())
		}
		if v.Unkeyed != 2 || v.PerKey["k1"] != 2 || v.PerKey["k2"] != 2 || v.FirstKeyed != 3 {
			t.Fatalf("verifier counts: %+v", v)
		}
		old := nova.NewChainVerifier([]*nova.AuditKey{k2}, nil)
		if i, why := old.Add(all); i != 2 || !strings.Contains(why, "k1") {
			t.Fatalf("without the old key = %d %q; want index 2 naming k1", i, why)
		}
		s.SetAuditKey(nil)
		if e := appendN(t, s, 1)[0]; e.KeyID != "" || e.Hash != e.ComputeHash() {
			t.Fatalf("after SetAuditKey(nil) the entry is keyed: %+v", e)
		}
	})
	if h.TamperAudit != nil {
		t.Run("TamperDetected", func(t *testing.T) { testTamper(t, h) })
	}
	if h.DeleteAudit != nil {
		t.Run("RemovalDetected", func(t *testing.T) {
			s := h.New(t)
			appendN(t, s, 5)
			h.DeleteAudit(t, s, 3)
			got := listAllAudit(t, s)
			i, why := verify(got)
			if i != 2 || !strings.Contains(why, "missing") {
				t.Fatalf("VerifyChain after removing seq 3 = %d %q; want index 2, an entry is missing", i, why)
			}
		})
	}
}

func testTamper(t *testing.T, h Harness) {
	t.Run("EditedEntry", func(t *testing.T) {
		s := h.New(t)
		appendN(t, s, 5)
		h.TamperAudit(t, s, 3, func(e *nova.AuditEntry) { e.Outcome = nova.OutcomeDenied })
		got := listAllAudit(t, s)
		if got[2].Outcome != nova.OutcomeDenied {
			t.Fatal("TamperAudit did not change the stored entry")
		}
		if i, why := verify(got); i != 2 || !strings.Contains(why, "altered") {
			t.Fatalf("VerifyChain after editing seq 3 = %d %q; want index 2, altered", i, why)
		}
	})
	t.Run("RehashedEntry", func(t *testing.T) {
		s := h.New(t)
		appendN(t, s, 5)
		// A careful attacker recomputes the edited entry's own hash; the
		// next entry's PrevHash still gives it away.
		h.TamperAudit(t, s, 3, func(e *nova.AuditEntry) {
			e.Detail = "nothing happened"
			e.Hash = e.ComputeHash()
		})
		if i, why := verify(listAllAudit(t, s)); i != 3 {
			t.Fatalf("VerifyChain after rehashing seq 3 = %d %q; want index 3", i, why)
		}
	})
}

func seqs(entries []nova.AuditEntry) []int64 {
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}
