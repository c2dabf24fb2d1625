// Package evidence gathers what triage needs about an incident, within the
// triage budget and from many sources at once (alerts, correlated and recent
// changes, similar past incidents and how they were fixed, related and
// concurrent incidents, and the services PagerDuty records the service as
// depending on, added to its declared depends_on), recognises incident
// storms across replicas, runs the pure triage engine, and lets the
// optional language model phrase the top hypothesis. Whatever fails or is
// late is listed as not checked.
package evidence

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/internal/ttlcache"
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
	// cacheItems bounds each cache's memory; a refill costs a few reads.
	cacheItems = 10000
)

// PagerDuty is one environment's PagerDuty client, as far as reads go. One
// that also has Dependencies (the scoped client does) has its service
// dependencies read too.
type PagerDuty interface {
	ListAlerts(ctx context.Context, id string) ([]nova.Alert, error)
	ListNotes(ctx context.Context, id string) ([]nova.Note, error)
	RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error)
	ServiceChangeEvents(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error)
	PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error)
	RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error)
	OutlierIncident(ctx context.Context, id string) (nova.Outlier, error)
}

// Summariser phrases a hypothesis summary with a language model.
type Summariser interface {
	Summarise(ctx context.Context, in triage.Input, r nova.TriageResult) (string, error)
}

// Config is what New needs.
type Config struct {
	Store    store.Records
	Settings func() *settings.Settings
	// PagerDuty returns env's client.
	PagerDuty func(env string) (PagerDuty, error)
	// Summariser is optional.
	Summariser Summariser
	Log        logrus.FieldLogger
	Now        func() time.Time
	Registerer prometheus.Registerer
}

// Gatherer gathers evidence and triages incidents.
type Gatherer struct {
	cfg Config
	// Evidence shared between incidents, per replica: a storm's incidents
	// share their services' changes, and past incidents recur.
	changes   *ttlcache.Cache[string, []nova.ChangeEvent]
	pastNotes *ttlcache.Cache[string, []nova.Note]
	// PagerDuty's service dependencies, per service: one request per
	// service per depsCacheAge, shared by concurrent incidents.
	deps           *ttlcache.Cache[string, depsAnswer]
	depsLogged     sync.Map // what was logged about unavailable dependencies
	triageDuration prometheus.Histogram
	llmSummaries   *prometheus.CounterVec
}

// New returns a Gatherer and registers its metrics.
func New(cfg Config) (*Gatherer, error) {
	g := &Gatherer{cfg: cfg,
		changes:   ttlcache.New[string, []nova.ChangeEvent](serviceCacheAge, cacheItems),
		pastNotes: ttlcache.New[string, []nova.Note](pastCacheAge, cacheItems),
		deps:      ttlcache.New[string, depsAnswer](depsCacheAge, cacheItems),
	}
	var err error
	if g.triageDuration, err = metric.Register(cfg.Registerer, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "nova_triage_duration_seconds", Help: "Evidence gathering and analysis per incident.",
		Buckets: prometheus.DefBuckets,
	})); err != nil {
		return nil, err
	}
	if g.llmSummaries, err = metric.Register(cfg.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_llm_summaries_total",
		Help: "Language-model summaries: used, refused (said something the evidence does not) or failed (timeout, error); refused and failed ones were replaced by the deterministic summary.",
	}, []string{"result"})); err != nil {
		return nil, err
	}
	for _, r := range []string{"used", "refused", "failed"} {
		g.llmSummaries.WithLabelValues(r)
	}
	return g, nil
}

// Triage gathers evidence under the time budget and runs the engine.
func (g *Gatherer) Triage(ctx context.Context, svc nova.Service, inc nova.Incident) nova.TriageResult {
	start := g.cfg.Now()
	set := g.cfg.Settings()
	in := g.gather(ctx, svc, inc, set)
	res := triage.Analyze(in, set.Triage, g.cfg.Now())
	if g.cfg.Summariser != nil && len(res.Hypotheses) > 0 && !res.Abstained {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		// The model's text is untrusted: the Summariser refuses one that
		// says what the result does not (nova.ErrUngrounded), and every
		// renderer escapes it like any outside text.
		switch s, err := g.cfg.Summariser.Summarise(sctx, in, res); {
		case err == nil && s != "":
			res.Hypotheses[0].Summary, res.SummarisedBy = s, "llm"
			g.llmSummaries.WithLabelValues("used").Inc()
		case errors.Is(err, nova.ErrUngrounded):
			g.llmSummaries.WithLabelValues("refused").Inc()
			g.cfg.Log.WithField("incident_id", inc.ID).WithField("reason", nova.ErrorMessage(err)).
				Warn("LLM summary refused: it is not supported by the evidence; posting the deterministic one")
		case err != nil:
			g.llmSummaries.WithLabelValues("failed").Inc()
			g.cfg.Log.WithError(err).WithField("incident_id", inc.ID).Info("LLM summary unavailable; posting the deterministic one")
		}
		cancel()
	}
	res.Elapsed = g.cfg.Now().Sub(start)
	g.triageDuration.Observe(res.Elapsed.Seconds())
	return res
}

// serviceFeedback is the verdicts on the service's hypotheses, one per
// incident: the latest a person gave (a Slack button or a postmortem
// answer), else how the incident was resolved, plus backtest marks
// (nova.ServiceState.Verdicts); triage shifts confidence by them within
// bounds. A store error only costs the adjustment.
func (g *Gatherer) serviceFeedback(ctx context.Context, svc nova.Service) *triage.Feedback {
	st, _, err := store.Load[nova.ServiceState](ctx, g.cfg.Store, store.KindService, svc.ID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil // no verdicts yet
	}
	if err != nil {
		g.cfg.Log.WithError(err).WithField("service_id", svc.ID).Info("service feedback unavailable; triage runs without it")
		return nil
	}
	helpful, wrong, _ := st.Verdicts()
	return &triage.Feedback{Helpful: int(helpful), Wrong: int(wrong)}
}

// gather collects evidence concurrently; each source is bounded by the
// budget, and whatever fails or is late is listed as not checked.
func (g *Gatherer) gather(ctx context.Context, svc nova.Service, inc nova.Incident, set *settings.Settings) triage.Input {
	budget := set.TriageBudget
	if budget <= 0 {
		budget = nova.DefaultTriageBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	in := triage.Input{Incident: inc, Service: svc, Actions: set.ActionsFor(svc.ID)}
	in.Feedback = g.serviceFeedback(ctx, svc)
	in.Concurrent = g.concurrentIncidents(ctx, inc)
	storm := len(in.Concurrent) >= stormThreshold
	in.Checked = append(in.Checked, "incident", "runbooks", "action_catalog", "concurrent_incidents")
	pd, err := g.cfg.PagerDuty(svc.Environment)
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
	var supporting []string
	if dr, ok := pd.(Dependencies); ok {
		// Not skipped in a storm: it is cached per service, and a storm
		// is when a dependency is most likely the cause.
		source("service_dependencies", false, func() error {
			ids, err := g.supportingServices(ctx, dr, svc)
			mu.Lock()
			supporting = ids
			mu.Unlock()
			return err
		})
	}
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
		changes, err := g.serviceChanges(ctx, pd, svc, inc.CreatedAt)
		mu.Lock()
		serviceChanges = changes
		mu.Unlock()
		return err
	})
	source("past_incidents", storm, func() error {
		past, err := g.pastIncidents(ctx, pd, inc.ID)
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
	in.Service.DependsOn = mergeDependsOn(svc.DependsOn, supporting)
	in.Checked = sortedCopy(in.Checked)
	in.NotChecked = sortedCopy(in.NotChecked)
	return in
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
func (g *Gatherer) serviceChanges(ctx context.Context, pd PagerDuty, svc nova.Service, at time.Time) ([]nova.ChangeEvent, error) {
	if at.IsZero() {
		at = g.cfg.Now()
	}
	var out []nova.ChangeEvent
	for _, id := range append([]string{svc.ID}, svc.Related...) {
		key := svc.Environment + ":changes:" + id
		v, err := g.changes.Load(key, g.cfg.Now(), func() ([]nova.ChangeEvent, error) {
			return pd.ServiceChangeEvents(ctx, id, at.Add(-changeLookback), at.Add(time.Minute))
		})
		if err != nil {
			if id == svc.ID {
				return out, err
			}
			continue // a related service's changes are a bonus
		}
		out = append(out, v...)
	}
	return out, nil
}

// pastIncidents reads similar past incidents and, for the best few, their
// notes: how they were fixed is the most useful part.
func (g *Gatherer) pastIncidents(ctx context.Context, pd PagerDuty, incidentID string) ([]nova.PastIncident, error) {
	past, err := pd.PastIncidents(ctx, incidentID, 5)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(past, func(i, j int) bool { return past[i].Score > past[j].Score })
	for i := range past {
		if i >= pastWithNotes || past[i].Resolution != "" {
			continue
		}
		v, err := g.pastNotes.Load(past[i].ID, g.cfg.Now(), func() ([]nova.Note, error) {
			return pd.ListNotes(ctx, past[i].ID)
		})
		if err != nil {
			continue
		}
		past[i].Resolution = resolutionFrom(v)
	}
	return past, nil
}

// resolutionFrom takes the last human note of a past incident as the
// record of how it was fixed.
func resolutionFrom(notes []nova.Note) string {
	for i := len(notes) - 1; i >= 0; i-- {
		n := notes[i]
		if n.Content != "" && !render.ContainsAuditID(n.Content) {
			return render.Truncate(n.Content, 500)
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

// NoteTrigger adds an incident to the minute bucket it triggered in.
func (g *Gatherer) NoteTrigger(ctx context.Context, rec nova.IncidentRecord) {
	at := rec.TriggeredAt
	if at.IsZero() {
		at = g.cfg.Now()
	}
	_, err := store.UpdateTTL(ctx, g.cfg.Store, store.KindMeta, store.RecentTriggersID(at), time.Hour, func(list *[]recentTrigger, _ bool) error {
		for _, r := range *list {
			if r.ID == rec.ID {
				return store.ErrUnchanged
			}
		}
		*list = append(*list, recentTrigger{ID: rec.ID, ServiceID: rec.ServiceID, Title: rec.Title, Urgency: rec.Urgency, At: at})
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrUnchanged) {
		g.cfg.Log.WithError(err).Warn("could not note the incident for storm recognition")
	}
}

// concurrentIncidents lists the other incidents triggered within the storm
// window before this one, on any enabled service.
func (g *Gatherer) concurrentIncidents(ctx context.Context, inc nova.Incident) []nova.Incident {
	at := inc.CreatedAt
	if at.IsZero() {
		at = g.cfg.Now()
	}
	var out []nova.Incident
	for t := at.Add(-stormWindow); !t.After(at.Add(time.Minute)); t = t.Add(time.Minute) {
		list, _, err := store.Load[[]recentTrigger](ctx, g.cfg.Store, store.KindMeta, store.RecentTriggersID(t))
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
