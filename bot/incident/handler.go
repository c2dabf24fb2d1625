// Package incident is what Nova does with a PagerDuty event about an
// incident: it recognises its own echoes, triages a new incident and writes
// the hypothesis back (a note in action mode, a Slack message in both modes,
// the optional ack, action proposals), follows acknowledgements,
// resolutions and reopenings on its record and message, and takes people's
// verdicts on a hypothesis (feedback).
package incident

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/store"
)

// Evidence triages an incident (evidence).
type Evidence interface {
	Triage(ctx context.Context, svc nova.Service, inc nova.Incident) nova.TriageResult
	NoteTrigger(ctx context.Context, rec nova.IncidentRecord)
}

// Actions proposes and withdraws action requests (the approval flow).
type Actions interface {
	Propose(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) error
	CancelIncident(ctx context.Context, incidentID, reason string) error
}

// Rollout is how far Nova may act on a service, and who sees it.
type Rollout interface {
	Mode(ctx context.Context, svc nova.Service) (nova.Mode, error)
	UpdateStats(ctx context.Context, svc nova.Service, fn func(*nova.ServiceState)) error
	Sees(ctx context.Context, c rollout.Caller, svc nova.Service) (bool, error)
}

// Outbox queues Slack messages for their channel.
type Outbox interface {
	QueueHypothesis(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error
	QueueRefresh(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error
}

// Postmortems drafts the postmortem of a resolved incident (bot/postmortems).
type Postmortems interface {
	OnResolved(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) error
}

// PagerDuty is what the handler asks PagerDuty before an ack.
type PagerDuty interface {
	GetIncident(ctx context.Context, id string) (nova.Incident, error)
}

// Auditor records acts in the audit log.
type Auditor interface {
	Append(ctx context.Context, e nova.AuditEntry) error
}

// Config is what New needs.
type Config struct {
	Store    store.Records
	Settings func() *settings.Settings
	Writer   *writeback.Writer
	Evidence Evidence
	Actions  Actions
	Rollout  Rollout
	Outbox   Outbox
	// Postmortems may be nil (no drafts).
	Postmortems Postmortems
	PagerDuty   func(env string) (PagerDuty, error)
	// Calibrate records a person's verdict as the incident's verdict for
	// the service's calibration (rollout.Rollout.Calibrate); nil records
	// none.
	Calibrate  func(ctx context.Context, svc nova.Service, incidentID string, fn func(*nova.IncidentVerdict)) error
	Audit      Auditor
	Log        logrus.FieldLogger
	Now        func() time.Time
	Registerer prometheus.Registerer
}

// Handler handles incident events and feedback.
type Handler struct {
	cfg  Config
	acks *prometheus.CounterVec
}

// New returns a Handler and registers its metric.
func New(cfg Config) (*Handler, error) {
	h := &Handler{cfg: cfg}
	var err error
	if h.acks, err = metric.Register(cfg.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_acks_total", Help: "First acknowledgements of incidents on enabled services, by who made them (nova or person).",
	}, []string{"by"})); err != nil {
		return nil, err
	}
	return h, nil
}

// Record returns Nova's record of an incident.
func (h *Handler) Record(ctx context.Context, id string) (nova.IncidentRecord, error) {
	rec, _, err := store.Load[nova.IncidentRecord](ctx, h.cfg.Store, store.KindIncident, id)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return rec, nova.Errorf(nova.ENOTFOUND, "Nova has no record of incident %s", id)
	}
	return rec, err
}
