package backtest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store/bolt"
)

// listing is a history with many resolved incidents to list.
type listing struct {
	*history
	incs  []nova.Incident
	calls atomic.Int64
}

func (l *listing) ListIncidents(_ context.Context, f nova.IncidentFilter) ([]nova.Incident, error) {
	l.calls.Add(1)
	return l.incs[:min(f.Limit, len(l.incs))], nil
}

func (l *listing) ListAlerts(ctx context.Context, id string) ([]nova.Alert, error) {
	l.calls.Add(1)
	return l.history.ListAlerts(ctx, id)
}

func TestRunResumesFromTheCacheAfterAStop(t *testing.T) {
	h, _ := newHistory()
	l := &listing{history: h}
	now := t0.Add(30 * 24 * time.Hour)
	for i := 0; i < 10; i++ {
		at := t0.Add(time.Duration(i) * time.Hour)
		l.incs = append(l.incs, nova.Incident{ID: fmt.Sprintf("Q%02d", i), Title: "x", Status: nova.StatusResolved,
			CreatedAt: at, ResolvedAt: at.Add(time.Hour), Service: nova.Ref{ID: "PSVC"}})
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var triaged atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	engine := EngineFunc(func(ctx context.Context, _ nova.Service, inc nova.Incident, pd *View) nova.TriageResult {
		if _, err := pd.ListAlerts(ctx, inc.ID); err != nil {
			return nova.TriageResult{Abstained: true}
		}
		if triaged.Add(1) == 4 {
			cancel() // Ctrl-C during the fourth incident
		}
		return hyp(nova.CategoryChange, "C1")
	})
	var progress []Progress
	r, err := New(Config{PagerDuty: l, Engine: engine, Store: st, Fingerprint: "f1", Now: func() time.Time { return now },
		Progress: func(p Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	svc := nova.Service{ID: "PSVC", Environment: "prod"}
	rep, err := r.Run(ctx, Options{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Partial || len(rep.Rows) != 3 {
		t.Fatalf("stopped run: partial %v with %d rows, want 3 finished rows", rep.Partial, len(rep.Rows))
	}
	if len(progress) != 3 || progress[2].Done != 3 || progress[2].Total != 10 || progress[2].Calls == 0 {
		t.Errorf("progress %+v", progress)
	}
	l.calls.Store(0)
	progress = nil
	rep, err = r.Run(context.Background(), Options{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Partial || len(rep.Rows) != 10 || rep.Cached != 3 || rep.Totals.Failed != 0 {
		t.Fatalf("resumed run: partial %v, %d rows, %d cached", rep.Partial, len(rep.Rows), rep.Cached)
	}
	if got := triaged.Load(); got != 4+7 {
		t.Errorf("%d triages, want 11 (4 before the stop, the 7 left after it)", got)
	}
	calls := l.calls.Load()
	if _, err := r.Run(context.Background(), Options{Service: svc}); err != nil {
		t.Fatal(err)
	}
	if extra := l.calls.Load() - calls; extra != 1 {
		t.Errorf("a complete rerun made %d requests, want 1 (the list)", extra)
	}
	// Another fingerprint (changed triage settings) replays everything.
	r2, _ := New(Config{PagerDuty: l, Engine: engine, Store: st, Fingerprint: "f2", Now: func() time.Time { return now }})
	if rep, _ := r2.Run(context.Background(), Options{Service: svc}); rep.Cached != 0 {
		t.Errorf("%d rows from the cache under another fingerprint", rep.Cached)
	}
}

func TestRunRefusesUnboundedWork(t *testing.T) {
	h, _ := newHistory()
	r, _ := New(Config{PagerDuty: &listing{history: h}, Engine: EngineFunc(func(context.Context, nova.Service, nova.Incident, *View) nova.TriageResult {
		return nova.TriageResult{}
	})})
	svc := nova.Service{ID: "PSVC"}
	for name, o := range map[string]Options{
		"no service":    {},
		"7 months back": {Service: svc, Since: 210 * 24 * time.Hour},
		"limit 5000":    {Service: svc, Limit: 5000},
	} {
		if _, err := r.Run(context.Background(), o); nova.ErrorCode(err) != nova.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func TestRowsCutShortAreNotCached(t *testing.T) {
	h, _ := newHistory()
	l := &listing{history: h, incs: []nova.Incident{{ID: "Q1", Status: nova.StatusResolved, CreatedAt: t0, ResolvedAt: at(time.Hour)}}}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	slow := true
	r, _ := New(Config{PagerDuty: l, Store: st, Engine: EngineFunc(func(context.Context, nova.Service, nova.Incident, *View) nova.TriageResult {
		res := hyp(nova.CategoryChange, "C1")
		if slow {
			res.NotChecked = []string{"past_incidents (not answered within the triage budget)"}
		}
		return res
	})})
	svc := nova.Service{ID: "PSVC"}
	for i, want := range []int{0, 0, 1} {
		rep, err := r.Run(context.Background(), Options{Service: svc})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Cached != want {
			t.Errorf("run %d: %d cached, want %d", i, rep.Cached, want)
		}
		slow = false // the second run completes the evidence, the third reads it from the cache
	}
}
