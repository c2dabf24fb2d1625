package bot

import (
	"context"
	"encoding/json"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// IngestResult says what Ingest did with an event.
type IngestResult string

// Ingest results. All of them are answered 2xx to PagerDuty.
const (
	IngestAccepted       IngestResult = "accepted"
	IngestDuplicate      IngestResult = "duplicate"
	IngestIgnoredType    IngestResult = "ignored_type"
	IngestIgnoredService IngestResult = "ignored_service"
)

// Priorities in the inbox: high-urgency triggers first during a storm.
const (
	priorityHighTrigger = 0
	priorityOther       = 1
	priorityLowTrigger  = 2
)

// Ingest decides whether Nova cares about ev and, if so, stores it in the
// durable inbox, deduplicated. It returns only after the event is durable,
// so a 2xx answer to PagerDuty never loses it; a store failure is returned
// as EUNAVAILABLE so the webhook is retried.
func (a *App) Ingest(ctx context.Context, ev nova.Event) (IngestResult, error) {
	if !ev.Type.Handled() {
		return IngestIgnoredType, nil
	}
	svc, ok := a.settings().Services[ev.ServiceID]
	if !ok && ev.IncidentID != "" && ev.ServiceID == "" {
		// Events whose data is a note or a responder carry only the incident:
		// route them by the incident Nova already knows.
		rec, err := a.Incident(ctx, ev.IncidentID)
		if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
			return "", store.ErrUnavailable("read incident", err)
		}
		svc, ok = a.settings().Services[rec.ServiceID]
		ev.ServiceID = rec.ServiceID
	}
	if !ok || svc.Environment != ev.Environment {
		return IngestIgnoredService, nil
	}
	mode, err := a.ingressMode(ctx, svc)
	if err != nil {
		return "", err
	}
	if mode == nova.ModeOff {
		return IngestIgnoredService, nil
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
		EnqueuedAt: a.now(),
	}
	fresh, err := a.store.Enqueue(ctx, d, a.cfg.DedupTTL)
	if err != nil {
		return "", err
	}
	if !fresh {
		return IngestDuplicate, nil
	}
	if ev.Type == nova.EventTriggered {
		a.receivedMilestone(ev)
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return IngestAccepted, nil
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
