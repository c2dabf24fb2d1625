package approvals

import (
	"slices"
	"time"

	"github.com/novasre/nova"
)

// Outcome says what a successful Decide did, so the caller can answer the
// clicker ("your approval was counted, one more needed") and update Slack.
type Outcome string

// Outcomes of Decide.
const (
	// OutcomeApprovalCounted: the approval was recorded; more are needed.
	OutcomeApprovalCounted Outcome = "approval_counted"
	// OutcomeApproved: the approval reached the quorum; call Start next.
	OutcomeApproved Outcome = "approved"
	// OutcomeDenied: the request is denied and will never run.
	OutcomeDenied Outcome = "denied"
	// OutcomeAlreadyCounted: this person had already approved; nothing
	// changed, because one person clicking twice is not two people.
	OutcomeAlreadyCounted Outcome = "already_counted"
)

// Decide records a's approve or deny on req.
//
//   - a must be allowed to decide (CanDecide), else EFORBIDDEN naming who may;
//   - req must be pending, else ECONFLICT naming its state: once approved, a
//     deny changes nothing (use Cancel to stop an approved request);
//   - at or after ExpiresAt the request becomes expired: the expired request
//     is returned with an ECONFLICT error and must be stored;
//   - a deny by anyone allowed to approve denies the request at once;
//   - an approval counts once per person; the request becomes approved when
//     Tally reaches the quorum.
//
// Decide never produces running: Start does, after its own checks.
func Decide(req nova.ApprovalRequest, a Actor, approve bool, now time.Time) (nova.ApprovalRequest, Outcome, error) {
	if !CanDecide(req, a) {
		return req, "", forbidden(req, a)
	}
	if req.State != nova.ApprovalPending {
		return req, "", stateConflict(req)
	}
	if isExpired(req, now) {
		return expire(req, now), "", expiredError(req)
	}
	// Clip so that appending never writes into the caller's backing array.
	decision := nova.Decision{UserID: a.UserID, Approve: approve, At: now}
	if !approve {
		req.Decisions = append(slices.Clip(req.Decisions), decision)
		req.State = nova.ApprovalDenied
		req.StateReason = "denied by " + mentions([]string{a.UserID})
		req.UpdatedAt = now
		return req, OutcomeDenied, nil
	}
	if hasApproved(req, a.UserID) {
		return req, OutcomeAlreadyCounted, nil
	}
	req.Decisions = append(slices.Clip(req.Decisions), decision)
	req.UpdatedAt = now
	if have, need := Tally(req); have < need {
		return req, OutcomeApprovalCounted, nil
	}
	req.State = nova.ApprovalApproved
	return req, OutcomeApproved, nil
}

// Apply is the one-click Apply of a non-destructive action by anyone the
// request lists (the policy's Approvers and Responders, see Propose). It
// moves pending to approved; the caller then calls Start, which re-checks
// the incident, the service mode and the pause switch before running.
// A destructive request cannot be applied: it needs Decide.
func Apply(req nova.ApprovalRequest, a Actor, now time.Time) (nova.ApprovalRequest, error) {
	if req.Destructive {
		_, need := Tally(req)
		return req, nova.Errorf(nova.EFORBIDDEN, "%q is destructive and cannot be applied with one click: it needs %d approval(s) with Approve",
			req.Title, need)
	}
	out, _, err := Decide(req, a, true, now)
	return out, err
}

// stateConflict explains why a request in a non-pending state cannot be
// decided on.
func stateConflict(req nova.ApprovalRequest) error {
	t := req.Title
	switch req.State {
	case nova.ApprovalPending:
		have, need := Tally(req)
		return nova.Errorf(nova.ECONFLICT, "%q is still waiting for approval (%d of %d)", t, have, need)
	case nova.ApprovalApproved:
		return nova.Errorf(nova.ECONFLICT, "%q is already approved by %s and about to run; a decision now changes nothing",
			t, mentions(ApprovedBy(req)))
	case nova.ApprovalRunning:
		return nova.Errorf(nova.ECONFLICT, "%q is already running; a decision now changes nothing", t)
	case nova.ApprovalSucceeded:
		return nova.Errorf(nova.ECONFLICT, "%q already ran and succeeded", t)
	case nova.ApprovalFailed:
		return nova.Errorf(nova.ECONFLICT, "%q already ran and failed", t)
	case nova.ApprovalDenied:
		return nova.Errorf(nova.ECONFLICT, "%q was already %s", t, orState(req))
	case nova.ApprovalExpired:
		return expiredError(req)
	case nova.ApprovalCancelled:
		return nova.Errorf(nova.ECONFLICT, "%q was cancelled: %s", t, orState(req))
	}
	return nova.Errorf(nova.ECONFLICT, "%q is in an unknown state %q; nothing was changed", t, req.State)
}

// expiredError is the message for a click on an expired request.
func expiredError(req nova.ApprovalRequest) error {
	return nova.Errorf(nova.ECONFLICT, "this approval request expired at %s; nothing was run. Ask Nova to propose it again if it is still needed",
		stamp(expiresAt(req)))
}

// orState returns the state reason, or the state when there is none.
func orState(req nova.ApprovalRequest) string {
	if req.StateReason != "" {
		return req.StateReason
	}
	return string(req.State)
}
