// Package inbox is how events reach Nova's workers: Ingest decides whether
// Nova cares about a PagerDuty event and stores it durably, deduplicated,
// before the webhook is answered; a bounded pool of workers claims events
// one incident at a time (high-urgency triggers first), keeps their leases
// alive, retries what failed for a passing reason and sets aside what
// failed too often. What an event means is the Handler's business.
package inbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/auditlog"
	"github.com/novasre/nova/store"
)

// Result says what Ingest did with an event.
type Result string

// Ingest results. All of them are answered 2xx to PagerDuty.
const (
	Accepted       Result = "accepted"
	Duplicate      Result = "duplicate"
	IgnoredType    Result = "ignored_type"
	IgnoredService Result = "ignored_service"
)

// Priorities in the inbox: high-urgency triggers first during a storm, and
// Nova's own work (Slack outbox pokes) after every PagerDuty event.
const (
	priorityHighTrigger = 0
	priorityOther       = 1
	priorityLowTrigger  = 2
	// PriorityOwn is the priority of Nova's own events.
	PriorityOwn = priorityLowTrigger + 1
)

// Ingest decides whether Nova cares about ev and, if so, stores it in the
// durable inbox, deduplicated. It returns only after the event is durable,
// so a 2xx answer to PagerDuty never loses it; a store failure is returned
// as EUNAVAILABLE so the webhook is retried.
func (in *Inbox) Ingest(ctx context.Context, ev nova.Event) (Result, error) {
	if !ev.Type.Handled() {
		return IgnoredType, nil
	}
	svc, ok := in.cfg.Settings().Services[ev.ServiceID]
	if !ok && ev.IncidentID != "" && ev.ServiceID == "" {
		// Events whose data is a note or a responder carry only the incident:
		// route them by the incident Nova already knows.
		rec, _, err := store.Load[nova.IncidentRecord](ctx, in.cfg.Store, store.KindIncident, ev.IncidentID)
		if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
			return "", store.ErrUnavailable("read incident", err)
		}
		svc, ok = in.cfg.Settings().Services[rec.ServiceID]
		ev.ServiceID = rec.ServiceID
	}
	if !ok || svc.Environment != ev.Environment {
		return IgnoredService, nil
	}
	mode, err := in.cfg.IngressMode(ctx, svc)
	if err != nil {
		return "", err
	}
	if mode == nova.ModeOff {
		return IgnoredService, nil
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return "", nova.WrapError(nova.EINTERNAL, err, "encode event")
	}
	d := store.Delivery{
		WebhookID:  ev.WebhookID,
		EventID:    ev.ID,
		Key:        ev.OrderingKey(),
		Priority:   priorityOf(ev),
		Payload:    payload,
		EnqueuedAt: in.cfg.Now(),
	}
	fresh, err := in.cfg.Store.Enqueue(ctx, d, in.cfg.DedupTTL)
	if err != nil {
		return "", fmt.Errorf("store event %s in the inbox: %w", ev.ID, err)
	}
	if !fresh {
		return Duplicate, nil
	}
	if ev.Type == nova.EventTriggered {
		auditlog.Milestone(in.cfg.Log, auditlog.MilestoneReceived, logrus.Fields{"incident_id": ev.IncidentID, "service": ev.ServiceID,
			"environment": ev.Environment, "event_id": ev.ID, "webhook_id": ev.WebhookID})
	}
	in.Wake()
	return Accepted, nil
}

func priorityOf(ev nova.Event) int {
	if ev.Type != nova.EventTriggered {
		return priorityOther
	}
	if ev.Incident != nil && ev.Incident.Urgency == nova.UrgencyLow {
		return priorityLowTrigger
	}
	return priorityHighTrigger
}

// Enqueue stores one of Nova's own events (ev.ID is its deduplication key
// for nothing: own events are not deduplicated) under the ordering key
// key, and wakes an idle worker.
func (in *Inbox) Enqueue(ctx context.Context, ev nova.Event, key string) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nova.WrapError(nova.EINTERNAL, err, "encode %s event", ev.Type)
	}
	if _, err := in.cfg.Store.Enqueue(ctx, store.Delivery{Key: key, Priority: PriorityOwn, Payload: payload, EnqueuedAt: in.cfg.Now()}, in.cfg.DedupTTL); err != nil {
		return fmt.Errorf("enqueue %s event: %w", ev.Type, err)
	}
	in.Wake()
	return nil
}

// Wake tells an idle worker that there is work.
func (in *Inbox) Wake() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}
