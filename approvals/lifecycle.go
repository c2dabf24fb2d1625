package approvals

import (
	"fmt"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Expire marks a pending or approved request expired once now is at or
// after its ExpiresAt; a sweeper calls it so that stale Approve buttons are
// replaced even when nobody clicks them. Before ExpiresAt, or in any other
// state, it returns ECONFLICT and the request unchanged.
func Expire(req nova.ApprovalRequest, now time.Time) (nova.ApprovalRequest, error) {
	switch req.State {
	case nova.ApprovalPending, nova.ApprovalApproved:
	default:
		return req, nova.Errorf(nova.ECONFLICT, "cannot expire %q: it is %s", req.Title, req.State)
	}
	if !isExpired(req, now) {
		return req, nova.Errorf(nova.ECONFLICT, "%q does not expire until %s", req.Title, stamp(expiresAt(req)))
	}
	return expire(req, now), nil
}

// Cancel withdraws a pending or approved request, for example because the
// incident was resolved or the service demoted. reason is shown to people
// and kept as the StateReason. A running request cannot be cancelled from
// here: the executor call is already in flight, so ECONFLICT says so.
func Cancel(req nova.ApprovalRequest, reason string, now time.Time) (nova.ApprovalRequest, error) {
	switch req.State {
	case nova.ApprovalPending, nova.ApprovalApproved:
	case nova.ApprovalRunning:
		return req, nova.Errorf(nova.ECONFLICT, "%q is already running and cannot be cancelled by Nova: stop it in the automation that runs it", req.Title)
	default:
		return req, stateConflict(req)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "cancelled"
	}
	req.State = nova.ApprovalCancelled
	req.StateReason = reason
	req.UpdatedAt = now
	return req, nil
}

// expire moves req to expired, saying what it was still waiting for.
func expire(req nova.ApprovalRequest, now time.Time) nova.ApprovalRequest {
	at := stamp(expiresAt(req))
	switch req.State {
	case nova.ApprovalApproved:
		req.StateReason = "approved but not started before it expired at " + at
	default:
		have, need := Tally(req)
		req.StateReason = fmt.Sprintf("%d of %d approvals before it expired at %s", have, need, at)
	}
	req.State = nova.ApprovalExpired
	req.UpdatedAt = now
	return req
}
