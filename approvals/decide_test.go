package approvals

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestCanDecide(t *testing.T) {
	req := propose(t, restart, 1) // approvers: UALICE, UBOB, SSRE
	tests := []struct {
		name string
		a    Actor
		want bool
	}{
		{"named user", alice, true},
		{"another named user", bob, true},
		{"member of a named group", carol, true},
		{"member of another group", eve, false},
		{"responder on a destructive action", dave, false},
		{"nova, even in the group", novaA, false},
		{"Nova in capitals", Actor{UserID: "Nova", Groups: []string{"SSRE"}}, false},
		{"empty user id, even in the group", blank, false},
		{"blank user id", Actor{UserID: "  "}, false},
		{"group id passed as user id", Actor{UserID: "SSRE"}, false},
		{"user id passed as a group", Actor{UserID: "UEVE", Groups: []string{"UALICE"}}, false},
		{"case matters", Actor{UserID: "ualice"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanDecide(req, tt.a); got != tt.want {
				t.Fatalf("CanDecide(%+v) = %v, want %v", tt.a, got, tt.want)
			}
		})
	}
	if !CanDecide(propose(t, flushCache, 1), dave) {
		t.Error("a responder should be able to apply a non-destructive action")
	}
}

func TestDecideForbiddenSaysWhoMay(t *testing.T) {
	req := propose(t, restart, 1)
	for _, a := range []Actor{eve, dave, novaA, blank} {
		out, outcome, err := Decide(req, a, true, t0.Add(time.Minute))
		if !nova.IsCode(err, nova.EFORBIDDEN) {
			t.Fatalf("%q: err = %v, want EFORBIDDEN", a.UserID, err)
		}
		msg := nova.ErrorMessage(err)
		if !strings.Contains(msg, "<@UALICE>, <@UBOB> or members of <!subteam^SSRE>") {
			t.Errorf("%q: message %q does not say who may approve", a.UserID, msg)
		}
		if a.IsNova() && !strings.Contains(msg, "Nova cannot approve") {
			t.Errorf("%q: message %q does not say Nova cannot approve", a.UserID, msg)
		}
		if outcome != "" || out.State != nova.ApprovalPending || len(out.Decisions) != 0 {
			t.Errorf("%q: a forbidden click changed the request: %s %+v", a.UserID, outcome, out.Decisions)
		}
	}
	// Denying is deciding too.
	if _, _, err := Decide(req, novaA, false, t0); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Errorf("Nova deny: err = %v, want EFORBIDDEN", err)
	}
}

func TestDecideOnePerson(t *testing.T) {
	req := propose(t, restart, 1)
	at := t0.Add(time.Minute)
	out, outcome, err := Decide(req, carol, true, at)
	if err != nil || outcome != OutcomeApproved || out.State != nova.ApprovalApproved {
		t.Fatalf("group member approve: %v %s %s", err, outcome, out.State)
	}
	if len(out.Decisions) != 1 || out.Decisions[0] != (nova.Decision{UserID: "UCAROL", Approve: true, At: at}) {
		t.Errorf("Decisions = %+v", out.Decisions)
	}
	if out.UpdatedAt != at || req.State != nova.ApprovalPending {
		t.Errorf("UpdatedAt = %v; input state now %s (inputs must not change)", out.UpdatedAt, req.State)
	}
	// A second click by the same person finds it approved, not approved twice.
	again, _, err := Decide(out, carol, true, at.Add(time.Second))
	if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), "already approved by <@UCAROL>") {
		t.Errorf("second click: %v", err)
	}
	if len(again.Decisions) != 1 {
		t.Errorf("second click recorded a decision: %+v", again.Decisions)
	}
}

func TestDecideTwoPersonRule(t *testing.T) {
	req := propose(t, restart, 2)
	at := t0.Add(time.Minute)

	one, outcome, err := Decide(req, alice, true, at)
	if err != nil || outcome != OutcomeApprovalCounted || one.State != nova.ApprovalPending {
		t.Fatalf("first approval: %v %s %s, want counted and still pending", err, outcome, one.State)
	}
	if _, err := Start(one, allGood, at); err == nil {
		t.Fatal("one approval of two was enough to start")
	}

	same, outcome, err := Decide(one, alice, true, at.Add(time.Second))
	if err != nil || outcome != OutcomeAlreadyCounted || same.State != nova.ApprovalPending || len(same.Decisions) != 1 {
		t.Fatalf("same person twice: %v %s %s %d decisions, want already counted, pending, 1", err, outcome, same.State, len(same.Decisions))
	}
	if have, need := Tally(same); have != 1 || need != 2 {
		t.Errorf("Tally = %d/%d, want 1/2", have, need)
	}

	two, outcome, err := Decide(same, carol, true, at.Add(2*time.Second))
	if err != nil || outcome != OutcomeApproved || two.State != nova.ApprovalApproved {
		t.Fatalf("second person: %v %s %s, want approved", err, outcome, two.State)
	}
	if got := ApprovedBy(two); len(got) != 2 || got[0] != "UALICE" || got[1] != "UCAROL" {
		t.Errorf("ApprovedBy = %v", got)
	}
	if run, err := Start(two, allGood, at.Add(3*time.Second)); err != nil || run.State != nova.ApprovalRunning {
		t.Errorf("Start after two approvals: %v %s", err, run.State)
	}
}

func TestDecideDeny(t *testing.T) {
	req := propose(t, restart, 2)
	at := t0.Add(time.Minute)
	one := decided(t, req, alice, true, at)
	// The person who approved can still change their mind while it is pending;
	// anyone else allowed to approve can deny too.
	for _, a := range []Actor{alice, bob, carol} {
		out, outcome, err := Decide(one, a, false, at.Add(time.Second))
		if err != nil || outcome != OutcomeDenied || out.State != nova.ApprovalDenied {
			t.Fatalf("%s deny: %v %s %s", a.UserID, err, outcome, out.State)
		}
		if out.StateReason != "denied by <@"+a.UserID+">" {
			t.Errorf("StateReason = %q", out.StateReason)
		}
		if _, _, err := Decide(out, bob, true, at.Add(2*time.Second)); !nova.IsCode(err, nova.ECONFLICT) ||
			!strings.Contains(nova.ErrorMessage(err), "was already denied by") {
			t.Errorf("approve after deny: %v", err)
		}
	}
	// Once approved, a deny changes nothing; the message says so.
	approved := decided(t, one, bob, true, at.Add(time.Second))
	out, _, err := Decide(approved, carol, false, at.Add(2*time.Second))
	if !nova.IsCode(err, nova.ECONFLICT) || out.State != nova.ApprovalApproved ||
		!strings.Contains(nova.ErrorMessage(err), "already approved by <@UALICE> and <@UBOB>") {
		t.Errorf("deny after approval: %v, state %s", err, out.State)
	}
}

func TestDecideExpiryBoundary(t *testing.T) {
	req := propose(t, restart, 1)
	before := req.ExpiresAt.Add(-time.Nanosecond)
	if out, _, err := Decide(req, alice, true, before); err != nil || out.State != nova.ApprovalApproved {
		t.Errorf("one nanosecond before expiry: %v %s, want approved", err, out.State)
	}
	for _, now := range []time.Time{req.ExpiresAt, req.ExpiresAt.Add(time.Hour)} {
		for _, approve := range []bool{true, false} {
			out, outcome, err := Decide(req, alice, approve, now)
			if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), "expired at 2025-03-04 10:30:00 UTC") {
				t.Errorf("at %v approve=%v: err = %v", now, approve, err)
			}
			if out.State != nova.ApprovalExpired || outcome != "" || len(out.Decisions) != 0 || out.UpdatedAt != now {
				t.Errorf("at %v: got %s %q %d decisions, want expired and returned for storing", now, out.State, outcome, len(out.Decisions))
			}
		}
	}
	// An unauthorised click after expiry is refused, not turned into an expiry.
	if out, _, err := Decide(req, eve, true, req.ExpiresAt); !nova.IsCode(err, nova.EFORBIDDEN) || out.State != nova.ApprovalPending {
		t.Errorf("unauthorised click after expiry: %v %s", err, out.State)
	}
}

func TestDecideDoesNotAliasDecisions(t *testing.T) {
	req := propose(t, restart, 3)
	req.Approvers = append(req.Approvers, "UDAVE")
	req.Decisions = make([]nova.Decision, 0, 8) // spare capacity invites aliasing
	one := decided(t, req, alice, true, t0.Add(time.Minute))
	twoA := decided(t, one, bob, true, t0.Add(2*time.Minute))
	twoB := decided(t, one, dave, true, t0.Add(2*time.Minute))
	if twoA.Decisions[1].UserID != "UBOB" || twoB.Decisions[1].UserID != "UDAVE" {
		t.Fatalf("decisions from one request leaked into another: %+v / %+v", twoA.Decisions, twoB.Decisions)
	}
}

func TestApply(t *testing.T) {
	req := propose(t, flushCache, 1)
	at := t0.Add(time.Minute)
	out, err := Apply(req, dave, at)
	if err != nil || out.State != nova.ApprovalApproved || len(ApprovedBy(out)) != 1 {
		t.Fatalf("responder Apply: %v %s", err, out.State)
	}
	if _, err := Apply(req, eve, at); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Errorf("Apply by a stranger: %v", err)
	}
	if _, err := Apply(req, novaA, at); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Errorf("Apply by Nova: %v", err)
	}
	dest := propose(t, restart, 1)
	out, err = Apply(dest, alice, at)
	if !nova.IsCode(err, nova.EFORBIDDEN) || !strings.Contains(nova.ErrorMessage(err), "destructive") || out.State != nova.ApprovalPending {
		t.Errorf("Apply on a destructive action: %v %s", err, out.State)
	}
	if out, err := Apply(req, alice, req.ExpiresAt); !nova.IsCode(err, nova.ECONFLICT) || out.State != nova.ApprovalExpired {
		t.Errorf("Apply at expiry: %v %s", err, out.State)
	}
}
