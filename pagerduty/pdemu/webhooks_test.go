package pdemu_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// validSignature checks header the way PagerDuty documents it: any v1=
// entry equal to the hex HMAC-SHA256 of the body under secret.
func validSignature(header string, body []byte, secret string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	want := m.Sum(nil)
	for _, part := range strings.Split(header, ",") {
		sig, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		if got, err := hex.DecodeString(sig); err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

type event struct {
	Event struct {
		ID        string         `json:"id"`
		EventType string         `json:"event_type"`
		Agent     map[string]any `json:"agent"`
		Data      map[string]any `json:"data"`
	} `json:"event"`
}

func decodeEvent(t *testing.T, b []byte) event {
	t.Helper()
	var e event
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("webhook body: %v", err)
	}
	return e
}

func TestEmuWebhooksSignedAndOrdered(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	rc := newReceiver(t)
	staging := newReceiver(t)
	w.emu.Subscribe("prod", rc.srv.URL, []string{"old-secret", "new-secret"})
	w.emu.Subscribe("staging", staging.srv.URL, []string{"staging-secret"})

	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
	// Nova's own writes through the API come back as events with the bot as agent.
	w.call(t, "POST", "/incidents/"+inc.ID+"/notes", prodToken, botEmail, map[string]any{"note": map[string]any{"content": "hypothesis"}})
	w.call(t, "PUT", "/incidents/"+inc.ID, prodToken, botEmail,
		map[string]any{"incident": map[string]any{"type": "incident_reference", "status": "acknowledged"}})
	if err := w.emu.Resolve(inc.ID, "PALICE1"); err != nil {
		t.Fatal(err)
	}
	if !w.emu.WaitIdle(5 * time.Second) {
		t.Fatal("webhooks not delivered")
	}
	reqs, bodies := rc.snapshot()
	wantTypes := []string{"incident.triggered", "incident.annotated", "incident.acknowledged", "incident.resolved"}
	wantAgents := []string{"PSVCPRD", "PBOT001", "PBOT001", "PALICE1"}
	if len(reqs) != len(wantTypes) {
		t.Fatalf("got %d webhooks, want %d", len(reqs), len(wantTypes))
	}
	ids := map[string]bool{}
	for i, r := range reqs {
		ev := decodeEvent(t, bodies[i])
		if ev.Event.EventType != wantTypes[i] || ev.Event.Agent["id"] != wantAgents[i] {
			t.Errorf("webhook %d: %s by %v, want %s by %s", i, ev.Event.EventType, ev.Event.Agent["id"], wantTypes[i], wantAgents[i])
		}
		sig := r.Header.Get("X-PagerDuty-Signature")
		if !validSignature(sig, bodies[i], "old-secret") || !validSignature(sig, bodies[i], "new-secret") {
			t.Errorf("webhook %d: signature %q does not verify under both secrets", i, sig)
		}
		if validSignature(sig, bodies[i], "staging-secret") {
			t.Errorf("webhook %d verifies under another subscription's secret", i)
		}
		if r.Header.Get("User-Agent") != "PagerDuty-Webhook/V3.0" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook %d headers %v", i, r.Header)
		}
		ids[r.Header.Get("X-Webhook-Id")] = true
	}
	if len(ids) != len(reqs) {
		t.Errorf("X-Webhook-Id not unique per webhook: %v", ids)
	}
	if got, _ := staging.snapshot(); len(got) != 0 {
		t.Errorf("staging subscription got %d prod webhooks", len(got))
	}
}

func TestEmuWebhookRetriesKeepIDAndOrder(t *testing.T) {
	w := newWorld(t, pdemu.Options{WebhookBackoff: time.Millisecond})
	rc := newReceiver(t, 500, 429) // the first webhook fails twice
	w.emu.Subscribe("prod", rc.srv.URL, []string{"s"})
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
	if err := w.emu.Acknowledge(inc.ID, "PALICE1"); err != nil {
		t.Fatal(err)
	}
	if !w.emu.WaitIdle(5 * time.Second) {
		t.Fatal("webhooks not delivered")
	}
	reqs, bodies := rc.snapshot()
	if len(reqs) != 4 {
		t.Fatalf("got %d requests, want 3 tries of the trigger and 1 ack", len(reqs))
	}
	first := reqs[0].Header.Get("X-Webhook-Id")
	for i := 1; i < 3; i++ {
		if reqs[i].Header.Get("X-Webhook-Id") != first || string(bodies[i]) != string(bodies[0]) {
			t.Errorf("retry %d changed the webhook id or body", i)
		}
	}
	if ev := decodeEvent(t, bodies[3]); ev.Event.EventType != "incident.acknowledged" {
		t.Errorf("the ack overtook the retried trigger: %s", ev.Event.EventType)
	}
	outcomes := []string{}
	for _, d := range w.emu.Deliveries() {
		outcomes = append(outcomes, d.Outcome)
	}
	if strings.Join(outcomes, ",") != "retrying,retrying,delivered,delivered" {
		t.Errorf("deliveries %v", outcomes)
	}

	// Redelivery repeats the webhook id: receivers must deduplicate on it.
	if err := w.emu.Redeliver(first); err != nil {
		t.Fatal(err)
	}
	w.emu.WaitIdle(5 * time.Second)
	reqs, bodies = rc.snapshot()
	if last := reqs[len(reqs)-1]; last.Header.Get("X-Webhook-Id") != first || string(bodies[len(bodies)-1]) != string(bodies[0]) {
		t.Error("redelivery changed the webhook id or body")
	}
}

func TestEmuWebhookDropsAndDisables(t *testing.T) {
	w := newWorld(t, pdemu.Options{WebhookBackoff: time.Millisecond, WebhookAttempts: 2})
	rc := newReceiver(t, 400, 503, 503, 401)
	sub := w.emu.Subscribe("prod", rc.srv.URL, []string{"s"})
	for i := 0; i < 4; i++ {
		w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
		w.emu.WaitIdle(5 * time.Second)
	}
	reqs, _ := rc.snapshot()
	// 400: dropped at once; 503,503: dropped after 2 attempts; 401: dropped:
	// three consecutive drops disable the subscription before the fourth.
	if len(reqs) != 4 {
		t.Errorf("got %d requests, want 4", len(reqs))
	}
	subs := w.emu.Subscriptions()
	if len(subs) != 1 || subs[0].ID != sub || !subs[0].Disabled {
		t.Errorf("subscriptions %+v, want %s disabled", subs, sub)
	}
	w.emu.Enable(sub)
	w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "after enable"})
	w.emu.WaitIdle(5 * time.Second)
	if reqs, _ := rc.snapshot(); len(reqs) != 5 {
		t.Errorf("after Enable: %d requests, want 5", len(reqs))
	}
}

func TestEmuSendRaw(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	rc := newReceiver(t)
	sub := w.emu.Subscribe("prod", rc.srv.URL, []string{"s"})
	body := []byte(`{"event":{"id":"E1","event_type":"incident.triggered"}}`)
	tampered := []byte(`{"event":{"id":"E1","event_type":"incident.resolved"}}`)
	if _, err := w.emu.SendRaw(sub, tampered, http.Header{
		"X-Pagerduty-Signature": {w.emu.Sign(sub, body)},
		"X-Webhook-Id":          {"dup-1"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.emu.SendRaw(sub, body, http.Header{"X-Webhook-Id": {"dup-1"}}); err != nil {
		t.Fatal(err)
	}
	reqs, bodies := rc.snapshot()
	if validSignature(reqs[0].Header.Get("X-PagerDuty-Signature"), bodies[0], "s") {
		t.Error("tampered body still verifies")
	}
	if !validSignature(reqs[1].Header.Get("X-PagerDuty-Signature"), bodies[1], "s") {
		t.Error("raw body not signed")
	}
	if reqs[0].Header.Get("X-Webhook-Id") != "dup-1" || reqs[1].Header.Get("X-Webhook-Id") != "dup-1" {
		t.Error("X-Webhook-Id override not applied")
	}
}
