package nova_test

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func auditKey(t *testing.T, id, fill string) *nova.AuditKey {
	t.Helper()
	k, err := nova.NewAuditKey(id, []byte(strings.Repeat(fill, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sealChain seals n entries with key (nil: plain), as a store does.
func sealChain(n int, key *nova.AuditKey) []nova.AuditEntry {
	var chain []nova.AuditEntry
	var prev *nova.AuditEntry
	for i := range n {
		e := nova.AuditEntry{ID: nova.NewAuditID(time.Now()), Time: time.Now(), Actor: "nova",
			Action: "pagerduty.note", Outcome: "ok", Detail: strings.Repeat("x", i)}.SealWith(prev, key)
		chain = append(chain, e)
		prev = &chain[len(chain)-1]
	}
	return chain
}

// rechain is what an attacker with write access to the store does after
// editing: recompute every hash from the first entry on with plain SHA-256,
// the only hash they can compute.
func rechain(entries []nova.AuditEntry, stripKeyIDs bool) []nova.AuditEntry {
	out := append([]nova.AuditEntry(nil), entries...)
	prev := ""
	for i := range out {
		if stripKeyIDs {
			out[i].KeyID = ""
		}
		out[i].PrevHash = prev
		out[i].Hash = out[i].ComputeHash()
		prev = out[i].Hash
	}
	return out
}

func verifyAll(keys []*nova.AuditKey, anchors []nova.AuditAnchor, entries []nova.AuditEntry) (int, string) {
	v := nova.NewChainVerifier(keys, anchors)
	if i, why := v.Add(entries); i >= 0 {
		return i, why
	}
	if why := v.Finish(); why != "" {
		return len(entries), why
	}
	return -1, ""
}

// Issue 15 item 7: an edited entry fails verification on the keyed chain,
// naming the entry, even when the editor recomputed its plain hash.
func TestRedTeam7_EditedEntryFailsKeyedVerification(t *testing.T) {
	key := auditKey(t, "k1", "a")
	chain := sealChain(5, key)
	if i, why := verifyAll([]*nova.AuditKey{key}, nil, chain); i != -1 {
		t.Fatalf("intact keyed chain: %d %s", i, why)
	}
	edited := append([]nova.AuditEntry(nil), chain...)
	edited[2].Outcome = nova.OutcomeDenied
	if i, why := verifyAll([]*nova.AuditKey{key}, nil, edited); i != 2 || !strings.Contains(why, edited[2].ID) || !strings.Contains(why, "altered") {
		t.Errorf("edited keyed entry: %d %q; want index 2, altered, naming it", i, why)
	}
	// The wrong key (or a guessed one) does not verify either.
	if i, why := verifyAll([]*nova.AuditKey{auditKey(t, "k1", "b")}, nil, chain); i != 0 || !strings.Contains(why, "HMAC") {
		t.Errorf("verified under another key with the same id: %d %q", i, why)
	}
}

// Issue 15 item 7: a log rewritten and rechained with plain SHA-256 (all an
// attacker without the key can compute) fails verification, whichever way
// the attacker handles the key ids.
func TestRedTeam7_RewrittenAndRechainedLogFails(t *testing.T) {
	key := auditKey(t, "k1", "a")
	keys := []*nova.AuditKey{key}
	chain := sealChain(6, key)
	forged := append([]nova.AuditEntry(nil), chain...)
	forged[3].Detail, forged[3].Outcome = "nothing happened", "skipped"

	// Keeping the key ids: the first entry's HMAC no longer matches.
	if i, why := verifyAll(keys, nil, rechain(forged, false)); i != 0 || !strings.Contains(why, "altered") || !strings.Contains(why, "k1") {
		t.Errorf("rechained with key ids kept: %d %q", i, why)
	}
	// Dropping the key ids: nothing in the log is keyed any more.
	if i, why := verifyAll(keys, nil, rechain(forged, true)); i < 0 || !strings.Contains(why, "none of the") || !strings.Contains(why, "rewritten") {
		t.Errorf("rechained as a plain log: %d %q", i, why)
	}
	// Rechaining only the tail after the edit as plain entries: a plain
	// entry after keyed ones.
	tail := append(append([]nova.AuditEntry(nil), chain[:3]...), forged[3:]...)
	prev := tail[2].Hash
	for i := 3; i < len(tail); i++ {
		tail[i].KeyID, tail[i].PrevHash = "", prev
		tail[i].Hash = tail[i].ComputeHash()
		prev = tail[i].Hash
	}
	if i, why := verifyAll(keys, nil, tail); i != 3 || !strings.Contains(why, tail[3].ID) || !strings.Contains(why, "without the audit key") {
		t.Errorf("tail rechained on the plain chain: %d %q", i, why)
	}
	// Without a key, an anchor witnessed before the rewrite still catches it.
	plain := sealChain(6, nil)
	anchor, err := nova.ParseAuditAnchor(plain[4].Head().Anchor(), "PagerDuty note")
	if err != nil {
		t.Fatal(err)
	}
	rewritten := append([]nova.AuditEntry(nil), plain...)
	rewritten[1].Detail = "nothing happened"
	rewritten = rechain(rewritten, true)
	if i, why := verifyAll(nil, nil, rewritten); i != -1 {
		t.Fatalf("a rechained plain log verifies without anchors (that is why keys exist): %d %q", i, why)
	}
	if i, why := verifyAll(nil, []nova.AuditAnchor{anchor}, rewritten); i != 4 || !strings.Contains(why, "rewritten") || !strings.Contains(why, "PagerDuty note") {
		t.Errorf("rechained plain log against an anchor: %d %q", i, why)
	}
}

// Issue 15 item 7: a truncated tail fails verification against an anchor
// the log no longer reaches, keyed or not.
func TestRedTeam7_TruncatedTailFails(t *testing.T) {
	for name, key := range map[string]*nova.AuditKey{"keyed": auditKey(t, "k1", "a"), "plain": nil} {
		t.Run(name, func(t *testing.T) {
			chain := sealChain(8, key)
			anchor, err := nova.ParseAuditAnchor(chain[6].Head().Anchor(), "note on Q1ABC")
			if err != nil {
				t.Fatal(err)
			}
			var keys []*nova.AuditKey
			if key != nil {
				keys = append(keys, key)
			}
			if i, why := verifyAll(keys, []nova.AuditAnchor{anchor}, chain); i != -1 {
				t.Fatalf("intact log against its anchor: %d %q", i, why)
			}
			truncated := chain[:5]
			if i, why := verifyAll(keys, nil, truncated); i != -1 {
				t.Fatalf("a truncated log is a valid chain by itself (that is why anchors exist): %d %q", i, why)
			}
			i, why := verifyAll(keys, []nova.AuditAnchor{anchor}, truncated)
			if i != len(truncated) || !strings.Contains(why, "truncated") || !strings.Contains(why, "seq 5") || !strings.Contains(why, "7:") {
				t.Errorf("truncated log against an anchor at seq 7: %d %q", i, why)
			}
		})
	}
}

func TestAuditKeysAndAnchorsAreChecked(t *testing.T) {
	if _, err := nova.NewAuditKey("k1", []byte("short")); !nova.IsCode(err, nova.EINVALID) || strings.Contains(err.Error(), "short") {
		t.Errorf("short key: %v (must refuse without echoing it)", err)
	}
	if id := nova.AuditKeyID([]byte(strings.Repeat("z", 32))); len(id) != 9 || id[0] != 'k' || id == nova.AuditKeyID([]byte(strings.Repeat("y", 32))) {
		t.Errorf("derived key id %q", id)
	}
	for _, bad := range []string{"", "12", "0:0123456789abcdef", "x:0123456789abcdef", "12:0123", "12:0123456789abcdeg", "99999999999999999999:0123456789abcdef"} {
		if _, err := nova.ParseAuditAnchor(bad, ""); err == nil {
			t.Errorf("anchor %q accepted", bad)
		}
	}
	a, err := nova.ParseAuditAnchor(" 42:0123456789ABCDEF ", "flag")
	if err != nil || a.Seq != 42 || a.Hash != "0123456789abcdef" {
		t.Errorf("anchor = %+v, %v", a, err)
	}
	if got := (nova.AuditHead{Seq: 3, Hash: strings.Repeat("ab", 32)}).Anchor(); got != "3:abababababababab" {
		t.Errorf("Anchor() = %q", got)
	}
}

// A window of the latest entries verifies on its own (From), and an entry
// altered inside the window fails it.
func TestChainVerifierFromChecksAWindow(t *testing.T) {
	key := auditKey(t, "k1", "a")
	chain := sealChain(10, key)
	window := chain[6:]
	v := nova.NewChainVerifier([]*nova.AuditKey{key}, nil)
	v.From(window[0].Seq-1, window[0].PrevHash)
	if i, why := v.Add(window); i >= 0 || v.Entries != 4 {
		t.Fatalf("window of the latest 4: %d %q (%d checked)", i, why, v.Entries)
	}
	altered := append([]nova.AuditEntry(nil), window...)
	altered[2].Detail = "rewritten"
	v = nova.NewChainVerifier([]*nova.AuditKey{key}, nil)
	v.From(altered[0].Seq-1, altered[0].PrevHash)
	if i, why := v.Add(altered); i != 2 || !strings.Contains(why, "altered") {
		t.Fatalf("altered entry in the window: %d %q", i, why)
	}
}
