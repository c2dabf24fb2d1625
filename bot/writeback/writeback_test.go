package writeback

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/store"
)

type fixture struct {
	w      *Writer
	st     *mock.Records
	pd     *mock.PagerDuty
	paused bool
	stats  map[string]nova.ServiceState
}

var svc = nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod"}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: mock.NewRecords(), pd: &mock.PagerDuty{}, stats: map[string]nova.ServiceState{}}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	w, err := New(Config{Store: f.st, Once: &store.Once{Records: f.st, Poll: time.Millisecond}, Audit: mock.Auditor{Records: f.st}, Log: log, Now: time.Now,
		PagerDuty: func(string) (PagerDuty, error) { return f.pd, nil },
		BotUserID: func(string) string { return "" },
		Paused:    func(context.Context) (bool, error) { return f.paused, nil },
		UpdateStats: func(_ context.Context, svc nova.Service, fn func(*nova.ServiceState)) error {
			st := f.stats[svc.ID]
			fn(&st)
			f.stats[svc.ID] = st
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.w = w
	return f
}

func TestNoteIsWrittenOnceAndAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var posted []string
	f.pd.AddNoteFn = func(_ context.Context, _, content string) (nova.Note, error) {
		posted = append(posted, content)
		return nova.Note{ID: "N1", User: nova.Ref{ID: "PBOT"}}, nil
	}
	for range 2 {
		id, err := f.w.Note(ctx, svc, "Q1", "hypothesis", "pagerduty.note.hypothesis", func(auditID string) string {
			return "body\n— Nova, AI SRE agent · audit " + auditID
		})
		if err != nil || id != "N1" {
			t.Fatalf("Note = %q, %v", id, err)
		}
	}
	if len(posted) != 1 {
		t.Fatalf("the note was posted %d times", len(posted))
	}
	audited := f.st.Audited("pagerduty.note.hypothesis")
	if len(audited) != 1 || audited[0].PagerDutyRef != "N1" || !strings.Contains(posted[0], audited[0].ID) {
		t.Fatalf("audit entries %+v for note %q", audited, posted[0])
	}
	// The note's author is learned as the bot user.
	if got := f.w.BotUserID(ctx, "prod"); got != "PBOT" {
		t.Errorf("learned bot user %q", got)
	}
}

func TestCrashedNoteIsFoundNotRepeated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// An earlier attempt claimed the key and wrote the note, then died.
	rec := store.OnceRecord{State: store.OncePending, Owner: "dead", AuditID: "nova-01JDEF0000000000000000000A", Attempts: 1}
	if _, err := store.Save(ctx, f.st, store.KindOnce, store.NoteKey("prod", "Q1", "hypothesis"), rec, 0); err != nil {
		t.Fatal(err)
	}
	f.pd.ListNotesFn = func(context.Context, string) ([]nova.Note, error) {
		return []nova.Note{{ID: "N9", Content: "… audit nova-01JDEF0000000000000000000A"}}, nil
	}
	id, err := f.w.Note(ctx, svc, "Q1", "hypothesis", "pagerduty.note.hypothesis", func(string) string { return "x" })
	if err != nil || id != "N9" || f.pd.Calls.N("AddNote") != 0 {
		t.Fatalf("Note after a crash = %q, %v, %d posts", id, err, f.pd.Calls.N("AddNote"))
	}
}

func TestPausedWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.paused = true
	if _, err := f.w.Note(context.Background(), svc, "Q1", "hypothesis", "x", func(string) string { return "x" }); !errors.Is(err, ErrPaused) {
		t.Fatalf("note while paused: %v", err)
	}
	if err := f.w.Ack(context.Background(), svc, "Q1"); !errors.Is(err, ErrPaused) {
		t.Fatalf("ack while paused: %v", err)
	}
	if f.pd.Calls.N("AddNote")+f.pd.Calls.N("Acknowledge") != 0 {
		t.Fatal("PagerDuty was written to while paused")
	}
}

func TestFailedWriteIsAuditedAsFailed(t *testing.T) {
	f := newFixture(t)
	f.pd.AcknowledgeFn = func(context.Context, string) error { return nova.Errorf(nova.EFORBIDDEN, "no ack for you") }
	err := f.w.Ack(context.Background(), svc, "Q1")
	if !nova.IsCode(err, nova.EFORBIDDEN) || !strings.Contains(err.Error(), "acknowledge Q1") {
		t.Fatalf("Ack = %v", err)
	}
	e := f.st.Audited("pagerduty.acknowledge")
	if len(e) != 1 || e[0].Outcome != nova.OutcomeFailed || e[0].Detail != "no ack for you" {
		t.Fatalf("audit of the failed ack: %+v", e)
	}
}

func TestAckNamesTheBotsLogEntry(t *testing.T) {
	f := newFixture(t)
	f.pd.AcknowledgeFn = func(context.Context, string) error { return nil }
	f.pd.ListLogEntriesFn = func(context.Context, string) ([]nova.LogEntry, error) {
		return []nova.LogEntry{{ID: "L0", Type: "trigger_log_entry"}, {ID: "L1", Type: "acknowledge_log_entry", Agent: &nova.Ref{ID: "PSOMEONE"}}}, nil
	}
	if err := f.w.Ack(context.Background(), svc, "Q1"); err != nil {
		t.Fatal(err)
	}
	if e := f.st.Audited("pagerduty.acknowledge"); len(e) != 1 || e[0].PagerDutyRef != "L1" || e[0].Outcome != nova.OutcomeOK {
		t.Fatalf("audit of the ack: %+v", e)
	}
}

func TestSlackPostOnceInItsThread(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var thread string
	var meta map[string]string
	chat := &mock.Chat{
		PostFn: func(_ context.Context, _, threadTS string, m nova.Message) (string, error) {
			thread, meta = threadTS, m.Metadata
			return "1700.1", nil
		},
		UpdateFn: func(context.Context, string, string, nova.Message) error {
			return nova.Errorf(nova.EUNAVAILABLE, "slack down")
		},
	}
	p := SlackPost{Key: "k1", Channel: "C1", Thread: "1699.9", Metadata: map[string]string{"approval_id": "apr-1"},
		Message: func() nova.Message { return nova.Message{Text: "hi"} }}
	for range 2 {
		ts, auditID, err := f.w.Post(ctx, chat, p)
		if err != nil || ts != "1700.1" || auditID == "" {
			t.Fatalf("Post = %q %q %v", ts, auditID, err)
		}
	}
	if chat.Calls.N("Post") != 1 || thread != "1699.9" || meta["approval_id"] != "apr-1" || meta["nova_audit_id"] == "" {
		t.Fatalf("posted %d times in thread %q with %v", chat.Calls.N("Post"), thread, meta)
	}
	if err := f.w.Update(ctx, chat, "C1", "1700.1", nova.Message{}); !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("Update = %v", err)
	}
}

func TestMarkVisibleCountsTheFirstTimeOnly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec := nova.IncidentRecord{ID: "Q1", TriggeredAt: time.Now().Add(-3 * time.Second)}
	if _, err := store.Save(ctx, f.st, store.KindIncident, "Q1", rec, 0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.w.MarkVisible(ctx, svc, &rec); err != nil {
			t.Fatal(err)
		}
	}
	if rec.HypothesisAt.IsZero() || f.stats["PCHECKOUT"].Hypotheses != 1 || f.stats["PCHECKOUT"].HypothesisSeconds < 3 {
		t.Fatalf("record %+v, stats %+v", rec, f.stats["PCHECKOUT"])
	}
}
