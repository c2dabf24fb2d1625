package approvals

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// MaxResultLen bounds the executor result kept on a request, in bytes, so a
// chatty receiver cannot bloat the stored record or the Slack message.
const MaxResultLen = 4096

// Preconditions are the facts the caller re-reads just before running an
// approved action. The zero value fails every check, so forgetting to fill
// it in cancels the run instead of running it.
type Preconditions struct {
	// IncidentOpen: PagerDuty confirmed, just now, that the incident is
	// still triggered or acknowledged. Nova's own record never stands in.
	IncidentOpen bool
	// IncidentUnconfirmed: PagerDuty could not be asked (unreachable, an
	// error), so whether the incident is open is unknown; with IncidentOpen
	// false it explains why the run was refused.
	IncidentUnconfirmed bool
	// ServiceInActionMode: the service is still in action mode.
	ServiceInActionMode bool
	// Paused: an admin paused Nova for all services.
	Paused bool
}

// failed lists the preconditions that do not hold, in words for the request.
func (c Preconditions) failed() []string {
	var why []string
	if c.Paused {
		why = append(why, "Nova is paused")
	}
	switch {
	case !c.IncidentOpen && c.IncidentUnconfirmed:
		why = append(why, "could not confirm with PagerDuty that the incident is still open")
	case !c.IncidentOpen:
		why = append(why, "the incident is resolved")
	}
	if !c.ServiceInActionMode {
		why = append(why, "the service is no longer in action mode")
	}
	return why
}

// Start moves an approved request to running. It is the only function that
// produces running, and it checks, in order:
//
//   - the request is approved (ECONFLICT otherwise, unchanged);
//   - it has not expired (at or after ExpiresAt it becomes expired, returned
//     with ECONFLICT);
//   - a destructive request has RequiredApprovals distinct human approvals
//     in Decisions, no recorded deny, and at least one approver: EFORBIDDEN
//     otherwise, unchanged. This is re-counted here, not trusted from State;
//   - every precondition holds: otherwise the request becomes cancelled with
//     a StateReason naming the failed ones, returned with ECONFLICT.
func Start(req nova.ApprovalRequest, c Preconditions, now time.Time) (nova.ApprovalRequest, error) {
	if req.State != nova.ApprovalApproved {
		return req, stateConflict(req)
	}
	if isExpired(req, now) {
		return expire(req, now), expiredError(req)
	}
	if req.Destructive {
		if err := checkQuorum(req); err != nil {
			return req, err
		}
	}
	if why := c.failed(); len(why) > 0 {
		reason := "not run: " + strings.Join(why, "; ")
		req.State = nova.ApprovalCancelled
		req.StateReason = reason
		req.UpdatedAt = now
		return req, nova.Errorf(nova.ECONFLICT, "%q was approved but %s", req.Title, reason)
	}
	req.State = nova.ApprovalRunning
	req.StateReason = ""
	req.UpdatedAt = now
	return req, nil
}

// checkQuorum is the last line of defence for the human in the loop.
func checkQuorum(req nova.ApprovalRequest) error {
	if len(req.Approvers) == 0 {
		return nova.Errorf(nova.EFORBIDDEN, "refusing to run %q: the request names no approvers", req.Title)
	}
	if who := deniedBy(req); who != "" {
		return nova.Errorf(nova.EFORBIDDEN, "refusing to run %q: it was denied by %s", req.Title, mentions([]string{who}))
	}
	if have, need := Tally(req); have < need {
		return nova.Errorf(nova.EFORBIDDEN, "refusing to run %q: it has %d of the %d distinct approvals it needs",
			req.Title, have, need)
	}
	return nil
}

// AutoStart runs a pending non-destructive request without a click, when
// its catalog action is marked auto_run. It goes through Start, so the
// preconditions and expiry are checked exactly as for a clicked request.
// action must be the catalog entry the request was proposed from.
func AutoStart(req nova.ApprovalRequest, action nova.Action, c Preconditions, now time.Time) (nova.ApprovalRequest, error) {
	if req.Destructive || action.Destructive {
		return req, nova.Errorf(nova.EFORBIDDEN, "%q is destructive and never runs automatically: it needs approval", req.Title)
	}
	if action.Name != req.Action {
		return req, nova.Errorf(nova.EINVALID, "action %q does not match the request's action %q", action.Name, req.Action)
	}
	if !action.AutoRun {
		return req, nova.Errorf(nova.EFORBIDDEN, "%q is not marked auto_run in the action catalog: it needs a click on Apply", req.Title)
	}
	if req.State != nova.ApprovalPending {
		return req, stateConflict(req)
	}
	if isExpired(req, now) {
		return expire(req, now), expiredError(req)
	}
	req.State = nova.ApprovalApproved
	req.UpdatedAt = now
	started, err := Start(req, c, now)
	if err != nil && started.State == nova.ApprovalApproved {
		// Start refused without moving on; leave the request as it was
		// rather than store an approval nobody gave.
		req.State = nova.ApprovalPending
		return req, err
	}
	return started, err
}

// Finish records the executor's answer: running becomes succeeded or
// failed, with result (truncated to MaxResultLen) kept on the request.
func Finish(req nova.ApprovalRequest, succeeded bool, result string, now time.Time) (nova.ApprovalRequest, error) {
	if req.State != nova.ApprovalRunning {
		return req, nova.Errorf(nova.ECONFLICT, "cannot record the result of %q: it is %s, not running", req.Title, req.State)
	}
	req.Result = truncate(result, MaxResultLen)
	req.UpdatedAt = now
	if succeeded {
		req.State = nova.ApprovalSucceeded
		req.StateReason = ""
		return req, nil
	}
	req.State = nova.ApprovalFailed
	req.StateReason = "the action failed; see the result"
	return req, nil
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
