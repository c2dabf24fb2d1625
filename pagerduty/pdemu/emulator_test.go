package pdemu_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"
	"github.com/novasre/nova/pagerduty/pdemu"
)

func TestEmuRefusesUnauthenticated(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	if r := w.call(t, "GET", "/services", "", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("no token: got %d, want 401", r.status)
	}
	if r := w.call(t, "GET", "/services", "nope", "", nil); r.status != http.StatusUnauthorized || r.errorCode() != 2006 {
		t.Errorf("unknown token: got %d %s, want 401 code 2006", r.status, r.raw)
	}
	w.emu.RevokeToken(prodToken)
	if r := w.call(t, "GET", "/services", prodToken, "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("revoked token: got %d, want 401", r.status)
	}
	req, _ := http.NewRequest("GET", w.url+"/services", nil)
	req.Header.Set("Authorization", "Token token="+stagingToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotAcceptable || len(w.emu.Unexpected()) != 1 {
		t.Errorf("no Accept header: got %d and %d unexpected, want 406 and 1", resp.StatusCode, len(w.emu.Unexpected()))
	}
	for _, r := range w.emu.Requests() {
		if strings.Contains(r.Token, "token") || len(r.Token) > 4 {
			t.Errorf("recorded token %q: want the last four characters only", r.Token)
		}
	}
}

func TestEmuRefusesWhatItDoesNotModel(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	id := seeded(t, w)
	cases := []struct{ method, path string }{
		{"DELETE", "/incidents/" + id + "/notes/N1"},
		{"POST", "/incidents"},
		{"GET", "/teams"},
		{"POST", "/incidents/" + id + "/snooze"},
		{"GET", "/incidents/" + id + "/alerts?statuses[]=triggered"},
		{"GET", "/incidents/" + id + "/../" + id},
	}
	for _, c := range cases {
		r := w.call(t, c.method, c.path, prodToken, botEmail, map[string]any{})
		if r.status < 400 {
			t.Errorf("%s %s: got %d, want a refusal", c.method, c.path, r.status)
		}
	}
	if got := len(w.emu.Unexpected()); got != len(cases) {
		t.Errorf("got %d unexpected requests, want %d", got, len(cases))
	}
	r := w.call(t, "GET", "/teams", prodToken, "", nil)
	msg := r.body["error"].(map[string]any)["message"]
	if r.status != 404 || r.errorCode() != 2100 || msg != "pdemu: not modelled: GET /teams" {
		t.Errorf("got %d %s", r.status, r.raw)
	}
	// A body field the emulator would ignore is refused too.
	r = w.call(t, "PUT", "/incidents/"+id, prodToken, botEmail,
		map[string]any{"incident": map[string]any{"type": "incident_reference", "status": "acknowledged", "priority": map[string]any{"id": "P1"}}})
	if r.status != 400 || len(w.emu.Unexpected()) != len(cases)+2 {
		t.Errorf("unmodelled body field: got %d %s", r.status, r.raw)
	}
}

func TestEmuCrossEnvironmentIs404AndRecorded(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	prod := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "prod down"})
	if r := w.call(t, "GET", "/incidents/"+prod.ID, prodToken, "", nil); r.status != 200 {
		t.Fatalf("same environment: %d", r.status)
	}
	if len(w.emu.CrossEnvironment()) != 0 {
		t.Fatal("cross-environment recorded for a same-environment call")
	}
	for _, path := range []string{"/incidents/" + prod.ID, "/incidents/" + prod.ID + "/notes", "/services/PSVCPRD"} {
		if r := w.call(t, "GET", path, stagingToken, "", nil); r.status != 404 || r.errorCode() != 2100 {
			t.Errorf("GET %s with the staging key: got %d, want 404", path, r.status)
		}
	}
	r := w.call(t, "POST", "/incidents/"+prod.ID+"/notes", stagingToken, botEmail, map[string]any{"note": map[string]any{"content": "x"}})
	if r.status != 404 || len(w.emu.Notes(prod.ID)) != 0 {
		t.Errorf("cross-environment note: got %d, notes %v", r.status, w.emu.Notes(prod.ID))
	}
	cross := w.emu.CrossEnvironment()
	if len(cross) != 4 || cross[0].Environment != "staging" || cross[0].CrossEnvironment != "prod" {
		t.Errorf("got %+v, want 4 staging→prod violations", cross)
	}
	if n := w.emu.NonGET("staging"); n != 1 {
		t.Errorf("NonGET(staging) = %d, want 1", n)
	}
	list := w.call(t, "GET", "/services", stagingToken, "", nil)
	if svcs := list.body["services"].([]any); len(svcs) != 1 || svcs[0].(map[string]any)["id"] != "PSVCSTG" {
		t.Errorf("staging key lists %v, want only its own service", svcs)
	}
}

func TestEmuNotesNeedAValidFrom(t *testing.T) {
	w := newWorld(t, pdemu.Options{MaxNotes: 2})
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
	note := map[string]any{"note": map[string]any{"content": "hypothesis: bad deploy"}}
	path := "/incidents/" + inc.ID + "/notes"
	for _, from := range []string{"", "nobody@example.com"} {
		r := w.call(t, "POST", path, prodToken, from, note)
		if r.status != 400 || r.errorCode() != 2001 {
			t.Errorf("From %q: got %d %s, want 400 code 2001", from, r.status, r.raw)
		}
	}
	r := w.call(t, "POST", path, prodToken, botEmail, note)
	if r.status != 200 {
		t.Fatalf("valid note: %d %s", r.status, r.raw)
	}
	if user := r.body["note"].(map[string]any)["user"].(map[string]any); user["id"] != "PBOT001" {
		t.Errorf("note author %v, want the From user", user)
	}
	log := w.emu.LogEntries(inc.ID)
	last := log[len(log)-1]
	if last.Type != "annotate_log_entry" || last.Agent.ID != "PBOT001" {
		t.Errorf("last log entry %+v, want annotate_log_entry by the bot", last)
	}
	w.call(t, "POST", path, prodToken, botEmail, note)
	if r := w.call(t, "POST", path, prodToken, botEmail, note); r.status != 400 {
		t.Errorf("note over the limit: got %d", r.status)
	}
	if n := len(w.emu.Notes(inc.ID)); n != 2 {
		t.Errorf("got %d notes, want 2", n)
	}
}

func TestEmuAcknowledgeAndResolve(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
	ack := map[string]any{"incident": map[string]any{"type": "incident_reference", "status": "acknowledged"}}
	if r := w.call(t, "PUT", "/incidents/"+inc.ID, prodToken, "", ack); r.status != 400 {
		t.Errorf("ack without From: got %d, want 400", r.status)
	}
	for i := 0; i < 2; i++ { // re-acknowledging is fine
		if r := w.call(t, "PUT", "/incidents/"+inc.ID, prodToken, botEmail, ack); r.status != 200 {
			t.Fatalf("ack %d: %d %s", i, r.status, r.raw)
		}
	}
	got, _ := w.emu.Incident(inc.ID)
	if got.Status != "acknowledged" {
		t.Errorf("status %q after ack", got.Status)
	}
	if err := w.emu.Resolve(inc.ID, "PALICE1"); err != nil {
		t.Fatal(err)
	}
	if r := w.call(t, "PUT", "/incidents/"+inc.ID, prodToken, botEmail, ack); r.status != 400 || r.errorCode() != 1001 {
		t.Errorf("ack of a resolved incident: got %d %s, want 400 code 1001", r.status, r.raw)
	}
	types := []string{}
	for _, l := range w.emu.LogEntries(inc.ID) {
		types = append(types, l.Type+"/"+l.Agent.ID)
	}
	want := "trigger_log_entry/PSVCPRD acknowledge_log_entry/PBOT001 resolve_log_entry/PALICE1"
	if strings.Join(types, " ") != want {
		t.Errorf("log %v, want %s", types, want)
	}
}

func TestEmuBulkManageIncidents(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	a := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "a"})
	b := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "b"})
	pd := gopd.NewClient(prodToken, gopd.WithAPIEndpoint(w.url))
	resp, err := pd.ManageIncidentsWithContext(context.Background(), botEmail, []gopd.ManageIncidentsOptions{
		{ID: a.ID, Status: "resolved"}, {ID: b.ID, Status: "acknowledged"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Incidents) != 2 || resp.Incidents[0].Status != "resolved" || resp.Incidents[1].Status != "acknowledged" {
		t.Errorf("got %+v", resp.Incidents)
	}
}

func TestEmuRateLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	w := newWorld(t, pdemu.Options{RateLimit: 3, RateWindow: 10 * time.Second, Now: clock})
	for i := 0; i < 3; i++ {
		r := w.call(t, "GET", "/services", prodToken, "", nil)
		if r.status != 200 || r.header.Get("ratelimit-limit") != "3" || r.header.Get("ratelimit-remaining") != string(rune('2'-i)) {
			t.Fatalf("request %d: %d, headers %v", i, r.status, r.header)
		}
		now = now.Add(time.Second)
	}
	r := w.call(t, "GET", "/services", prodToken, "", nil)
	// The first request (at 0 s) leaves the window at 10 s; it is now 3 s.
	if r.status != 429 || r.errorCode() != 2020 || r.header.Get("ratelimit-reset") != "7" {
		t.Fatalf("over the limit: %d %v %s", r.status, r.header, r.raw)
	}
	if r := w.call(t, "GET", "/services", stagingToken, "", nil); r.status != 200 {
		t.Errorf("another token has its own limit: got %d", r.status)
	}
	now = now.Add(7 * time.Second)
	if r := w.call(t, "GET", "/services", prodToken, "", nil); r.status != 200 {
		t.Errorf("after ratelimit-reset: got %d", r.status)
	}
	if w.emu.RateLimited() != 1 {
		t.Errorf("RateLimited() = %d, want 1", w.emu.RateLimited())
	}
}

func TestEmuFaults(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "x"})
	w.emu.InjectFault(pdemu.Fault{Method: "GET", Path: "/incidents/{id}", Status: 503, Count: 2})
	for i, want := range []int{503, 503, 200} {
		if r := w.call(t, "GET", "/incidents/"+inc.ID, prodToken, "", nil); r.status != want {
			t.Errorf("call %d: got %d, want %d", i, r.status, want)
		}
	}
	// The pattern matched /incidents/{id} only, not deeper paths.
	w.emu.InjectFault(pdemu.Fault{Path: "/incidents/{id}", Status: 500})
	if r := w.call(t, "GET", "/incidents/"+inc.ID+"/notes", prodToken, "", nil); r.status != 200 {
		t.Errorf("pattern matched a deeper path: %d", r.status)
	}
	w.emu.ClearFaults()

	// After commit: the note is stored, but the client never hears.
	w.emu.InjectFault(pdemu.Fault{Method: "POST", Path: "/incidents/", AfterCommit: true, Count: 1})
	body := strings.NewReader(`{"note":{"content":"committed"}}`)
	req, _ := http.NewRequest("POST", w.url+"/incidents/"+inc.ID+"/notes", body)
	req.Header.Set("Authorization", "Token token="+prodToken)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("From", botEmail)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("dropped connection: got status %d, want an error", resp.StatusCode)
	}
	if notes := w.emu.Notes(inc.ID); len(notes) != 1 || notes[0].Content != "committed" {
		t.Errorf("notes %v, want the committed one", notes)
	}

	// Hang: a client with a short timeout gives up.
	w.emu.InjectFault(pdemu.Fault{Path: "/services", Hang: 2 * time.Second, Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", w.url+"/services", nil)
	req.Header.Set("Authorization", "Token token="+prodToken)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Error("hung request answered")
	}
	if time.Since(start) > time.Second {
		t.Error("client timeout did not cut the hang short")
	}

	w.emu.SetLatency(30 * time.Millisecond)
	start = time.Now()
	w.call(t, "GET", "/services", prodToken, "", nil)
	if time.Since(start) < 30*time.Millisecond {
		t.Error("latency not applied")
	}
}

func TestEmuChangeEventsTakeUTCWindows(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		w.emu.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PSVCPRD", Summary: "deploy", Timestamp: base.Add(time.Duration(i) * time.Hour)})
	}
	q := "?since=2026-03-01T13:00:00Z&until=2026-03-01T16:00:00Z&limit=2"
	r := w.call(t, "GET", "/services/PSVCPRD/change_events"+q, prodToken, "", nil)
	events := r.body["change_events"].([]any)
	if r.status != 200 || len(events) != 2 || r.body["more"] != true {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	if ts := events[0].(map[string]any)["timestamp"]; ts != "2026-03-01T15:00:00Z" {
		t.Errorf("first event at %v, want the newest in the window", ts)
	}
	r = w.call(t, "GET", "/services/PSVCPRD/change_events?since=2026-03-01T13:00:00%2B01:00", prodToken, "", nil)
	if r.status != 400 {
		t.Errorf("non-UTC since: got %d, want 400", r.status)
	}
}

func TestEmuSeededEvidence(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	id := seeded(t, w)
	r := w.call(t, "GET", "/incidents/"+id+"/past_incidents", prodToken, "", nil)
	past := r.body["past_incidents"].([]any)[0].(map[string]any)
	pastID := past["incident"].(map[string]any)["id"].(string)
	notes := w.call(t, "GET", "/incidents/"+pastID+"/notes", prodToken, "", nil)
	if b, _ := json.Marshal(notes.body); !strings.Contains(string(b), "rolled back v39") {
		t.Errorf("past incident notes %s, want the resolution note", b)
	}
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PSVCPRD", Title: "no outlier data"})
	if r := w.call(t, "GET", "/incidents/"+inc.ID+"/outlier_incident", prodToken, "", nil); r.status != 404 {
		t.Errorf("outlier without data: got %d, want 404", r.status)
	}
}

func TestEmuInspection(t *testing.T) {
	w := newWorld(t, pdemu.Options{})
	seeded(t, w)
	w.call(t, "GET", "/services", prodToken, "", nil)
	for _, path := range []string{"/_pdemu/requests", "/_pdemu/incidents"} {
		resp, err := http.Get(w.url + path)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(v) == 0 {
			t.Errorf("GET %s: %d %v", path, resp.StatusCode, err)
		}
	}
	if n := len(w.emu.Requests()); n != 1 {
		t.Errorf("inspection was recorded: %d requests", n)
	}
}
