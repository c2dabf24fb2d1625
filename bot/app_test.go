package bot

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
)

// testApp is an App on a real bolt store whose ports are fakes: PagerDuty
// says every incident is open and refuses writes, there is no Slack, and
// the executor counts runs.
func testApp(t *testing.T) (*App, *countingExecutor) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	exec := &countingExecutor{}
	settings := &Settings{
		Tier:         nova.TierEnterprise,
		Services:     map[string]nova.Service{"PCHECKOUT": {ID: "PCHECKOUT", Name: "checkout", Environment: "prod", DeclaredMode: nova.ModeAction}},
		Environments: map[string]EnvSettings{"prod": {Approvals: approvals.Policy{Approvers: []string{"U0ALICE"}}}},
		Actions:      []nova.Action{{Name: "rollback", Title: "Roll back", Destructive: true, Services: []string{"PCHECKOUT"}}},
	}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	pd := &mock.PagerDuty{
		GetIncidentFn: func(_ context.Context, id string) (nova.Incident, error) {
			return nova.Incident{ID: id, Status: nova.StatusTriggered}, nil
		},
		AddNoteFn: func(context.Context, string, string) (nova.Note, error) {
			return nova.Note{}, nova.Errorf(nova.EFORBIDDEN, "no writes in this test")
		},
	}
	a, err := New(Config{Store: st, Settings: func() *Settings { return settings }, Envs: fakeEnvs{pd: pd, exec: exec}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return a, exec
}

// seed stores req as an open request of an action-mode checkout.
func seed(t *testing.T, a *App, req nova.ApprovalRequest) {
	t.Helper()
	ctx := context.Background()
	if _, err := store.Save(ctx, a.store, store.KindApproval, req.ID, req, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, a.store, store.KindMeta, store.OpenApprovalsID, func(ids *[]string, _ bool) error {
		*ids = append(*ids, req.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Save(ctx, a.store, store.KindService, "PCHECKOUT",
		nova.ServiceState{ServiceID: "PCHECKOUT", Mode: nova.ModeAction}, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
}

type countingExecutor struct{ runs atomic.Int32 }

func (e *countingExecutor) Run(context.Context, Run) (string, error) {
	e.runs.Add(1)
	return "ok", nil
}

type fakeEnvs struct {
	pd   *mock.PagerDuty
	chat *mock.Chat
	exec Executor
}

func (f fakeEnvs) PagerDuty(string) (PagerDuty, error) { return f.pd, nil }
func (f fakeEnvs) Executor(string) (Executor, error)   { return f.exec, nil }
func (f fakeEnvs) Chat(string) (Chat, error) {
	if f.chat == nil {
		return nil, nova.Errorf(nova.ENOTFOUND, "no slack")
	}
	return f.chat, nil
}
