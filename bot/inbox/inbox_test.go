package inbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
)

type fixture struct {
	in    *Inbox
	st    store.Store
	mode  nova.Mode
	seen  atomic.Int32
	fail  error
	modeE error
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, mode: nova.ModeAction}
	set := &settings.Settings{Services: map[string]nova.Service{"PCHECKOUT": {ID: "PCHECKOUT", Environment: "prod"}}}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	f.in, err = New(Config{Store: st, Settings: func() *settings.Settings { return set }, Log: log, Now: time.Now,
		IngressMode: func(context.Context, nova.Service) (nova.Mode, error) { return f.mode, f.modeE },
		Handle: func(context.Context, nova.Event, logrus.FieldLogger) error {
			f.seen.Add(1)
			return f.fail
		},
		Workers: 2, Visibility: time.Minute, DedupTTL: time.Hour, MaxAttempts: 2, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func trigger(id string) nova.Event {
	return nova.Event{ID: "E" + id, WebhookID: "W" + id, Type: nova.EventTriggered, Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: id,
		Incident: &nova.Incident{ID: id, Urgency: nova.UrgencyHigh}}
}

func TestIngestDecidesWhatNovaCaresAbout(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := trigger("Q2")
	other.Environment = "staging"
	unknown := trigger("Q3")
	unknown.ServiceID = "PNOPE"
	for _, c := range []struct {
		ev   nova.Event
		want Result
	}{
		{nova.Event{ID: "E0", Type: "service.updated"}, IgnoredType},
		{other, IgnoredService},
		{unknown, IgnoredService},
		{trigger("Q1"), Accepted},
		{trigger("Q1"), Duplicate},
	} {
		if got, err := f.in.Ingest(ctx, c.ev); got != c.want || err != nil {
			t.Errorf("Ingest(%s %s %s) = %s, %v; want %s", c.ev.Type, c.ev.Environment, c.ev.ServiceID, got, err, c.want)
		}
	}
	f.mode = nova.ModeOff
	if got, _ := f.in.Ingest(ctx, trigger("Q4")); got != IgnoredService {
		t.Errorf("a service that is off: %s", got)
	}
	f.modeE = nova.Errorf(nova.EUNAVAILABLE, "store down")
	if _, err := f.in.Ingest(ctx, trigger("Q5")); !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Errorf("store down: %v", err)
	}
}

// A note event names only its incident: it is routed by Nova's record.
func TestIngestRoutesByTheIncidentRecord(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	note := nova.Event{ID: "EN", Type: nova.EventAnnotated, Environment: "prod", IncidentID: "Q1"}
	if got, _ := f.in.Ingest(ctx, note); got != IgnoredService {
		t.Fatalf("a note on an incident Nova never saw: %s", got)
	}
	if _, err := store.Save(ctx, f.st, store.KindIncident, "Q1", nova.IncidentRecord{ID: "Q1", ServiceID: "PCHECKOUT"}, 0); err != nil {
		t.Fatal(err)
	}
	note.ID = "EN2"
	if got, err := f.in.Ingest(ctx, note); got != Accepted || err != nil {
		t.Fatalf("a note on a known incident: %s %v", got, err)
	}
}

func claim(t *testing.T, f *fixture) *store.Delivery {
	t.Helper()
	d, err := f.st.Claim(context.Background(), time.Minute)
	if err != nil || d == nil {
		t.Fatalf("claim: %v %v", d, err)
	}
	return d
}

func depth(t *testing.T, f *fixture) int64 {
	n, err := f.st.InboxDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProcessAcksRetriesOrSetsAside(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.in.Ingest(ctx, trigger("Q1")); err != nil {
		t.Fatal(err)
	}
	// A passing failure is released for a retry.
	f.fail = fmt.Errorf("post note: %w", nova.Errorf(nova.EUNAVAILABLE, "PagerDuty down"))
	f.in.process(ctx, claim(t, f))
	if depth(t, f) != 1 {
		t.Fatal("a retryable failure lost the event")
	}
	if d, _ := f.st.Claim(ctx, time.Minute); d != nil {
		t.Fatal("a released event was claimable before its backoff")
	}
	// A lasting failure sets it aside as a dead letter.
	f.fail = nova.Errorf(nova.EINVALID, "bad")
	f.in.Wake()
	d := &store.Delivery{}
	*d = *claimAfter(t, f, 3*time.Second)
	f.in.process(ctx, d)
	if depth(t, f) != 0 {
		t.Fatal("a failed event stayed in the inbox")
	}
	if _, _, err := store.Load[map[string]any](ctx, f.st, store.KindMeta, store.DeadLetterID("EQ1")); err != nil {
		t.Fatalf("no dead letter: %v", err)
	}
	// Success acks.
	f.fail = nil
	if _, err := f.in.Ingest(ctx, trigger("Q2")); err != nil {
		t.Fatal(err)
	}
	f.in.process(ctx, claim(t, f))
	if depth(t, f) != 0 || f.seen.Load() != 3 {
		t.Fatalf("depth %d after success, %d handled", depth(t, f), f.seen.Load())
	}
}

// claimAfter waits out a release's backoff (the inbox's own clock).
func claimAfter(t *testing.T, f *fixture, within time.Duration) *store.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if d, err := f.st.Claim(context.Background(), time.Minute); err == nil && d != nil {
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nothing to claim")
	return nil
}

func TestTooManyAttemptsAndGarbageAreSetAside(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.in.Ingest(ctx, trigger("Q1")); err != nil {
		t.Fatal(err)
	}
	d := claim(t, f)
	d.Attempts = 3 // over MaxAttempts
	f.in.process(ctx, d)
	if f.seen.Load() != 0 || depth(t, f) != 0 {
		t.Fatalf("an event over its attempts was handled (%d) or kept (%d)", f.seen.Load(), depth(t, f))
	}
	if _, err := f.st.Enqueue(ctx, store.Delivery{Key: "k", Payload: []byte("{not json"), EnqueuedAt: time.Now()}, time.Hour); err != nil {
		t.Fatal(err)
	}
	f.in.process(ctx, claim(t, f))
	if depth(t, f) != 0 {
		t.Fatal("an undecodable item stayed")
	}
}

func TestRunDrainsTheInboxAndStops(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.in.Run(ctx); close(done) }()
	for i := range 5 {
		if _, err := f.in.Ingest(context.Background(), trigger("Q"+string(rune('0'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.in.Enqueue(context.Background(), nova.Event{ID: "own", Type: "nova.test"}, "own"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.seen.Load() < 6 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if f.seen.Load() != 6 || depth(t, f) != 0 {
		t.Fatalf("handled %d of 6, %d left", f.seen.Load(), depth(t, f))
	}
}

func TestPriorities(t *testing.T) {
	low := trigger("Q1")
	low.Incident.Urgency = nova.UrgencyLow
	if priorityOf(trigger("Q1")) != priorityHighTrigger || priorityOf(low) != priorityLowTrigger ||
		priorityOf(nova.Event{Type: nova.EventResolved}) != priorityOther || PriorityOwn <= priorityLowTrigger {
		t.Fatal("priorities out of order")
	}
	if backoff(1) != 2*time.Second || backoff(20) != time.Minute {
		t.Fatal("backoff")
	}
	if !nova.IsRetryable(fmt.Errorf("x: %w", context.DeadlineExceeded)) || nova.IsRetryable(errors.New("x")) {
		t.Fatal("retry rule")
	}
}
