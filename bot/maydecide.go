package bot

import (
	"context"

	"github.com/novasre/nova"
)

// MayDecide reports whether user may decide req under the approvals policy
// in force now; the web pages show their Apply / Approve / Deny buttons
// only then, and send the decision itself through Interact, the entry point
// of Slack's buttons.
func (a *App) MayDecide(ctx context.Context, user string, req nova.ApprovalRequest) (bool, error) {
	return a.actions.MayDecide(ctx, user, req)
}

// MayReview reports whether user may read the rollout review, by the rule
// of /nova review; the web review page asks before showing it or its link.
func (a *App) MayReview(ctx context.Context, user string) (bool, error) {
	return a.rollout.MayReview(ctx, user)
}
