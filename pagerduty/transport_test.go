package pagerduty

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
)

func TestTransportAllowListRefuses(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	var refused []string
	c := rig.client(t, "prod", func(cfg *ClientConfig) {
		cfg.OnRefused = func(method, path string) { refused = append(refused, method+" "+path) }
	})
	cases := []struct{ method, url, body string }{
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"resolved"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"acknowledged","assignments":[]}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"acknowledged"}}{}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"acknowledged","escalation_level":2}}`},
		{"PUT", "/incidents", `{"incidents":[{"id":"` + id + `","type":"incident_reference","status":"acknowledged"}]}`},
		{"DELETE", "/incidents/" + id + "/notes/N1", ""},
		{"PUT", "/incidents/" + id + "/notes/N1", `{"note":{"content":"edited"}}`},
		{"POST", "/incidents", `{"incident":{"type":"incident","title":"x"}}`},
		{"POST", "/incidents/" + id + "/notes", `{"note":{"content":"x"},"extra":1}`},
		{"POST", "/incidents/" + id + "/snooze", `{"duration":3600}`},
		{"POST", "/incidents/" + id + "/status_updates", `{"message":"x"}`},
		{"PUT", "/incidents/" + id + "/merge", `{}`},
		{"GET", "/users", ""},
		{"GET", "/incidents", `{"incident":{"title":"x"}}`}, // the list is a view: no body
		{"GET", "/services", ""},
		{"GET", "/incidents/" + id + "/../../users", ""},
		{"GET", "/incidents/" + id + "%2F..%2Fusers", ""},
		{"GET", "/incidents/" + id, `{"unexpected":"body"}`},
		{"DELETE", "/incidents/" + id, ""},
		{"POST", "/webhook_subscriptions", `{"webhook_subscription":{"type":"webhook_subscription"}}`},
		{"PUT", "/webhook_subscriptions/PSUB1", `{"webhook_subscription":{"active":false}}`},
		{"DELETE", "/webhook_subscriptions/PSUB1", ""},
		{"POST", "/webhook_subscriptions/PSUB1/enable", ""},
		{"GET", "/webhook_subscriptions/PSUB1", ""},
		// Service dependencies are read for one technical service, never changed.
		{"POST", "/service_dependencies/associate", `{"relationships":[]}`},
		{"POST", "/service_dependencies/disassociate", `{"relationships":[]}`},
		{"GET", "/service_dependencies/business_services/PBIZ001", ""},
		{"GET", "/service_dependencies/technical_services/PCHKOUT", `{"relationships":[]}`},
		{"GET", "/service_dependencies/technical_services/PCHKOUT/extra", ""},
	}
	for _, tc := range cases {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		req, err := http.NewRequest(tc.method, rig.url+tc.url, body)
		if err != nil {
			t.Fatal(err)
		}
		// Fully authorised requests: the allow-list, not the emulator, stops them.
		req.Header.Set("Authorization", "Token token="+clientProdToken)
		req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
		req.Header.Set("From", clientBotEmail)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s %s was sent (status %d)", tc.method, tc.url, resp.StatusCode)
			continue
		}
		var ne *nova.Error
		if !errors.As(err, &ne) || ne.Code != nova.EFORBIDDEN || !strings.HasPrefix(ne.Message, "refused by the PagerDuty allow-list: "+tc.method+" /") {
			t.Errorf("%s %s: %v, want an EFORBIDDEN refusal", tc.method, tc.url, err)
		}
	}
	if len(refused) != len(cases) {
		t.Errorf("OnRefused called %d times, want %d", len(refused), len(cases))
	}
	if n := len(rig.emu.Requests()); n != 0 {
		t.Errorf("the emulator received %d refused requests: %+v", n, rig.emu.Requests())
	}
	warned := 0
	for _, e := range rig.logs.AllEntries() {
		if strings.Contains(e.Message, "allow-list") {
			warned++
		}
	}
	if warned != len(cases) {
		t.Errorf("%d refusals logged, want %d", warned, len(cases))
	}
}

// Even go-pagerduty's own methods cannot do more than the allow-list says.
func TestTransportRefusesGoPagerDutyWrites(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	c := rig.client(t, "prod", nil)
	pd := c.api(clientProdToken)
	ctx := context.Background()
	calls := map[string]func() error{
		"resolve (bulk)": func() error {
			_, err := pd.ManageIncidentsWithContext(ctx, clientBotEmail, []gopd.ManageIncidentsOptions{{ID: id, Status: "resolved"}})
			return err
		},
		"create incident": func() error {
			_, err := pd.CreateIncidentWithContext(ctx, clientBotEmail, &gopd.CreateIncidentOptions{Title: "x"})
			return err
		},
		"list users": func() error {
			_, err := pd.ListUsersWithContext(ctx, gopd.ListUsersOptions{})
			return err
		},
		"snooze": func() error {
			_, err := pd.SnoozeIncidentWithContext(ctx, id, 3600)
			return err
		},
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), "refused by the PagerDuty allow-list") {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
	if n := len(rig.emu.Requests()); n != 0 {
		t.Errorf("the emulator received %d requests", n)
	}
}

func TestTransportRefusesOtherHosts(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	c := rig.client(t, "prod", nil)
	for _, u := range []string{
		"http://localhost:1/incidents/" + id,                                    // same machine, other host name
		strings.Replace(rig.url, "http://", "https://", 1) + "/incidents/" + id, // other scheme
		"http://127.0.0.2" + rig.url[strings.LastIndex(rig.url, ":"):] + "/incidents/" + id,
	} {
		req, _ := http.NewRequest("GET", u, nil)
		if resp, err := c.http.Do(req); err == nil {
			resp.Body.Close()
			t.Errorf("GET %s was sent", u)
		} else if nova.ErrorCode(err) != nova.EFORBIDDEN {
			t.Errorf("GET %s: %v", u, err)
		}
	}
	if n := len(rig.emu.Requests()); n != 0 {
		t.Errorf("the emulator received %d requests", n)
	}
}

// Red-team item 12: the allow-list parses write bodies strictly. Go's
// decoder matches keys case-insensitively and keeps the last duplicate, so
// these bodies used to pass as acknowledgements (or notes) while PagerDuty
// may read them as a resolve or something else.
func TestRedTeam12_AllowListParsesBodiesStrictly(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	var refused int
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.OnRefused = func(string, string) { refused++ } })
	cases := []struct{ method, url, body string }{
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"resolved","Status":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","Status":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"Incident":{"type":"incident_reference","status":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"TYPE":"incident_reference","status":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"resolved","status":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"acknowledged","status":"resolved"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"resolved"},"incident":{"type":"incident_reference","status":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","st\u0061tus":"acknowledged","status":"resolved"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","ſtatus":"acknowledged"}}`},
		{"PUT", "/incidents/" + id, `{"incident":{"type":"incident_reference","status":"acknowledged"}}]`},
		{"POST", "/incidents/" + id + "/notes", `{"note":{"content":"hello","Content":"hi"}}`},
		{"POST", "/incidents/" + id + "/notes", `{"note":{"content":"hello","content":""}}`},
		{"POST", "/incidents/" + id + "/notes", `{"Note":{"content":"hello"}}`},
		{"POST", "/incidents/" + id + "/notes", `{"note":{"content":"hello","user":{"summary":"a@example.com","Summary":"b@example.com"}}}`},
		{"POST", "/incidents/" + id + "/notes", `{"note":{"content":"hello","user":{"id":"PADMIN"}}}`},
		{"POST", "/incidents/" + id + "/notes", `{"note":{"content":7}}`},
	}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, rig.url+tc.url, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Token token="+clientProdToken)
		req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
		req.Header.Set("From", clientBotEmail)
		resp, err := c.http.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s %s was sent (status %d)", tc.method, tc.body, resp.StatusCode)
			continue
		}
		if nova.ErrorCode(err) != nova.EFORBIDDEN {
			t.Errorf("%s: %v, want an EFORBIDDEN refusal", tc.body, err)
		}
	}
	if refused != len(cases) {
		t.Errorf("%d refusals, want %d", refused, len(cases))
	}
	if n := len(rig.emu.Requests()); n != 0 {
		t.Errorf("the emulator received %d refused requests", n)
	}
	// Nova's own writes still pass.
	if err := c.Acknowledge(context.Background(), id); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if _, err := c.AddNote(context.Background(), id, "a note <b>with</b> markup"); err != nil {
		t.Fatalf("add note: %v", err)
	}
}
