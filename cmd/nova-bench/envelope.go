package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/novasre/nova/internal/e2e"
)

// delivery is one prepared webhook delivery: body and headers are built and
// signed before the load starts, so the clients spend their time sending.
type delivery struct {
	webhookID string
	signature string
	body      []byte
}

// ref is a PagerDuty resource reference as V3 webhooks render it.
type ref struct {
	HTMLURL string `json:"html_url,omitempty"`
	ID      string `json:"id"`
	Self    string `json:"self,omitempty"`
	Summary string `json:"summary,omitempty"`
	Type    string `json:"type"`
}

func userRef(id, name string) ref {
	return ref{HTMLURL: "https://acme.pagerduty.com/users/" + id, ID: id,
		Self: "https://api.pagerduty.com/users/" + id, Summary: name, Type: "user_reference"}
}

// ackEnvelope renders an incident.acknowledged V3 delivery shaped like
// PagerDuty's own (go-pagerduty's webhookv3 test body: agent, assignees,
// escalation policy, team, priority, conference bridge), about 1.6 KB. The
// acknowledging agent is a person, not Nova's bot user, so Nova does not
// take it for its own echo; the incident is one Nova never saw triggered,
// so the worker's handling is a cheap no-op and the figure is ingress.
func ackEnvelope(eventID, incidentID, serviceID, serviceName string, number int, at time.Time) []byte {
	data := map[string]any{
		"id": incidentID, "type": "incident",
		"self":     "https://api.pagerduty.com/incidents/" + incidentID,
		"html_url": "https://acme.pagerduty.com/incidents/" + incidentID,
		"number":   number, "status": "acknowledged", "incident_key": e2e.RandHex(8),
		"created_at": at.Add(-3 * time.Minute).UTC().Format(time.RFC3339),
		"title":      fmt.Sprintf("%s: HTTP 5xx error rate above 5%%", serviceName),
		"service": ref{HTMLURL: "https://acme.pagerduty.com/services/" + serviceID, ID: serviceID,
			Self: "https://api.pagerduty.com/services/" + serviceID, Summary: serviceName, Type: "service_reference"},
		"assignees": []ref{userRef("PALICE1", "Alice")},
		"escalation_policy": ref{HTMLURL: "https://acme.pagerduty.com/escalation_policies/PUS0KTE", ID: "PUS0KTE",
			Self: "https://api.pagerduty.com/escalation_policies/PUS0KTE", Summary: "Default", Type: "escalation_policy_reference"},
		"teams": []ref{{HTMLURL: "https://acme.pagerduty.com/teams/PFCVPS0", ID: "PFCVPS0",
			Self: "https://api.pagerduty.com/teams/PFCVPS0", Summary: "Engineering", Type: "team_reference"}},
		"priority": ref{HTMLURL: "https://acme.pagerduty.com/account/incident_priorities", ID: "PSO75BM",
			Self: "https://api.pagerduty.com/priorities/PSO75BM", Summary: "P2", Type: "priority_reference"},
		"urgency":           "high",
		"conference_bridge": map[string]any{"conference_number": 1000, "conference_url": "https://example.com"},
		"resolve_reason":    nil,
	}
	b, err := json.Marshal(map[string]any{"event": map[string]any{
		"id": eventID, "event_type": "incident.acknowledged", "resource_type": "incident",
		"occurred_at": at.UTC().Format(time.RFC3339Nano),
		"agent":       userRef("PALICE1", "Alice"),
		"client":      nil,
		"data":        data,
	}})
	if err != nil {
		panic(err) // only plain values above: cannot fail
	}
	return b
}

// ackDeliveries prepares n signed deliveries, each with its own webhook id,
// event id and incident id (distinct incidents also spread the inbox's
// per-incident ordering keys, as real traffic does).
func ackDeliveries(n int, tag, secret, serviceID, serviceName string) []delivery {
	out := make([]delivery, n)
	now := time.Now()
	for i := range out {
		body := ackEnvelope(fmt.Sprintf("01BENCH%s%08dEV", tag, i), fmt.Sprintf("Q%s%07d", tag, i),
			serviceID, serviceName, 1000+i, now)
		out[i] = delivery{webhookID: randUUID(), signature: e2e.SignPagerDuty(body, secret), body: body}
	}
	return out
}

// randUUID returns a random version-4 UUID, the form of X-Webhook-Id.
func randUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
