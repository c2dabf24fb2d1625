package nova_test

import (
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestNewAuditIDIsAULIDThatSortsByTime(t *testing.T) {
	pattern := regexp.MustCompile(`^nova-[0-9A-HJKMNP-TV-Z]{26}$`)
	base := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	var ids []string
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		id := nova.NewAuditID(base.Add(time.Duration(i) * time.Millisecond))
		if !pattern.MatchString(id) {
			t.Fatalf("%q is not nova- + a ULID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Error("ids do not sort by time")
	}
	// The first 10 characters encode the millisecond timestamp (48 bits).
	if got := nova.NewAuditID(time.UnixMilli(0))[5:15]; got != "0000000000" {
		t.Errorf("epoch prefix = %s", got)
	}
	if got := nova.NewAuditID(time.UnixMilli(1<<48 - 1))[5:15]; got != "7ZZZZZZZZZ" {
		t.Errorf("max time prefix = %s", got)
	}
}

func TestVerifyChainNamesTheBrokenEntry(t *testing.T) {
	var chain []nova.AuditEntry
	var prev *nova.AuditEntry
	for i := 0; i < 5; i++ {
		e := nova.AuditEntry{ID: nova.NewAuditID(time.Now()), Time: time.Now(), Actor: "nova", Action: "pagerduty.note", Outcome: "ok"}.Seal(prev)
		chain = append(chain, e)
		prev = &chain[len(chain)-1]
	}
	if i, why := nova.VerifyChain(chain, "", 0); i != -1 {
		t.Fatalf("intact chain: %d %s", i, why)
	}
	edited := append([]nova.AuditEntry(nil), chain...)
	edited[2].Outcome = "failed"
	if i, why := nova.VerifyChain(edited, "", 0); i != 2 || !strings.Contains(why, edited[2].ID) {
		t.Errorf("edited entry: %d %s", i, why)
	}
	removed := append(append([]nova.AuditEntry(nil), chain[:2]...), chain[3:]...)
	if i, why := nova.VerifyChain(removed, "", 0); i != 2 || !strings.Contains(why, chain[3].ID) || !strings.Contains(why, "missing") {
		t.Errorf("removed entry: %d %s", i, why)
	}
	resealed := append([]nova.AuditEntry(nil), chain...)
	resealed[2].Detail = "rewritten"
	resealed[2].Hash = resealed[2].ComputeHash()           // a forger recomputes the hash…
	if i, _ := nova.VerifyChain(resealed, "", 0); i != 3 { // …and the next entry no longer follows it
		t.Errorf("re-hashed entry detected at %d, want 3", i)
	}
}

func TestTriageResultJSON(t *testing.T) {
	var r nova.TriageResult
	b, _ := json.Marshal(r)
	if string(b) != `{"abstained":false,"hypotheses":[],"checked":[],"not_checked":[],"elapsed_ms":0}` {
		t.Errorf("empty result: %s", b)
	}
	r = nova.TriageResult{Elapsed: 2500 * time.Millisecond, Hypotheses: []nova.Hypothesis{{Rank: 1, Summary: "x"}}}
	b, _ = json.Marshal(r)
	var back nova.TriageResult
	if err := json.Unmarshal(b, &back); err != nil || back.Elapsed != r.Elapsed || back.Hypotheses[0].Summary != "x" {
		t.Errorf("round trip: %s -> %+v (%v)", b, back, err)
	}
	if !strings.Contains(string(b), `"evidence":[]`) || !strings.Contains(string(b), `"suggestions":[]`) {
		t.Errorf("empty lists must be [] for API clients: %s", b)
	}
}

func TestErrors(t *testing.T) {
	err := nova.WrapError(nova.EUNAVAILABLE, errors.New("dial tcp 10.0.0.1:6379: refused"), "store unavailable")
	wrapped := errors.Join(errors.New("context"), err)
	if nova.ErrorCode(wrapped) != nova.EUNAVAILABLE || nova.ErrorMessage(wrapped) != "store unavailable" {
		t.Errorf("code %q message %q", nova.ErrorCode(wrapped), nova.ErrorMessage(wrapped))
	}
	if nova.ErrorCode(errors.New("boom")) != nova.EINTERNAL || nova.ErrorMessage(errors.New("secret detail")) != "internal error" {
		t.Error("plain errors must map to internal without their text")
	}
	if nova.ErrorCode(nil) != "" {
		t.Error("nil has no code")
	}
}

func TestModesAndTiers(t *testing.T) {
	for in, want := range map[string]nova.Mode{"off": nova.ModeOff, "Read-Only": nova.ModeReadOnly, "readonly": nova.ModeReadOnly, " action ": nova.ModeAction} {
		if got, err := nova.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := nova.ParseMode("yolo"); !nova.IsCode(err, nova.EINVALID) {
		t.Error("unknown mode accepted")
	}
	if nova.TierStandard.Allows(nova.FeatureActions) || !nova.TierEnterprise.Allows(nova.FeatureActions) || !nova.TierStandard.Allows(nova.FeatureNotes) {
		t.Error("tier features")
	}
	if err := nova.TierStandard.RequireFeature(nova.FeatureAck); !strings.Contains(nova.ErrorMessage(err), "enterprise tier") {
		t.Errorf("refusal must name the tier: %v", err)
	}
}
