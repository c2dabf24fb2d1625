package pagerduty

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
)

func TestClientConfigIsValidated(t *testing.T) {
	good := func() ClientConfig {
		return ClientConfig{Environment: "prod", Token: func() string { return "k" }, From: "bot@example.com",
			Limiter: newClientMemLimiter()}
	}
	cases := map[string]func(*ClientConfig){
		"no environment":       func(c *ClientConfig) { c.Environment = "" },
		"no token":             func(c *ClientConfig) { c.Token = nil },
		"From not an email":    func(c *ClientConfig) { c.From = "Nova" },
		"no limiter":           func(c *ClientConfig) { c.Limiter = nil },
		"plain http":           func(c *ClientConfig) { c.APIURL = "http://api.pagerduty.com" },
		"credentials in URL":   func(c *ClientConfig) { c.APIURL = "https://user:pw@api.pagerduty.com" },
		"rate over PD's 960":   func(c *ClientConfig) { c.RatePerMinute = 1000 },
		"reserve eats burst":   func(c *ClientConfig) { c.Burst, c.ReadReserve = 4, 4 },
		"negative timeout":     func(c *ClientConfig) { c.Timeout = -time.Second },
		"not a URL":            func(c *ClientConfig) { c.APIURL = "::" },
		"query in the API URL": func(c *ClientConfig) { c.APIURL = "https://api.pagerduty.com/?x=1" },
	}
	for name, mod := range cases {
		cfg := good()
		mod(&cfg)
		if _, err := NewClient(cfg); nova.ErrorCode(err) != nova.EINVALID {
			t.Errorf("%s: got %v, want EINVALID", name, err)
		}
	}
	c, err := NewClient(good())
	if err != nil {
		t.Fatal(err)
	}
	if c.endpoint != DefaultAPIURL || c.rate.Limit != 900 || c.rate.Burst != 20 || c.reserve != 2 {
		t.Errorf("defaults: %s %+v reserve %d", c.endpoint, c.rate, c.reserve)
	}
	loop := good()
	loop.APIURL = "http://127.0.0.1:8080/pd"
	if _, err := NewClient(loop); err != nil {
		t.Errorf("loopback http: %v", err)
	}
}

func TestClientDecodesEveryMethod(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	emu := rig.emu
	alerts := []pdemu.AlertSpec{{Summary: "5xx high", Severity: "critical", Source: "prometheus",
		Details: map[string]any{"rate": 0.031, "labels": map[string]any{"pod": "checkout-7f9"}, "hosts": []any{"a", "b"}}}}
	for i := 0; i < 120; i++ { // more than one page
		alerts = append(alerts, pdemu.AlertSpec{Summary: fmt.Sprintf("alert %d", i)})
	}
	inc := emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHKOUT", Title: "checkout 5xx", Priority: "P1",
		Urgency: "high", Assignees: []string{"PALICE1"}, Alerts: alerts})
	other := rig.incident("payments latency")
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	deploy := emu.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PCHKOUT", Summary: "deploy v42", Source: "argo",
		Timestamp: base.Add(-time.Hour), Details: map[string]any{"version": "v42"},
		Links: []nova.Link{{Href: "https://ci.example.com/42", Text: "build"}}})
	emu.CorrelateChange(inc.ID, deploy, "most_recent")
	for i := 0; i < 150; i++ {
		emu.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PCHKOUT", Summary: "config", Timestamp: base.Add(time.Duration(i) * time.Minute)})
	}
	past := emu.AddPastIncident(inc.ID, pdemu.PastIncidentSpec{Title: "checkout 5xx", Score: 46.8,
		CreatedAt: base, ResolutionNotes: []string{"rolled back"}, ResolvedBy: "PALICE1"})
	emu.AddRelatedIncident(inc.ID, other, "service_dependency")
	emu.SetOutlier(inc.ID, pdemu.OutlierSpec{Category: "rare", Count: 3, Frequency: 0.04, Template: "checkout 5xx <*>"})
	if _, err := emu.AddNote(inc.ID, "PALICE1", "looking"); err != nil {
		t.Fatal(err)
	}
	c := rig.client(t, "prod", nil)
	ctx := context.Background()

	got, err := c.GetIncident(ctx, inc.ID)
	if err != nil || got.ID != inc.ID || got.Number != inc.Number || got.Title != "checkout 5xx" || got.Status != "triggered" ||
		got.Priority != "P1" || got.Service.ID != "PCHKOUT" || got.Service.Summary != "checkout" || got.CreatedAt.IsZero() ||
		len(got.Assignees) != 1 || got.Assignees[0].ID != "PALICE1" || got.IncidentKey == "" || got.HTMLURL == "" {
		t.Errorf("GetIncident: %+v, %v", got, err)
	}
	as, err := c.ListAlerts(ctx, inc.ID)
	if err != nil || len(as) != 121 {
		t.Fatalf("ListAlerts: %d alerts, %v", len(as), err)
	}
	d := as[0].Details
	if as[0].Source != "prometheus" || as[0].Severity != "critical" || d["rate"] != "0.031" || d["labels.pod"] != "checkout-7f9" || d["hosts.1"] != "b" {
		t.Errorf("alert: %+v", as[0])
	}
	notes, err := c.ListNotes(ctx, inc.ID)
	if err != nil || len(notes) != 1 || notes[0].Content != "looking" || notes[0].User.ID != "PALICE1" || notes[0].CreatedAt.IsZero() {
		t.Errorf("ListNotes: %+v, %v", notes, err)
	}
	log, err := c.ListLogEntries(ctx, inc.ID)
	if err != nil || len(log) != 2 || log[0].Type != "annotate_log_entry" || log[0].Agent == nil || log[0].Agent.ID != "PALICE1" {
		t.Errorf("ListLogEntries: %+v, %v", log, err)
	}
	rel, err := c.RelatedChangeEvents(ctx, inc.ID)
	if err != nil || len(rel) != 1 || rel[0].CorrelationReason != "most_recent" || rel[0].Details["version"] != "v42" ||
		len(rel[0].Links) != 1 || rel[0].Services[0].ID != "PCHKOUT" || rel[0].Source != "argo" {
		t.Errorf("RelatedChangeEvents: %+v, %v", rel, err)
	}
	svcChanges, err := c.ServiceChangeEvents(ctx, "PCHKOUT", base, base.Add(120*time.Minute))
	if err != nil || len(svcChanges) != 120 || !svcChanges[0].Timestamp.Equal(base.Add(119*time.Minute)) {
		t.Errorf("ServiceChangeEvents: %d, %v", len(svcChanges), err)
	}
	// A non-UTC time is sent as UTC (PagerDuty refuses anything else).
	east := time.FixedZone("UTC+2", 2*3600)
	if got, err := c.ServiceChangeEvents(ctx, "PCHKOUT", base.In(east), time.Time{}); err != nil || len(got) != 150 {
		t.Errorf("ServiceChangeEvents with a zoned since: %d, %v", len(got), err)
	}
	pasts, err := c.PastIncidents(ctx, inc.ID, 0)
	if err != nil || len(pasts) != 1 || pasts[0].ID != past.ID || pasts[0].Score != 46.8 || !pasts[0].CreatedAt.Equal(base) {
		t.Errorf("PastIncidents: %+v, %v", pasts, err)
	}
	rels, err := c.RelatedIncidents(ctx, inc.ID)
	if err != nil || len(rels) != 1 || rels[0].ID != other || rels[0].Relationship != "service_dependency" ||
		rels[0].Status != "triggered" || rels[0].Service.ID != "PCHKOUT" {
		t.Errorf("RelatedIncidents: %+v, %v", rels, err)
	}
	o, err := c.OutlierIncident(ctx, inc.ID)
	if err != nil || o != (nova.Outlier{Category: "rare", Count: 3, Template: "checkout 5xx <*>"}) {
		t.Errorf("OutlierIncident: %+v, %v", o, err)
	}
	if _, err := c.OutlierIncident(ctx, other); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("OutlierIncident without data: %v, want ENOTFOUND", err)
	}
	svc, err := c.GetService(ctx, "PCHKOUT")
	if err != nil || svc.ID != "PCHKOUT" || svc.Summary != "checkout" {
		t.Errorf("GetService: %+v, %v", svc, err)
	}
	if _, err := c.GetIncident(ctx, "../users"); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("path in an id: %v, want EINVALID", err)
	}
	if n := len(emu.Unexpected()); n != 0 {
		t.Errorf("the emulator saw %d unexpected requests: %+v", n, emu.Unexpected())
	}
}

func TestClientAddsNotesAndAcknowledges(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	c := rig.client(t, "prod", nil)
	ctx := context.Background()
	n, err := c.AddNote(ctx, id, "Nova hypothesis nova-01J0 (audit)")
	if err != nil || n.ID == "" || n.User.ID != "PNOVA01" || n.Content != "Nova hypothesis nova-01J0 (audit)" {
		t.Fatalf("AddNote: %+v, %v", n, err)
	}
	if err := c.Acknowledge(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.Acknowledge(ctx, id); err != nil {
		t.Errorf("re-acknowledge: %v", err)
	}
	inc, _ := rig.emu.Incident(id)
	if inc.Status != nova.StatusAcknowledged {
		t.Errorf("status %s", inc.Status)
	}
	for _, r := range rig.emu.Requests() {
		if r.Method != "GET" && r.From != clientBotEmail {
			t.Errorf("%s %s carried From %q", r.Method, r.Path, r.From)
		}
		if r.Method == "PUT" && r.Body != ackBody {
			t.Errorf("ack body %s", r.Body)
		}
	}
	if err := rig.emu.Resolve(id, "PALICE1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Acknowledge(ctx, id); !nova.IsCode(err, nova.ECONFLICT) {
		t.Errorf("ack of a resolved incident: %v, want ECONFLICT", err)
	}
	if _, err := c.AddNote(ctx, id, ""); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("empty note: %v", err)
	}
}

func TestClientEnvironmentsNeverCross(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	prodInc := rig.incident("prod incident")
	stgInc := rig.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "SCHKOUT", Title: "staging incident"}).ID
	prod, staging := rig.client(t, "prod", nil), rig.client(t, "staging", nil)
	ctx := context.Background()
	for _, step := range []struct {
		c  *Client
		id string
	}{{prod, prodInc}, {staging, stgInc}} {
		if _, err := step.c.GetIncident(ctx, step.id); err != nil {
			t.Fatal(err)
		}
		if _, err := step.c.AddNote(ctx, step.id, "note for "+step.id); err != nil {
			t.Fatal(err)
		}
		if err := step.c.Acknowledge(ctx, step.id); err != nil {
			t.Fatal(err)
		}
	}
	if cross := rig.emu.CrossEnvironment(); len(cross) != 0 {
		t.Errorf("cross-environment requests: %+v", cross)
	}
	for _, r := range rig.emu.Requests() {
		want := clientProdToken[len(clientProdToken)-4:]
		if r.Environment == "staging" {
			want = clientStagingToken[len(clientStagingToken)-4:]
		}
		if r.Token != want || r.Status >= 400 {
			t.Errorf("%s %s: token …%s status %d", r.Method, r.Path, r.Token, r.Status)
		}
	}
	// The emulator would catch a mistake: a staging incident asked with the prod key.
	if _, err := prod.GetIncident(ctx, stgInc); !nova.IsCode(err, nova.ENOTFOUND) || len(rig.emu.CrossEnvironment()) != 1 {
		t.Errorf("misrouted call: %v, %d recorded", err, len(rig.emu.CrossEnvironment()))
	}
}

func TestClientTokenRotation(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	var current atomic.Value
	current.Store(clientProdToken)
	c := rig.client(t, "prod", func(cfg *ClientConfig) { cfg.Token = func() string { return current.Load().(string) } })
	ctx := context.Background()
	if _, err := c.GetIncident(ctx, id); err != nil {
		t.Fatal(err)
	}
	const rotated = "u+rotatedKEYxxxxx9NEW"
	rig.emu.AddToken(rotated, "prod")
	current.Store(rotated)
	rig.emu.RevokeToken(clientProdToken)
	if _, err := c.AddNote(ctx, id, "after rotation"); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	reqs := rig.emu.Requests()
	if last := reqs[len(reqs)-1]; last.Token != "9NEW" || last.Status != 200 {
		t.Errorf("last request used …%s (status %d), want the rotated key", last.Token, last.Status)
	}

	// A key rotated between reading it and PagerDuty rejecting it: the 401
	// is followed at once by an attempt with the new key.
	const third = "u+thirdKEYxxxxxxxx9TRD"
	calls := 0
	c2 := rig.client(t, "prod", func(cfg *ClientConfig) {
		cfg.Token = func() string {
			calls++
			if calls == 1 {
				return clientProdToken // revoked above
			}
			return third
		}
	})
	rig.emu.AddToken(third, "prod")
	if _, err := c2.GetIncident(ctx, id); err != nil {
		t.Errorf("401 then rotated key: %v", err)
	}
	for k := range rig.limiter.keys {
		if strings.Contains(k, "KEY") {
			t.Errorf("limiter key %q holds the token", k)
		}
	}
}

func TestClientCountsRequests(t *testing.T) {
	rig := newClientRig(t, pdemu.Options{})
	id := rig.incident("x")
	reg := prometheus.NewRegistry()
	withMetrics := func(cfg *ClientConfig) { cfg.Registerer = reg }
	prod, staging := rig.client(t, "prod", withMetrics), rig.client(t, "staging", withMetrics)
	ctx := context.Background()
	rig.emu.InjectFault(pdemu.Fault{Path: "/incidents/{id}", Status: 503, Count: 1})
	if _, err := prod.GetIncident(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.AddNote(ctx, id, "x"); err != nil {
		t.Fatal(err)
	}
	_, _ = staging.GetIncident(ctx, id) // another environment's incident: not found
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "nova_pagerduty_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["environment"]+" "+labels["method"]+" "+labels["outcome"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"prod GET server_error": 1, "prod GET ok": 1, "prod POST ok": 1, "staging GET not_found": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counters %v, want %v", got, want)
	}
}
