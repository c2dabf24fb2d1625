package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// A triggered incident on an action-mode service gets one hypothesis note
// and one ack by the bot user; a read-only service gets a Slack message
// and not a single PagerDuty write.
func TestTriggeredIncidentGetsOneNoteAndAck(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%",
		pdemu.AlertSpec{Summary: "HTTP 5xx error rate 7% on checkout-api", Source: "prometheus"})
	h.eventually(10*time.Second, "the hypothesis note", func() bool { return len(h.novaNotes(inc)) == 1 })
	h.eventually(10*time.Second, "the ack by the bot user", func() bool {
		got, _ := h.pd.Incident(inc)
		return got.Status == "acknowledged"
	})
	shadow := h.trigger("PPAYMENTS", "payments-db: replication lag above 30s")
	h.eventually(10*time.Second, "the shadow message", func() bool { return len(h.messages("C0PAYMENTS")) == 1 })
	h.settle()

	if n := h.novaNotes(inc); len(n) != 1 || !strings.HasPrefix(n[0].Content, "Nova") {
		t.Fatalf("notes on %s: %+v", inc, n)
	}
	acks := 0
	for _, e := range h.pd.LogEntries(inc) {
		if strings.HasPrefix(e.Type, "acknowledge") {
			acks++
			if e.Agent == nil || e.Agent.ID != h.env["prod"].BotUser {
				t.Errorf("ack by %+v, want the bot user %s", e.Agent, h.env["prod"].BotUser)
			}
		}
	}
	if acks != 1 {
		t.Errorf("%d acks, want 1", acks)
	}
	for _, r := range h.pd.Requests() {
		if r.Method != "GET" && strings.Contains(r.Path, shadow) {
			t.Errorf("read-only service got a PagerDuty write: %s %s", r.Method, r.Path)
		}
	}
	if len(h.novaNotes(shadow)) != 0 {
		t.Error("read-only service got a note")
	}
	if m := h.messages("C0PAYMENTS")[0]; !m.Contains("Shadow mode") {
		t.Errorf("read-only message is not marked shadow: %v", m.Texts())
	}
	if m := h.messages("C0CHECKOUT")[0]; !m.Contains("Acknowledged by Nova") {
		t.Errorf("action-mode message was not updated with Nova's ack: %v", m.Texts())
	}
	if got := metricValue(t, in.url, "nova_acks_total", `by="nova"`); got != 1 {
		t.Errorf("nova_acks_total{by=nova} = %v", got)
	}
	// PagerDuty redelivers the trigger (same X-Webhook-Id): nothing changes.
	writes := h.pd.NonGET("prod")
	for _, d := range h.pd.Deliveries() {
		if d.IncidentID == inc && d.EventType == "incident.triggered" {
			if err := h.pd.Redeliver(d.WebhookID); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	h.settle()
	if n := h.pd.NonGET("prod"); n != writes || len(h.novaNotes(inc)) != 1 || len(h.messages("C0CHECKOUT")) != 1 {
		t.Errorf("a redelivered webhook changed something: %d writes (was %d), %d notes, %d messages", n, writes, len(h.novaNotes(inc)), len(h.messages("C0CHECKOUT")))
	}
	if got := metricValue(t, in.url, "nova_webhook_deliveries_total", `result="duplicate"`); got != 1 {
		t.Errorf("duplicate deliveries counted %v, want 1", got)
	}
}

// The same delivery sent five times at once is processed once; so is the
// same event under another webhook id.
func TestDuplicateDeliveriesAreProcessedOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	inc := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout-api: latency p99 above 2s"})
	in := h.start() // subscribes after the incident exists: the test delivers it
	body := envelope("evt-dup-1", "incident.triggered", inc, time.Now())
	results := make(chan string, 6)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, resp := h.deliver(in, "prod", "wh-dup-1", body)
			results <- fmt.Sprintf("%d %s", code, strings.TrimSpace(resp))
		}()
	}
	wg.Wait()
	code, resp := h.deliver(in, "prod", "wh-dup-2-same-event", body)
	results <- fmt.Sprintf("%d %s", code, strings.TrimSpace(resp))
	close(results)
	counts := map[string]int{}
	for r := range results {
		counts[r]++
	}
	if counts[`202 {"result":"accepted"}`] != 1 || counts[`202 {"result":"duplicate"}`] != 5 {
		t.Fatalf("answers: %v; want one accepted and five duplicates", counts)
	}
	h.eventually(10*time.Second, "the note", func() bool { return len(h.novaNotes(inc.ID)) >= 1 })
	h.settle()
	if n := len(h.novaNotes(inc.ID)); n != 1 {
		t.Fatalf("%d notes after duplicate deliveries, want 1", n)
	}
	if got := metricValue(t, in.url, "nova_events_processed_total", `type="incident.triggered"`); got != 1 {
		t.Errorf("processed %v triggered events, want 1", got)
	}
}

// Every bad input gets its status and changes nothing.
func TestBadDeliveriesAreRefusedAndChangeNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	inc := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout down"})
	in := h.start()
	good := envelope("evt-bad", "incident.triggered", inc, time.Now())
	secret := h.env["prod"].Webhook[0]
	url := in.url + "/webhooks/pagerduty/prod"
	big := append([]byte(`{"event":{"id":"x","event_type":"incident.triggered","data":{"title":"`), make([]byte, 2<<20)...)
	otherService := strings.Replace(string(good), `"id":"PCHECKOUT"`, `"id":"PUNKNOWN"`, 1)
	ignoredType := strings.Replace(string(good), "incident.triggered", "incident.responder.added", 1)
	cases := []struct {
		name    string
		url     string
		body    []byte
		headers map[string]string
		status  int
	}{
		{"bad signature", url, good, map[string]string{"X-Webhook-Id": "w1", "X-PagerDuty-Signature": signature(good, "not-the-secret")}, 401},
		{"no signature", url, good, map[string]string{"X-Webhook-Id": "w2"}, 400},
		{"no webhook id", url, good, map[string]string{"X-PagerDuty-Signature": signature(good, secret)}, 400},
		{"malformed JSON", url, []byte(`{"event":`), map[string]string{"X-Webhook-Id": "w3", "X-PagerDuty-Signature": signature([]byte(`{"event":`), secret)}, 400},
		{"oversized body", url, big, map[string]string{"X-Webhook-Id": "w4", "X-PagerDuty-Signature": signature(big, secret)}, 413},
		{"unknown environment", in.url + "/webhooks/pagerduty/qa", good, map[string]string{"X-Webhook-Id": "w5", "X-PagerDuty-Signature": signature(good, secret)}, 404},
		{"unknown service", url, []byte(otherService), map[string]string{"X-Webhook-Id": "w6", "X-PagerDuty-Signature": signature([]byte(otherService), secret)}, 202},
		{"ignored event type", url, []byte(ignoredType), map[string]string{"X-Webhook-Id": "w7", "X-PagerDuty-Signature": signature([]byte(ignoredType), secret)}, 202},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, c.url, c.body, c.headers)
			if code != c.status {
				t.Fatalf("status %d (%s), want %d", code, body, c.status)
			}
			for _, s := range []string{secret, h.env["prod"].PDToken} {
				if strings.Contains(body, s) {
					t.Fatal("the answer holds a secret")
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if d := metricValue(t, in.url, "nova_inbox_depth"); d != 0 {
		t.Errorf("inbox depth %v after refused deliveries", d)
	}
	if got := metricValue(t, in.url, "nova_events_processed_total"); got != 0 {
		t.Errorf("%v events processed after refused deliveries", got)
	}
	if n := h.pd.NonGET("prod"); n != 0 {
		t.Errorf("%d PagerDuty writes after refused deliveries", n)
	}
	if n := len(h.messages("C0CHECKOUT")); n != 0 {
		t.Errorf("%d Slack messages after refused deliveries", n)
	}
	for result, want := range map[string]float64{"bad_signature": 2, "malformed": 2, "too_large": 1, "unknown_environment": 1, "ignored_service": 1, "ignored_type": 1} {
		if got := metricValue(t, in.url, "nova_webhook_deliveries_total", `result="`+result+`"`); got != want {
			t.Errorf("deliveries{result=%s} = %v, want %v", result, got, want)
		}
	}
}
