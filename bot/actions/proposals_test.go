package actions

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
)

type proposalFixture struct {
	f      *Flow
	st     store.Store
	exec   *countingExecutor
	chat   *mock.Chat
	posts  []string
	queued []string
	svc    nova.Service
	rec    nova.IncidentRecord
}

// newProposalFixture proposes for checkout's incident Q1, whose top
// hypothesis suggests a destructive rollback, an auto-run restart and an
// action outside the catalog.
func newProposalFixture(t *testing.T) *proposalFixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &proposalFixture{st: st, exec: &countingExecutor{},
		svc: nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT", DeclaredMode: nova.ModeAction}}
	set := &settings.Settings{
		Tier:         nova.TierEnterprise,
		Services:     map[string]nova.Service{p.svc.ID: p.svc},
		Environments: map[string]settings.Env{"prod": {Approvals: approvals.Policy{Approvers: []string{"U0ALICE"}}}},
		Actions: []nova.Action{
			{Name: "rollback", Title: "Roll back", Destructive: true, Services: []string{"PCHECKOUT"}, Params: map[string]string{"service": "{{.Service}}", "incident": "{{.Incident}}"}},
			{Name: "restart", Title: "Restart", AutoRun: true, Services: []string{"PCHECKOUT"}},
		},
	}
	p.f = newFlow(t, st, func() *settings.Settings { return set }, fakePD{}, p.exec, 0, nil)
	p.chat = &mock.Chat{
		PostFn: func(_ context.Context, _, thread string, m nova.Message) (string, error) {
			p.posts = append(p.posts, thread+" "+string(m.Text))
			return "1700.9", nil
		},
		UpdateFn: func(context.Context, string, string, nova.Message) error { return nil },
		FindByMetadataFn: func(context.Context, string, string, string, string, time.Time) (string, bool, error) {
			return "", false, nil
		},
	}
	p.f.cfg.Chat = func(string) (writeback.Chat, error) { return p.chat, nil }
	p.f.cfg.QueueMessage = func(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
		p.queued = append(p.queued, req.Action)
		return p.f.PostMessage(ctx, svc, rec, req) // what the outbox does later
	}
	p.rec = nova.IncidentRecord{ID: "Q1", ServiceID: p.svc.ID, Environment: "prod", Status: nova.StatusTriggered, SlackChannel: "C0CHECKOUT", SlackTS: "1700.1",
		Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1, Category: nova.CategoryChange, Confidence: 0.8, Summary: "the deploy",
			Suggestions: []nova.Suggestion{{Action: "rollback", Destructive: true}, {Action: "restart"}, {Action: "rm-rf"}, {Title: "runbook"}}}}}}
	if _, err := store.Save(context.Background(), st, store.KindIncident, "Q1", p.rec, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(context.Background(), st, store.KindService, p.svc.ID, nova.ServiceState{ServiceID: p.svc.ID, Mode: nova.ModeAction}, 0); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *proposalFixture) requests(t *testing.T) map[string]nova.ApprovalRequest {
	t.Helper()
	items, err := p.st.List(context.Background(), store.KindApproval, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]nova.ApprovalRequest{}
	for _, it := range items {
		req, _, err := store.Load[nova.ApprovalRequest](context.Background(), p.st, store.KindApproval, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[req.Action] = req
	}
	return out
}

func TestProposalsComeOnlyFromTheCatalogAndOnce(t *testing.T) {
	p := newProposalFixture(t)
	ctx := context.Background()
	log := logrus.New()
	for range 2 {
		if err := p.f.Propose(ctx, p.svc, p.rec, log); err != nil {
			t.Fatal(err)
		}
	}
	p.f.Wait()
	reqs := p.requests(t)
	if len(reqs) != 2 {
		t.Fatalf("requests %v", reqs)
	}
	rb := reqs["rollback"]
	if !rb.Destructive || rb.State != nova.ApprovalPending || rb.Params["service"] != "checkout" || rb.Params["incident"] != "Q1" || rb.SlackTS != "1700.9" {
		t.Fatalf("rollback request %+v", rb)
	}
	// The auto-run restart ran once, without a click; the rollback waits.
	if n := p.exec.runs.Load(); n != 1 || p.requests(t)["restart"].State != nova.ApprovalSucceeded {
		t.Fatalf("auto-run: %d runs, state %s", n, p.requests(t)["restart"].State)
	}
	if len(p.posts) != 2 || !strings.HasPrefix(p.posts[0], "1700.1 ") {
		t.Fatalf("posts %q (in the incident's thread, once per request)", p.posts)
	}
}

func TestNoProposalsWithoutTheTierOrAHypothesis(t *testing.T) {
	p := newProposalFixture(t)
	ctx := context.Background()
	abstained := p.rec
	tr := *p.rec.Triage
	tr.Abstained = true
	abstained.Triage = &tr
	if err := p.f.Propose(ctx, p.svc, abstained, logrus.New()); err != nil || len(p.requests(t)) != 0 {
		t.Fatalf("an abstention proposed %v (%v)", p.requests(t), err)
	}
	set := *p.f.cfg.Settings()
	set.Tier = nova.TierStandard
	p.f.cfg.Settings = func() *settings.Settings { return &set }
	if err := p.f.Propose(ctx, p.svc, p.rec, logrus.New()); err != nil || len(p.requests(t)) != 0 {
		t.Fatalf("the standard tier proposed %v (%v)", p.requests(t), err)
	}
}

func TestResolutionAndDemotionWithdrawOpenRequests(t *testing.T) {
	p := newProposalFixture(t)
	ctx := context.Background()
	p.f.cfg.Settings().Actions[1].AutoRun = false
	if err := p.f.Propose(ctx, p.svc, p.rec, logrus.New()); err != nil {
		t.Fatal(err)
	}
	if err := p.f.CancelService(ctx, "POTHER", "another service was demoted"); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.requests(t) {
		if r.State != nova.ApprovalPending {
			t.Fatalf("another service's demotion touched %s", r.Action)
		}
	}
	if err := p.f.CancelIncident(ctx, "Q1", "the incident was resolved"); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.requests(t) {
		if r.State != nova.ApprovalCancelled || r.StateReason != "the incident was resolved" {
			t.Fatalf("%s after the resolution: %s %q", r.Action, r.State, r.StateReason)
		}
	}
	// A click on a withdrawn request runs nothing; the one-click Apply of a
	// pending non-destructive request does run.
	if _, err := p.f.Apply(ctx, nova.Interaction{UserID: "U0ALICE", Value: p.requests(t)["restart"].ID}); err == nil {
		t.Fatal("applied a cancelled request")
	}
	if _, err := p.f.Apply(ctx, nova.Interaction{UserID: "U0ALICE", Value: "not-a-request"}); !nova.IsCode(err, nova.EINVALID) {
		t.Fatalf("a button without a request: %v", err)
	}
	p.f.Wait()
	if n := p.exec.runs.Load(); n != 0 {
		t.Fatalf("%d runs after withdrawal", n)
	}
}

func TestExpiredRequestsAreSweptAndNoted(t *testing.T) {
	p := newProposalFixture(t)
	ctx := context.Background()
	p.f.cfg.Settings().Actions[1].AutoRun = false
	if err := p.f.Propose(ctx, p.svc, p.rec, logrus.New()); err != nil {
		t.Fatal(err)
	}
	p.f.cfg.Now = func() time.Time { return time.Now().Add(time.Hour) }
	p.f.Sweep(ctx)
	for _, r := range p.requests(t) {
		if r.State != nova.ApprovalExpired {
			t.Fatalf("%s after its expiry: %s", r.Action, r.State)
		}
	}
	ids, _, err := store.Load[[]string](ctx, p.st, store.KindMeta, store.OpenApprovalsID)
	if err != nil || len(ids) != 0 {
		t.Fatalf("the sweeper still watches %v (%v)", ids, err)
	}
}

func TestParamsMustBeValidTemplates(t *testing.T) {
	svc := nova.Service{Name: "checkout"}
	if _, err := renderParams(map[string]string{"x": "{{.Nope}}"}, svc, nova.IncidentRecord{}); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("a missing key: %v", err)
	}
	if _, err := renderParams(map[string]string{"x": "{{"}, svc, nova.IncidentRecord{}); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("a broken template: %v", err)
	}
}
