package bot

import (
	"context"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/store"
)

// Red-team item 12: a click counts only when its action_id is exactly one
// of Nova's. "approveXYZ", "deny_all" or "apply2" on a button that names a
// real request must be refused and change nothing.
func TestRedTeam12_ButtonActionIDsMatchExactly(t *testing.T) {
	for _, id := range []string{"approveXYZ", "approve ", "approve_2", "denyAll", "apply2", "APPROVE", "Approve"} {
		t.Run(id, func(t *testing.T) {
			a, exec := testApp(t)
			now := time.Now()
			req := nova.ApprovalRequest{ID: "apr-exact-1", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
				Action: "rollback", Title: "Roll back", Destructive: true, Approvers: []string{"U0ALICE"}, RequiredApprovals: 1,
				State: nova.ApprovalPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour), UpdatedAt: now, IdempotencyKey: "k-exact"}
			seed(t, a, req)
			_, err := a.Interact(context.Background(), nova.Interaction{UserID: "U0ALICE", ActionID: id, Value: req.ID})
			a.Wait()
			if nova.ErrorCode(err) != nova.EINVALID {
				t.Errorf("click %q: err = %v, want a refusal as a button that is not Nova's", id, err)
			}
			got, _, err := store.Load[nova.ApprovalRequest](context.Background(), a.store, store.KindApproval, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != nova.ApprovalPending || len(got.Decisions) != 0 || exec.runs.Load() != 0 {
				t.Errorf("click %q changed the request: state %s, %d decisions, %d runs", id, got.State, len(got.Decisions), exec.runs.Load())
			}
		})
	}
	t.Run("control: the exact id counts", func(t *testing.T) {
		a, _ := testApp(t)
		now := time.Now()
		req := nova.ApprovalRequest{ID: "apr-exact-2", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
			Action: "rollback", Title: "Roll back", Destructive: true, Approvers: []string{"U0ALICE"}, RequiredApprovals: 1,
			State: nova.ApprovalPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour), UpdatedAt: now, IdempotencyKey: "k-exact-2"}
		seed(t, a, req)
		if _, err := a.Interact(context.Background(), nova.Interaction{UserID: "U0ALICE", ActionID: render.ActionDeny, Value: req.ID}); err != nil {
			t.Fatal(err)
		}
		a.Wait()
		got, _, err := store.Load[nova.ApprovalRequest](context.Background(), a.store, store.KindApproval, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != nova.ApprovalDenied {
			t.Errorf("an exact deny left the request %s", got.State)
		}
	})
}
