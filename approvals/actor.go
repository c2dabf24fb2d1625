package approvals

import (
	"slices"
	"strings"

	"github.com/novasre/nova"
)

// Actor is the person who clicked: their Slack user id and the user groups
// they belong to, which the caller resolves (usergroups.users.list) because
// this package does no I/O.
type Actor struct {
	UserID string
	// Groups are the Slack user-group ids (S…) the user belongs to.
	Groups []string
}

// IsNova reports whether the actor is Nova itself or unidentified; neither
// may ever approve or deny, so that the agent cannot approve its own proposal.
func (a Actor) IsNova() bool { return isNovaID(a.UserID) }

// isNovaID treats the empty id like Nova: a click that lost its user id
// must not count as anybody's approval.
func isNovaID(id string) bool {
	id = strings.TrimSpace(id)
	return id == "" || strings.EqualFold(id, nova.ActorNova)
}

// CanDecide reports whether a may approve or deny req: a is a person, and
// either named in req.Approvers or a member of a user group named there.
// It does not look at the request's state; Decide does.
func CanDecide(req nova.ApprovalRequest, a Actor) bool {
	if a.IsNova() {
		return false
	}
	for _, id := range req.Approvers {
		if isGroupID(id) {
			if slices.Contains(a.Groups, id) {
				return true
			}
		} else if id == a.UserID {
			return true
		}
	}
	return false
}

// forbidden explains to a who may decide instead. The ids are written as
// Slack mentions because this message is shown in Slack, where they render
// as names.
func forbidden(req nova.ApprovalRequest, a Actor) error {
	who := whoMayDecide(req)
	if a.IsNova() {
		return nova.Errorf(nova.EFORBIDDEN, "Nova cannot approve or deny its own proposals: ask %s", who)
	}
	verb := "approve or deny"
	if !req.Destructive {
		verb = "apply or dismiss"
	}
	return nova.Errorf(nova.EFORBIDDEN, "you are not allowed to %s %q: only %s may", verb, req.Title, who)
}

// whoMayDecide lists the approvers as Slack mentions.
func whoMayDecide(req nova.ApprovalRequest) string {
	users, groups := splitIDs(req.Approvers)
	var names []string
	for _, u := range users {
		names = append(names, "<@"+u+">")
	}
	for _, g := range groups {
		names = append(names, "members of <!subteam^"+g+">")
	}
	switch len(names) {
	case 0:
		return "nobody (the request names no approvers; fix the approval policy)"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
