package bot

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/store/bolt"
)

// pdFake is a PagerDuty environment with one deploy before every incident:
// it records notes and acks.
type pdFake struct {
	mu    sync.Mutex
	notes []string
	acked bool
}

func (p *pdFake) port() *mock.PagerDuty {
	changes := func(context.Context, string) ([]nova.ChangeEvent, error) {
		return []nova.ChangeEvent{{ID: "C1", Summary: "Deploy checkout v2.3.1: new payment client", Timestamp: time.Now().Add(-10 * time.Minute),
			Services: []nova.Ref{{ID: "PCHECKOUT"}}}}, nil
	}
	return &mock.PagerDuty{
		GetIncidentFn: func(_ context.Context, id string) (nova.Incident, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			st := nova.StatusTriggered
			if p.acked {
				st = nova.StatusAcknowledged
			}
			return nova.Incident{ID: id, Status: st}, nil
		},
		ListAlertsFn: func(context.Context, string) ([]nova.Alert, error) {
			return []nova.Alert{{ID: "A1", Summary: "checkout-api: panic: nil pointer dereference in payment client", CreatedAt: time.Now()}}, nil
		},
		RelatedChangeEventsFn: changes,
		ServiceChangeEventsFn: func(ctx context.Context, id string, _, _ time.Time) ([]nova.ChangeEvent, error) {
			return changes(ctx, id)
		},
		PastIncidentsFn:    func(context.Context, string, int) ([]nova.PastIncident, error) { return nil, nil },
		RelatedIncidentsFn: func(context.Context, string) ([]nova.RelatedIncident, error) { return nil, nil },
		OutlierIncidentFn: func(context.Context, string) (nova.Outlier, error) {
			return nova.Outlier{}, nova.Errorf(nova.ENOTFOUND, "n/a")
		},
		ListNotesFn: func(context.Context, string) ([]nova.Note, error) {
			return nil, nil
		},
		AddNoteFn: func(_ context.Context, _, content string) (nova.Note, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.notes = append(p.notes, content)
			return nova.Note{ID: "N" + string(rune('0'+len(p.notes))), User: nova.Ref{ID: "PBOT"}}, nil
		},
		AcknowledgeFn: func(context.Context, string) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.acked = true
			return nil
		},
		ListLogEntriesFn: func(context.Context, string) ([]nova.LogEntry, error) { return nil, nil },
	}
}

func (p *pdFake) noteCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.notes)
}

// slackFake is one Slack workspace: it records posts and updates.
type slackFake struct {
	mu    sync.Mutex
	posts []nova.Message
}

func (s *slackFake) port() *mock.Chat {
	return &mock.Chat{
		PostFn: func(_ context.Context, _, _ string, m nova.Message) (string, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.posts = append(s.posts, m)
			return "1700." + string(rune('0'+len(s.posts))), nil
		},
		UpdateFn: func(context.Context, string, string, nova.Message) error { return nil },
		FindByMetadataFn: func(context.Context, string, string, string, string, time.Time) (string, bool, error) {
			return "", false, nil
		},
		GroupMembersFn: func(context.Context, string) ([]string, error) { return nil, nil },
	}
}

func (s *slackFake) find(prefix string) (nova.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.posts {
		if strings.HasPrefix(string(m.Text), prefix) {
			return m, true
		}
	}
	return nova.Message{}, false
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// One incident through the whole application: ingest, triage, note, ack,
// Slack message, an approval request for the catalog's rollback, an
// approval click, the run, and its status note. The packages are composed
// as cmd/nova composes them; only the adapters are fakes.
func TestIncidentToApprovedRunThroughTheApp(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pd, sl, exec := &pdFake{}, &slackFake{}, &countingExecutor{}
	settings := &Settings{
		Tier:      nova.TierEnterprise,
		PublicURL: "https://nova.example.com",
		Services: map[string]nova.Service{"PCHECKOUT": {ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT",
			DeclaredMode: nova.ModeAction, AutoAck: true, WatchDays: 14}},
		Environments: map[string]EnvSettings{"prod": {Admins: []string{"U0ALICE"}, Slack: true,
			Approvals: approvals.Policy{Approvers: []string{"U0ALICE"}}}},
		Actions: []nova.Action{{Name: "rollback", Title: "Roll back", Destructive: true, Addresses: []nova.Category{nova.CategoryChange},
			Services: []string{"PCHECKOUT"}, Params: map[string]string{"service": "{{.Service}}"}}},
	}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	a, err := New(Config{Store: st, Settings: func() *Settings { return settings }, Log: log, Poll: 5 * time.Millisecond,
		Envs: fakeEnvs{pd: pd.port(), chat: sl.port(), exec: exec}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.SeedServices(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	ev := nova.Event{ID: "E1", WebhookID: "W1", Type: nova.EventTriggered, Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
		OccurredAt: time.Now(), Incident: &nova.Incident{ID: "Q1", Title: "checkout-api: 5xx error rate", Urgency: nova.UrgencyHigh, CreatedAt: time.Now()}}
	if r, err := a.Ingest(ctx, ev); r != IngestAccepted || err != nil {
		t.Fatalf("Ingest = %s, %v", r, err)
	}
	if r, _ := a.Ingest(ctx, ev); r != IngestDuplicate {
		t.Fatalf("a redelivery: %s", r)
	}
	var request nova.Message
	eventually(t, "the hypothesis note, the ack and the approval request", func() bool {
		var ok bool
		request, ok = sl.find("Approval needed")
		return pd.noteCount() == 1 && pd.acked && ok
	})
	rec, err := a.Incident(ctx, "Q1")
	if err != nil || rec.NoteID == "" || rec.AckedBy != nova.AckByNova || rec.SlackTS == "" {
		t.Fatalf("record %+v %v", rec, err)
	}
	// Alice approves; the run happens once and its outcome is noted.
	var id string
	for _, b := range request.Blocks {
		for _, btn := range b.Buttons {
			if btn.ActionID == render.ActionApprove {
				id = btn.Value
			}
		}
	}
	reply, err := a.Interact(ctx, nova.Interaction{UserID: "U0ALICE", ChannelID: "C0CHECKOUT", ActionID: render.ActionApprove, Value: id})
	if err != nil || !strings.Contains(string(reply.Message.Text), "Approved") {
		t.Fatalf("approve %s: %+v %v", id, reply, err)
	}
	eventually(t, "the run and its status note", func() bool { return exec.runs.Load() == 1 && pd.noteCount() == 2 })
	a.Sweep(ctx)
	// Feedback through the button, then through the command.
	if _, err := a.Interact(ctx, nova.Interaction{UserID: "U0BOB", ChannelID: "C0CHECKOUT", ActionID: render.ActionFeedbackWrong, Value: "Q1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Command(ctx, nova.CommandRequest{UserID: "U0BOB", ChannelID: "C0CHECKOUT", Text: "feedback Q1 helpful"}); err != nil {
		t.Fatal(err)
	}
	// A resolution reaches the record.
	if _, err := a.Ingest(ctx, nova.Event{ID: "E2", Type: nova.EventResolved, Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1", OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the resolution", func() bool { r, _ := a.Incident(ctx, "Q1"); return r.Status == nova.StatusResolved })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if exec.runs.Load() != 1 {
		t.Fatalf("%d runs", exec.runs.Load())
	}
}

func TestCommandsAreRoutedAndRefusalsAudited(t *testing.T) {
	a, _ := testApp(t)
	ctx := context.Background()
	for _, c := range []struct{ text, want string }{
		{"", "Nova commands"},
		{"help", "Nova commands"},
		{"status", "No services to show"},
	} {
		r, err := a.Command(ctx, nova.CommandRequest{UserID: "U0BOB", ChannelID: "C0X", Text: c.text})
		if err != nil || !strings.Contains(string(r.Message.Text), c.want) {
			t.Errorf("/nova %s = %q, %v", c.text, r.Message.Text, err)
		}
	}
	for _, c := range []struct{ text, code string }{
		{"frobnicate", nova.EINVALID},
		{"enable", nova.EINVALID},
		{"disable", nova.EINVALID},
		{"mode checkout", nova.EINVALID},
		{"mode checkout sideways", nova.EINVALID},
		{"feedback Q1", nova.EINVALID},
		{"mode checkout read-only --force", nova.EFORBIDDEN},
		{"enable checkout", nova.EFORBIDDEN},
		{"disable checkout", nova.EFORBIDDEN},
		{"pause", nova.EFORBIDDEN},
		{"resume", nova.EFORBIDDEN},
	} {
		if _, err := a.Command(ctx, nova.CommandRequest{UserID: "U0BOB", ChannelID: "C0X", Text: c.text}); nova.ErrorCode(err) != c.code {
			t.Errorf("/nova %s: %v, want %s", c.text, err, c.code)
		}
	}
	a.AuditRefusedCall("prod", "DELETE", "/incidents/Q1")
	a.AuditRefusedRequest("slack", "command", "bad signature", "203.0.113.9")
	entries, err := a.store.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range entries {
		if e.Outcome == nova.OutcomeRefused {
			refused++
		}
	}
	if refused != 13 {
		t.Errorf("%d refusals audited, want 13", refused)
	}
	if _, err := a.Interact(ctx, nova.Interaction{UserID: "U0BOB", ActionID: "mystery", Value: "x"}); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("an unknown button: %v", err)
	}
}

func TestNewNeedsItsParts(t *testing.T) {
	for _, cfg := range []Config{{}, {Store: &bolt.Store{}}, {Store: &bolt.Store{}, Settings: func() *Settings { return &Settings{} }}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted an incomplete config", cfg)
		}
	}
}
