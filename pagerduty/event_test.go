package pagerduty

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// webhookTestOccurredAt is the occurred_at of the envelopes the tests build
// around the data-only fixtures.
const webhookTestOccurredAt = "2021-04-26T17:36:27.458Z"

var webhookTestAgent = nova.Ref{ID: "PLH1HKV", Type: "user_reference", Summary: "Tenex Engineer",
	HTMLURL: "https://acme.pagerduty.com/users/PLH1HKV"}

// readWebhookFixture returns a file of testdata/webhookv3.
func readWebhookFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(webhookFixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wrapWebhookData puts a data-only fixture into an envelope, as the
// fixtures' README says to.
func wrapWebhookData(t testing.TB, name, eventType, resourceType string) []byte {
	t.Helper()
	return []byte(fmt.Sprintf(`{"event":{"id":"01TESTEVENT%s","event_type":%q,"resource_type":%q,`+
		`"occurred_at":%q,"agent":{"html_url":%q,"id":%q,"self":"https://api.pagerduty.com/users/PLH1HKV",`+
		`"summary":%q,"type":%q},"client":{"name":"PagerDuty"},"data":%s}}`,
		strings.ToUpper(eventType), eventType, resourceType, webhookTestOccurredAt,
		webhookTestAgent.HTMLURL, webhookTestAgent.ID, webhookTestAgent.Summary, webhookTestAgent.Type, readWebhookFixture(t, name)))
}

func mustWebhookTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// webhookFixtureIncident is the incident of the docs' samples (PGR0VU2).
func webhookFixtureIncident(key string, created time.Time) *nova.Incident {
	return &nova.Incident{
		ID: "PGR0VU2", Number: 2, Title: "A little bump in the road", Status: nova.StatusTriggered,
		Urgency: nova.UrgencyHigh, Priority: "P1", HTMLURL: "https://acme.pagerduty.com/incidents/PGR0VU2",
		IncidentKey: key, CreatedAt: created,
		Service: nova.Ref{ID: "PF9KMXH", Type: "service_reference", Summary: "API Service",
			HTMLURL: "https://acme.pagerduty.com/services/PF9KMXH"},
		Assignees: []nova.Ref{{ID: "PTUXL6G", Type: "user_reference", Summary: "User 123",
			HTMLURL: "https://acme.pagerduty.com/users/PTUXL6G"}},
		Teams: []nova.Ref{{ID: "PFCVPS0", Type: "team_reference", Summary: "Engineering",
			HTMLURL: "https://acme.pagerduty.com/teams/PFCVPS0"}},
	}
}

// wrappedWebhookEvent is the Event expected from wrapWebhookData, before the
// fields that depend on the data.
func wrappedWebhookEvent(eventType, resourceType string) nova.Event {
	agent := webhookTestAgent
	return nova.Event{ID: "01TESTEVENT" + strings.ToUpper(eventType), Type: nova.EventType(eventType),
		ResourceType: resourceType, OccurredAt: mustWebhookTime(webhookTestOccurredAt), Agent: &agent}
}

func TestDecodeEventFixtures(t *testing.T) {
	tests := []struct {
		file string
		// eventType and resourceType wrap a data-only fixture; empty for envelopes.
		eventType, resourceType string
		want                    func() nova.Event
	}{
		{file: "go-pagerduty_webhookv3_test_body.json", want: func() nova.Event {
			agent := webhookTestAgent
			return nova.Event{ID: "01BWDWL3NYY7LUFPZCC28QUCMK", Type: nova.EventPriorityUpdate,
				ResourceType: "incident", OccurredAt: mustWebhookTime("2021-04-26T17:36:27.458Z"), Agent: &agent,
				IncidentID: "PGR0VU2", ServiceID: "PF9KMXH", Incident: webhookFixtureIncident("", time.Time{})}
		}},
		{file: "webhook_v3_incident.priority_updated.envelope.json", want: func() nova.Event {
			agent := webhookTestAgent
			return nova.Event{ID: "5ac64822-4adc-4fda-ade0-410becf0de4f", Type: nova.EventPriorityUpdate,
				ResourceType: "incident", OccurredAt: mustWebhookTime("2020-10-02T18:45:22.169Z"), Agent: &agent,
				IncidentID: "PGR0VU2", ServiceID: "PF9KMXH",
				Incident: webhookFixtureIncident("d3640fbd41094207a1c11e58e46b1662", mustWebhookTime("2020-04-09T15:16:27Z"))}
		}},
		{file: "webhook_v3_service.updated.envelope.json", want: func() nova.Event {
			return nova.Event{ID: "01BRB6ZP4M6T8ZG4X6BP63ZB9O", Type: "service.updated", ResourceType: "service",
				OccurredAt: mustWebhookTime("2021-03-02T13:35:11.682Z"), ServiceID: "PF9KMXH"}
		}},
		{file: "webhook_v3_data_incident.json", eventType: "incident.triggered", resourceType: "incident", want: func() nova.Event {
			ev := wrappedWebhookEvent("incident.triggered", "incident")
			ev.IncidentID, ev.ServiceID = "PGR0VU2", "PF9KMXH"
			ev.Incident = webhookFixtureIncident("d3640fbd41094207a1c11e58e46b1662", mustWebhookTime("2020-04-09T15:16:27Z"))
			return ev
		}},
		{file: "webhook_v3_data_incident_note.json", eventType: "incident.annotated", resourceType: "incident", want: func() nova.Event {
			ev := wrappedWebhookEvent("incident.annotated", "incident")
			ev.IncidentID = "PGR0VU2"
			ev.Note = &nova.Note{ID: "P2LA89X", Content: "I sure am glad we are using PagerDuty!",
				User: webhookTestAgent, CreatedAt: mustWebhookTime(webhookTestOccurredAt)}
			return ev
		}},
		{file: "webhook_v3_data_incident_action_invocation.json", eventType: "incident.action_invocation.created", resourceType: "incident", want: webhookIncidentOnly("incident.action_invocation.created", "PBAZLIU", "")},
		{file: "webhook_v3_data_incident_conference_bridge.json", eventType: "incident.conference_bridge.updated", resourceType: "incident", want: webhookIncidentOnly("incident.conference_bridge.updated", "PGR0VU2", "")},
		{file: "webhook_v3_data_incident_field_values.json", eventType: "incident.custom_field_values.updated", resourceType: "incident", want: webhookIncidentOnly("incident.custom_field_values.updated", "PBAZLIU", "")},
		{file: "webhook_v3_data_incident_responder.json", eventType: "incident.responder.added", resourceType: "incident", want: webhookIncidentOnly("incident.responder.added", "PGR0VU2", "")},
		{file: "webhook_v3_data_incident_role_assignment.json", eventType: "incident.role.assigned", resourceType: "incident", want: webhookIncidentOnly("incident.role.assigned", "PBAZLIU", "")},
		{file: "webhook_v3_data_incident_status_update.json", eventType: "incident.status_update_published", resourceType: "incident", want: webhookIncidentOnly("incident.status_update_published", "PGR0VU2", "")},
		// The task's own id (PGR0VU2) is not its incident's.
		{file: "webhook_v3_data_incident_task.json", eventType: "incident.task.created", resourceType: "incident", want: webhookIncidentOnly("incident.task.created", "Q0SDD3HB6SGFTI", "")},
		{file: "webhook_v3_data_incident_workflow_instance.json", eventType: "incident.workflow.started", resourceType: "incident", want: webhookIncidentOnly("incident.workflow.started", "PBAZLIU", "PF9KMXH")},
		{file: "webhook_v3_data_service.json", eventType: "service.created", resourceType: "service", want: webhookServiceOnly("service.created", "PF9KMXH")},
		{file: "webhook_v3_data_service_field_values.json", eventType: "service.custom_field_values.updated", resourceType: "service", want: webhookServiceOnly("service.custom_field_values.updated", "PY0TW31")},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			body := readWebhookFixture(t, tt.file)
			if tt.eventType != "" {
				body = wrapWebhookData(t, tt.file, tt.eventType, tt.resourceType)
			}
			got, err := DecodeEvent(body)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if want := tt.want(); !reflect.DeepEqual(got, want) {
				t.Errorf("DecodeEvent mismatch\n got: %+v\nwant: %+v", got, want)
				if got.Incident != nil && want.Incident != nil {
					t.Errorf("incident\n got: %+v\nwant: %+v", *got.Incident, *want.Incident)
				}
			}
		})
	}
	// A fixture added later must be added to the table too.
	files, _ := filepath.Glob(filepath.Join(webhookFixtureDir, "*.json"))
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s is not in the decode table", filepath.Base(f))
		}
	}
}

func webhookIncidentOnly(eventType, incidentID, serviceID string) func() nova.Event {
	return func() nova.Event {
		ev := wrappedWebhookEvent(eventType, "incident")
		ev.IncidentID, ev.ServiceID = incidentID, serviceID
		return ev
	}
}

func webhookServiceOnly(eventType, serviceID string) func() nova.Event {
	return func() nova.Event {
		ev := wrappedWebhookEvent(eventType, "service")
		ev.ServiceID = serviceID
		return ev
	}
}

func TestDecodeEventRefused(t *testing.T) {
	valid := `{"event":{"id":"E1","event_type":"incident.triggered"}}`
	tests := []struct {
		name, body string
		message    string // substring of the user-facing message
	}{
		{"empty body", "", "malformed JSON"},
		{"whitespace", "  \n", "malformed JSON"},
		{"null", "null", "no event object"},
		{"empty object", "{}", "no event object"},
		{"event null", `{"event":null}`, "no event object"},
		{"event empty", `{"event":{}}`, "event.id"},
		{"blank id", `{"event":{"id":"  ","event_type":"incident.triggered"}}`, "event.id"},
		{"no event_type", `{"event":{"id":"E1"}}`, "event.event_type"},
		{"empty event_type", `{"event":{"id":"E1","event_type":""}}`, "event.event_type"},
		{"array", `[` + valid + `]`, "must be a JSON object"},
		{"string", `"event"`, "must be a JSON object"},
		{"number", `42`, "must be a JSON object"},
		{"event is a string", `{"event":"x"}`, "event must be a JSON object"},
		{"id is a number", `{"event":{"id":1,"event_type":"incident.triggered"}}`, "event.id must be a JSON string"},
		{"data is a string", `{"event":{"id":"E1","event_type":"pagey.ping","data":"hello"}}`, "event.data must be a JSON object"},
		{"data is an array", `{"event":{"id":"E1","event_type":"pagey.ping","data":[]}}`, "event.data must be a JSON object"},
		{"trailing garbage", valid + "SECRETGARBAGE", "malformed JSON"},
		{"two objects", valid + valid, "malformed JSON"},
		{"truncated", valid[:len(valid)-3], "malformed JSON"},
		{"bad occurred_at", `{"event":{"id":"E1","event_type":"incident.triggered","occurred_at":"yesterday"}}`, "occurred_at"},
		{"occurred_at number", `{"event":{"id":"E1","event_type":"incident.triggered","occurred_at":1}}`, "occurred_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tt.body))
			if !nova.IsCode(err, nova.EINVALID) {
				t.Fatalf("DecodeEvent = %+v, %v; want %s", ev, err, nova.EINVALID)
			}
			msg := nova.ErrorMessage(err)
			if !strings.Contains(msg, tt.message) {
				t.Errorf("message %q does not mention %q", msg, tt.message)
			}
			if strings.Contains(msg, "GARBAGE") {
				t.Errorf("message %q quotes the body", msg)
			}
		})
	}
}

func TestDecodeEventTolerant(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(t *testing.T, ev nova.Event)
	}{
		{"ping without data", `{"event":{"id":"P1","event_type":"pagey.ping"}}`, func(t *testing.T, ev nova.Event) {
			if ev.Type != nova.EventPing || ev.IncidentID != "" || ev.ServiceID != "" {
				t.Errorf("got %+v", ev)
			}
		}},
		{"ping with data", `{"event":{"id":"P1","event_type":"pagey.ping","resource_type":"pagey","agent":null,"client":null,` +
			`"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}`, func(t *testing.T, ev nova.Event) {
			if ev.Type != nova.EventPing || ev.ResourceType != "pagey" || ev.Agent != nil {
				t.Errorf("got %+v", ev)
			}
		}},
		{"unknown event and data type", `{"event":{"id":"U1","event_type":"incident.future_thing",` +
			`"data":{"type":"incident_future","incident":{"id":"PX"},"service":{"id":"SX"}}}}`, func(t *testing.T, ev nova.Event) {
			if ev.Type != "incident.future_thing" || ev.IncidentID != "PX" || ev.ServiceID != "SX" || ev.Type.Handled() {
				t.Errorf("got %+v", ev)
			}
		}},
		{"unknown fields", `{"extra":1,"event":{"id":"E1","event_type":"incident.triggered","new":{"a":[1,2]},` +
			`"data":{"type":"incident","id":"P1","brand_new":{"x":null}}}}`, func(t *testing.T, ev nova.Event) {
			if ev.IncidentID != "P1" || ev.Incident == nil {
				t.Errorf("got %+v", ev)
			}
		}},
		{"surrounding whitespace", "\n " + `{"event":{"id":"E1","event_type":"incident.triggered"}}` + "\n", func(t *testing.T, ev nova.Event) {
			if ev.ID != "E1" {
				t.Errorf("got %+v", ev)
			}
		}},
		{"data field of unexpected type", `{"event":{"id":"E1","event_type":"incident.triggered",` +
			`"data":{"type":"incident","id":"P1","number":"2","title":"T","service":{"id":"S1"}}}}`, func(t *testing.T, ev nova.Event) {
			if ev.IncidentID != "P1" || ev.ServiceID != "S1" || ev.Incident.Number != 0 || ev.Incident.Title != "T" {
				t.Errorf("got %+v", ev)
			}
		}},
		{"malformed created_at", `{"event":{"id":"E1","event_type":"incident.triggered",` +
			`"data":{"type":"incident","id":"P1","created_at":"soon"}}}`, func(t *testing.T, ev nova.Event) {
			if !ev.Incident.CreatedAt.IsZero() || ev.IncidentID != "P1" {
				t.Errorf("got %+v", ev)
			}
		}},
		{"resolve_reason string", `{"event":{"id":"E1","event_type":"incident.resolved",` +
			`"data":{"type":"incident","id":"P1","resolve_reason":"merge"}}}`, func(t *testing.T, ev nova.Event) {
			if ev.Incident.ResolveReason != "merge" {
				t.Errorf("resolve reason %q", ev.Incident.ResolveReason)
			}
		}},
		{"resolve_reason object", `{"event":{"id":"E1","event_type":"incident.resolved",` +
			`"data":{"type":"incident","id":"P1","resolve_reason":{"type":"merge_resolve_reason","incident":{"id":"P2"}}}}}`, func(t *testing.T, ev nova.Event) {
			if ev.Incident.ResolveReason != "merge_resolve_reason" {
				t.Errorf("resolve reason %q", ev.Incident.ResolveReason)
			}
		}},
		{"agent without id", `{"event":{"id":"E1","event_type":"incident.triggered","agent":{}}}`, func(t *testing.T, ev nova.Event) {
			if ev.Agent != nil {
				t.Errorf("agent %+v, want nil", ev.Agent)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeEvent([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			tt.check(t, ev)
		})
	}
}
