package nova

import "time"

// EventType is a PagerDuty V3 webhook event type.
type EventType string

// The event types Nova acts on. Every other type is accepted and dropped.
const (
	EventTriggered      EventType = "incident.triggered"
	EventAcknowledged   EventType = "incident.acknowledged"
	EventUnacknowledged EventType = "incident.unacknowledged"
	EventResolved       EventType = "incident.resolved"
	EventReopened       EventType = "incident.reopened"
	EventAnnotated      EventType = "incident.annotated"
	EventEscalated      EventType = "incident.escalated"
	EventReassigned     EventType = "incident.reassigned"
	EventPriorityUpdate EventType = "incident.priority_updated"
	EventPing           EventType = "pagey.ping"
)

// HandledEventTypes are the event types Nova acts on, in the order a
// webhook subscription lists them (nova setup pagerduty subscribes to
// exactly these).
var HandledEventTypes = []EventType{
	EventTriggered, EventAcknowledged, EventUnacknowledged, EventResolved,
	EventReopened, EventAnnotated, EventEscalated, EventReassigned, EventPriorityUpdate,
}

// Handled reports whether Nova does anything with events of type t.
func (t EventType) Handled() bool {
	switch t {
	case EventTriggered, EventAcknowledged, EventUnacknowledged, EventResolved,
		EventReopened, EventAnnotated, EventEscalated, EventReassigned, EventPriorityUpdate:
		return true
	}
	return false
}

// Event is one PagerDuty webhook event as Nova keeps it in its inbox.
type Event struct {
	// TraceParent is the W3C traceparent of the webhook request that
	// delivered the event, so processing continues its trace ("" when
	// tracing is off).
	TraceParent  string    `json:"traceparent,omitempty"`
	ID           string    `json:"id"`
	WebhookID    string    `json:"webhook_id"`
	Environment  string    `json:"environment"`
	Type         EventType `json:"event_type"`
	ResourceType string    `json:"resource_type"`
	OccurredAt   time.Time `json:"occurred_at"`
	ReceivedAt   time.Time `json:"received_at"`
	// Agent is who caused the event; nil for automation.
	Agent *Ref `json:"agent,omitempty"`
	// IncidentID and ServiceID are filled for every incident event.
	IncidentID string `json:"incident_id,omitempty"`
	ServiceID  string `json:"service_id,omitempty"`
	// Incident is set when the event's data is an incident.
	Incident *Incident `json:"incident,omitempty"`
	// Note is set for incident.annotated.
	Note *Note `json:"note,omitempty"`
}

// OrderingKey is the key under which events must be processed in order: the
// incident, or the service for service events.
func (e Event) OrderingKey() string {
	if e.IncidentID != "" {
		return "incident:" + e.IncidentID
	}
	if e.ServiceID != "" {
		return "service:" + e.ServiceID
	}
	return "event:" + e.ID
}
