package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// createSubscription creates a webhook subscription the way an admin would,
// with a full-access key outside the scoped client.
func createSubscription(t *testing.T, rig *clientRig, token, url string, active bool, events ...string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"webhook_subscription": map[string]any{
		"type": "webhook_subscription", "description": "nova",
		"delivery_method": map[string]any{"type": "http_delivery_method", "url": url},
		"events":          events, "filter": map[string]any{"type": "account_reference"}, "active": active,
	}})
	req, _ := http.NewRequest(http.MethodPost, rig.url+"/webhook_subscriptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Token token="+token)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create subscription: %d", resp.StatusCode)
	}
}

// The scoped client reads its environment's webhook subscriptions (active
// or not, never a secret) with one GET, and nothing of another environment.
func TestClientWebhookSubscriptions(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	createSubscription(t, rig, clientProdToken, "https://nova.example/webhooks/pagerduty/prod", true, "incident.triggered", "incident.resolved")
	createSubscription(t, rig, clientProdToken, "https://nova.example/webhooks/pagerduty/prod", false, "incident.triggered")
	createSubscription(t, rig, clientStagingToken, "https://nova.example/webhooks/pagerduty/staging", true, "incident.triggered")
	before := len(rig.emu.Requests())

	subs, err := rig.client(t, "prod", nil).WebhookSubscriptions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 {
		t.Fatalf("got %d subscriptions, want prod's 2: %+v", len(subs), subs)
	}
	if !subs[0].Active || subs[1].Active || subs[0].DeliveryMethod.URL != "https://nova.example/webhooks/pagerduty/prod" ||
		len(subs[0].Events) != 2 || subs[0].Filter.Type != "account_reference" || subs[0].DeliveryMethod.TemporarilyDisabled {
		t.Errorf("subscriptions read wrong: %+v", subs)
	}
	reqs := rig.emu.Requests()[before:]
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/webhook_subscriptions" {
		t.Errorf("requests: %+v", reqs)
	}
	if u := rig.emu.Unexpected(); len(u) != 0 {
		t.Errorf("emulator refused: %+v", u)
	}
}
