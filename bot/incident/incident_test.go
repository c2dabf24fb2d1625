package incident

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
)

// fakes of the ports Handler declares.

type evidence struct{ triaged int }

func (e *evidence) Triage(context.Context, nova.Service, nova.Incident) nova.TriageResult {
	e.triaged++
	return nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1, Category: nova.CategoryChange, Confidence: 0.8, Summary: "the deploy"}}}
}
func (e *evidence) NoteTrigger(context.Context, nova.IncidentRecord) {}

type actions struct{ proposed, cancelled []string }

func (a *actions) Propose(_ context.Context, _ nova.Service, rec nova.IncidentRecord, _ logrus.FieldLogger) error {
	a.proposed = append(a.proposed, rec.ID)
	return nil
}
func (a *actions) CancelIncident(_ context.Context, id, reason string) error {
	a.cancelled = append(a.cancelled, id+": "+reason)
	return nil
}

type modes struct {
	mu     sync.Mutex
	mode   nova.Mode
	paused bool
	stats  nova.ServiceState
	sees   bool
}

func (m *modes) Mode(context.Context, nova.Service) (nova.Mode, error) { return m.mode, nil }
func (m *modes) UpdateStats(_ context.Context, _ nova.Service, fn func(*nova.ServiceState)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(&m.stats)
	return nil
}
func (m *modes) Sees(context.Context, rollout.Caller, nova.Service) (bool, error) { return m.sees, nil }

type outbox struct{ hypotheses, refreshes []string }

func (o *outbox) QueueHypothesis(_ context.Context, _ nova.Service, rec *nova.IncidentRecord, _ nova.Mode) error {
	o.hypotheses = append(o.hypotheses, rec.ID)
	return nil
}
func (o *outbox) QueueRefresh(_ context.Context, _ nova.Service, rec nova.IncidentRecord) error {
	o.refreshes = append(o.refreshes, rec.ID+":"+rec.Status)
	return nil
}

type fixture struct {
	h       *Handler
	st      *mock.Records
	pd      *mock.PagerDuty
	ev      *evidence
	actions *actions
	modes   *modes
	outbox  *outbox
	notes   []string
	svc     nova.Service
}

func newFixture(t *testing.T, mode nova.Mode) *fixture {
	t.Helper()
	f := &fixture{st: mock.NewRecords(), ev: &evidence{}, actions: &actions{}, modes: &modes{mode: mode, sees: true}, outbox: &outbox{},
		svc: nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT", AutoAck: true}}
	f.pd = &mock.PagerDuty{
		AddNoteFn: func(_ context.Context, _, content string) (nova.Note, error) {
			f.notes = append(f.notes, content)
			return nova.Note{ID: "N1", User: nova.Ref{ID: "PBOT"}}, nil
		},
		GetIncidentFn: func(_ context.Context, id string) (nova.Incident, error) {
			return nova.Incident{ID: id, Status: nova.StatusTriggered}, nil
		},
		AcknowledgeFn:    func(context.Context, string) error { return nil },
		ListLogEntriesFn: func(context.Context, string) ([]nova.LogEntry, error) { return nil, nil },
	}
	set := &settings.Settings{Tier: nova.TierEnterprise, PublicURL: "https://nova.example.com", Services: map[string]nova.Service{f.svc.ID: f.svc}}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	writer, err := writeback.New(writeback.Config{Store: f.st, Once: &store.Once{Records: f.st}, Audit: mock.Auditor{Records: f.st}, Log: log, Now: time.Now,
		PagerDuty:   func(string) (writeback.PagerDuty, error) { return f.pd, nil },
		BotUserID:   func(string) string { return "" },
		Paused:      func(context.Context) (bool, error) { return f.modes.paused, nil },
		UpdateStats: f.modes.UpdateStats})
	if err != nil {
		t.Fatal(err)
	}
	f.h, err = New(Config{Store: f.st, Settings: func() *settings.Settings { return set }, Writer: writer, Evidence: f.ev,
		Actions: f.actions, Rollout: f.modes, Outbox: f.outbox, Audit: mock.Auditor{Records: f.st}, Log: log, Now: time.Now,
		PagerDuty: func(string) (PagerDuty, error) { return f.pd, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) handle(t *testing.T, ev nova.Event) {
	t.Helper()
	ev.ServiceID, ev.Environment = f.svc.ID, f.svc.Environment
	if err := f.h.Handle(context.Background(), ev, f.h.cfg.Log); err != nil {
		t.Fatalf("Handle(%s): %v", ev.Type, err)
	}
}

func triggered(id string) nova.Event {
	return nova.Event{ID: "E" + id, Type: nova.EventTriggered, IncidentID: id, OccurredAt: time.Now(),
		Incident: &nova.Incident{ID: id, Title: "checkout 5xx", Urgency: nova.UrgencyHigh, CreatedAt: time.Now().Add(-time.Second)}}
}

func TestActionModeWritesBackOnceAcrossRedeliveries(t *testing.T) {
	f := newFixture(t, nova.ModeAction)
	for range 2 {
		f.handle(t, triggered("Q1"))
	}
	if len(f.notes) != 1 || !strings.Contains(f.notes[0], "Nova hypothesis: the deploy") {
		t.Fatalf("notes %q", f.notes)
	}
	if f.ev.triaged != 1 || f.pd.Calls.N("Acknowledge") != 1 || f.modes.stats.IncidentsSeen != 1 || f.modes.stats.NovaAcks != 1 {
		t.Fatalf("triaged %d, acked %d, stats %+v", f.ev.triaged, f.pd.Calls.N("Acknowledge"), f.modes.stats)
	}
	rec, err := f.h.Record(context.Background(), "Q1")
	if err != nil || rec.NoteID != "N1" || rec.AckedBy != nova.AckByNova || rec.HypothesisAt.IsZero() {
		t.Fatalf("record %+v %v", rec, err)
	}
	if len(f.outbox.hypotheses) != 2 || len(f.actions.proposed) != 2 {
		t.Errorf("queued %v, proposed %v (each redelivery asks; the outbox and proposals are idempotent)", f.outbox.hypotheses, f.actions.proposed)
	}
}

func TestReadOnlyWritesNothingToPagerDuty(t *testing.T) {
	f := newFixture(t, nova.ModeReadOnly)
	f.handle(t, triggered("Q1"))
	if f.pd.Calls.N("AddNote")+f.pd.Calls.N("Acknowledge") != 0 || len(f.actions.proposed) != 0 || len(f.outbox.hypotheses) != 1 {
		t.Fatalf("read-only: %d notes, %d acks, proposals %v, messages %v", f.pd.Calls.N("AddNote"), f.pd.Calls.N("Acknowledge"), f.actions.proposed, f.outbox.hypotheses)
	}
}

func TestPausedStillTriagesAndShowsInSlack(t *testing.T) {
	f := newFixture(t, nova.ModeAction)
	f.modes.paused = true
	f.handle(t, triggered("Q1"))
	if f.pd.Calls.N("AddNote")+f.pd.Calls.N("Acknowledge") != 0 || len(f.outbox.hypotheses) != 1 || f.ev.triaged != 1 {
		t.Fatalf("paused: %d writes, messages %v", f.pd.Calls.N("AddNote")+f.pd.Calls.N("Acknowledge"), f.outbox.hypotheses)
	}
}

func TestOffAndUndeclaredDoNothing(t *testing.T) {
	f := newFixture(t, nova.ModeOff)
	f.handle(t, triggered("Q1"))
	if f.ev.triaged != 0 {
		t.Fatal("an off service was triaged")
	}
	if err := f.h.Handle(context.Background(), nova.Event{Type: nova.EventTriggered, ServiceID: "PGONE"}, logrus.NewEntry(f.h.cfg.Log.(*logrus.Logger))); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Record(context.Background(), "Q1"); !nova.IsCode(err, nova.ENOTFOUND) || !strings.Contains(nova.ErrorMessage(err), "no record of incident Q1") {
		t.Fatalf("Record of an unknown incident: %v", err)
	}
}

func TestEchoesAreIgnored(t *testing.T) {
	f := newFixture(t, nova.ModeAction)
	f.handle(t, triggered("Q1")) // learns the bot user PBOT from its note
	ack := nova.Event{Type: nova.EventAcknowledged, IncidentID: "Q1", Agent: &nova.Ref{ID: "PBOT"}}
	f.handle(t, ack)
	note := nova.Event{Type: nova.EventAnnotated, IncidentID: "Q1", Agent: &nova.Ref{ID: "PALICE"}, Note: &nova.Note{Content: "quoted: audit nova-01JDEF0000000000000000000A"}}
	f.handle(t, note)
	if len(f.outbox.refreshes) != 1 { // the auto-ack's own refresh only
		t.Fatalf("echoes caused refreshes: %v", f.outbox.refreshes)
	}
}

func TestLifecycleFollowsTheIncident(t *testing.T) {
	f := newFixture(t, nova.ModeReadOnly)
	f.handle(t, nova.Event{Type: nova.EventAcknowledged, IncidentID: "QNEVER", Agent: &nova.Ref{ID: "PALICE"}}) // never seen: ignored
	f.handle(t, triggered("Q1"))
	at := time.Now()
	for range 2 {
		f.handle(t, nova.Event{Type: nova.EventAcknowledged, IncidentID: "Q1", OccurredAt: at, Agent: &nova.Ref{ID: "PALICE", Summary: "Alice"}})
	}
	f.handle(t, nova.Event{Type: nova.EventResolved, IncidentID: "Q1", OccurredAt: at.Add(time.Minute)})
	f.handle(t, nova.Event{Type: nova.EventReopened, IncidentID: "Q1"})
	rec, _ := f.h.Record(context.Background(), "Q1")
	if rec.Status != nova.StatusTriggered || !rec.ResolvedAt.IsZero() || rec.AckedByName != "Alice" || f.modes.stats.PersonAcks != 1 {
		t.Fatalf("record %+v, stats %+v", rec, f.modes.stats)
	}
	if len(f.actions.cancelled) != 1 || !strings.Contains(f.actions.cancelled[0], "resolved") {
		t.Errorf("resolution cancelled %v", f.actions.cancelled)
	}
	if got := strings.Join(f.outbox.refreshes, ","); got != "Q1:acknowledged,Q1:acknowledged,Q1:resolved,Q1:triggered" {
		t.Errorf("refreshes %s", got)
	}
}

func TestFeedbackCountsTheLatestVerdictOfEachPerson(t *testing.T) {
	f := newFixture(t, nova.ModeReadOnly)
	ctx := context.Background()
	c := rollout.Caller{User: "U0BOB", Channel: "C0CHECKOUT"}
	if _, err := f.h.Feedback(ctx, c, "Q1", "helpful", ""); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Fatalf("feedback on an unknown incident: %v", err)
	}
	f.handle(t, triggered("Q1"))
	if _, err := f.h.Feedback(ctx, c, "Q1", "meh", ""); !nova.IsCode(err, nova.EINVALID) {
		t.Fatalf("a bad verdict: %v", err)
	}
	if r, err := f.h.Feedback(ctx, c, "Q1", "Helpful", ""); err != nil || !strings.Contains(string(r.Message.Text), "recorded *helpful*") {
		t.Fatalf("helpful: %+v %v", r, err)
	}
	r, err := f.h.Feedback(ctx, c, "Q1", "wrong", "")
	if err != nil || !strings.Contains(string(r.Message.Text), "wrong &lt;cause&gt;") {
		t.Fatalf("wrong: %+v %v", r, err)
	}
	if f.modes.stats.Helpful != 0 || f.modes.stats.Wrong != 1 {
		t.Fatalf("a changed verdict counted twice: %+v", f.modes.stats)
	}
	rec, _ := f.h.Record(ctx, "Q1")
	if len(rec.Feedback) != 1 || len(f.st.Audited("feedback")) != 2 {
		t.Fatalf("feedback %+v, audited %d", rec.Feedback, len(f.st.Audited("feedback")))
	}
	f.modes.sees = false
	if _, err := f.h.Feedback(ctx, c, "Q1", "wrong", ""); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Fatalf("feedback from someone who does not see the service: %v", err)
	}
}

func TestFeedbackWaitsForAHypothesis(t *testing.T) {
	f := newFixture(t, nova.ModeReadOnly)
	ctx := context.Background()
	if _, err := store.Save(ctx, f.st, store.KindIncident, "Q2", nova.IncidentRecord{ID: "Q2", ServiceID: f.svc.ID, Environment: "prod"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.h.Feedback(ctx, rollout.Caller{User: "U0BOB"}, "Q2", "helpful", ""); !nova.IsCode(err, nova.ECONFLICT) {
		t.Fatalf("feedback before a hypothesis: %v", err)
	}
}
