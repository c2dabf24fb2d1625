package postmortems

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/store"
)

type fixture struct {
	d      *Drafts
	st     *mock.Records
	pd     *mock.PagerDuty
	chat   *mock.Chat
	set    *settings.Settings
	mode   nova.Mode
	paused bool
	stats  nova.ServiceState
	notes  []string
	queued int
	svc    nova.Service
	rec    nova.IncidentRecord
}

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, mode nova.Mode) *fixture {
	t.Helper()
	f := &fixture{st: mock.NewRecords(), mode: mode,
		svc: nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT"}}
	f.rec = nova.IncidentRecord{ID: "Q1", Environment: "prod", ServiceID: "PCHECKOUT", Title: "checkout 5xx", Status: nova.StatusResolved,
		TriggeredAt: t0, ResolvedAt: t0.Add(30 * time.Minute), SlackChannel: "C0CHECKOUT", SlackTS: "100.1",
		Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1, Category: nova.CategoryChange, Confidence: 0.8, Summary: "the deploy"}}}}
	f.pd = &mock.PagerDuty{
		AddNoteFn: func(_ context.Context, _, content string) (nova.Note, error) {
			f.notes = append(f.notes, content)
			return nova.Note{ID: "N1", User: nova.Ref{ID: "PBOT"}}, nil
		},
		GetIncidentFn: func(_ context.Context, id string) (nova.Incident, error) {
			return nova.Incident{ID: id, Status: nova.StatusResolved, Priority: "P1"}, nil
		},
		ListLogEntriesFn: func(context.Context, string) ([]nova.LogEntry, error) {
			return []nova.LogEntry{{ID: "R1", Type: "trigger_log_entry", Summary: "Triggered", CreatedAt: t0}}, nil
		},
		ListNotesFn: func(context.Context, string) ([]nova.Note, error) { return nil, nil },
	}
	f.chat = &mock.Chat{
		PostFn:   func(context.Context, string, string, nova.Message) (string, error) { return "200.1", nil },
		UpdateFn: func(context.Context, string, string, nova.Message) error { return nil },
	}
	f.set = &settings.Settings{Tier: nova.TierEnterprise, PublicURL: "https://nova.example.com", Services: map[string]nova.Service{f.svc.ID: f.svc}}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	updateStats := func(_ context.Context, _ nova.Service, fn func(*nova.ServiceState)) error { fn(&f.stats); return nil }
	writer, err := writeback.New(writeback.Config{Store: f.st, Once: &store.Once{Records: f.st}, Audit: mock.Auditor{Records: f.st}, Log: log, Now: time.Now,
		PagerDuty:   func(string) (writeback.PagerDuty, error) { return f.pd, nil },
		BotUserID:   func(string) string { return "PBOT" },
		Paused:      func(context.Context) (bool, error) { return f.paused, nil },
		UpdateStats: updateStats})
	if err != nil {
		t.Fatal(err)
	}
	f.d = New(Config{Store: f.st, Settings: func() *settings.Settings { return f.set }, Writer: writer, Audit: mock.Auditor{Records: f.st},
		PagerDuty:    func(string) (PagerDuty, error) { return f.pd, nil },
		Chat:         func(string) (writeback.Chat, error) { return f.chat, nil },
		Mode:         func(context.Context, nova.Service) (nova.Mode, error) { return f.mode, nil },
		UpdateStats:  updateStats,
		QueueMessage: func(context.Context, nova.Service, nova.IncidentRecord) error { f.queued++; return nil },
		Log:          log, Now: func() time.Time { return t0.Add(time.Hour) }})
	return f
}

func (f *fixture) resolve(t *testing.T) {
	t.Helper()
	if err := f.d.OnResolved(context.Background(), f.svc, f.rec, f.d.cfg.Log); err != nil {
		t.Fatalf("OnResolved: %v", err)
	}
	if err := f.d.PostMessage(context.Background(), f.svc, f.rec); err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
}

func TestOneDraftOneNoteOneReplyAcrossRedeliveries(t *testing.T) {
	f := newFixture(t, nova.ModeAction)
	for range 3 {
		f.resolve(t)
	}
	d, err := f.d.Get(context.Background(), "Q1")
	if err != nil || d.Version != 1 || d.Header.Priority != "P1" || len(d.Timeline) == 0 {
		t.Fatalf("draft v%d %+v: %v", d.Version, d.Header, err)
	}
	if len(f.notes) != 1 || !strings.Contains(f.notes[0], "https://nova.example.com/api/v1/incidents/Q1/postmortem?format=md") || !strings.Contains(f.notes[0], "audit nova-") {
		t.Errorf("notes %q", f.notes)
	}
	if f.chat.Calls.N("Post") != 1 || f.chat.Calls.N("Update") != 0 {
		t.Errorf("Slack: %d posts, %d updates", f.chat.Calls.N("Post"), f.chat.Calls.N("Update"))
	}
	if f.stats.Resolved != 1 || f.stats.ResolvedAbstained != 0 {
		t.Errorf("stats %+v: the incident is counted once", f.stats)
	}
	if n := len(f.st.Audited("postmortem.draft")); n != 1 {
		t.Errorf("%d postmortem.draft audit entries, want 1", n)
	}
	if n := len(f.st.Audited("slack.post.postmortem")); n != 1 {
		t.Errorf("%d slack.post.postmortem audit entries, want 1", n)
	}

	// Reopened and resolved again: version 2, the reply updated, no new note.
	f.rec.ResolvedAt = t0.Add(50 * time.Minute)
	f.resolve(t)
	f.resolve(t)
	if d, _ = f.d.Get(context.Background(), "Q1"); d.Version != 2 || d.ID != "pm-prod-Q1" {
		t.Errorf("after re-resolve: %s v%d", d.ID, d.Version)
	}
	if len(f.notes) != 1 || f.chat.Calls.N("Post") != 1 || f.chat.Calls.N("Update") != 1 || f.stats.Resolved != 1 {
		t.Errorf("after re-resolve: %d notes, %d posts, %d updates, stats %+v", len(f.notes), f.chat.Calls.N("Post"), f.chat.Calls.N("Update"), f.stats)
	}
	if n := len(f.st.Audited("postmortem.draft")); n != 2 {
		t.Errorf("%d postmortem.draft audit entries, want one per version", n)
	}
}

func TestReadOnlyPausedAndStandard(t *testing.T) {
	f := newFixture(t, nova.ModeReadOnly)
	f.resolve(t)
	if _, err := f.d.Get(context.Background(), "Q1"); err != nil || f.pd.Calls.N("AddNote") != 0 || f.chat.Calls.N("Post") != 1 {
		t.Errorf("read-only: draft err %v, %d PagerDuty notes, %d Slack posts", err, f.pd.Calls.N("AddNote"), f.chat.Calls.N("Post"))
	}

	f = newFixture(t, nova.ModeAction)
	f.paused = true
	f.resolve(t)
	if _, err := f.d.Get(context.Background(), "Q1"); err != nil || f.pd.Calls.N("AddNote") != 0 {
		t.Errorf("paused: draft err %v, %d notes; want the draft and no PagerDuty write", err, f.pd.Calls.N("AddNote"))
	}

	f = newFixture(t, nova.ModeAction)
	f.set.Tier = nova.TierStandard
	f.resolve(t)
	if _, err := f.d.Get(context.Background(), "Q1"); !nova.IsCode(err, nova.ENOTFOUND) || f.pd.Calls.N("ListLogEntries") != 0 || f.queued != 0 {
		t.Errorf("standard tier: err %v, %d reads, %d queued", err, f.pd.Calls.N("ListLogEntries"), f.queued)
	}

	f = newFixture(t, nova.ModeOff)
	f.resolve(t)
	if _, err := f.d.Get(context.Background(), "Q1"); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("off: err %v", err)
	}
}

func TestPagerDutyFailures(t *testing.T) {
	f := newFixture(t, nova.ModeAction)
	f.pd.ListLogEntriesFn = func(context.Context, string) ([]nova.LogEntry, error) {
		return nil, nova.Errorf(nova.EUNAVAILABLE, "PagerDuty answered 503")
	}
	err := f.d.OnResolved(context.Background(), f.svc, f.rec, f.d.cfg.Log)
	if !nova.IsRetryable(err) {
		t.Fatalf("a passing failure: err %v, want a retryable error (the event is retried)", err)
	}
	if _, err := f.d.Get(context.Background(), "Q1"); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("a draft was stored without PagerDuty's timeline: %v", err)
	}
	f.pd.ListLogEntriesFn = func(context.Context, string) ([]nova.LogEntry, error) {
		return nil, nova.Errorf(nova.EFORBIDDEN, "the key may not read log entries")
	}
	f.resolve(t)
	if d, err := f.d.Get(context.Background(), "Q1"); err != nil || d.Version != 1 {
		t.Errorf("a lasting failure: %v, want the draft without the log entries", err)
	}
}

func TestAnswersCountOncePerPerson(t *testing.T) {
	f := newFixture(t, nova.ModeAction)
	f.resolve(t)
	ctx := context.Background()
	for _, a := range []struct{ user, answer string }{{"U0ALICE", postmortem.AnswerRight}, {"U0ALICE", postmortem.AnswerWrong}, {"U0BOB", postmortem.AnswerRight}, {"U0BOB", postmortem.AnswerRight}} {
		if _, err := f.d.Answer(ctx, f.svc, "Q1", a.user, a.answer); err != nil {
			t.Fatal(err)
		}
	}
	if f.stats.AnswersRight != 1 || f.stats.AnswersWrong != 1 || f.stats.AnswersPartly != 0 {
		t.Errorf("stats %+v: want Bob right and Alice's latest, wrong", f.stats)
	}
	if p, ok := f.stats.HypothesisPrecision(); !ok || p != 0.5 {
		t.Errorf("precision %v %v", p, ok)
	}
	if n := len(f.st.Audited("postmortem.outcome")); n != 4 {
		t.Errorf("%d postmortem.outcome entries, want every answer audited", n)
	}
	other := f.svc
	other.ID = "POTHER"
	if _, err := f.d.Answer(ctx, other, "Q1", "U0ALICE", postmortem.AnswerRight); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("answer through another service: %v", err)
	}
}
