package pdemu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

func subscriptionBody(url, filterType, filterID string, events ...string) map[string]any {
	filter := map[string]any{"type": filterType}
	if filterID != "" {
		filter["id"] = filterID
	}
	return map[string]any{"webhook_subscription": map[string]any{
		"type":            "webhook_subscription",
		"delivery_method": map[string]any{"type": "http_delivery_method", "url": url},
		"description":     "nova prod",
		"events":          events,
		"filter":          filter,
	}}
}

// A subscription created through the REST API returns its secret once,
// lists without it, and receives only its event types for incidents in its
// filter, signed with that secret.
func TestEmuWebhookSubscriptionsREST(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	w.emu.AddService("prod", pdemu.Service{ID: "PSVC2", Name: "payments"})
	w.emu.AddTeam("prod", "PTEAM1", "payments-team", "PSVC2")
	svcRC, teamRC := newReceiver(t), newReceiver(t)

	r := w.call(t, "POST", "/webhook_subscriptions", prodToken, "", subscriptionBody(svcRC.srv.URL, "service_reference", "PSVCPRD", "incident.triggered", "incident.resolved"))
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	created := r.body["webhook_subscription"].(map[string]any)
	secret, _ := created["delivery_method"].(map[string]any)["secret"].(string)
	if len(secret) < 32 || created["active"] != true || !strings.HasPrefix(created["id"].(string), "P") {
		t.Fatalf("created = %v", created)
	}
	if r := w.call(t, "POST", "/webhook_subscriptions", prodToken, "", subscriptionBody(teamRC.srv.URL, "team_reference", "PTEAM1", "incident.triggered")); r.status != 200 {
		t.Fatalf("create team-scoped: %d %s", r.status, r.raw)
	}

	list := w.call(t, "GET", "/webhook_subscriptions?filter_type=service&filter_id=PSVCPRD", prodToken, "", nil)
	subs := list.body["webhook_subscriptions"].([]any)
	if list.status != 200 || len(subs) != 1 || strings.Contains(string(list.raw), secret) {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	if got := w.call(t, "GET", "/webhook_subscriptions/"+created["id"].(string), prodToken, "", nil); got.status != 200 || strings.Contains(string(got.raw), secret) {
		t.Fatalf("get: %d %s", got.status, got.raw)
	}
	if got := w.call(t, "GET", "/webhook_subscriptions", stagingToken, "", nil); len(got.body["webhook_subscriptions"].([]any)) != 0 {
		t.Fatalf("staging sees prod subscriptions: %s", got.raw)
	}

	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
	w.call(t, "POST", "/incidents/"+inc.ID+"/notes", prodToken, botEmail, map[string]any{"note": map[string]any{"content": "n"}})
	if err := w.emu.Resolve(inc.ID, "PALICE1"); err != nil {
		t.Fatal(err)
	}
	other := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVC2", Title: "y"})
	if !w.emu.WaitIdle(5 * time.Second) {
		t.Fatal("webhooks not delivered")
	}
	reqs, bodies := svcRC.snapshot()
	var types []string
	for i, rq := range reqs {
		ev := decodeEvent(t, bodies[i])
		types = append(types, ev.Event.EventType)
		if !validSignature(rq.Header.Get("X-PagerDuty-Signature"), bodies[i], secret) {
			t.Errorf("webhook %d is not signed with the subscription's secret", i)
		}
	}
	if strings.Join(types, ",") != "incident.triggered,incident.resolved" {
		t.Errorf("service-scoped subscription got %v, want only its events for its service", types)
	}
	treqs, tbodies := teamRC.snapshot()
	if len(treqs) != 1 || !strings.Contains(string(tbodies[0]), other.ID) {
		t.Errorf("team-scoped subscription got %d webhooks", len(treqs))
	}
}

func TestEmuWebhookSubscriptionsRefuseBadInput(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	url := "https://nova.example.com/webhooks/pagerduty/prod"
	cases := []struct {
		name string
		body map[string]any
		want string
	}{
		{"no events", subscriptionBody(url, "account_reference", ""), "events must list"},
		{"unknown event", subscriptionBody(url, "account_reference", "", "incident.exploded"), "is not an event type"},
		{"unknown service", subscriptionBody(url, "service_reference", "PNOPE", "incident.triggered"), `no service \"PNOPE\"`},
		{"other env's service", subscriptionBody(url, "service_reference", "PSVCSTG", "incident.triggered"), `no service \"PSVCSTG\"`},
		{"bad filter", subscriptionBody(url, "user_reference", "PALICE1", "incident.triggered"), "filter.type must be"},
		{"bad url", subscriptionBody("ftp://x", "account_reference", "", "incident.triggered"), "delivery_method.url"},
	}
	for _, tc := range cases {
		r := w.call(t, "POST", "/webhook_subscriptions", prodToken, "", tc.body)
		if r.status != 400 || !strings.Contains(string(r.raw), tc.want) {
			t.Errorf("%s: %d %s", tc.name, r.status, r.raw)
		}
	}
	// Fields the emulator does not model are refused and recorded.
	body := subscriptionBody(url, "account_reference", "", "incident.triggered")
	body["webhook_subscription"].(map[string]any)["delivery_method"].(map[string]any)["custom_headers"] = []any{}
	if r := w.call(t, "POST", "/webhook_subscriptions", prodToken, "", body); r.status != 400 || len(w.emu.Unexpected()) != 1 {
		t.Errorf("custom_headers: %d %s", r.status, r.raw)
	}
	// PagerDuty's product limit: 10 per scope.
	for i := 0; i < 10; i++ {
		if r := w.call(t, "POST", "/webhook_subscriptions", prodToken, "", subscriptionBody(url, "account_reference", "", "incident.triggered")); r.status != 200 {
			t.Fatalf("subscription %d: %d %s", i, r.status, r.raw)
		}
	}
	if r := w.call(t, "POST", "/webhook_subscriptions", prodToken, "", subscriptionBody(url, "account_reference", "", "incident.triggered")); r.status != 400 || !strings.Contains(string(r.raw), "2019") {
		t.Errorf("11th subscription: %d %s", r.status, r.raw)
	}
}

func TestEmuListUsersByQuery(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	r := w.call(t, "GET", "/users?query=NOVA-BOT@example.com", prodToken, "", nil)
	users := r.body["users"].([]any)
	if r.status != 200 || len(users) != 1 || users[0].(map[string]any)["id"] != "PBOT001" {
		t.Fatalf("users: %d %s", r.status, r.raw)
	}
	if r := w.call(t, "GET", "/users?query=nobody@example.com", prodToken, "", nil); len(r.body["users"].([]any)) != 0 {
		t.Fatalf("unknown user found: %s", r.raw)
	}
}
