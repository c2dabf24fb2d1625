package outbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
)

type approvals struct{ posted []string }

func (a *approvals) PostMessage(_ context.Context, _ nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
	a.posted = append(a.posted, req.ID+" in "+rec.SlackChannel)
	return nil
}

type fixture struct {
	o         *Outbox
	st        *mock.Records
	chat      *mock.Chat
	approvals *approvals
	now       time.Time
	mu        sync.Mutex
	posts     []nova.Message
	updates   []string
	pokes     []string
	mode      nova.Mode
	svc       nova.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: mock.NewRecords(), approvals: &approvals{}, now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), mode: nova.ModeAction,
		svc: nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT"}}
	f.chat = &mock.Chat{
		PostFn: func(_ context.Context, _, _ string, m nova.Message) (string, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.posts = append(f.posts, m)
			return fmt.Sprintf("1700.%d", len(f.posts)), nil
		},
		UpdateFn: func(_ context.Context, _, ts string, _ nova.Message) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.updates = append(f.updates, ts)
			return nil
		},
		FindByMetadataFn: func(context.Context, string, string, string, string, time.Time) (string, bool, error) {
			return "", false, nil
		},
	}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	now := func() time.Time { return f.now }
	once := &store.Once{Records: f.st, Now: now}
	stats := func(context.Context, nova.Service, func(*nova.ServiceState)) error { return nil }
	writer, err := writeback.New(writeback.Config{Store: f.st, Once: once, Audit: mock.Auditor{Records: f.st}, Log: log, Now: now, UpdateStats: stats})
	if err != nil {
		t.Fatal(err)
	}
	set := &settings.Settings{Services: map[string]nova.Service{f.svc.ID: f.svc}}
	f.o, err = New(Config{Store: f.st, Once: once, Settings: func() *settings.Settings { return set }, Writer: writer,
		Chat:      func(string) (writeback.Chat, error) { return f.chat, nil },
		Mode:      func(context.Context, nova.Service) (nova.Mode, error) { return f.mode, nil },
		Approvals: f.approvals,
		Poke: func(_ context.Context, ev nova.Event, key string) error {
			if ev.Type != EventType || ev.ID != key {
				t.Errorf("poke %+v under %s", ev, key)
			}
			f.pokes = append(f.pokes, key)
			return nil
		},
		Log: log, Now: now, Visibility: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) incident(t *testing.T, id string) *nova.IncidentRecord {
	t.Helper()
	rec := nova.IncidentRecord{ID: id, ServiceID: f.svc.ID, Environment: "prod", Title: "checkout 5xx " + id, Status: nova.StatusTriggered,
		TriggeredAt: f.now.Add(-time.Minute), ReceivedAt: f.now,
		Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1, Category: nova.CategoryChange, Confidence: 0.7, Summary: "the deploy"}}}}
	if _, err := store.Save(context.Background(), f.st, store.KindIncident, id, rec, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	return &rec
}

func (f *fixture) drain(t *testing.T) {
	t.Helper()
	if err := f.o.Drain(context.Background(), store.OutboxID("prod", f.svc.SlackChannel), logrus.New()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) record(t *testing.T, id string) nova.IncidentRecord {
	t.Helper()
	rec, _, err := store.Load[nova.IncidentRecord](context.Background(), f.st, store.KindIncident, id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestHypothesisMessageIsQueuedThenPostedOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.incident(t, "Q1")
	for range 2 { // a redelivered event queues it again: kept once
		if err := f.o.QueueHypothesis(ctx, f.svc, rec, nova.ModeAction); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.pokes) != 2 || len(f.posts) != 0 {
		t.Fatalf("queueing: %d pokes, %d posts (posts wait for the drain)", len(f.pokes), len(f.posts))
	}
	f.drain(t)
	f.drain(t)
	got := f.record(t, "Q1")
	if len(f.posts) != 1 || got.SlackTS != "1700.1" || got.SlackChannel != "C0CHECKOUT" || got.HypothesisAt.IsZero() {
		t.Fatalf("%d posts, record %+v", len(f.posts), got)
	}
	if e := f.st.Audited("slack.post.hypothesis"); len(e) != 1 || !strings.Contains(e[0].Detail, "ts 1700.1") {
		t.Fatalf("audit %+v", e)
	}
	// Status changes update the message in place, through the outbox.
	if err := f.o.QueueRefresh(ctx, f.svc, got); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if len(f.updates) != 1 || f.updates[0] != "1700.1" {
		t.Fatalf("updates %v", f.updates)
	}
	// Already posted: nothing queued.
	if err := f.o.QueueHypothesis(ctx, f.svc, &got, nova.ModeAction); err != nil || len(f.pokes) != 3 {
		t.Fatalf("queued a posted message again: %v, %d pokes", err, len(f.pokes))
	}
}

func TestDemotedOrChannelLessServices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.incident(t, "Q1")
	if err := f.o.QueueHypothesis(ctx, f.svc, rec, nova.ModeAction); err != nil {
		t.Fatal(err)
	}
	f.mode = nova.ModeOff // disabled before the drain: a demotion wins
	f.drain(t)
	if len(f.posts) != 0 {
		t.Fatal("posted for a service that was disabled meanwhile")
	}
	// A read-only service without a channel shows its hypothesis in the API only.
	quiet := f.svc
	quiet.SlackChannel = ""
	rec2 := f.incident(t, "Q2")
	if err := f.o.QueueHypothesis(ctx, quiet, rec2, nova.ModeReadOnly); err != nil || rec2.HypothesisAt.IsZero() || len(f.pokes) != 1 {
		t.Fatalf("channel-less read-only: %v, %+v", err, rec2)
	}
}

func TestApprovalMessagesGoToTheApprovalFlow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.incident(t, "Q1")
	req := nova.ApprovalRequest{ID: "apr-1", IncidentID: "Q1", ServiceID: f.svc.ID, Environment: "prod"}
	if _, err := store.Save(ctx, f.st, store.KindApproval, req.ID, req, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.o.QueueApproval(ctx, f.svc, *rec, req); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if len(f.approvals.posted) != 1 || f.approvals.posted[0] != "apr-1 in C0CHECKOUT" {
		t.Fatalf("approval posts %v", f.approvals.posted)
	}
}

func TestAStormBecomesOneSummary(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := slackStormThreshold + 3
	for i := range n {
		rec := f.incident(t, fmt.Sprintf("Q%d", i))
		if err := f.o.QueueHypothesis(ctx, f.svc, rec, nova.ModeAction); err != nil {
			t.Fatal(err)
		}
	}
	f.drain(t)
	if len(f.posts) != 1 || !strings.Contains(string(f.posts[0].Text), fmt.Sprintf("Incident storm: %d incidents", n)) {
		t.Fatalf("%d posts; first %q", len(f.posts), f.posts[0].Text)
	}
	for i := range n {
		if rec := f.record(t, fmt.Sprintf("Q%d", i)); !rec.SlackSummarised || rec.SlackTS != "1700.1" || rec.HypothesisAt.IsZero() {
			t.Fatalf("incident %d not linked to the summary: %+v", i, rec)
		}
	}
	if e := f.st.Audited("slack.post.storm_summary"); len(e) != 1 {
		t.Fatalf("summary audited %d times", len(e))
	}
	// A later incident is folded into the summary, which is updated in place.
	rec := f.incident(t, "QLATE")
	if err := f.o.QueueHypothesis(ctx, f.svc, rec, nova.ModeAction); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if len(f.posts) != 1 || len(f.updates) != 1 {
		t.Fatalf("a late incident: %d posts, %d updates", len(f.posts), len(f.updates))
	}
	// After a quiet period the storm ends: the next incident gets its own message.
	f.now = f.now.Add(slackStormQuiet + time.Minute)
	rec = f.incident(t, "QAFTER")
	if err := f.o.QueueHypothesis(ctx, f.svc, rec, nova.ModeAction); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	if len(f.posts) != 2 || f.record(t, "QAFTER").SlackSummarised {
		t.Fatalf("after the storm: %d posts", len(f.posts))
	}
}

func TestSweepPokesStrandedOutboxes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := f.incident(t, "Q1")
	if err := f.o.QueueHypothesis(ctx, f.svc, rec, nova.ModeAction); err != nil {
		t.Fatal(err)
	}
	f.o.sweepOutboxes(ctx)
	if len(f.pokes) != 1 {
		t.Fatalf("a fresh outbox was poked again: %d", len(f.pokes))
	}
	f.now = f.now.Add(10 * time.Minute)
	f.o.sweepOutboxes(ctx)
	if len(f.pokes) != 2 {
		t.Fatalf("a stranded outbox was not poked: %d", len(f.pokes))
	}
}
