// Package actions is the whole approval flow, in one folder: proposing
// catalog actions for an incident's top hypothesis, deciding on them in
// Slack (approve, deny, apply) under the approval policy in force now,
// starting and executing a run exactly once under a heartbeat lease,
// finishing it with a timeline note, cancelling requests when their
// incident resolves or their service is demoted, and the sweeper that
// expires requests and resumes runs whose worker died.
//
// The rules themselves are the pure approvals package; this package applies
// them to stored requests with compare-and-set and talks to the outside.
package actions

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/store"
)

// Gate is what a run depends on besides its approvals (rollout): the pause
// switch, the service's mode, and who is in which Slack user group.
type Gate interface {
	Paused(ctx context.Context) (bool, error)
	Mode(ctx context.Context, svc nova.Service) (nova.Mode, error)
	UserGroups(ctx context.Context, env, user string, ids []string) ([]string, error)
}

// PagerDuty is what the flow asks PagerDuty: whether the incident is open.
type PagerDuty interface {
	GetIncident(ctx context.Context, id string) (nova.Incident, error)
}

// Executor runs catalog actions through the customer's automation.
type Executor interface {
	Run(ctx context.Context, r nova.ActionRun) (string, error)
}

// Auditor records acts in the audit log.
type Auditor interface {
	Append(ctx context.Context, e nova.AuditEntry) error
}

// Config is what New needs.
type Config struct {
	Store    store.Records
	Once     *store.Once
	Settings func() *settings.Settings
	Gate     Gate
	// PagerDuty, Chat and Executor return the adapters of an environment
	// or a catalog action.
	PagerDuty func(env string) (PagerDuty, error)
	Chat      func(env string) (writeback.Chat, error)
	Executor  func(action string) (Executor, error)
	Writer    *writeback.Writer
	Audit     Auditor
	// QueueMessage queues a request's Slack message in its channel's outbox,
	// which posts it with PostMessage.
	QueueMessage func(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error
	// Span, when set, traces each action run; it returns the function
	// that ends the span.
	Span func(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(error))
	Log  logrus.FieldLogger
	Now  func() time.Time
	// Visibility is the lease of a run; a run ends inside it.
	Visibility time.Duration
	Registerer prometheus.Registerer
}

// Flow runs the approval flow.
type Flow struct {
	cfg       Config
	approvals *prometheus.CounterVec
	// background tracks work that outlives a request (action runs).
	background sync.WaitGroup
	// runs remembers action runs whose lease the sweeper saw ended.
	runs runWatch
}

// New returns a Flow and registers its metric.
func New(cfg Config) (*Flow, error) {
	f := &Flow{cfg: cfg}
	var err error
	if f.approvals, err = metric.Register(cfg.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_approvals_total", Help: "Approval request transitions, by outcome.",
	}, []string{"outcome"})); err != nil {
		return nil, err
	}
	return f, nil
}

// goBackground runs fn in the background, tracked for graceful shutdown,
// with a context that is not cancelled when the request that started it ends.
func (f *Flow) goBackground(ctx context.Context, fn func(ctx context.Context)) {
	f.background.Add(1)
	go func() {
		defer f.background.Done()
		fn(context.WithoutCancel(ctx))
	}()
}

func (f *Flow) span(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(error)) {
	if f.cfg.Span == nil {
		return ctx, func(error) {}
	}
	return f.cfg.Span(ctx, name, traceparent, attrs)
}

// Wait blocks until background work (action runs) finished.
func (f *Flow) Wait() { f.background.Wait() }

// incident returns Nova's record of an incident.
func (f *Flow) incident(ctx context.Context, id string) (nova.IncidentRecord, error) {
	rec, _, err := store.Load[nova.IncidentRecord](ctx, f.cfg.Store, store.KindIncident, id)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return rec, nova.Errorf(nova.ENOTFOUND, "Nova has no record of incident %s", id)
	}
	return rec, err
}

// Propose turns the top hypothesis's catalog suggestions into action
// requests (see proposeActions).
func (f *Flow) Propose(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) error {
	return f.proposeActions(ctx, svc, rec, log)
}

// Decide records an Approve (approve) or Deny click.
func (f *Flow) Decide(ctx context.Context, in nova.Interaction, approve bool) (nova.Reply, error) {
	return f.decide(ctx, in, approve)
}

// Apply handles the one-click Apply of a non-destructive action.
func (f *Flow) Apply(ctx context.Context, in nova.Interaction) (nova.Reply, error) {
	return f.apply(ctx, in)
}

// CancelIncident withdraws the open requests of an incident.
func (f *Flow) CancelIncident(ctx context.Context, incidentID, reason string) error {
	return f.cancelOpenRequests(ctx, incidentID, reason)
}

// CancelService withdraws the open requests of a service.
func (f *Flow) CancelService(ctx context.Context, serviceID, reason string) error {
	return f.cancelServiceRequests(ctx, serviceID, reason)
}

// PostMessage posts a request's Slack message in its incident's thread,
// exactly once (the outbox calls it).
func (f *Flow) PostMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
	return f.postApprovalMessage(ctx, svc, rec, req)
}
