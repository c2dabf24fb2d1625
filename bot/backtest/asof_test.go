package backtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/novasre/nova"
)

var t0 = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// history is a Reader over fixed data, as PagerDuty holds it today: long
// after the incident, with everything that came later.
type history struct {
	incidents map[string]nova.Incident
	alerts    []nova.Alert
	notes     map[string][]nova.Note
	log       []nova.LogEntry
	related   []nova.ChangeEvent
	changes   []nova.ChangeEvent
	past      []nova.PastIncident
	rel       []nova.RelatedIncident
	asked     []string // service change windows asked for
	gets      int
}

func (h *history) GetIncident(_ context.Context, id string) (nova.Incident, error) {
	h.gets++
	inc, ok := h.incidents[id]
	if !ok {
		return nova.Incident{}, nova.Errorf(nova.ENOTFOUND, "no incident %s", id)
	}
	return inc, nil
}
func (h *history) ListIncidents(context.Context, nova.IncidentFilter) ([]nova.Incident, error) {
	return nil, nil
}
func (h *history) ListAlerts(context.Context, string) ([]nova.Alert, error) { return h.alerts, nil }
func (h *history) ListNotes(_ context.Context, id string) ([]nova.Note, error) {
	return h.notes[id], nil
}
func (h *history) ListLogEntries(context.Context, string) ([]nova.LogEntry, error) { return h.log, nil }
func (h *history) RelatedChangeEvents(context.Context, string) ([]nova.ChangeEvent, error) {
	return h.related, nil
}
func (h *history) ServiceChangeEvents(_ context.Context, _ string, since, until time.Time) ([]nova.ChangeEvent, error) {
	h.asked = append(h.asked, since.Format(time.TimeOnly)+"-"+until.Format(time.TimeOnly))
	return h.changes, nil // deliberately ignores the window: the view must not rely on PagerDuty
}
func (h *history) PastIncidents(context.Context, string, int) ([]nova.PastIncident, error) {
	return h.past, nil
}
func (h *history) RelatedIncidents(context.Context, string) ([]nova.RelatedIncident, error) {
	return h.rel, nil
}
func (h *history) OutlierIncident(context.Context, string) (nova.Outlier, error) {
	return nova.Outlier{Category: "frequent", Count: 40}, nil
}

func at(d time.Duration) time.Time { return t0.Add(d) }

func newHistory() (*history, nova.Incident) {
	inc := nova.Incident{ID: "Q1", Title: "checkout 5xx", Status: nova.StatusResolved, CreatedAt: t0,
		ResolvedAt: at(time.Hour), ResolveReason: "merged", Service: nova.Ref{ID: "PSVC"}}
	h := &history{
		incidents: map[string]nova.Incident{
			"Q1":     inc,
			"QOLD":   {ID: "QOLD", Status: nova.StatusResolved, CreatedAt: at(-48 * time.Hour), ResolvedAt: at(-47 * time.Hour)},
			"QOPEN":  {ID: "QOPEN", Status: nova.StatusResolved, CreatedAt: at(-2 * time.Hour), ResolvedAt: at(2 * time.Hour)},
			"QLATER": {ID: "QLATER", Status: nova.StatusResolved, CreatedAt: at(24 * time.Hour), ResolvedAt: at(25 * time.Hour)},
		},
		alerts: []nova.Alert{
			{ID: "A1", Summary: "5xx", Status: nova.StatusResolved, CreatedAt: t0},
			{ID: "A2", Summary: "latency", Status: nova.StatusResolved, CreatedAt: at(5 * time.Second)},
			{ID: "A3", Summary: "late alert", Status: nova.StatusResolved, CreatedAt: at(5 * time.Minute)},
			{ID: "A4", Summary: "no time"},
		},
		notes: map[string][]nova.Note{
			"Q1":   {{ID: "N1", Content: "rolled back v42", CreatedAt: at(30 * time.Minute)}},
			"QOLD": {{ID: "N2", Content: "disk full, cleaned up", CreatedAt: at(-47 * time.Hour)}, {ID: "N3", Content: "postmortem: it was v42 after all", CreatedAt: at(time.Hour)}},
		},
		log: []nova.LogEntry{
			{ID: "L1", Type: "trigger_log_entry", CreatedAt: t0},
			{ID: "L2", Type: "acknowledge_log_entry", CreatedAt: at(3 * time.Minute)},
		},
		related: []nova.ChangeEvent{
			{ID: "C1", Summary: "deploy v41", Timestamp: at(-time.Hour)},
			{ID: "C2", Summary: "deploy v42 (at the trigger)", Timestamp: t0},
			{ID: "C3", Summary: "hotfix v43", Timestamp: at(10 * time.Minute)},
		},
		changes: []nova.ChangeEvent{
			{ID: "C1", Summary: "deploy v41", Timestamp: at(-time.Hour)},
			{ID: "C4", Summary: "config flip", Timestamp: at(30 * time.Second)},
			{ID: "C5", Summary: "no time"},
		},
		past: []nova.PastIncident{
			{ID: "QLATER", Score: 90, CreatedAt: at(24 * time.Hour)},
			{ID: "QOPEN", Score: 80, CreatedAt: at(-2 * time.Hour)},
			{ID: "QOLD", Score: 70, CreatedAt: at(-48 * time.Hour), Resolution: "today's summary", Category: nova.CategoryChange},
			{ID: "Q1", Score: 100, CreatedAt: t0},
		},
		rel: []nova.RelatedIncident{
			{ID: "QOPEN", CreatedAt: at(-2 * time.Hour), Status: nova.StatusResolved},
			{ID: "QOLD", CreatedAt: at(-48 * time.Hour), Status: nova.StatusResolved},
			{ID: "QLATER", CreatedAt: at(24 * time.Hour), Status: nova.StatusResolved},
		},
	}
	return h, inc
}

func ids[T any](items []T, id func(T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func TestViewShowsOnlyWhatExistedAtTheTrigger(t *testing.T) {
	h, inc := newHistory()
	v, err := AsOf(h, inc, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got := v.Incident(); got.Status != nova.StatusTriggered || !got.ResolvedAt.IsZero() || got.ResolveReason != "" {
		t.Errorf("incident as of the trigger: %+v", got)
	}
	alerts, _ := v.ListAlerts(ctx, "Q1")
	if got := ids(alerts, func(a nova.Alert) string { return a.ID + ":" + a.Status }); !slices.Equal(got, []string{"A1:triggered", "A2:triggered"}) {
		t.Errorf("alerts %v, want the two within the grace window, as triggered", got)
	}
	notes, _ := v.ListNotes(ctx, "Q1")
	if len(notes) != 0 {
		t.Errorf("notes of the incident itself leaked: %v", notes)
	}
	old, _ := v.ListNotes(ctx, "QOLD")
	if got := ids(old, func(n nova.Note) string { return n.ID }); !slices.Equal(got, []string{"N2"}) {
		t.Errorf("past incident notes %v, want only N2 (N3 was written after the trigger)", got)
	}
	log, _ := v.ListLogEntries(ctx, "Q1")
	if got := ids(log, func(l nova.LogEntry) string { return l.ID }); !slices.Equal(got, []string{"L1"}) {
		t.Errorf("log entries %v, want only the trigger", got)
	}
	rel, _ := v.RelatedChangeEvents(ctx, "Q1")
	if got := ids(rel, func(c nova.ChangeEvent) string { return c.ID }); !slices.Equal(got, []string{"C1"}) {
		t.Errorf("related changes %v, want only C1 (strictly before the trigger)", got)
	}
	svc, _ := v.ServiceChangeEvents(ctx, "PSVC", at(-6*time.Hour), at(time.Minute))
	if got := ids(svc, func(c nova.ChangeEvent) string { return c.ID }); !slices.Equal(got, []string{"C1"}) {
		t.Errorf("service changes %v, want only C1", got)
	}
	if want := "06:00:00-12:00:00"; len(h.asked) != 1 || h.asked[0] != want {
		t.Errorf("service change window asked %v, want %s (until cut at the trigger)", h.asked, want)
	}
	past, err := v.PastIncidents(ctx, "Q1", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(past, func(p nova.PastIncident) string { return p.ID }); !slices.Equal(got, []string{"QOLD"}) {
		t.Errorf("past incidents %v, want only QOLD (QOPEN resolved after the trigger, QLATER came later)", got)
	}
	if past[0].Resolution != "" || past[0].Category != "" {
		t.Errorf("past incident kept today's resolution or category: %+v", past[0])
	}
	related, _ := v.RelatedIncidents(ctx, "Q1")
	if got := ids(related, func(r nova.RelatedIncident) string { return r.ID + ":" + r.Status }); !slices.Equal(got, []string{"QOPEN:triggered", "QOLD:resolved"}) {
		t.Errorf("related incidents %v", got)
	}
	if _, err := v.OutlierIncident(ctx, "Q1"); err == nil {
		t.Error("outlier classification (made with today's data) was let through")
	}
	if _, err := v.GetIncident(ctx, "QLATER"); nova.ErrorCode(err) != nova.ENOTFOUND {
		t.Errorf("an incident created after the trigger: %v, want ENOTFOUND", err)
	}
	if got, _ := v.GetIncident(ctx, "QOPEN"); got.Status != nova.StatusTriggered || !got.ResolvedAt.IsZero() {
		t.Errorf("QOPEN as of the trigger: %+v", got)
	}
}

func TestViewRefusesWrites(t *testing.T) {
	h, inc := newHistory()
	v, _ := AsOf(h, inc, 0, nil)
	if _, err := v.AddNote(context.Background(), "Q1", "x"); nova.ErrorCode(err) != nova.EFORBIDDEN {
		t.Errorf("AddNote: %v, want EFORBIDDEN", err)
	}
	if err := v.Acknowledge(context.Background(), "Q1"); nova.ErrorCode(err) != nova.EFORBIDDEN {
		t.Errorf("Acknowledge: %v, want EFORBIDDEN", err)
	}
	if _, err := AsOf(h, nova.Incident{ID: "Q9"}, 0, nil); nova.ErrorCode(err) != nova.EINVALID {
		t.Errorf("an incident without a trigger time: %v, want EINVALID", err)
	}
}

func TestResolutionsAreReadOnce(t *testing.T) {
	h, inc := newHistory()
	res := NewResolutions(h)
	res.Remember(h.incidents["QOLD"])
	for i := 0; i < 3; i++ {
		v, _ := AsOf(h, inc, 0, res)
		if _, err := v.PastIncidents(context.Background(), "Q1", 5); err != nil {
			t.Fatal(err)
		}
	}
	if h.gets != 1 {
		t.Errorf("%d incident reads, want 1 (QOPEN once; QOLD was remembered from the list)", h.gets)
	}
}
