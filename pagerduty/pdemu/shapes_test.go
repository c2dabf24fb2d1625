package pdemu_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// seeded creates an incident with every kind of evidence and returns its id.
func seeded(t *testing.T, w *world) string {
	t.Helper()
	emu := w.emu
	inc := emu.CreateIncident(pdemu.IncidentSpec{
		ServiceID: "PSVCPRD", Title: "checkout 5xx above 2%", Priority: "P1", Assignees: []string{"PALICE1"},
		Alerts: []pdemu.AlertSpec{{Summary: "5xx rate high", Severity: "critical", Source: "prometheus",
			Details: map[string]any{"rate": 0.031, "labels": map[string]any{"pod": "checkout-7f9"}}}},
	})
	other := emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "payments latency"})
	change := emu.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PSVCPRD", Summary: "deploy v42", Source: "argo",
		Details: map[string]any{"version": "v42"}, Links: nil, Timestamp: time.Now().Add(-5 * time.Minute)})
	emu.CorrelateChange(inc.ID, change, "most_recent")
	emu.AddPastIncident(inc.ID, pdemu.PastIncidentSpec{Title: "checkout 5xx", Score: 46.8,
		CreatedAt: time.Now().Add(-72 * time.Hour), ResolutionNotes: []string{"rolled back v39"}, ResolvedBy: "PALICE1"})
	emu.AddRelatedIncident(inc.ID, other.ID, "machine_learning_inferred")
	emu.SetOutlier(inc.ID, pdemu.OutlierSpec{Category: "rare", Count: 3, Frequency: 0.04, Template: "checkout 5xx above <*>",
		Since: time.Now().Add(-30 * 24 * time.Hour), Until: time.Now()})
	if _, err := emu.AddNote(inc.ID, "PALICE1", "looking"); err != nil {
		t.Fatal(err)
	}
	return inc.ID
}

func TestEmuShapesMatchFixtures(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	id := seeded(t, w)
	optional := map[string]bool{
		// The emulator's services use a constant urgency rule.
		"$.services[].incident_urgency_rule.during_support_hours":  true,
		"$.services[].incident_urgency_rule.outside_support_hours": true,
		"$.service.incident_urgency_rule.during_support_hours":     true,
		"$.service.incident_urgency_rule.outside_support_hours":    true,
	}
	cases := []struct{ path, fixture string }{
		{"/incidents/" + id, "rest_GET_incident.response.json"},
		{"/incidents/" + id + "/alerts", "rest_GET_incident_alerts.response.json"},
		{"/incidents/" + id + "/notes", "rest_GET_incident_notes.response.json"},
		{"/incidents/" + id + "/log_entries", "rest_GET_incident_log_entries.response.json"},
		{"/incidents/" + id + "/related_change_events", "rest_GET_related_change_events.response.json"},
		{"/services/PSVCPRD/change_events", "rest_GET_change_events.response.json"},
		{"/incidents/" + id + "/past_incidents", "rest_GET_past_incidents.response.json"},
		{"/incidents/" + id + "/related_incidents", "rest_GET_related_incidents.response.json"},
		{"/incidents/" + id + "/outlier_incident", "rest_GET_outlier_incident.response.json"},
		{"/services", "rest_GET_services.response.json"},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			r := w.call(t, "GET", c.path, prodToken, "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", c.path, r.status, r.raw)
			}
			sameShape(t, "$", fixture(t, c.fixture), r.body, optional)
		})
	}
	t.Run("GET service", func(t *testing.T) {
		list := fixture(t, "rest_GET_services.response.json").(map[string]any)
		want := map[string]any{"service": list["services"].([]any)[0]}
		r := w.call(t, "GET", "/services/PSVCPRD", prodToken, "", nil)
		sameShape(t, "$", want, r.body, optional)
	})
	t.Run("POST note", func(t *testing.T) {
		r := w.call(t, "POST", "/incidents/"+id+"/notes", prodToken, botEmail, fixture(t, "rest_POST_incident_note.request.json"))
		if r.status != http.StatusOK {
			t.Fatalf("POST note: %d %s", r.status, r.raw)
		}
		sameShape(t, "$", fixture(t, "rest_POST_incident_note.response.json"), r.body, nil)
	})
	t.Run("PUT incident", func(t *testing.T) {
		r := w.call(t, "PUT", "/incidents/"+id, prodToken, botEmail, fixture(t, "rest_PUT_incident_ack.request.json"))
		if r.status != http.StatusOK {
			t.Fatalf("PUT incident: %d %s", r.status, r.raw)
		}
		sameShape(t, "$", fixture(t, "rest_PUT_incident.response.json"), r.body, nil)
	})
	t.Run("429", func(t *testing.T) {
		w := newWorld(t, pdemu.Options{RateLimit: 1})
		w.call(t, "GET", "/services", prodToken, "", nil)
		r := w.call(t, "GET", "/services", prodToken, "", nil)
		want := map[string]any{"error": map[string]any{"message": "Rate Limit Exceeded", "code": float64(2020)}}
		if r.status != http.StatusTooManyRequests || !jsonEqual(r.body, want) {
			t.Fatalf("got %d %s, want 429 with PagerDuty's body", r.status, r.raw)
		}
	})
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// receiver is a webhook endpoint that records what it gets and answers
// with the statuses queued in plan (then 202).
type receiver struct {
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
	plan []int
	srv  *httptest.Server
}

func newReceiver(t *testing.T, plan ...int) *receiver {
	rc := &receiver{plan: plan}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b []byte
		b, _ = readAll(r)
		rc.mu.Lock()
		rc.got = append(rc.got, r)
		rc.body = append(rc.body, b)
		status := http.StatusAccepted
		if len(rc.plan) > 0 {
			status, rc.plan = rc.plan[0], rc.plan[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) snapshot() ([]*http.Request, [][]byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.got...), append([][]byte(nil), rc.body...)
}

func TestEmuWebhookShapesMatchFixtures(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	rc := newReceiver(t)
	w.emu.Subscribe("prod", rc.srv.URL, []string{"s1"})
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "disk full", Priority: "P2", Assignees: []string{"PALICE1"}})
	if _, err := w.emu.AddNote(inc.ID, "PALICE1", "on it"); err != nil {
		t.Fatal(err)
	}
	if !w.emu.WaitIdle(5 * time.Second) {
		t.Fatal("webhooks not delivered")
	}
	_, bodies := rc.snapshot()
	if len(bodies) != 2 {
		t.Fatalf("got %d webhooks, want 2", len(bodies))
	}
	var trig, note map[string]any
	_ = json.Unmarshal(bodies[0], &trig)
	_ = json.Unmarshal(bodies[1], &note)
	env := fixture(t, "webhook_v3_incident.priority_updated.envelope.json").(map[string]any)
	// The envelope fixture is an older capture without incident_type.
	sameShape(t, "$", env, trig, nil)
	sameShape(t, "$.event.data", fixture(t, "webhook_v3_data_incident.json"), trig["event"].(map[string]any)["data"], nil)
	sameShape(t, "$.event.data", fixture(t, "webhook_v3_data_incident_note.json"), note["event"].(map[string]any)["data"], nil)
}
