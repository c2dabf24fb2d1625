package approvals

import (
	"testing"
	"time"

	"github.com/novasre/nova"
)

// t0 is the time every fixture request is proposed at.
var t0 = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

// People in the fixtures: alice and bob are named approvers, carol is in
// the SRE user group, dave is a responder, eve is nobody in particular.
var (
	alice = Actor{UserID: "UALICE"}
	bob   = Actor{UserID: "UBOB"}
	carol = Actor{UserID: "UCAROL", Groups: []string{"SSRE"}}
	dave  = Actor{UserID: "UDAVE"}
	eve   = Actor{UserID: "UEVE", Groups: []string{"SOTHER"}}
	novaA = Actor{UserID: nova.ActorNova, Groups: []string{"SSRE"}}
	blank = Actor{UserID: "", Groups: []string{"SSRE"}}
)

var restart = nova.Action{
	Name: "restart", Title: "Restart checkout pods", Destructive: true,
	Services: []string{"PCHECKOUT"},
}

var flushCache = nova.Action{
	Name: "flush-cache", Title: "Flush the CDN cache", AutoRun: true,
	Services: []string{"*"},
}

func policy(required int) Policy {
	return Policy{
		Approvers:         []string{"UALICE", "UBOB", "SSRE"},
		Responders:        []string{"UDAVE"},
		RequiredApprovals: required,
		ExpiresAfter:      30 * time.Minute,
	}
}

func proposal(a nova.Action) Proposal {
	return Proposal{
		ID: "act-1", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
		Action: a, Params: map[string]string{"namespace": "checkout"},
		Reason: "deploy 42 preceded the error spike", IdempotencyKey: "idem-1",
		Evidence: []nova.Evidence{{Kind: nova.EvidenceChange, Summary: "deploy 42"}},
	}
}

// propose returns a fresh pending request or fails the test.
func propose(t testing.TB, a nova.Action, required int) nova.ApprovalRequest {
	t.Helper()
	req, err := Propose(proposal(a), policy(required), t0)
	if err != nil {
		t.Fatalf("Propose: %v", err)
	}
	return req
}

// allGood are preconditions under which Start runs.
var allGood = Preconditions{IncidentOpen: true, ServiceInActionMode: true}

// inState builds a consistent request in state s, as the real transitions
// would have left it: approved and later states carry alice's approval.
func inState(t testing.TB, a nova.Action, s nova.ApprovalState) nova.ApprovalRequest {
	t.Helper()
	req := propose(t, a, 1)
	at := t0.Add(time.Minute)
	switch s {
	case nova.ApprovalPending:
		return req
	case nova.ApprovalDenied:
		return decided(t, req, alice, false, at)
	case nova.ApprovalExpired:
		req, _ = Expire(req, req.ExpiresAt)
		return req
	case nova.ApprovalCancelled:
		req, _ = Cancel(req, "incident resolved", at)
		return req
	}
	req = decided(t, req, alice, true, at)
	if s == nova.ApprovalApproved {
		return req
	}
	req, err := Start(req, allGood, at)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	switch s {
	case nova.ApprovalSucceeded:
		req, _ = Finish(req, true, "ok", at)
	case nova.ApprovalFailed:
		req, _ = Finish(req, false, "boom", at)
	}
	if req.State != s {
		t.Fatalf("fixture for %s ended in %s", s, req.State)
	}
	return req
}

// decided returns req after a's decision, failing the test on an error.
func decided(t testing.TB, req nova.ApprovalRequest, a Actor, approve bool, at time.Time) nova.ApprovalRequest {
	t.Helper()
	out, _, err := Decide(req, a, approve, at)
	if err != nil {
		t.Fatalf("Decide(%s, approve=%v): %v", a.UserID, approve, err)
	}
	return out
}

// allStates lists every state.
var allStates = []nova.ApprovalState{
	nova.ApprovalPending, nova.ApprovalApproved, nova.ApprovalRunning, nova.ApprovalSucceeded,
	nova.ApprovalFailed, nova.ApprovalDenied, nova.ApprovalExpired, nova.ApprovalCancelled,
}
