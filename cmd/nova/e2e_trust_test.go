package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/redis"
)

// A staging service's calls never carry the prod credential, and vice versa.
func TestEnvironmentsNeverShareCredentials(t *testing.T) {
	h := newHarness(t, harnessOptions{Envs: []string{"prod", "staging"}, Services: []serviceSpec{
		{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "action", Channel: "C0CHECKOUT", AutoAck: true},
		{ID: "PSTAGING", Name: "checkout-staging", Env: "staging", Mode: "action", Channel: "C0STAGING", AutoAck: true},
	}})
	h.start()
	prod := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	staging := h.trigger("PSTAGING", "checkout-api: 5xx error rate above 5%")
	h.eventually(15*time.Second, "notes in both environments", func() bool {
		return len(h.novaNotes(prod)) == 1 && len(h.novaNotes(staging)) == 1
	})
	h.settle()
	last4 := func(s string) string { return s[len(s)-4:] }
	seen := map[string]int{}
	for _, r := range h.pd.Requests() {
		switch {
		case strings.Contains(r.Path, prod) || strings.Contains(r.Path, "PCHECKOUT"):
			if r.Token != last4(h.env["prod"].PDToken) {
				t.Errorf("%s %s (prod) sent with key …%s", r.Method, r.Path, r.Token)
			}
			seen["prod"]++
		case strings.Contains(r.Path, staging) || strings.Contains(r.Path, "PSTAGING"):
			if r.Token != last4(h.env["staging"].PDToken) {
				t.Errorf("%s %s (staging) sent with key …%s", r.Method, r.Path, r.Token)
			}
			if r.From != "" && r.From != h.env["staging"].BotEmail {
				t.Errorf("staging write sent From %s", r.From)
			}
			seen["staging"]++
		}
	}
	if seen["prod"] == 0 || seen["staging"] == 0 {
		t.Fatalf("requests per environment: %v", seen)
	}
}

// 50 concurrent deliveries of the same incident across two Nova instances
// sharing one Redis produce one note (the inbox serialises an incident's
// events, and the write's idempotency key holds across instances).
func TestTwoInstancesOnOneRedisWriteOneNote(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis"})
	inc := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout-api: 5xx error rate above 5%"})
	a, b := h.start(), h.start()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := []*instance{a, b}[i%2]
			body := envelope(fmt.Sprintf("evt-many-%d", i), "incident.triggered", inc, time.Now())
			if code, resp := h.deliver(in, "prod", fmt.Sprintf("wh-many-%d", i), body); code != 202 {
				t.Errorf("delivery %d: %d %s", i, code, resp)
			}
		}(i)
	}
	wg.Wait()
	h.eventually(20*time.Second, "the note", func() bool { return len(h.novaNotes(inc.ID)) >= 1 })
	h.eventually(30*time.Second, "both inboxes to drain", func() bool {
		return metricValue(t, a.url, "nova_inbox_depth") == 0
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(h.novaNotes(inc.ID)); n != 1 {
		t.Fatalf("%d notes, want 1", n)
	}
	trig := `type="incident.triggered"`
	pa, pb := metricValue(t, a.url, "nova_events_processed_total", trig), metricValue(t, b.url, "nova_events_processed_total", trig)
	t.Logf("triggered events processed: instance a %v, instance b %v", pa, pb)
	if pa+pb != 50 {
		t.Errorf("processed %v triggered events, want all 50", pa+pb)
	}
	// The echo reaches instance a; either instance may process it (one inbox).
	echo := `type="incident.annotated"`
	if got := metricValue(t, a.url, "nova_events_processed_total", echo) + metricValue(t, b.url, "nova_events_processed_total", echo); got != 1 {
		t.Errorf("Nova's own note echoed back %v times, want once (and ignored)", got)
	}
}

// The write-back layer itself: 50 goroutines on two independent instances
// (own Redis connections, own PagerDuty clients) race to post the same
// idempotent note; PagerDuty receives one.
func TestConcurrentIdempotentWriteAcrossInstances(t *testing.T) {
	url, prefix := testRedis(t, "", "")
	pd := pdemu.New(pdemu.Options{})
	pdURL := pd.Start()
	defer pd.Close()
	pd.AddToken("pd-key-0001", "prod")
	pd.AddService("prod", pdemu.Service{ID: "PCHECKOUT", Name: "checkout"})
	pd.AddUser("prod", "PBOT", "bot@example.com", "Nova")
	inc := pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout down"})
	type node struct {
		once   *store.Once
		client *pagerduty.Client
	}
	var nodes []node
	for i := 0; i < 2; i++ {
		st, err := redis.Open(context.Background(), redis.Options{URL: url, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		c, err := pagerduty.NewClient(pagerduty.ClientConfig{Environment: "prod", APIURL: pdURL,
			Token: func() string { return "pd-key-0001" }, From: "bot@example.com", Limiter: st, Log: logrus.New()})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, node{once: &store.Once{Records: st, Poll: 5 * time.Millisecond}, client: c})
	}
	var wg sync.WaitGroup
	ids := make(chan string, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(n node) {
			defer wg.Done()
			id, _, _, err := n.once.Do(context.Background(), "pd:prod:"+inc.ID+":note:hypothesis", store.OnceOp{
				Write: func(ctx context.Context, auditID string) (string, error) {
					note, err := n.client.AddNote(ctx, inc.ID, "hypothesis · audit "+auditID)
					return note.ID, err
				},
			})
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}(nodes[i%2])
	}
	wg.Wait()
	close(ids)
	if n := len(pd.Notes(inc.ID)); n != 1 {
		t.Fatalf("PagerDuty holds %d notes, want 1", n)
	}
	for id := range ids {
		if id != pd.Notes(inc.ID)[0].ID {
			t.Fatalf("a caller got note id %q, want %q", id, pd.Notes(inc.ID)[0].ID)
		}
	}
}

// A 429 storm is ridden out: every note is written once, and after the
// first refusals Nova sends nothing beyond the limit.
func TestRateLimitStormLosesNoWrite(t *testing.T) {
	h := newHarness(t, harnessOptions{RatePerMinute: 480, Workers: 4,
		PD: pdemu.Options{RateLimit: 40, RateWindow: 4 * time.Second}})
	var incs []string
	for i := 0; i < 6; i++ {
		incs = append(incs, h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT",
			Title: fmt.Sprintf("checkout-api: 5xx error rate above 5%% (shard %d)", i)}).ID)
	}
	in := h.start()
	// Another user of the same key spends the whole window first.
	c := &pdRaw{url: h.pdURL, token: h.env["prod"].PDToken}
	for i := 0; i < 40; i++ {
		c.get(t, "/services/PCHECKOUT")
	}
	for i, id := range incs {
		inc, _ := h.pd.Incident(id)
		if code, _ := h.deliver(in, "prod", fmt.Sprintf("wh-storm-%d", i), envelope(fmt.Sprintf("evt-storm-%d", i), "incident.triggered", inc, time.Now())); code != 202 {
			t.Fatalf("delivery %d answered %d", i, code)
		}
	}
	h.eventually(90*time.Second, "a note on every incident", func() bool {
		for _, id := range incs {
			if len(h.novaNotes(id)) == 0 {
				return false
			}
		}
		return true
	})
	h.settle()
	for _, id := range incs {
		if n := len(h.novaNotes(id)); n != 1 {
			t.Errorf("%s has %d notes", id, n)
		}
	}
	var limited []time.Time
	for _, r := range h.pd.Requests() {
		if r.Status == 429 && r.Token == h.env["prod"].PDToken[len(h.env["prod"].PDToken)-4:] {
			limited = append(limited, r.At)
		}
	}
	t.Logf("%d requests answered 429", len(limited))
	if len(limited) == 0 {
		t.Fatal("no 429 at all: the test did not exhaust the window")
	}
	// Nova may be refused by requests already in flight when the window
	// closed, but once told to wait it sends nothing beyond the limit.
	if last := limited[len(limited)-1]; last.Sub(limited[0]) > time.Second {
		t.Errorf("429s spread over %s: Nova kept sending beyond the limit", last.Sub(limited[0]))
	}
}

// pdRaw sends requests to the PagerDuty emulator as another client would.
type pdRaw struct{ url, token string }

func (c *pdRaw) get(t *testing.T, path string) int {
	req, _ := newRequest("GET", c.url+path, nil)
	req.Header.Set("Authorization", "Token token="+c.token)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
