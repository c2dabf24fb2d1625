package actions

import (
	"context"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
)

// MayDecide reports whether user may approve, deny or apply req under the
// approvals policy in force now: the request's approvers narrowed to the
// current policy, user groups resolved as for a click. The web pages ask it
// before showing their buttons; a click itself (Decide, Apply) checks again.
func (f *Flow) MayDecide(ctx context.Context, user string, req nova.ApprovalRequest) (bool, error) {
	rc, err := f.reconcile(ctx, req)
	if err != nil {
		return false, err
	}
	groups, err := f.cfg.Gate.UserGroups(ctx, req.Environment, user, rc.req.Approvers)
	if err != nil {
		return false, err
	}
	return approvals.CanDecide(rc.req, approvals.Actor{UserID: user, Groups: groups}), nil
}
