package approvals

import (
	"slices"
	"time"

	"github.com/novasre/nova"
)

// Members maps each person who approved a request to the Slack user groups
// they belong to now, among the groups the request names. The caller
// resolves it (usergroups.users.list), because this package does no I/O. A
// person missing from it belongs to none of those groups, so an approval
// given through a group stops counting when its membership is unknown.
type Members map[string][]string

// Reconcile re-evaluates an open request under the approval policy in force
// now, current, and never under a weaker one than the request already has:
//
//   - who may decide: only the ids named both on the request and in current
//     (its Approvers; for a non-destructive request its Approvers and
//     Responders). An approver removed from the policy can no longer decide;
//   - whose approval counts: a person named on the narrowed list, or a member
//     (per members) of a user group on it. Any other approval is removed from
//     Decisions and its author returned in revoked; the caller audits it;
//   - quorum: the larger of the request's and current's RequiredApprovals for
//     a destructive request (one click stays enough for the others);
//   - expiry: the earlier of the request's ExpiresAt and CreatedAt plus
//     current's ExpiresAfter, never later than CreatedAt plus MaxExpiresAfter;
//   - an approved request that no longer has its quorum goes back to pending,
//     so that it waits for the approvals the policy now asks for.
//
// Every rule only narrows, so reconciling twice under the same policy changes
// nothing more, and a later, looser policy never widens a request again (an
// approver added back must approve again; a new request gets the new policy).
// Requests in other states are returned unchanged; Authorize checks a running
// one right before its executor is called.
func Reconcile(req nova.ApprovalRequest, current Policy, members Members, now time.Time) (nova.ApprovalRequest, []string) {
	if req.State != nova.ApprovalPending && req.State != nova.ApprovalApproved {
		return req, nil
	}
	out, revoked := narrow(req, current, members)
	if out.State == nova.ApprovalApproved {
		if have, need := Tally(out); have < need {
			out.State = nova.ApprovalPending
		}
	}
	if changed(req, out) {
		out.UpdatedAt = now
	}
	return out, revoked
}

// Authorize is the last check before an executor is called for a running
// request: under the current policy, narrowed as Reconcile narrows it, a
// destructive request must still have its quorum of distinct human
// approvals, an approver, and no deny. It returns EFORBIDDEN otherwise,
// saying what is missing. Non-destructive requests need no approval to run
// (auto_run) and pass.
func Authorize(req nova.ApprovalRequest, current Policy, members Members) error {
	if !req.Destructive {
		return nil
	}
	out, revoked := narrow(req, current, members)
	if err := checkQuorum(out); err != nil {
		if len(revoked) > 0 {
			return nova.Errorf(nova.EFORBIDDEN, "%s (the approval of %s no longer counts under the current approval policy)",
				nova.ErrorMessage(err), mentions(revoked))
		}
		return err
	}
	return nil
}

// narrow applies the current policy to req's approvers, quorum, expiry and
// counted approvals, returning the people whose approval it removed.
func narrow(req nova.ApprovalRequest, current Policy, members Members) (nova.ApprovalRequest, []string) {
	current = current.withDefaults()
	allowed := current.Approvers
	if !req.Destructive {
		allowed = append(slices.Clone(current.Approvers), current.Responders...)
	}
	var approvers []string
	for _, id := range req.Approvers {
		if slices.Contains(allowed, id) && !slices.Contains(approvers, id) {
			approvers = append(approvers, id)
		}
	}
	out := req
	out.Approvers = approvers
	if req.Destructive {
		out.RequiredApprovals = max(req.RequiredApprovals, current.RequiredApprovals)
	}
	// A record without CreatedAt cannot be bounded and so expires at once.
	out.ExpiresAt = earliest(req.ExpiresAt, req.CreatedAt.Add(min(current.ExpiresAfter, MaxExpiresAfter)))

	var revoked []string
	kept := make([]nova.Decision, 0, len(req.Decisions))
	for _, d := range req.Decisions {
		if d.Approve && !mayStillApprove(approvers, members, d.UserID) {
			if !slices.Contains(revoked, d.UserID) && !isNovaID(d.UserID) {
				revoked = append(revoked, d.UserID)
			}
			continue
		}
		kept = append(kept, d)
	}
	if len(kept) != len(req.Decisions) {
		out.Decisions = kept
	}
	return out, revoked
}

// mayStillApprove reports whether user is on the narrowed approver list,
// in person or through a user group on it.
func mayStillApprove(approvers []string, members Members, user string) bool {
	if isNovaID(user) {
		return false
	}
	for _, id := range approvers {
		if isGroupID(id) {
			if slices.Contains(members[user], id) {
				return true
			}
		} else if id == user {
			return true
		}
	}
	return false
}

// earliest returns the earliest of ts.
func earliest(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.Before(out) {
			out = t
		}
	}
	return out
}

// changed reports whether Reconcile changed anything a person relies on.
func changed(a, b nova.ApprovalRequest) bool {
	return a.State != b.State || a.RequiredApprovals != b.RequiredApprovals || !a.ExpiresAt.Equal(b.ExpiresAt) ||
		!slices.Equal(a.Approvers, b.Approvers) || len(a.Decisions) != len(b.Decisions)
}
