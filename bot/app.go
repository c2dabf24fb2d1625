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
	"github.com/novasre/nova/bot/auditlog"
	"github.com/novasre/nova/bot/evidence"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/writeback"
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
}

// App is the running application.
type App struct {
	cfg      Config
	store    store.Store
	log      logrus.FieldLogger
	now      func() time.Time
	metrics  *metrics
	once     *store.Once
	rollout  *rollout.Rollout
	writer   *writeback.Writer
	evidence *evidence.Gatherer

	wake  chan struct{}
	audit *auditlog.Log
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
		cfg:   cfg,
		store: cfg.Store,
		log:   cfg.Log,
		now:   cfg.Now,
		wake:  make(chan struct{}, 1),
	}
	audit, err := auditlog.New(cfg.Store, cfg.Log, cfg.Now, cfg.Registerer)
	if err != nil {
		return nil, err
	}
	a.audit = audit
	a.rollout = rollout.New(rollout.Config{
		Store: cfg.Store, Settings: cfg.Settings, Audit: a.audit, Now: cfg.Now,
		Groups:         func(env string) (rollout.Groups, error) { return cfg.Envs.Chat(env) },
		CancelRequests: a.cancelServiceRequests,
	})
	a.evidence, err = evidence.New(evidence.Config{
		Store: cfg.Store, Settings: cfg.Settings, Summariser: cfg.Summariser, Log: cfg.Log, Now: cfg.Now, Registerer: cfg.Registerer,
		PagerDuty: func(env string) (evidence.PagerDuty, error) { return cfg.Envs.PagerDuty(env) },
	})
	if err != nil {
		return nil, err
	}
	a.once = &store.Once{Records: cfg.Store, Lease: cfg.Visibility, Now: cfg.Now}
	a.writer, err = writeback.New(writeback.Config{
		Store: cfg.Store, Once: a.once, Audit: a.audit, Log: cfg.Log, Now: cfg.Now, Registerer: cfg.Registerer,
		PagerDuty:   func(env string) (writeback.PagerDuty, error) { return cfg.Envs.PagerDuty(env) },
		BotUserID:   func(env string) string { return cfg.Settings().Environments[env].BotUserID },
		Paused:      a.rollout.Paused,
		UpdateStats: a.rollout.UpdateStats,
	})
	if err != nil {
		return nil, err
	}
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

// AuditRefusedCall records a PagerDuty call refused by the client's
// allow-list (wired as the client's OnRefused hook).
func (a *App) AuditRefusedCall(env, method, path string) { a.audit.RefusedCall(env, method, path) }

// AuditRefusedRequest records a Slack request refused before it reached
// Nova (bad or stale signature, replay), wired as the handler's OnRefused.
func (a *App) AuditRefusedRequest(source, kind, reason, remote string) {
	a.audit.RefusedRequest(source, kind, reason, remote)
}

// SeedServices gives every declared service without a stored state its
// declared mode (see rollout.Rollout.Seed).
func (a *App) SeedServices(ctx context.Context) error { return a.rollout.Seed(ctx) }
