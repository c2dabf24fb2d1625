package bot

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Replayer runs live triage (the same evidence sources, budget, options
// and calibration) on past incidents, reading PagerDuty through the view
// it is given for each one: a backtest's as-of view. It keeps no evidence
// between incidents, sees no concurrent incidents from Nova's own storm
// list (which is not kept for the past), and phrases nothing with the
// language model: the hypotheses are the engine's.
type Replayer struct {
	mu  sync.Mutex
	app *App
	env *replayEnvs
}

// NewReplayer returns a Replayer over the settings live triage uses.
func NewReplayer(settings func() *Settings, log logrus.FieldLogger) (*Replayer, error) {
	env := &replayEnvs{}
	a, err := New(Config{Store: noHistory{}, Settings: settings, Envs: env, Log: log, Registerer: prometheus.NewRegistry()})
	if err != nil {
		return nil, err
	}
	return &Replayer{app: a, env: env}, nil
}

// Triage triages inc as live triage would have, reading PagerDuty through
// pd only. Calls are serialised.
func (r *Replayer) Triage(ctx context.Context, svc nova.Service, inc nova.Incident, pd PagerDuty) nova.TriageResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.app.caches = newEvidenceCache() // evidence read as of another time must not be reused
	r.env.pd = pd
	defer func() { r.env.pd = nil }()
	return r.app.triage(ctx, svc, inc, nova.IncidentRecord{})
}

// replayEnvs hands out the view of the incident being replayed, and
// nothing that writes or posts.
type replayEnvs struct{ pd PagerDuty }

func (e *replayEnvs) PagerDuty(string) (PagerDuty, error) {
	if e.pd == nil {
		return nil, nova.Errorf(nova.EUNAVAILABLE, "no incident is being replayed")
	}
	return e.pd, nil
}

func (e *replayEnvs) Chat(string) (Chat, error) {
	return nil, nova.Errorf(nova.EFORBIDDEN, "a replay never posts to Slack")
}

func (e *replayEnvs) Executor(string) (Executor, error) {
	return nil, nova.Errorf(nova.EFORBIDDEN, "a replay never runs actions")
}

// noHistory is a store with no records: Nova's list of recent triggers
// (storm recognition) is not kept for the past, and whatever the live
// store holds now may postdate the incident being replayed.
type noHistory struct{ store.Store }

func (noHistory) Get(_ context.Context, kind, id string) (store.Item, error) {
	return store.Item{}, store.ErrNotFound(kind, id)
}
