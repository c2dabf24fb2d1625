package approvals

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// Red-team item 2: an approval policy changed by a reload reaches requests
// proposed before it, and never makes them weaker.

// tightened is the policy after the reload of the red-team report: alice
// removed, two approvals required.
func tightened() Policy {
	p := policy(2)
	p.Approvers = []string{"UBOB", "SSRE"}
	return p
}

func TestRedTeam2_RemovedApproverCannotApprove(t *testing.T) {
	req := propose(t, restart, 1)
	now := t0.Add(time.Minute)
	req, revoked := Reconcile(req, tightened(), nil, now)
	if len(revoked) != 0 || slices.Contains(req.Approvers, "UALICE") {
		t.Fatalf("after the reload: approvers %v, revoked %v", req.Approvers, revoked)
	}
	out, _, err := Decide(req, alice, true, now)
	if !nova.IsCode(err, nova.EFORBIDDEN) || out.State != nova.ApprovalPending || len(out.Decisions) != 0 {
		t.Fatalf("removed approver's click: %s, %v; want EFORBIDDEN and nothing recorded", out.State, err)
	}
	if msg := nova.ErrorMessage(err); strings.Contains(msg, "UALICE") || !strings.Contains(msg, "UBOB") {
		t.Errorf("refusal names the old approvers: %q", msg)
	}
}

func TestRedTeam2_RaisedQuorumReachesPendingRequest(t *testing.T) {
	req := propose(t, restart, 1)
	now := t0.Add(time.Minute)
	req, _ = Reconcile(req, policy(2), nil, now)
	out, outcome, err := Decide(req, alice, true, now)
	if err != nil || outcome != OutcomeApprovalCounted || out.State != nova.ApprovalPending {
		t.Fatalf("one approval under a two-person policy: %s %s %v; want counted, still pending", outcome, out.State, err)
	}
	if have, need := Tally(out); have != 1 || need != 2 {
		t.Errorf("tally %d of %d, want 1 of 2", have, need)
	}
}

func TestRedTeam2_RevokedApproverLosesTheirApproval(t *testing.T) {
	req := decided(t, propose(t, restart, 2), alice, true, t0.Add(time.Minute))
	now := t0.Add(2 * time.Minute)
	req, revoked := Reconcile(req, tightened(), nil, now)
	if !slices.Equal(revoked, []string{"UALICE"}) {
		t.Fatalf("revoked %v, want alice", revoked)
	}
	if have, need := Tally(req); have != 0 || need != 2 || req.UpdatedAt != now {
		t.Fatalf("after revocation: %d of %d, updated %v", have, need, req.UpdatedAt)
	}
	out, outcome, err := Decide(req, bob, true, now)
	if err != nil || outcome != OutcomeApprovalCounted || out.State != nova.ApprovalPending {
		t.Fatalf("bob after alice's approval was revoked: %s %s %v; want 1 of 2, pending", outcome, out.State, err)
	}
}

func TestRedTeam2_ApprovedButNotStartedGoesBackToPending(t *testing.T) {
	req := inState(t, restart, nova.ApprovalApproved) // alice's one approval was enough
	now := t0.Add(2 * time.Minute)
	back, _ := Reconcile(req, policy(2), nil, now)
	if back.State != nova.ApprovalPending {
		t.Fatalf("approved request under a raised quorum is %s, want pending", back.State)
	}
	if _, err := Start(back, allGood, now); !nova.IsCode(err, nova.ECONFLICT) {
		t.Fatalf("Start of the re-evaluated request: %v, want a refusal", err)
	}
	// Still approved when the new policy is met.
	again, _ := Reconcile(decided(t, back, bob, true, now), policy(2), nil, now)
	if again.State != nova.ApprovalApproved {
		t.Fatalf("with two approvals: %s, want approved", again.State)
	}
	if _, err := Start(again, allGood, now); err != nil {
		t.Fatalf("Start with the new quorum met: %v", err)
	}
}

func TestRedTeam2_GroupApprovalsFollowThePolicyAndMembership(t *testing.T) {
	req := decided(t, propose(t, restart, 2), carol, true, t0.Add(time.Minute)) // through SSRE
	now := t0.Add(2 * time.Minute)
	in := Members{"UCAROL": {"SSRE"}}
	if out, revoked := Reconcile(req, policy(2), in, now); len(revoked) != 0 || len(out.Decisions) != 1 || out.UpdatedAt != req.UpdatedAt {
		t.Fatalf("unchanged policy and membership revoked %v", revoked)
	}
	if _, revoked := Reconcile(req, policy(2), Members{}, now); !slices.Equal(revoked, []string{"UCAROL"}) {
		t.Errorf("carol left the group: revoked %v, want carol", revoked)
	}
	noGroup := policy(2)
	noGroup.Approvers = []string{"UALICE", "UBOB"}
	if _, revoked := Reconcile(req, noGroup, in, now); !slices.Equal(revoked, []string{"UCAROL"}) {
		t.Errorf("group removed from the policy: revoked %v, want carol", revoked)
	}
}

func TestRedTeam2_NeverWeakerThanAtProposal(t *testing.T) {
	req := propose(t, restart, 2)
	looser := Policy{Approvers: []string{"UALICE", "UBOB", "SSRE", "UEVE"}, RequiredApprovals: 1, ExpiresAfter: 2 * time.Hour}
	now := t0.Add(time.Minute)
	out, _ := Reconcile(req, looser, nil, now)
	if out.RequiredApprovals != 2 || !out.ExpiresAt.Equal(req.ExpiresAt) || slices.Contains(out.Approvers, "UEVE") {
		t.Fatalf("a looser policy weakened the request: need %d, expires %v, approvers %v", out.RequiredApprovals, out.ExpiresAt, out.Approvers)
	}
	if _, _, err := Decide(out, Actor{UserID: "UEVE"}, true, now); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Errorf("approver added after the proposal decided: %v", err)
	}
	shorter := policy(2)
	shorter.ExpiresAfter = 10 * time.Minute
	out, _ = Reconcile(req, shorter, nil, now)
	if !out.ExpiresAt.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("shorter expiry: expires %v, want %v", out.ExpiresAt, t0.Add(10*time.Minute))
	}
	// Once narrowed, a looser policy later does not widen it again.
	narrowed, _ := Reconcile(req, tightened(), nil, now)
	if again, _ := Reconcile(narrowed, policy(1), nil, now); slices.Contains(again.Approvers, "UALICE") || again.RequiredApprovals != 2 {
		t.Errorf("re-widened: approvers %v, need %d", again.Approvers, again.RequiredApprovals)
	}
	if again, revoked := Reconcile(narrowed, tightened(), nil, now.Add(time.Minute)); len(revoked) != 0 || again.UpdatedAt != narrowed.UpdatedAt {
		t.Errorf("reconciling twice changed the request again")
	}
}

func TestRedTeam2_FinalAndRunningRequestsAreLeftAlone(t *testing.T) {
	for _, s := range allStates {
		if s == nova.ApprovalPending || s == nova.ApprovalApproved {
			continue
		}
		req := inState(t, restart, s)
		if out, revoked := Reconcile(req, tightened(), nil, t0.Add(time.Hour)); out.State != s || len(revoked) != 0 || len(out.Decisions) != len(req.Decisions) {
			t.Errorf("%s: Reconcile changed it to %s, revoked %v", s, out.State, revoked)
		}
	}
}

func TestRedTeam2_AuthorizeChecksARunningRequestAgainstTheCurrentPolicy(t *testing.T) {
	req := inState(t, restart, nova.ApprovalRunning)
	if err := Authorize(req, policy(1), nil); err != nil {
		t.Fatalf("unchanged policy: %v", err)
	}
	err := Authorize(req, tightened(), nil)
	if !nova.IsCode(err, nova.EFORBIDDEN) || !strings.Contains(nova.ErrorMessage(err), "<@UALICE>") {
		t.Fatalf("approver removed before execution: %v; want EFORBIDDEN naming her", err)
	}
	if err := Authorize(req, policy(2), nil); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Fatalf("quorum raised before execution: %v", err)
	}
	flush := inState(t, flushCache, nova.ApprovalRunning)
	if err := Authorize(flush, Policy{}, nil); err != nil {
		t.Errorf("non-destructive run: %v", err)
	}
}

// A stored request can never stay open longer than MaxExpiresAfter, even
// if its record says so (an edited record, or one from before the bound).
func TestRedTeam2_ExpiryIsBoundedInApprovals(t *testing.T) {
	req := propose(t, restart, 1)
	req.ExpiresAt = t0.Add(48 * time.Hour)
	late := t0.Add(MaxExpiresAfter + time.Minute)
	out, _, err := Decide(req, alice, true, late)
	if out.State != nova.ApprovalExpired || !nova.IsCode(err, nova.ECONFLICT) {
		t.Fatalf("approval %s after creation: %s %v; want expired", late.Sub(t0), out.State, err)
	}
	long := policy(1)
	long.ExpiresAfter = 25 * time.Hour
	if _, err := Propose(proposal(restart), long, t0); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("a policy over %s proposed: %v", MaxExpiresAfter, err)
	}
}
