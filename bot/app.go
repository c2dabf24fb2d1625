// Package bot is Nova's application, composed of one package per concern
// (docs/architecture.md): inbox (ingest and workers), incident (what an
// event means), evidence (triage), writeback (exactly-once writes), outbox
// (Slack posts), actions (the approval flow), rollout (modes, pause,
// admins), auditlog and render. bot only builds them, wires each one's
// ports to the others, and routes the entry points: Ingest and Run,
// /nova commands and button clicks. It declares the ports the adapters fill
// (ports.go) and never imports an adapter or net/http; cmd/nova wires them.
package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/actions"
	"github.com/novasre/nova/bot/auditlog"
	"github.com/novasre/nova/bot/evidence"
	"github.com/novasre/nova/bot/inbox"
	"github.com/novasre/nova/bot/incident"
	"github.com/novasre/nova/bot/outbox"
	"github.com/novasre/nova/bot/postmortems"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/internal/metric"
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
	// Reviewer, when set, builds the rollout review for /nova review and
	// the scheduled review (settings.Review).
	Reviewer Reviewer
	// Backtest, when set, lets admins start backtests from Slack
	// (`/nova backtest <service>`).
	Backtest BacktestFunc
}

// App is the running application.
type App struct {
	cfg       Config
	store     store.Store
	log       logrus.FieldLogger
	commands  *prometheus.CounterVec
	once      *store.Once
	rollout   *rollout.Rollout
	writer    *writeback.Writer
	evidence  *evidence.Gatherer
	inbox     *inbox.Inbox
	audit     *auditlog.Log
	actions   *actions.Flow
	outbox    *outbox.Outbox
	incidents *incident.Handler
	// postmortems drafts postmortems on resolve (postmortem.go).
	postmortems *postmortems.Drafts
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
		cfg.Log = logrus.New()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers <= 0 {
		cfg.Workers = nova.DefaultWorkers
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = nova.DefaultVisibility
	}
	if cfg.DedupTTL <= 0 {
		cfg.DedupTTL = nova.DefaultDedupTTL
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = nova.DefaultMaxAttempts
	}
	if cfg.Poll <= 0 {
		cfg.Poll = nova.DefaultPoll
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	a := &App{cfg: cfg, store: cfg.Store, log: cfg.Log}
	var err error
	if a.audit, err = auditlog.New(cfg.Store, cfg.Log, cfg.Now, cfg.Registerer); err != nil {
		return nil, err
	}
	a.rollout = rollout.New(rollout.Config{
		Store: cfg.Store, Settings: cfg.Settings, Audit: a.audit, Now: cfg.Now,
		Groups: func(env string) (rollout.Groups, error) { return cfg.Envs.Chat(env) },
		CancelRequests: func(ctx context.Context, serviceID, reason string) error {
			return a.actions.CancelService(ctx, serviceID, reason)
		},
		Reviewer:   cfg.Reviewer,
		PostReview: a.postReview,
	})
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
	a.evidence, err = evidence.New(evidence.Config{
		Store: cfg.Store, Settings: cfg.Settings, Summariser: cfg.Summariser, Log: cfg.Log, Now: cfg.Now, Registerer: cfg.Registerer,
		PagerDuty: func(env string) (evidence.PagerDuty, error) { return cfg.Envs.PagerDuty(env) },
	})
	if err != nil {
		return nil, err
	}
	a.actions, err = actions.New(actions.Config{
		Store: cfg.Store, Once: a.once, Settings: cfg.Settings, Gate: a.rollout, Writer: a.writer, Audit: a.audit,
		Log: cfg.Log, Now: cfg.Now, Visibility: cfg.Visibility, Registerer: cfg.Registerer,
		PagerDuty: func(env string) (actions.PagerDuty, error) { return cfg.Envs.PagerDuty(env) },
		Chat:      func(env string) (writeback.Chat, error) { return cfg.Envs.Chat(env) },
		Executor:  func(action string) (actions.Executor, error) { return cfg.Envs.Executor(action) },
		Span:      a.span,
		QueueMessage: func(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
			return a.outbox.QueueApproval(ctx, svc, rec, req)
		},
	})
	if err != nil {
		return nil, err
	}
	a.postmortems = newPostmortems(a, cfg)
	a.outbox, err = outbox.New(outbox.Config{
		Store: cfg.Store, Once: a.once, Settings: cfg.Settings, Writer: a.writer, Approvals: a.actions, Postmortems: a.postmortems,
		Chat: func(env string) (writeback.Chat, error) { return cfg.Envs.Chat(env) },
		Mode: a.rollout.Mode,
		Poke: func(ctx context.Context, ev nova.Event, key string) error { return a.inbox.Enqueue(ctx, ev, key) },
		Log:  cfg.Log, Now: cfg.Now, Visibility: cfg.Visibility, Registerer: cfg.Registerer,
	})
	if err != nil {
		return nil, err
	}
	a.incidents, err = incident.New(incident.Config{
		Store: cfg.Store, Settings: cfg.Settings, Writer: a.writer, Evidence: a.evidence, Actions: a.actions,
		Rollout: a.rollout, Outbox: a.outbox, Postmortems: a.postmortems, Audit: a.audit, Log: cfg.Log, Now: cfg.Now, Registerer: cfg.Registerer,
		PagerDuty: func(env string) (incident.PagerDuty, error) { return cfg.Envs.PagerDuty(env) },
		Calibrate: a.rollout.Calibrate,
	})
	if err != nil {
		return nil, err
	}
	a.inbox, err = inbox.New(inbox.Config{
		Store: cfg.Store, Settings: cfg.Settings, IngressMode: a.rollout.IngressMode, Handle: a.handleEvent, Span: a.span,
		Log: cfg.Log, Now: cfg.Now, Registerer: cfg.Registerer,
		Workers: cfg.Workers, Visibility: cfg.Visibility, DedupTTL: cfg.DedupTTL, MaxAttempts: cfg.MaxAttempts, Poll: cfg.Poll,
	})
	if err != nil {
		return nil, err
	}
	if a.commands, err = metric.Register(cfg.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_commands_total", Help: "Slash commands and clicks, by command and result.",
	}, []string{"command", "result"})); err != nil {
		return nil, err
	}
	return a, nil
}

// Wait blocks until background work (action runs) finished.
func (a *App) Wait() { a.actions.Wait() }

// Incident returns Nova's record of an incident.
func (a *App) Incident(ctx context.Context, id string) (nova.IncidentRecord, error) {
	return a.incidents.Record(ctx, id)
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

// IngestResult says what Ingest did with an event.
type IngestResult = inbox.Result

// Ingest results. All of them are answered 2xx to PagerDuty.
const (
	IngestAccepted       = inbox.Accepted
	IngestDuplicate      = inbox.Duplicate
	IngestIgnoredType    = inbox.IgnoredType
	IngestIgnoredService = inbox.IgnoredService
)

// Ingest decides whether Nova cares about ev and, if so, stores it in the
// durable inbox, deduplicated. It returns only after the event is durable,
// so a 2xx answer to PagerDuty never loses it; a store failure is returned
// as EUNAVAILABLE so the webhook is retried.
func (a *App) Ingest(ctx context.Context, ev nova.Event) (IngestResult, error) {
	return a.inbox.Ingest(ctx, ev)
}

// Run drains the inbox with a bounded pool of workers until ctx ends, sweeps
// open approval requests and Slack outboxes meanwhile, then lets in-flight
// events and background work (action runs) finish and returns.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){a.inbox.Run, a.actions.SweepLoop, a.outbox.SweepLoop, a.reviewLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	wg.Wait()
	a.actions.Wait()
	return nil
}

// handleEvent is the inbox's handler: Nova's own Slack outbox pokes, or a
// PagerDuty event.
func (a *App) handleEvent(ctx context.Context, ev nova.Event, log logrus.FieldLogger) error {
	if ev.Type == outbox.EventType {
		return a.outbox.Drain(ctx, ev.ID, log)
	}
	return a.incidents.Handle(ctx, ev, log)
}

// Sweep expires stale approval requests and resumes runs whose worker
// died (see actions.Flow.Sweep).
func (a *App) Sweep(ctx context.Context) { a.actions.Sweep(ctx) }
