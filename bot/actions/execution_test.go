package actions

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
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

// The only call of an executor is in execute, and execute is reached only
// from startRun, autoRun and Sweep: the ways an execution can start that
// TestNoDestructiveRunWithoutHumanApproval walks.
func TestExecutionEntryPoints(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	callers := map[string][]string{} // callee -> functions that call it
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					callers[sel.Sel.Name] = append(callers[sel.Sel.Name], fn.Name.Name)
				}
				return true
			})
		}
	}
	check := func(callee string, want ...string) {
		got := dedupe(callers[callee])
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s is called from %v; the audited entry points are %v — a new path must be added to TestNoDestructiveRunWithoutHumanApproval", callee, got, want)
		}
	}
	check("Executor", "execute") // the only place an executor is obtained
	check("execute", "startRun", "autoRun", "Sweep")
	check("startRun", "decide", "apply", "Sweep")
	check("autoRun", "proposeActions")
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Every way an execution can start refuses a destructive request that has
// no recorded human approval — however the stored request got its state —
// and a properly approved one runs exactly once (so the test can fail).
func TestNoDestructiveRunWithoutHumanApproval(t *testing.T) {
	now := time.Now()
	forged := func(state nova.ApprovalState, decisions ...nova.Decision) nova.ApprovalRequest {
		return nova.ApprovalRequest{
			ID: "apr-" + string(state) + "-" + store.NewOwner()[:6], Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
			Action: "rollback", Title: "Roll back", Destructive: true, Approvers: []string{"U0ALICE"}, RequiredApprovals: 1,
			State: state, Decisions: decisions, CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour),
			UpdatedAt: now.Add(-time.Hour), IdempotencyKey: "k-" + string(state),
		}
	}
	byNova := nova.Decision{UserID: nova.ActorNova, Approve: true, At: now.Add(-time.Minute)}
	byNobody := nova.Decision{UserID: "", Approve: true, At: now.Add(-time.Minute)}
	cases := []struct {
		name string
		req  nova.ApprovalRequest
		path func(a *Flow, req nova.ApprovalRequest)
	}{
		{"approve click by Nova itself", forged(nova.ApprovalPending), func(a *Flow, r nova.ApprovalRequest) {
			_, _ = a.decide(context.Background(), nova.Interaction{UserID: nova.ActorNova, ActionID: render.ActionApprove, Value: r.ID}, true)
		}},
		{"apply click on a destructive request", forged(nova.ApprovalPending), func(a *Flow, r nova.ApprovalRequest) {
			_, _ = a.apply(context.Background(), nova.Interaction{UserID: "U0ALICE", ActionID: render.ActionApply, Value: r.ID})
		}},
		{"start of a stored approved state without decisions", forged(nova.ApprovalApproved), func(a *Flow, r nova.ApprovalRequest) {
			a.startRun(context.Background(), r.ID)
		}},
		{"start with Nova's own approval", forged(nova.ApprovalApproved, byNova), func(a *Flow, r nova.ApprovalRequest) {
			a.startRun(context.Background(), r.ID)
		}},
		{"start with an anonymous approval", forged(nova.ApprovalApproved, byNobody), func(a *Flow, r nova.ApprovalRequest) {
			a.startRun(context.Background(), r.ID)
		}},
		{"sweep of a stored approved state", forged(nova.ApprovalApproved), func(a *Flow, r nova.ApprovalRequest) { a.Sweep(context.Background()) }},
		{"sweep of a stored running state without decisions", forged(nova.ApprovalRunning), func(a *Flow, r nova.ApprovalRequest) { a.Sweep(context.Background()) }},
		{"execute of a running state without decisions", forged(nova.ApprovalRunning), func(a *Flow, r nova.ApprovalRequest) { a.execute(context.Background(), r) }},
		{"auto-run of a destructive action", forged(nova.ApprovalPending), func(a *Flow, r nova.ApprovalRequest) {
			a.autoRun(context.Background(), r.ID, nova.Action{Name: "rollback", Destructive: true, AutoRun: true, Services: []string{"PCHECKOUT"}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, exec := testApp(t)
			seed(t, a, c.req)
			c.path(a, c.req)
			a.Wait()
			if n := exec.runs.Load(); n != 0 {
				t.Fatalf("the executor ran %d times without a human approval", n)
			}
		})
	}
	t.Run("control: a human approval runs once", func(t *testing.T) {
		a, exec := testApp(t)
		req := forged(nova.ApprovalPending)
		seed(t, a, req)
		if _, err := a.decide(context.Background(), nova.Interaction{UserID: "U0ALICE", ActionID: render.ActionApprove, Value: req.ID}, true); err != nil {
			t.Fatal(err)
		}
		a.Wait()
		a.Sweep(context.Background())
		a.Wait()
		if n := exec.runs.Load(); n != 1 {
			t.Fatalf("the executor ran %d times after one human approval, want 1", n)
		}
	})
}

func seed(t *testing.T, a *Flow, req nova.ApprovalRequest) {
	t.Helper()
	if _, err := store.Save(context.Background(), a.cfg.Store, store.KindApproval, req.ID, req, 0); err != nil {
		t.Fatal(err)
	}
	if err := a.trackOpen(context.Background(), req.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(context.Background(), a.cfg.Store, store.KindService, "PCHECKOUT",
		nova.ServiceState{ServiceID: "PCHECKOUT", Mode: nova.ModeAction}, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
}

// testApp is the approval flow on a real bolt store whose ports are fakes
// that record what reaches them; the executor counts runs.
func testApp(t *testing.T) (*Flow, *countingExecutor) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	exec := &countingExecutor{}
	set := &settings.Settings{
		Tier:         nova.TierEnterprise,
		Services:     map[string]nova.Service{"PCHECKOUT": {ID: "PCHECKOUT", Name: "checkout", Environment: "prod", DeclaredMode: nova.ModeAction}},
		Environments: map[string]settings.Env{"prod": {Approvals: approvals.Policy{Approvers: []string{"U0ALICE"}}}},
		Actions:      []nova.Action{{Name: "rollback", Title: "Roll back", Destructive: true, Services: []string{"PCHECKOUT"}}},
	}
	return newFlow(t, st, func() *settings.Settings { return set }, fakePD{}, exec, 0, nil), exec
}

type countingExecutor struct{ runs atomic.Int32 }

func (e *countingExecutor) Run(context.Context, nova.ActionRun) (string, error) {
	e.runs.Add(1)
	return "ok", nil
}

// fakePD says every incident is open and refuses every write.
type fakePD struct{ pagerDuty }

func (fakePD) GetIncident(_ context.Context, id string) (nova.Incident, error) {
	return nova.Incident{ID: id, Status: nova.StatusTriggered}, nil
}
func (fakePD) AddNote(context.Context, string, string) (nova.Note, error) {
	return nova.Note{}, nova.Errorf(nova.EFORBIDDEN, "no writes in this test")
}
