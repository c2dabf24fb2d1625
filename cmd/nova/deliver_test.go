package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/internal/e2e"
)

// envelope renders a V3 webhook body for an incident, as PagerDuty sends it.
func envelope(eventID, eventType string, inc nova.Incident, at time.Time) []byte {
	data := map[string]any{
		"id": inc.ID, "type": "incident", "self": "https://api.pagerduty.com/incidents/" + inc.ID,
		"html_url": inc.HTMLURL, "number": inc.Number, "status": inc.Status, "incident_key": inc.IncidentKey,
		"created_at": inc.CreatedAt.UTC().Format(time.RFC3339), "title": inc.Title,
		"service":   map[string]any{"id": inc.Service.ID, "summary": inc.Service.Summary, "type": "service_reference"},
		"assignees": []any{}, "teams": []any{}, "priority": nil, "urgency": inc.Urgency,
		"escalation_policy": map[string]any{"id": "PEP1", "type": "escalation_policy_reference"},
		"conference_bridge": nil, "resolve_reason": nil,
	}
	b, _ := json.Marshal(map[string]any{"event": map[string]any{
		"id": eventID, "event_type": eventType, "resource_type": "incident",
		"occurred_at": at.UTC().Format(time.RFC3339Nano), "agent": nil, "client": nil, "data": data,
	}})
	return b
}

// signature is PagerDuty's X-PagerDuty-Signature over body with secrets.
func signature(body []byte, secrets ...string) string { return e2e.SignPagerDuty(body, secrets...) }

// post sends a webhook delivery with the given headers.
func post(t *testing.T, url string, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PagerDuty-Webhook/V3.0")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(rb)
}

// deliver posts a signed delivery of body to env's webhook URL.
func (h *harness) deliver(in *instance, env, webhookID string, body []byte) (int, string) {
	return post(h.t, in.url+"/webhooks/pagerduty/"+env, body, map[string]string{
		"X-Webhook-Id": webhookID, "X-PagerDuty-Signature": signature(body, h.env[env].Webhook...),
	})
}
