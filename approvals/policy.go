package approvals

import (
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Policy defaults and bounds.
const (
	// DefaultRequiredApprovals is one approval, from a person other than Nova.
	DefaultRequiredApprovals = nova.DefaultRequiredApprovals
	// DefaultExpiresAfter is short on purpose (nova.DefaultApprovalExpiry).
	DefaultExpiresAfter = nova.DefaultApprovalExpiry
	// MaxExpiresAfter bounds ExpiresAfter so that a forgotten request
	// cannot be approved, and run, long after its incident changed.
	MaxExpiresAfter = 24 * time.Hour
)

// Policy says who may decide on an action request, how many distinct people
// must approve a destructive one, and for how long a request stays open.
type Policy struct {
	// Approvers are Slack user ids (U…, W…) or user-group ids (S…) allowed
	// to approve or deny destructive actions, and to Apply others.
	Approvers []string
	// Responders are Slack user or user-group ids who may also click Apply
	// on a non-destructive action; they never decide on destructive ones.
	Responders []string
	// RequiredApprovals is how many different people must approve a
	// destructive action: 0 means DefaultRequiredApprovals, 2 is the
	// two-person rule.
	RequiredApprovals int
	// ExpiresAfter is how long a request stays open; 0 means DefaultExpiresAfter.
	ExpiresAfter time.Duration
}

// Validate reports the first problem that would make the policy unusable or
// unsafe, as an EINVALID error that says how to fix it.
func (p Policy) Validate() error {
	if len(p.Approvers) == 0 {
		return nova.Errorf(nova.EINVALID, "the approval policy names no approvers: add Slack user ids (U…) or user-group ids (S…)")
	}
	for _, id := range p.Approvers {
		if !validSlackID(id) {
			return nova.Errorf(nova.EINVALID, "approver %q is not a Slack user id (U… or W…) or user-group id (S…)", id)
		}
	}
	for _, id := range p.Responders {
		if !validSlackID(id) {
			return nova.Errorf(nova.EINVALID, "responder %q is not a Slack user id (U… or W…) or user-group id (S…)", id)
		}
	}
	if p.RequiredApprovals < 0 {
		return nova.Errorf(nova.EINVALID, "required approvals is %d: use 1, or 2 for the two-person rule", p.RequiredApprovals)
	}
	need := p.withDefaults().RequiredApprovals
	if users, groups := splitIDs(p.Approvers); len(groups) == 0 && len(users) < need {
		// Without a group nobody else could ever join, so every destructive
		// request would expire unapproved.
		return nova.Errorf(nova.EINVALID, "%d approvals are required but only %d approvers are named: add approvers or a user group",
			need, len(users))
	}
	if p.ExpiresAfter < 0 {
		return nova.Errorf(nova.EINVALID, "expires after is negative (%s): use a duration such as 30m", p.ExpiresAfter)
	}
	if p.ExpiresAfter > MaxExpiresAfter {
		return nova.Errorf(nova.EINVALID, "expires after is %s, longer than the maximum of %s", p.ExpiresAfter, MaxExpiresAfter)
	}
	return nil
}

// withDefaults fills the zero values with their documented defaults.
func (p Policy) withDefaults() Policy {
	if p.RequiredApprovals == 0 {
		p.RequiredApprovals = DefaultRequiredApprovals
	}
	if p.ExpiresAfter == 0 {
		p.ExpiresAfter = DefaultExpiresAfter
	}
	return p
}

// validSlackID accepts user (U, W) and user-group (S) ids: an upper-case
// prefix and upper-case letters or digits, as Slack issues them.
func validSlackID(id string) bool {
	if len(id) < 2 || !strings.ContainsRune("UWS", rune(id[0])) {
		return false
	}
	for _, c := range id[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// isGroupID reports whether id names a Slack user group.
func isGroupID(id string) bool { return strings.HasPrefix(id, "S") }

// splitIDs separates user ids from user-group ids, dropping duplicates.
func splitIDs(ids []string) (users, groups []string) {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if isGroupID(id) {
			groups = append(groups, id)
		} else {
			users = append(users, id)
		}
	}
	return users, groups
}
