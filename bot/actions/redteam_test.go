package actions

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
)

// rig is an App on a real bolt store whose settings can be swapped like a
// SIGHUP reload does, whose clock can be moved, and whose PagerDuty and
// executor are fakes the test controls.
type rig struct {
	t        *testing.T
	st       store.Store
	settings atomic.Pointer[settings.Settings]
	clock    atomic.Int64 // offset from real time
	pd       pagerDuty
	exec     *slowExecutor
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, st: st, pd: fakePD{}, exec: &slowExecutor{}}
	r.setPolicy(approvals.Policy{Approvers: []string{"U0ALICE", "U0BOB", "U0CAROL"}, RequiredApprovals: 1})
	if _, err := store.Save(context.Background(), st, store.KindService, "PCHECKOUT",
		nova.ServiceState{ServiceID: "PCHECKOUT", Mode: nova.ModeAction}, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	return r
}

// app returns one replica of Nova on the rig's store.
func (r *rig) app(visibility time.Duration) *Flow {
	r.t.Helper()
	return newFlow(r.t, r.st, func() *settings.Settings { return r.settings.Load() }, r.pd, r.exec, visibility, r.now)
}

func (r *rig) now() time.Time          { return time.Now().Add(time.Duration(r.clock.Load())) }
func (r *rig) advance(d time.Duration) { r.clock.Add(int64(d)) }

// setPolicy installs new settings with pol for prod, as a reload does.
func (r *rig) setPolicy(pol approvals.Policy) {
	r.settings.Store(&settings.Settings{
		Tier:         nova.TierEnterprise,
		Services:     map[string]nova.Service{"PCHECKOUT": {ID: "PCHECKOUT", Name: "checkout", Environment: "prod", DeclaredMode: nova.ModeAction}},
		Environments: map[string]settings.Env{"prod": {Approvals: pol}},
		Actions:      []nova.Action{{Name: "rollback", Title: "Roll back", Destructive: true, Services: []string{"PCHECKOUT"}}},
	})
}

// request stores a destructive request proposed under policy pol at
// proposal time, with the given approvals, in state s.
func (r *rig) request(a *Flow, s nova.ApprovalState, required int, approvedBy ...string) nova.ApprovalRequest {
	r.t.Helper()
	now := r.now()
	req := nova.ApprovalRequest{
		ID: "apr-" + store.NewOwner()[:10], Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
		Action: "rollback", Title: "Roll back", Destructive: true, Approvers: []string{"U0ALICE", "U0BOB", "U0CAROL"},
		RequiredApprovals: required, State: s, CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(20 * time.Minute),
		UpdatedAt: now.Add(-time.Minute), IdempotencyKey: "nova-k-" + store.NewOwner()[:6],
	}
	for _, u := range approvedBy {
		req.Decisions = append(req.Decisions, nova.Decision{UserID: u, Approve: true, At: now.Add(-30 * time.Second)})
	}
	seed(r.t, a, req)
	return req
}

func (r *rig) load(id string) nova.ApprovalRequest {
	r.t.Helper()
	req, _, err := store.Load[nova.ApprovalRequest](context.Background(), r.st, store.KindApproval, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return req
}

// audited returns the audit entries with action verb.
func (r *rig) audited(verb string) []nova.AuditEntry {
	r.t.Helper()
	all, err := r.st.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []nova.AuditEntry
	for _, e := range all {
		if e.Action == verb {
			out = append(out, e)
		}
	}
	return out
}

// slowExecutor counts calls; each takes hold and ignores its context, the
// way a stuck HTTP exchange can.
type slowExecutor struct {
	hold      time.Duration
	calls     atomic.Int32
	mu        sync.Mutex
	deadlines []time.Time
	ok        []bool
}

func (e *slowExecutor) Run(ctx context.Context, _ nova.ActionRun) (string, error) {
	e.calls.Add(1)
	dl, ok := ctx.Deadline()
	e.mu.Lock()
	e.deadlines, e.ok = append(e.deadlines, dl), append(e.ok, ok)
	e.mu.Unlock()
	time.Sleep(e.hold)
	return "HTTP 200 after 1 attempt(s): done", nil
}

func click(a *Flow, user, id string) (nova.Reply, error) {
	return a.decide(context.Background(), nova.Interaction{UserID: user, ActionID: render.ActionApprove, Value: id}, true)
}

// Red-team item 2: after a reload that removed an approver and raised the
// quorum, the removed approver's single click ran the action.
func TestRedTeam2_ReloadReachesPendingRequests(t *testing.T) {
	r := newRig(t)
	a := r.app(time.Minute)
	req := r.request(a, nova.ApprovalPending, 1)
	r.setPolicy(approvals.Policy{Approvers: []string{"U0BOB", "U0CAROL"}, RequiredApprovals: 2})

	_, err := click(a, "U0ALICE", req.ID)
	a.Wait()
	if !nova.IsCode(err, nova.EFORBIDDEN) || r.exec.calls.Load() != 0 {
		t.Fatalf("removed approver's click: %v, %d runs; want EFORBIDDEN and no run", err, r.exec.calls.Load())
	}
	if reply, err := click(a, "U0BOB", req.ID); err != nil || !strings.Contains(string(reply.Message.Text), "1 of 2") {
		t.Fatalf("first approval under the raised quorum: %q %v; want 1 of 2", reply.Message.Text, err)
	}
	a.Wait()
	if n := r.exec.calls.Load(); n != 0 {
		t.Fatalf("ran after 1 of 2 approvals")
	}
	if _, err := click(a, "U0CAROL", req.ID); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	if n, got := r.exec.calls.Load(), r.load(req.ID); n != 1 || got.State != nova.ApprovalSucceeded {
		t.Fatalf("two approvers under the new policy: %d runs, state %s", n, got.State)
	}
}

// An approval given by someone the reload removed no longer counts.
func TestRedTeam2_RemovedApproverLosesTheirApproval(t *testing.T) {
	r := newRig(t)
	a := r.app(time.Minute)
	req := r.request(a, nova.ApprovalPending, 2, "U0ALICE") // 1 of 2
	r.setPolicy(approvals.Policy{Approvers: []string{"U0BOB", "U0CAROL"}, RequiredApprovals: 2})

	a.Sweep(context.Background()) // a reload reaches requests nobody clicks
	got := r.load(req.ID)
	if have, need := approvals.Tally(got); have != 0 || need != 2 || len(r.audited("approval.revoke")) != 1 {
		t.Fatalf("after the sweep: %d of %d, revocations audited %d", have, need, len(r.audited("approval.revoke")))
	}
	if reply, err := click(a, "U0BOB", req.ID); err != nil || !strings.Contains(string(reply.Message.Text), "1 of 2") {
		t.Fatalf("bob after alice was removed: %q %v; want 1 of 2", reply.Message.Text, err)
	}
	a.Wait()
	if n := r.exec.calls.Load(); n != 0 {
		t.Fatalf("ran with the removed approver's approval counted (%d runs)", n)
	}
}

// An approved request that was not started yet goes back to pending when
// the policy now asks for more approvals.
func TestRedTeam2_ApprovedButNotStartedIsReevaluated(t *testing.T) {
	r := newRig(t)
	a := r.app(time.Minute)
	req := r.request(a, nova.ApprovalApproved, 1, "U0ALICE")
	r.setPolicy(approvals.Policy{Approvers: []string{"U0ALICE", "U0BOB", "U0CAROL"}, RequiredApprovals: 2})

	a.startRun(context.Background(), req.ID) // the start that follows an approval
	a.Wait()
	got := r.load(req.ID)
	if got.State != nova.ApprovalPending || r.exec.calls.Load() != 0 {
		t.Fatalf("approved request under a raised quorum: %s, %d runs; want pending, none", got.State, r.exec.calls.Load())
	}
	if len(r.audited("approval.reevaluate")) != 1 {
		t.Errorf("the return to pending was not audited")
	}
}

// Right before the executor is called, the current policy is checked
// again: a run started just before the reload, or resumed after it, stops.
func TestRedTeam2_ExecutionRechecksTheCurrentPolicy(t *testing.T) {
	r := newRig(t)
	a := r.app(time.Minute)
	req := r.request(a, nova.ApprovalRunning, 1, "U0ALICE")
	r.setPolicy(approvals.Policy{Approvers: []string{"U0BOB", "U0CAROL"}, RequiredApprovals: 1})

	a.execute(context.Background(), req)
	got := r.load(req.ID)
	if r.exec.calls.Load() != 0 || got.State != nova.ApprovalFailed || !strings.Contains(got.Result, "no longer counts") {
		t.Fatalf("execution after the approver was removed: %d runs, %s %q", r.exec.calls.Load(), got.State, got.Result)
	}
}

// Red-team item 3: one approval, two concurrent destructive runs. A run
// slower than the visibility timeout, with another replica sweeping all the
// while, reaches the executor once.
func TestRedTeam3_SlowRunWithASweeperRunsOnce(t *testing.T) {
	const visibility = 300 * time.Millisecond
	r := newRig(t)
	r.exec.hold = 5 * visibility // longer than the lease, ignoring its deadline
	a, b := r.app(visibility), r.app(visibility)
	req := r.request(a, nova.ApprovalPending, 1)

	stop := make(chan struct{})
	var sweeps sync.WaitGroup
	sweeps.Add(1)
	go func() { // replica b sweeps as often as it can while a runs
		defer sweeps.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			b.Sweep(context.Background())
			time.Sleep(visibility / 10)
		}
	}()
	if _, err := click(a, "U0ALICE", req.ID); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	close(stop)
	sweeps.Wait()
	b.Wait()
	if n := r.exec.calls.Load(); n != 1 {
		t.Fatalf("one approval reached the executor %d times, want 1", n)
	}
	if got := r.load(req.ID); got.State != nova.ApprovalSucceeded {
		t.Errorf("state %s %q, want succeeded", got.State, got.Result)
	}
}

// The executor gets a deadline that ends inside the run's lease, so a run
// (retries and Retry-After waits included) is over before any replica could
// consider its owner gone.
func TestRedTeam3_RunDeadlineEndsInsideTheLease(t *testing.T) {
	const visibility = 2 * time.Second
	r := newRig(t)
	a := r.app(visibility)
	req := r.request(a, nova.ApprovalPending, 1)
	began := r.now()
	if _, err := click(a, "U0ALICE", req.ID); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	r.exec.mu.Lock()
	defer r.exec.mu.Unlock()
	if len(r.exec.ok) != 1 || !r.exec.ok[0] {
		t.Fatalf("executor calls with a deadline: %v, want one call with one", r.exec.ok)
	}
	if dl := r.exec.deadlines[0]; !dl.Before(began.Add(visibility)) {
		t.Errorf("the run's deadline %v is not inside its lease (ends about %v)", dl, began.Add(visibility))
	}
}

// The sweeper resumes a run only when its owner is provably gone: the lease
// ended and nothing renewed the record for a whole lease after that.
func TestRedTeam3_SweeperResumesOnlyAProvablyDeadRun(t *testing.T) {
	const visibility = time.Minute
	r := newRig(t)
	a := r.app(visibility)
	ctx := context.Background()
	req := r.request(a, nova.ApprovalRunning, 1, "U0ALICE")
	key := "action:" + req.ID
	v, err := store.Save(ctx, r.st, store.KindOnce, key, store.OnceRecord{State: store.OncePending, Owner: "crashed",
		LeaseUntil: r.now().Add(-time.Second), AuditID: nova.NewAuditID(r.now()), UpdatedAt: r.now()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.Sweep(ctx)
	if n := r.exec.calls.Load(); n != 0 {
		t.Fatalf("resumed a run the moment its lease ended (%d calls)", n)
	}
	// A heartbeat renews the record while the sweeper waits: not dead.
	r.advance(visibility / 2)
	if _, err := store.Save(ctx, r.st, store.KindOnce, key, store.OnceRecord{State: store.OncePending, Owner: "crashed",
		LeaseUntil: r.now().Add(-time.Millisecond), AuditID: nova.NewAuditID(r.now()), UpdatedAt: r.now()}, v); err != nil {
		t.Fatal(err)
	}
	r.advance(visibility / 2)
	a.Sweep(ctx)
	if n := r.exec.calls.Load(); n != 0 {
		t.Fatalf("resumed a run whose record was renewed meanwhile (%d calls)", n)
	}
	// Unchanged for a whole lease after its end: the owner is gone.
	r.advance(visibility)
	a.Sweep(ctx)
	if n, got := r.exec.calls.Load(), r.load(req.ID); n != 1 || got.State != nova.ApprovalSucceeded {
		t.Fatalf("a provably dead run: %d calls, state %s; want resumed once", n, got.State)
	}
}

// Red-team item 5: with PagerDuty unreachable, the "incident still open"
// check fell back to Nova's stored record and ran the action on an incident
// PagerDuty had resolved. No fresh confirmation, no run; the request says
// why, and so does the audit.
func TestRedTeam5_NoRunWithoutFreshConfirmationFromPagerDuty(t *testing.T) {
	r := newRig(t)
	r.pd = unreachablePD{}
	a := r.app(time.Minute)
	ctx := context.Background()
	// Nova's own record still says triggered.
	if _, err := store.Save(ctx, r.st, store.KindIncident, "Q1", nova.IncidentRecord{ID: "Q1", ServiceID: "PCHECKOUT",
		Environment: "prod", Status: nova.StatusTriggered}, 0); err != nil {
		t.Fatal(err)
	}
	req := r.request(a, nova.ApprovalPending, 1)
	if _, err := click(a, "U0ALICE", req.ID); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	got := r.load(req.ID)
	const reason = "could not confirm with PagerDuty that the incident is still open"
	if n := r.exec.calls.Load(); n != 0 || got.State != nova.ApprovalCancelled || !strings.Contains(got.StateReason, reason) {
		t.Fatalf("PagerDuty unreachable: %d runs, %s %q; want cancelled: %s", n, got.State, got.StateReason, reason)
	}
	entries := r.audited("approval.cancel")
	if len(entries) != 1 || !strings.Contains(entries[0].Detail, reason) {
		t.Fatalf("audit entries for the cancellation: %+v", entries)
	}
}

// unreachablePD answers every incident read with EUNAVAILABLE.
type unreachablePD struct{ fakePD }

func (unreachablePD) GetIncident(context.Context, string) (nova.Incident, error) {
	return nova.Incident{}, nova.Errorf(nova.EUNAVAILABLE, "PagerDuty could not be reached")
}
