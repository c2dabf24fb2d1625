package approvals

import (
	"slices"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Tally returns how many distinct people have approved req and how many
// must. A destructive request needs RequiredApprovals (at least 1); a
// non-destructive one needs one click.
//
// Only approvals that can be trusted count: by a person (never Nova or an
// empty id), made before the request expired. Start relies on this to
// re-check quorum from the recorded decisions rather than from State.
func Tally(req nova.ApprovalRequest) (have, need int) {
	need = 1
	if req.Destructive && req.RequiredApprovals > 1 {
		need = req.RequiredApprovals
	}
	return len(ApprovedBy(req)), need
}

// ApprovedBy returns the distinct people whose approval counts, in the
// order they approved; the executor passes them on to the receiver.
func ApprovedBy(req nova.ApprovalRequest) []string {
	var ids []string
	for _, d := range req.Decisions {
		if d.Approve && countable(req, d) && !slices.Contains(ids, d.UserID) {
			ids = append(ids, d.UserID)
		}
	}
	return ids
}

// deniedBy returns the first person whose deny is recorded, or "".
func deniedBy(req nova.ApprovalRequest) string {
	for _, d := range req.Decisions {
		if !d.Approve && !isNovaID(d.UserID) {
			return d.UserID
		}
	}
	return ""
}

// countable reports whether decision d could have been recorded by Decide.
func countable(req nova.ApprovalRequest, d nova.Decision) bool {
	return !isNovaID(d.UserID) && !d.At.IsZero() && d.At.Before(expiresAt(req))
}

// hasApproved reports whether user already has a counted approval on req.
func hasApproved(req nova.ApprovalRequest, user string) bool {
	return slices.Contains(ApprovedBy(req), user)
}

// isExpired treats the instant ExpiresAt itself as expired, and a missing
// ExpiresAt as long expired, so that a broken record fails closed.
func isExpired(req nova.ApprovalRequest, now time.Time) bool {
	return !now.Before(expiresAt(req))
}

// expiresAt is when req expires: its ExpiresAt, but never more than
// MaxExpiresAfter after it was created, whatever the stored record says.
func expiresAt(req nova.ApprovalRequest) time.Time {
	if req.CreatedAt.IsZero() {
		return req.ExpiresAt
	}
	return earliest(req.ExpiresAt, req.CreatedAt.Add(MaxExpiresAfter))
}

// mentions renders user ids as Slack mentions, "<@U1> and <@U2>".
func mentions(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "<@" + id + ">"
	}
	if len(out) <= 1 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
}

// stamp formats a time for messages people read in Slack.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
