package bot

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/triage"
)

// Evidence windows and storm handling.
const (
	changeLookback  = triage.DefaultDelayedWindow // older changes count only when they explain the symptoms
	pastWithNotes   = 3
	stormWindow     = 5 * time.Minute
	stormThreshold  = 10
	serviceCacheAge = 30 * time.Second
	pastCacheAge    = 10 * time.Minute
)

// triage gathers evidence under the time budget and runs the engine.
func (a *App) triage(ctx context.Context, svc nova.Service, inc nova.Incident, rec nova.IncidentRecord) nova.TriageResult {
	start := a.now()
	set := a.settings()
	in := a.gather(ctx, svc, inc, set)
	res := triage.Analyze(in, set.Triage, a.now())
	if a.cfg.Summariser != nil && len(res.Hypotheses) > 0 && !res.Abstained {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if s, err := a.cfg.Summariser.Summarise(sctx, in, res); err == nil && s != "" {
			res.Hypotheses[0].Summary, res.SummarisedBy = s, "llm"
		} else if err != nil {
			a.log.WithError(err).WithField("incident_id", inc.ID).Info("LLM summary unavailable; posting the deterministic one")
		}
		cancel()
	}
	res.Elapsed = a.now().Sub(start)
	a.metrics.triageDuration.Observe(res.Elapsed.Seconds())
	return res
}

// gather collects evidence concurrently; each source is bounded by the
// budget, and whatever fails or is late is listed as not checked.
func (a *App) gather(ctx context.Context, svc nova.Service, inc nova.Incident, set *Settings) triage.Input {
	budget := set.TriageBudget
	if budget <= 0 {
		budget = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	in := triage.Input{Incident: inc, Service: svc, Actions: set.ActionsFor(svc.ID)}
	in.Feedback = a.serviceFeedback(ctx, svc)
	in.Concurrent = a.concurrentIncidents(ctx, inc)
	storm := len(in.Concurrent) >= stormThreshold
	in.Checked = append(in.Checked, "incident", "runbooks", "action_catalog", "concurrent_incidents")
	pd, err := a.cfg.Envs.PagerDuty(svc.Environment)
	if err != nil {
		in.NotChecked = append(in.NotChecked, "pagerduty ("+nova.ErrorMessage(err)+")")
		return in
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	source := func(name string, skip bool, fn func() error) {
		if skip {
			mu.Lock()
			in.NotChecked = append(in.NotChecked, name+" (skipped during an incident storm to save the PagerDuty rate limit)")
			mu.Unlock()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				in.NotChecked = append(in.NotChecked, fmt.Sprintf("%s (%s)", name, reason(ctx, err)))
				return
			}
			in.Checked = append(in.Checked, name)
		}()
	}
	var related, serviceChanges []nova.ChangeEvent
	source("alerts", false, func() error {
		alerts, err := pd.ListAlerts(ctx, inc.ID)
		mu.Lock()
		in.Alerts = alerts
		mu.Unlock()
		return err
	})
	source("related_changes", false, func() error {
		changes, err := pd.RelatedChangeEvents(ctx, inc.ID)
		mu.Lock()
		related = changes
		mu.Unlock()
		return err
	})
	source("service_changes", false, func() error {
		changes, err := a.serviceChanges(ctx, pd, svc, inc.CreatedAt)
		mu.Lock()
		serviceChanges = changes
		mu.Unlock()
		return err
	})
	source("past_incidents", storm, func() error {
		past, err := a.pastIncidents(ctx, pd, inc.ID)
		mu.Lock()
		in.Past = past
		mu.Unlock()
		return err
	})
	source("related_incidents", storm, func() error {
		rel, err := pd.RelatedIncidents(ctx, inc.ID)
		mu.Lock()
		in.Related = rel
		mu.Unlock()
		return err
	})
	source("outlier", storm, func() error {
		o, err := pd.OutlierIncident(ctx, inc.ID)
		if err == nil {
			mu.Lock()
			in.Outlier = &o
			mu.Unlock()
		}
		return err
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		// Sources that are still running are listed by their own goroutine
		// once they return; take what is in now.
	}
	mu.Lock()
	defer mu.Unlock()
	in.Changes = mergeChanges(related, serviceChanges)
	in.Checked = sortedCopy(in.Checked)
	in.NotChecked = sortedCopy(in.NotChecked)
	return in
}

// serviceFeedback is the helpful/wrong verdicts people gave on the
// service's hypotheses; triage shifts confidence by them within bounds. A
// store error only costs the adjustment.
func (a *App) serviceFeedback(ctx context.Context, svc nova.Service) *triage.Feedback {
	st, err := a.serviceState(ctx, svc)
	if err != nil {
		a.log.WithError(err).WithField("service_id", svc.ID).Info("service feedback unavailable; triage runs without it")
		return nil
	}
	return &triage.Feedback{Helpful: int(st.Helpful), Wrong: int(st.Wrong)}
}

func reason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "not answered within the triage budget"
	}
	return nova.ErrorMessage(err)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// mergeChanges joins correlated and service change events, keeping
// PagerDuty's correlation reason when an event appears in both.
func mergeChanges(related, service []nova.ChangeEvent) []nova.ChangeEvent {
	seen := map[string]bool{}
	var out []nova.ChangeEvent
	for _, lists := range [][]nova.ChangeEvent{related, service} {
		for _, c := range lists {
			if c.ID != "" && seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

// serviceChanges reads the recent changes of the service and its related
// services, cached briefly: during a storm many incidents share them.
func (a *App) serviceChanges(ctx context.Context, pd PagerDuty, svc nova.Service, at time.Time) ([]nova.ChangeEvent, error) {
	if at.IsZero() {
		at = a.now()
	}
	var out []nova.ChangeEvent
	for _, id := range append([]string{svc.ID}, svc.Related...) {
		key := svc.Environment + ":changes:" + id
		v, err := a.caches.get(key, serviceCacheAge, a.now(), func() (any, error) {
			return pd.ServiceChangeEvents(ctx, id, at.Add(-changeLookback), at.Add(time.Minute))
		})
		if err != nil {
			if id == svc.ID {
				return out, err
			}
			continue // a related service's changes are a bonus
		}
		out = append(out, v.([]nova.ChangeEvent)...)
	}
	return out, nil
}

// pastIncidents reads similar past incidents and, for the best few, their
// notes: how they were fixed is the most useful part.
func (a *App) pastIncidents(ctx context.Context, pd PagerDuty, incidentID string) ([]nova.PastIncident, error) {
	past, err := pd.PastIncidents(ctx, incidentID, 5)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(past, func(i, j int) bool { return past[i].Score > past[j].Score })
	for i := range past {
		if i >= pastWithNotes || past[i].Resolution != "" {
			continue
		}
		v, err := a.caches.get("past-notes:"+past[i].ID, pastCacheAge, a.now(), func() (any, error) {
			return pd.ListNotes(ctx, past[i].ID)
		})
		if err != nil {
			continue
		}
		past[i].Resolution = resolutionFrom(v.([]nova.Note))
	}
	return past, nil
}

// resolutionFrom takes the last human note of a past incident as the
// record of how it was fixed.
func resolutionFrom(notes []nova.Note) string {
	for i := len(notes) - 1; i >= 0; i-- {
		n := notes[i]
		if n.Content != "" && !containsAuditID(n.Content) {
			return truncate(n.Content, 500)
		}
	}
	return ""
}

// recentTrigger is one entry of the shared list of recent incidents used
// for storm recognition across replicas.
type recentTrigger struct {
	ID        string    `json:"id"`
	ServiceID string    `json:"service_id"`
	Title     string    `json:"title"`
	Urgency   string    `json:"urgency"`
	At        time.Time `json:"at"`
}

func recentKey(t time.Time) string { return fmt.Sprintf("recent:%d", t.Unix()/60) }

// noteRecentTrigger adds an incident to the minute bucket it triggered in.
func (a *App) noteRecentTrigger(ctx context.Context, rec nova.IncidentRecord) {
	at := rec.TriggeredAt
	if at.IsZero() {
		at = a.now()
	}
	_, err := store.UpdateTTL(ctx, a.store, store.KindMeta, recentKey(at), time.Hour, func(list *[]recentTrigger, _ bool) error {
		for _, r := range *list {
			if r.ID == rec.ID {
				return errUnchanged
			}
		}
		*list = append(*list, recentTrigger{ID: rec.ID, ServiceID: rec.ServiceID, Title: rec.Title, Urgency: rec.Urgency, At: at})
		return nil
	})
	if err != nil && err != errUnchanged {
		a.log.WithError(err).Warn("could not note the incident for storm recognition")
	}
}

// concurrentIncidents lists the other incidents triggered within the storm
// window before this one, on any enabled service.
func (a *App) concurrentIncidents(ctx context.Context, inc nova.Incident) []nova.Incident {
	at := inc.CreatedAt
	if at.IsZero() {
		at = a.now()
	}
	var out []nova.Incident
	for t := at.Add(-stormWindow); !t.After(at.Add(time.Minute)); t = t.Add(time.Minute) {
		list, _, err := store.Load[[]recentTrigger](ctx, a.store, store.KindMeta, recentKey(t))
		if err != nil {
			continue
		}
		for _, r := range list {
			if r.ID == inc.ID || r.At.Before(at.Add(-stormWindow)) || r.At.After(at.Add(time.Minute)) {
				continue
			}
			out = append(out, nova.Incident{ID: r.ID, Title: r.Title, Urgency: r.Urgency, CreatedAt: r.At,
				Service: nova.Ref{ID: r.ServiceID}, Status: nova.StatusTriggered})
		}
	}
	return out
}

// evidenceCache memoises evidence shared between incidents, per replica.
type evidenceCache struct {
	mu    sync.Mutex
	items map[string]cachedEvidence
}

type cachedEvidence struct {
	v  any
	at time.Time
}

func newEvidenceCache() *evidenceCache { return &evidenceCache{items: map[string]cachedEvidence{}} }

func (c *evidenceCache) get(key string, maxAge time.Duration, now time.Time, load func() (any, error)) (any, error) {
	c.mu.Lock()
	if it, ok := c.items[key]; ok && now.Sub(it.at) < maxAge {
		c.mu.Unlock()
		return it.v, nil
	}
	c.mu.Unlock()
	v, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) > 10000 {
		c.items = map[string]cachedEvidence{} // bound memory; a refill costs a few reads
	}
	c.items[key] = cachedEvidence{v: v, at: now}
	return v, nil
}
