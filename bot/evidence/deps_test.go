package evidence

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/store/bolt"
)

// These tests read PagerDuty through the real scoped client, against the
// emulator: checkout and payments in prod, and a config that declares no
// dependency between them.
const (
	depsToken    = "pd-prod-token-DEPS0001"
	depsBotEmail = "nova-bot@example.com"
	depsPath     = "/service_dependencies/technical_services/"
)

var (
	depsCheckout = nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod"}
	depsPayments = nova.Service{ID: "PPAYMENTS", Name: "payments", Environment: "prod"}
)

type depsWorld struct {
	emu  *pdemu.Emulator
	g    *Gatherer
	logs *logtest.Hook
	base time.Time

	mu     sync.Mutex
	offset time.Duration // the gatherer's clock, from base
}

func newDepsWorld(t *testing.T) *depsWorld {
	t.Helper()
	emu := pdemu.New(pdemu.Options{Logf: t.Logf})
	emu.AddToken(depsToken, "prod")
	emu.AddService("prod", pdemu.Service{ID: depsCheckout.ID, Name: depsCheckout.Name})
	emu.AddService("prod", pdemu.Service{ID: depsPayments.ID, Name: depsPayments.Name})
	emu.AddUser("prod", "PNOVA01", depsBotEmail, "Nova")
	url := emu.Start()
	t.Cleanup(emu.Close)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	pd, err := pagerduty.NewClient(pagerduty.ClientConfig{
		Environment: "prod", APIURL: url, Token: func() string { return depsToken }, From: depsBotEmail,
		Limiter: st, Burst: 200, Timeout: 5 * time.Second, MaxElapsed: 10 * time.Second, RetryBase: 10 * time.Millisecond, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &depsWorld{emu: emu, logs: hook, base: time.Now().UTC().Truncate(time.Second)}
	set := &settings.Settings{
		Services:     map[string]nova.Service{depsCheckout.ID: depsCheckout, depsPayments.ID: depsPayments},
		TriageBudget: 10 * time.Second,
	}
	w.g, err = New(Config{Store: st, Settings: func() *settings.Settings { return set }, Log: log, Now: w.now,
		PagerDuty: func(string) (PagerDuty, error) { return pd, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *depsWorld) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.base.Add(w.offset)
}

func (w *depsWorld) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.offset += d
}

// incident creates an incident in PagerDuty and notes its trigger, as the
// pipeline does before triage (storm recognition, concurrent incidents).
func (w *depsWorld) incident(t *testing.T, svc nova.Service, title, alert string) nova.Incident {
	t.Helper()
	inc := w.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: svc.ID, Title: title, CreatedAt: w.now(),
		Alerts: []pdemu.AlertSpec{{Summary: alert, Source: "prometheus"}}})
	w.g.NoteTrigger(context.Background(), nova.IncidentRecord{ID: inc.ID, Environment: "prod", ServiceID: svc.ID,
		Title: inc.Title, Urgency: inc.Urgency, TriggeredAt: inc.CreatedAt})
	return inc
}

// depsRequests counts the dependency reads PagerDuty got for a service.
func (w *depsWorld) depsRequests(serviceID string) int {
	n := 0
	for _, r := range w.emu.Requests() {
		if r.Path == depsPath+serviceID {
			n++
		}
	}
	return n
}

// citing returns the dependency hypothesis whose evidence is incident id.
func citing(res nova.TriageResult, id string) *nova.Hypothesis {
	for i, h := range res.Hypotheses {
		if h.Category != nova.CategoryDependency {
			continue
		}
		for _, e := range h.Evidence {
			if e.ID == id {
				return &res.Hypotheses[i]
			}
		}
	}
	return nil
}

// An incident on checkout while payments has one open: PagerDuty records
// checkout as depending on payments, the config declares nothing, and
// triage names the payments incident as the likely cause. Without the
// recorded dependency the same two incidents give no such hypothesis.
func TestPagerDutyDependencyMakesAConcurrentIncidentACause(t *testing.T) {
	for _, recorded := range []bool{true, false} {
		w := newDepsWorld(t)
		if recorded {
			w.emu.AddServiceDependency(depsCheckout.ID, depsPayments.ID)
		}
		payments := w.incident(t, depsPayments, "payments-api: 5xx error rate above 20%", "HTTP 5xx error rate 23% on payments-api")
		w.advance(2 * time.Minute)
		checkout := w.incident(t, depsCheckout, "checkout-api: 5xx error rate above 5%", "HTTP 5xx error rate 7% on checkout-api")
		res := w.g.Triage(context.Background(), depsCheckout, checkout)
		if !slices.Contains(res.Checked, "service_dependencies") {
			t.Errorf("recorded=%v: service dependencies not listed as checked: %v (not checked %v)", recorded, res.Checked, res.NotChecked)
		}
		h := citing(res, payments.ID)
		switch {
		case recorded && h == nil:
			t.Errorf("no dependency hypothesis cites the payments incident %s: %+v", payments.ID, res.Hypotheses)
		case recorded && h != res.Top():
			t.Errorf("the top hypothesis does not cite the payments incident: %+v", res.Hypotheses)
		case !recorded && h != nil:
			t.Errorf("without a recorded dependency the payments incident is cited: %+v", h)
		}
		if len(depsCheckout.DependsOn) != 0 {
			t.Fatalf("triage changed the configured service: %v", depsCheckout.DependsOn)
		}
	}
}

// The declared dependencies come first, PagerDuty's follow, each once.
func TestDeclaredDependenciesComeFirst(t *testing.T) {
	w := newDepsWorld(t)
	w.emu.AddService("prod", pdemu.Service{ID: "PDB0001", Name: "orders-db"})
	w.emu.AddServiceDependency(depsCheckout.ID, "PDB0001")
	w.emu.AddServiceDependency(depsCheckout.ID, depsPayments.ID)
	w.emu.AddServiceDependency(depsPayments.ID, depsCheckout.ID) // the other direction: not checkout's
	svc := depsCheckout
	svc.DependsOn = []string{"stripe", "payments", depsPayments.ID}
	inc := w.incident(t, svc, "checkout-api: 5xx", "HTTP 5xx error rate 7% on checkout-api")
	in := w.g.gather(context.Background(), svc, inc, w.g.cfg.Settings())
	want := []string{"stripe", "payments", depsPayments.ID, "PDB0001"}
	if !slices.Equal(in.Service.DependsOn, want) {
		t.Errorf("depends on %v, want %v", in.Service.DependsOn, want)
	}
	if !slices.Equal(svc.DependsOn, []string{"stripe", "payments", depsPayments.ID}) {
		t.Errorf("the declared list was changed: %v", svc.DependsOn)
	}
}

// A storm of incidents on one service costs one dependency read per
// service per cache age, however many arrive and however concurrently.
func TestServiceDependenciesAreReadOncePerServicePerCacheAge(t *testing.T) {
	w := newDepsWorld(t)
	w.emu.AddServiceDependency(depsCheckout.ID, depsPayments.ID)
	ctx := context.Background()
	for range 2 {
		inc := w.incident(t, depsCheckout, "checkout-api: 5xx", "HTTP 5xx error rate 7% on checkout-api")
		w.g.Triage(ctx, depsCheckout, inc)
	}
	if n := w.depsRequests(depsCheckout.ID); n != 1 {
		t.Fatalf("two incidents within the cache age made %d dependency requests, want 1", n)
	}
	w.advance(depsCacheAge)
	var wg sync.WaitGroup
	for range 8 {
		inc := w.incident(t, depsCheckout, "checkout-api: 5xx", "HTTP 5xx error rate 7% on checkout-api")
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := w.g.gather(ctx, depsCheckout, inc, w.g.cfg.Settings())
			if !slices.Contains(in.Service.DependsOn, depsPayments.ID) {
				t.Errorf("an incident of the storm lacks the dependency: %v", in.Service.DependsOn)
			}
		}()
	}
	wg.Wait()
	if n := w.depsRequests(depsCheckout.ID); n != 2 {
		t.Errorf("after the cache age, 8 concurrent incidents made %d more dependency requests, want 1", n-1)
	}
	w.g.Triage(ctx, depsPayments, w.incident(t, depsPayments, "payments-api: 5xx", "HTTP 5xx on payments-api"))
	if n := w.depsRequests(depsPayments.ID); n != 1 {
		t.Errorf("another service: %d dependency requests, want its own 1", n)
	}
}

// Without the feature (403) or for a service PagerDuty does not know
// (404), triage goes on with the declared dependencies, lists the source
// as not checked, asks once per cache age and logs once, without secrets.
func TestWithoutServiceDependenciesTriageProceeds(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(*depsWorld) nova.Service
		level logrus.Level
	}{
		{"403", func(w *depsWorld) nova.Service { w.emu.WithoutServiceDependencies("prod"); return depsCheckout }, logrus.InfoLevel},
		{"404", func(*depsWorld) nova.Service {
			s := depsCheckout
			s.ID = "PGONE01" // renamed in PagerDuty, still in the config
			return s
		}, logrus.WarnLevel},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newDepsWorld(t)
			svc := c.setup(w)
			svc.DependsOn = []string{depsPayments.ID}
			payments := w.incident(t, depsPayments, "payments-api: 5xx error rate above 20%", "HTTP 5xx error rate 23% on payments-api")
			for i := range 3 {
				w.advance(time.Minute)
				inc := w.incident(t, depsCheckout, "checkout-api: 5xx", "HTTP 5xx error rate 7% on checkout-api")
				res := w.g.Triage(context.Background(), svc, inc)
				if !slices.Contains(res.Checked, "alerts") || citing(res, payments.ID) == nil {
					t.Fatalf("incident %d: triage did not proceed on the declared dependency: checked %v, %+v", i, res.Checked, res.Hypotheses)
				}
				if !slices.ContainsFunc(res.NotChecked, func(s string) bool { return strings.HasPrefix(s, "service_dependencies (") }) {
					t.Errorf("incident %d: not checked %v, want service_dependencies listed", i, res.NotChecked)
				}
			}
			if n := w.depsRequests(svc.ID); n != 1 {
				t.Errorf("%d dependency requests for 3 incidents, want 1", n)
			}
			var said []*logrus.Entry
			for _, e := range w.logs.AllEntries() {
				if strings.Contains(e.Message, depsToken) || strings.Contains(e.Message, depsToken[len(depsToken)-8:]) {
					t.Errorf("a log line carries the token: %s", e.Message)
				}
				if op, _ := e.Data["op"].(string); e.Level <= logrus.WarnLevel && strings.Contains(op, "dependencies") {
					t.Errorf("the client warned about an expected answer: %v", e.Data)
				}
				if strings.Contains(e.Message, "dependencies") && e.Level <= logrus.InfoLevel {
					said = append(said, e)
				}
			}
			if len(said) != 1 || said[0].Level != c.level || said[0].Data["service_id"] != svc.ID {
				t.Errorf("want one %s line about the dependencies, got %d: %+v", c.level, len(said), said)
			}
		})
	}
}
