package pagerduty

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// go-pagerduty has no V3 webhook types (its DecodeWebhook reads V2
// "messages"), so the wire format is declared here, limited to what Nova
// reads. Unknown fields are ignored: PagerDuty adds fields and event types
// without notice.

// V3Envelope is the body of one PagerDuty V3 webhook delivery. V3 never
// batches: a delivery carries exactly one event.
type V3Envelope struct {
	Event *V3Event `json:"event"`
}

// V3Event is the event of a V3 delivery.
type V3Event struct {
	ID           string `json:"id"`
	EventType    string `json:"event_type"`
	ResourceType string `json:"resource_type"`
	// OccurredAt stays a string on the wire so that a bad timestamp is
	// reported as such, naming the field, rather than as a generic JSON error.
	OccurredAt string `json:"occurred_at"`
	// Agent is who caused the event; null for automation.
	Agent  *V3Ref    `json:"agent"`
	Client *V3Client `json:"client"`
	Data   *V3Data   `json:"data"`
}

// V3Client is where an event was triggered from, e.g. {"name":"PagerDuty"}.
type V3Client struct {
	Name string `json:"name"`
}

// V3Ref is a PagerDuty resource reference (user, service, team, incident, ...).
type V3Ref struct {
	ID      string `json:"id"`
	Type    string `json:"type,omitempty"`
	Summary string `json:"summary,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`
}

// V3Data is event.data. Its shape depends on Type (incident, incident_note,
// incident_responder, service, ...); it is one struct holding the union of
// the fields Nova reads so that a delivery is decoded in a single pass.
type V3Data struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`

	// Fields of type "incident".
	Number      int    `json:"number,omitempty"`
	Title       string `json:"title,omitempty"`
	Status      string `json:"status,omitempty"`
	Urgency     string `json:"urgency,omitempty"`
	IncidentKey string `json:"incident_key,omitempty"`
	CreatedAt   string `json:"created_at,omitempty"`
	Priority    *V3Ref `json:"priority,omitempty"`
	// Service is also set on incident_workflow_instance and service_field_values.
	Service *V3Ref `json:"service,omitempty"`
	// Assignees is also set on incident_task.
	Assignees []V3Ref `json:"assignees,omitempty"`
	Teams     []V3Ref `json:"teams,omitempty"`
	// ResolveReason is kept raw: the REST API documents an object
	// ({"type":"merge_resolve_reason",...}) while webhook examples show null.
	ResolveReason json.RawMessage `json:"resolve_reason,omitempty"`

	// Incident is the incident that notes, responders, status updates,
	// tasks, workflows and the other incident_* types belong to.
	Incident *V3Ref `json:"incident,omitempty"`

	// Fields of type "incident_note".
	Content string `json:"content,omitempty"`
	Trimmed bool   `json:"trimmed,omitempty"`

	// IncidentRoleAssignments is the only place incident_role_assignment
	// names its incident.
	IncidentRoleAssignments []V3RoleAssignment `json:"incident_role_assignments,omitempty"`
}

// V3RoleAssignment is one entry of an incident_role_assignment event.
type V3RoleAssignment struct {
	ID       string `json:"id,omitempty"`
	Incident *V3Ref `json:"incident,omitempty"`
	Assignee *V3Ref `json:"assignee,omitempty"`
	Role     *V3Ref `json:"role,omitempty"`
	Status   string `json:"status,omitempty"`
}

// event.data types Nova maps specially; any other type still decodes.
const (
	v3DataIncident           = "incident"
	v3DataIncidentNote       = "incident_note"
	v3DataRoleAssignment     = "incident_role_assignment"
	v3DataService            = "service"
	v3DataServiceFieldValues = "service_field_values"
)

// DecodeEvent decodes the raw body of a V3 webhook delivery into a
// nova.Event. Environment, WebhookID and ReceivedAt are left for the caller,
// which knows them. Unknown event types decode (Nova drops them later); a
// body that is not one JSON object with event.id and event.event_type is
// refused with an EINVALID *nova.Error naming what is wrong.
func DecodeEvent(body []byte) (nova.Event, error) {
	var env V3Envelope
	if err := json.Unmarshal(body, &env); err != nil && !isWebhookDataMismatch(err) {
		return nova.Event{}, describeWebhookDecodeError(err)
	}
	return env.toEvent()
}

// isWebhookDataMismatch reports whether err only says that a field inside
// event.data had an unexpected JSON type. encoding/json still fills every
// other field in that case. The delivery is signed, so it is genuine, and
// answering 4xx to a genuine delivery because PagerDuty changed, say, a
// number into a string would count towards disabling the subscription;
// the affected field is simply left empty.
func isWebhookDataMismatch(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && strings.HasPrefix(te.Field, "event.data.")
}

// describeWebhookDecodeError turns a JSON error into a user-facing EINVALID error
// that names the position or field but never quotes the body.
func describeWebhookDecodeError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return nova.WrapError(nova.EINVALID, err, "malformed JSON in webhook body at byte %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return nova.WrapError(nova.EINVALID, err, "webhook body must be a JSON object")
	case errors.As(err, &te):
		return nova.WrapError(nova.EINVALID, err, "webhook field %s must be a JSON %s, not %s",
			te.Field, webhookJSONKind(te.Type.Kind().String()), te.Value)
	}
	return nova.WrapError(nova.EINVALID, err, "malformed webhook body")
}

// webhookJSONKind names the JSON kind expected for a Go kind, for error messages
// written for people who read JSON, not Go.
func webhookJSONKind(goKind string) string {
	switch goKind {
	case "struct", "map", "ptr":
		return "object"
	case "slice", "array":
		return "array"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	}
	return "number"
}

// toEvent checks the required fields and maps the wire event onto nova.Event.
func (env *V3Envelope) toEvent() (nova.Event, error) {
	e := env.Event
	switch {
	case e == nil:
		return nova.Event{}, nova.Errorf(nova.EINVALID, "webhook body has no event object")
	case strings.TrimSpace(e.ID) == "":
		return nova.Event{}, nova.Errorf(nova.EINVALID, "webhook event has no event.id")
	case strings.TrimSpace(e.EventType) == "":
		return nova.Event{}, nova.Errorf(nova.EINVALID, "webhook event has no event.event_type")
	}
	ev := nova.Event{
		ID:           e.ID,
		Type:         nova.EventType(e.EventType),
		ResourceType: e.ResourceType,
	}
	if e.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, e.OccurredAt)
		if err != nil {
			return nova.Event{}, nova.WrapError(nova.EINVALID, err, "webhook event.occurred_at is not an RFC 3339 time")
		}
		ev.OccurredAt = t
	}
	if e.Agent != nil && e.Agent.ID != "" {
		agent := e.Agent.toRef()
		ev.Agent = &agent
	}
	if e.Data != nil {
		e.Data.fill(&ev)
	}
	return ev, nil
}

// fill sets the incident, service and note fields of ev from event.data.
func (d *V3Data) fill(ev *nova.Event) {
	switch d.Type {
	case v3DataIncident:
		inc := d.toIncident()
		ev.Incident = &inc
		ev.IncidentID = inc.ID
		ev.ServiceID = inc.Service.ID
		return
	case v3DataIncidentNote:
		ev.Note = &nova.Note{ID: d.ID, Content: d.Content, Trimmed: d.Trimmed}
		// The note carries no author; whoever caused incident.annotated
		// wrote it, and that is how Nova recognises its own notes.
		if ev.Agent != nil {
			ev.Note.User = *ev.Agent
		}
		ev.Note.CreatedAt = ev.OccurredAt
	case v3DataService:
		ev.ServiceID = d.ID
		return
	case v3DataServiceFieldValues:
		if d.Service != nil {
			ev.ServiceID = d.Service.ID
		}
		return
	}
	// Every other type (incident_* and types PagerDuty adds later) is
	// attached to an incident when it names one.
	switch {
	case d.Incident != nil:
		ev.IncidentID = d.Incident.ID
	case d.Type == v3DataRoleAssignment:
		for _, ra := range d.IncidentRoleAssignments {
			if ra.Incident != nil && ra.Incident.ID != "" {
				ev.IncidentID = ra.Incident.ID
				break
			}
		}
	}
	if d.Service != nil {
		ev.ServiceID = d.Service.ID
	}
}

// toIncident maps an event.data of type "incident".
func (d *V3Data) toIncident() nova.Incident {
	inc := nova.Incident{
		ID:            d.ID,
		Number:        d.Number,
		Title:         d.Title,
		Status:        d.Status,
		Urgency:       d.Urgency,
		HTMLURL:       d.HTMLURL,
		IncidentKey:   d.IncidentKey,
		ResolveReason: webhookResolveReason(d.ResolveReason),
		Assignees:     webhookRefs(d.Assignees),
		Teams:         webhookRefs(d.Teams),
	}
	if d.Priority != nil {
		inc.Priority = d.Priority.Summary
	}
	if d.Service != nil {
		inc.Service = d.Service.toRef()
	}
	// A malformed created_at must not cost a genuine delivery (see
	// isWebhookDataMismatch); the incident keeps a zero time instead.
	if d.CreatedAt != "" {
		if t, err := time.Parse(time.RFC3339Nano, d.CreatedAt); err == nil {
			inc.CreatedAt = t
		}
	}
	return inc
}

// webhookResolveReason reads resolve_reason as either a string or an object
// with a "type" (the REST shape), and returns "" for null or anything else.
func webhookResolveReason(raw json.RawMessage) string {
	// Look at the first byte first: null, the usual value, then costs nothing.
	switch {
	case len(raw) == 0:
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case raw[0] == '{':
		var obj struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &obj) == nil {
			return obj.Type
		}
	}
	return ""
}

// toRef converts a wire reference to Nova's.
func (r *V3Ref) toRef() nova.Ref {
	return nova.Ref{ID: r.ID, Type: r.Type, Summary: r.Summary, HTMLURL: r.HTMLURL}
}

// webhookRefs converts a list of wire references, keeping nil for none.
func webhookRefs(in []V3Ref) []nova.Ref {
	if len(in) == 0 {
		return nil
	}
	out := make([]nova.Ref, len(in))
	for i := range in {
		out[i] = in[i].toRef()
	}
	return out
}
