// Package bot is Nova's application: the pipeline from a PagerDuty event to a
// hypothesis and its write-back, the /nova commands, and the approval flow.
// It declares the ports it needs (ports.go) and never imports the adapters
// or net/http; cmd/nova wires them in.
package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Config is what New needs.
type Config struct {
	Store    store.Store
	Settings func() *Settings
	Envs     Environments
	// Summariser is optional.
	Summariser Summariser
	Log        logrus.FieldLogger
	Registerer prometheus.Registerer
	Now        func() time.Time

	// Workers is the number of events processed at once by this replica.
	Workers int
	// Visibility is how long a claimed event stays leased before another
	// worker may take it over from a crashed one.
	Visibility time.Duration
	// DedupTTL is how long webhook and event ids are remembered.
	DedupTTL time.Duration
	// MaxAttempts before an event is set aside as a dead letter.
	MaxAttempts int
	// Poll is how often idle workers look for new events.
	Poll time.Duration
	// Tracer, when set, traces event processing and action runs.
	Tracer Tracer
}

// App is the running application.
type App struct {
	cfg     Config
	store   store.Store
	log     logrus.FieldLogger
	now     func() time.Time
	metrics *metrics
	once    *store.Once
	modes   *modeCache
	groups  *groupCache
	caches  *evidenceCache

	// botUsers memoises the bot user id learned per environment.
	botUsers sync.Map
	wake     chan struct{}
	// refusals rate-limits audit entries for refusals, per kind.
	refusals refusalBudget
	// background tracks work that outlives a request (action runs, late replies).
	background sync.WaitGroup
	// runs remembers action runs whose lease the sweeper saw ended.
	runs runWatch
}

// New validates cfg and returns an App.
func New(cfg Config) (*App, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("bot: Store is required")
	case cfg.Settings == nil || cfg.Settings() == nil:
		return nil, errors.New("bot: Settings is required")
	case cfg.Envs == nil:
		return nil, errors.New("bot: Envs is required")
	}
	if cfg.Log == nil {
		l := logrus.New()
		cfg.Log = l
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = 2 * time.Minute
	}
	if cfg.DedupTTL <= 0 {
		cfg.DedupTTL = 72 * time.Hour
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	a := &App{
		cfg:    cfg,
		store:  cfg.Store,
		log:    cfg.Log,
		now:    cfg.Now,
		modes:  newModeCache(250 * time.Millisecond),
		groups: newGroupCache(time.Minute),
		caches: newEvidenceCache(),
		wake:   make(chan struct{}, 1),
	}
	a.once = &store.Once{Records: cfg.Store, Lease: cfg.Visibility, Now: cfg.Now}
	m, err := newMetrics(cfg.Registerer, cfg.Store)
	if err != nil {
		return nil, err
	}
	a.metrics = m
	return a, nil
}

// settings returns the current settings snapshot.
func (a *App) settings() *Settings { return a.cfg.Settings() }

// go runs fn in the background, tracked for graceful shutdown, with a
// context that is not cancelled when the request that started it ends.
func (a *App) goBackground(ctx context.Context, fn func(ctx context.Context)) {
	a.background.Add(1)
	go func() {
		defer a.background.Done()
		fn(context.WithoutCancel(ctx))
	}()
}

// Wait blocks until background work (action runs, late replies) finished.
func (a *App) Wait() { a.background.Wait() }

// Incident returns Nova's record of an incident.
func (a *App) Incident(ctx context.Context, id string) (nova.IncidentRecord, error) {
	rec, _, err := store.Load[nova.IncidentRecord](ctx, a.store, store.KindIncident, id)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return rec, nova.Errorf(nova.ENOTFOUND, "Nova has no record of incident %s", id)
	}
	return rec, err
}
