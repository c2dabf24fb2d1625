package evidence

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/triage"
)

var (
	t0  = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	svc = nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod", Related: []string{"PPAY"}}
)

type summariser func(context.Context, triage.Input, nova.TriageResult) (string, error)

func (s summariser) Summarise(ctx context.Context, in triage.Input, r nova.TriageResult) (string, error) {
	return s(ctx, in, r)
}

// openPD answers every read: a deploy 10 minutes before the incident, an
// alert, a past incident fixed by a rollback (in a note).
func openPD() *mock.PagerDuty {
	return &mock.PagerDuty{
		ListAlertsFn: func(context.Context, string) ([]nova.Alert, error) {
			return []nova.Alert{{ID: "A1", Summary: "HTTP 5xx error rate 7% on checkout-api: panic: nil pointer dereference in payment client", CreatedAt: t0}}, nil
		},
		RelatedChangeEventsFn: func(context.Context, string) ([]nova.ChangeEvent, error) {
			return []nova.ChangeEvent{{ID: "C1", Summary: "Deploy checkout v2.3.1: new payment client", Timestamp: t0.Add(-10 * time.Minute), Services: []nova.Ref{{ID: "PCHECKOUT"}}}}, nil
		},
		ServiceChangeEventsFn: func(_ context.Context, id string, _, _ time.Time) ([]nova.ChangeEvent, error) {
			if id == "PPAY" {
				return nil, nova.Errorf(nova.EUNAVAILABLE, "down")
			}
			return []nova.ChangeEvent{{ID: "C1", Summary: "Deploy checkout v2.3.1: new payment client", Timestamp: t0.Add(-10 * time.Minute)}}, nil
		},
		PastIncidentsFn: func(context.Context, string, int) ([]nova.PastIncident, error) {
			return []nova.PastIncident{{ID: "Q0", Title: "checkout 5xx", Score: 50}}, nil
		},
		ListNotesFn: func(context.Context, string) ([]nova.Note, error) {
			return []nova.Note{{Content: "Rolled back checkout; fixed."}, {Content: "Nova hypothesis … audit nova-01JDEF0000000000000000000A"}}, nil
		},
		RelatedIncidentsFn: func(context.Context, string) ([]nova.RelatedIncident, error) { return nil, nil },
		OutlierIncidentFn: func(context.Context, string) (nova.Outlier, error) {
			return nova.Outlier{}, nova.Errorf(nova.ENOTFOUND, "not available on this account")
		},
		SupportingServicesFn: func(context.Context, string) ([]nova.Ref, error) { return nil, nil },
	}
}

func newGatherer(t *testing.T, pd *mock.PagerDuty, s Summariser) (*Gatherer, *mock.Records) {
	t.Helper()
	st := mock.NewRecords()
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	set := &settings.Settings{Services: map[string]nova.Service{svc.ID: svc}, TriageBudget: 5 * time.Second}
	g, err := New(Config{Store: st, Settings: func() *settings.Settings { return set }, Summariser: s, Log: log,
		Now: func() time.Time { return t0.Add(time.Second) }, PagerDuty: func(string) (PagerDuty, error) { return pd, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return g, st
}

func TestTriageChecksWhatItCanAndSaysWhatItCouldNot(t *testing.T) {
	pd := openPD()
	g, _ := newGatherer(t, pd, nil)
	inc := nova.Incident{ID: "Q1", Title: "checkout-api: 5xx error rate", CreatedAt: t0, Service: nova.Ref{ID: svc.ID}}
	res := g.Triage(context.Background(), svc, inc)
	if res.Top() == nil || res.Top().Category != nova.CategoryChange {
		t.Fatalf("top hypothesis %+v", res.Top())
	}
	for _, want := range []string{"alerts", "related_changes", "service_changes", "past_incidents", "related_incidents", "service_dependencies"} {
		if !slices.Contains(res.Checked, want) {
			t.Errorf("%s not listed as checked: %v", want, res.Checked)
		}
	}
	if len(res.NotChecked) != 1 || !strings.HasPrefix(res.NotChecked[0], "outlier (not available") {
		t.Errorf("not checked: %v", res.NotChecked)
	}
	// The past incident's fix is its last human note, and is cached.
	in := g.gather(context.Background(), svc, inc, g.cfg.Settings())
	if len(in.Past) != 1 || in.Past[0].Resolution != "Rolled back checkout; fixed." {
		t.Errorf("past incidents %+v", in.Past)
	}
	if len(in.Changes) != 1 {
		t.Errorf("the same change from two sources must appear once: %+v", in.Changes)
	}
	if pd.Calls.N("ListNotes") != 1 || pd.Calls.N("ServiceChangeEvents") != 3 {
		t.Errorf("caches: %d note reads, %d change reads (the related service's failure is not cached)", pd.Calls.N("ListNotes"), pd.Calls.N("ServiceChangeEvents"))
	}
}

func TestStormSkipsTheExpensiveSources(t *testing.T) {
	pd := openPD()
	g, _ := newGatherer(t, pd, nil)
	ctx := context.Background()
	for i := range stormThreshold + 1 {
		g.NoteTrigger(ctx, nova.IncidentRecord{ID: "Q" + string(rune('A'+i)), ServiceID: "PCHECKOUT", TriggeredAt: t0.Add(-time.Minute)})
	}
	g.NoteTrigger(ctx, nova.IncidentRecord{ID: "QA", TriggeredAt: t0.Add(-time.Minute)}) // noted twice, listed once
	res := g.Triage(ctx, svc, nova.Incident{ID: "Q1", CreatedAt: t0})
	if len(res.Storm) == 0 && len(g.concurrentIncidents(ctx, nova.Incident{ID: "Q1", CreatedAt: t0})) != stormThreshold+1 {
		t.Fatalf("concurrent incidents not found")
	}
	skipped := 0
	for _, n := range res.NotChecked {
		if strings.Contains(n, "skipped during an incident storm") {
			skipped++
		}
	}
	if skipped != 3 || pd.Calls.N("PastIncidents") != 0 {
		t.Fatalf("during a storm: %d sources skipped, %d past-incident reads: %v", skipped, pd.Calls.N("PastIncidents"), res.NotChecked)
	}
}

func TestNoPagerDutyStillTriages(t *testing.T) {
	g, _ := newGatherer(t, nil, nil)
	g.cfg.PagerDuty = func(string) (PagerDuty, error) {
		return nil, nova.Errorf(nova.ENOTFOUND, "environment prod is not configured")
	}
	res := g.Triage(context.Background(), svc, nova.Incident{ID: "Q1", CreatedAt: t0})
	if len(res.NotChecked) != 1 || !strings.Contains(res.NotChecked[0], "pagerduty (environment prod is not configured)") {
		t.Fatalf("not checked %v", res.NotChecked)
	}
}

func TestModelPhrasingIsUsedOnlyWhenGrounded(t *testing.T) {
	inc := nova.Incident{ID: "Q1", Title: "checkout-api: 5xx error rate", CreatedAt: t0}
	for _, c := range []struct {
		name string
		s    summariser
		by   string
	}{
		{"used", func(context.Context, triage.Input, nova.TriageResult) (string, error) {
			return "The deploy broke it.", nil
		}, "llm"},
		{"refused", func(context.Context, triage.Input, nova.TriageResult) (string, error) {
			return "", fmt.Errorf("check: %w", nova.ErrUngrounded)
		}, ""},
		{"failed", func(context.Context, triage.Input, nova.TriageResult) (string, error) {
			return "", errors.New("timeout")
		}, ""},
	} {
		g, _ := newGatherer(t, openPD(), c.s)
		res := g.Triage(context.Background(), svc, inc)
		if res.SummarisedBy != c.by || (c.by == "llm") != (res.Top().Summary == "The deploy broke it.") {
			t.Errorf("%s: summarised by %q: %q", c.name, res.SummarisedBy, res.Top().Summary)
		}
	}
}

func TestLateSourcesAreNotCheckedWithinTheBudget(t *testing.T) {
	pd := openPD()
	pd.ListAlertsFn = func(ctx context.Context, _ string) ([]nova.Alert, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	g, _ := newGatherer(t, pd, nil)
	set := *g.cfg.Settings()
	set.TriageBudget = 50 * time.Millisecond
	in := g.gather(context.Background(), svc, nova.Incident{ID: "Q1", CreatedAt: t0}, &set)
	if slices.Contains(in.Checked, "alerts") || len(in.Alerts) != 0 || !slices.Contains(in.Checked, "related_changes") {
		t.Fatalf("a source late for the budget counted as checked: %v", in.Checked)
	}
}
