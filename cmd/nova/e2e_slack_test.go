package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova/slack/slackemu"
)

// messageFor finds the hypothesis message of an incident in a channel.
func (h *harness) messageFor(channel, incident string) (slackemu.Message, bool) {
	for _, m := range h.messages(channel) {
		if m.Metadata != nil && m.Metadata.EventPayload["incident_id"] == incident && m.ThreadTS == "" {
			return m, true
		}
	}
	return slackemu.Message{}, false
}

// writesTo counts PagerDuty non-GET requests touching an incident.
func (h *harness) writesTo(incident string) int {
	n := 0
	for _, r := range h.pd.Requests() {
		if r.Method != "GET" && strings.Contains(r.Path, incident) {
			n++
		}
	}
	return n
}

// The rollout ladder, driven only through signed Slack requests and
// PagerDuty webhooks: enable, shadow hypothesis, refused then allowed
// promotion, note and message, ack update, pause, feedback in status.
func TestRolloutLadderThroughSlack(t *testing.T) {
	h := newHarness(t, harnessOptions{Services: []serviceSpec{
		{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "off", Channel: "C0CHECKOUT", WatchDays: 14},
	}, ExtraYAML: "promotion: { min_feedback: 1 }\n"}) // one helpful answer earns promotion here
	in := h.start()
	const ch = "C0CHECKOUT"

	// Off: Nova ignores the service entirely.
	ignored := h.trigger("PCHECKOUT", "checkout-api: latency p99 above 2s")
	h.settle()
	if len(h.messages(ch)) != 0 || h.writesTo(ignored) != 0 {
		t.Fatal("Nova acted on a service that is off")
	}
	// A non-admin cannot enable it; an admin can.
	if r := h.slash(in, "prod", "U0MALLORY", ch, "enable checkout"); !strings.Contains(r, "only Nova admins") {
		t.Fatalf("non-admin enable: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", ch, "enable checkout"); !strings.Contains(r, "read-only") {
		t.Fatalf("enable: %s", r)
	}
	shadow := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the shadow message", func() bool { _, ok := h.messageFor(ch, shadow); return ok })
	h.settle()
	if m, _ := h.messageFor(ch, shadow); !m.Contains("Shadow mode") {
		t.Errorf("read-only message not marked shadow: %v", m.Texts())
	}
	if n := h.writesTo(shadow); n != 0 {
		t.Fatalf("%d PagerDuty writes in read-only mode", n)
	}
	// Feedback by click counts in status.
	m, _ := h.messageFor(ch, shadow)
	if r := h.click(in, "prod", "U0BOB", m, "feedback_helpful"); !strings.Contains(r, "helpful") {
		t.Errorf("feedback reply: %s", r)
	}
	if r := h.slash(in, "prod", "U0BOB", ch, "status checkout"); !strings.Contains(r, "1 helpful, 0 wrong") {
		t.Errorf("status after feedback: %s", r)
	}
	// Promotion is refused during the watching period, then allowed.
	if r := h.slash(in, "prod", "U0ALICE", ch, "mode checkout action"); !strings.Contains(r, "watching period") || !strings.Contains(r, "1 helpful") {
		t.Fatalf("early promotion: %s", r)
	}
	h.clock.Advance(15 * 24 * time.Hour)
	if r := h.slash(in, "prod", "U0ALICE", ch, "mode checkout action"); !strings.Contains(r, "to *action* mode") {
		t.Fatalf("promotion after the watching period: %s", r)
	}
	live := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5% again")
	h.eventually(10*time.Second, "the note and message", func() bool {
		_, ok := h.messageFor(ch, live)
		return len(h.novaNotes(live)) == 1 && ok
	})
	if m, _ := h.messageFor(ch, live); m.Contains("Shadow mode") {
		t.Error("action-mode message marked shadow")
	}
	// A person acks in PagerDuty: the message is updated in place.
	if err := h.pd.Acknowledge(live, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(10*time.Second, "the message to show the ack", func() bool {
		m, _ := h.messageFor(ch, live)
		return m.Contains("Acknowledged by Alice")
	})
	// Pause stops every PagerDuty write; Slack still hears about incidents.
	if r := h.slash(in, "prod", "U0MALLORY", ch, "pause"); !strings.Contains(r, "only Nova admins") {
		t.Fatalf("non-admin pause: %s", r)
	}
	if r := h.slash(in, "prod", "U0CAROL", ch, "pause"); !strings.Contains(r, "paused Nova") { // admin through S0ADMINS
		t.Fatalf("pause by a group admin: %s", r)
	}
	paused := h.trigger("PCHECKOUT", "checkout-api: pods in CrashLoopBackOff")
	h.eventually(10*time.Second, "the message while paused", func() bool { _, ok := h.messageFor(ch, paused); return ok })
	h.settle()
	if n := h.writesTo(paused); n != 0 {
		t.Fatalf("%d PagerDuty writes while paused", n)
	}
	if r := h.slash(in, "prod", "U0BOB", ch, "status"); !strings.Contains(r, "Nova is paused") {
		t.Errorf("status does not show the pause: %s", r)
	}
	h.slash(in, "prod", "U0ALICE", ch, "resume")
	after := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5% once more")
	h.eventually(10*time.Second, "a note after resume", func() bool { return len(h.novaNotes(after)) == 1 })
	// Demotion is immediate.
	if r := h.slash(in, "prod", "U0ALICE", ch, "mode checkout read-only"); !strings.Contains(r, "read-only") {
		t.Fatalf("demotion: %s", r)
	}
	demoted := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5% after demotion")
	h.eventually(10*time.Second, "the message after demotion", func() bool { _, ok := h.messageFor(ch, demoted); return ok })
	h.settle()
	if n := h.writesTo(demoted); n != 0 {
		t.Fatalf("%d PagerDuty writes after demotion", n)
	}
	// Every mode change and refusal is in the audit log.
	_, body := httpGet(t, in.url+"/api/v1/audit?limit=1000", h.adminKey)
	var audit struct {
		Entries []struct{ Action, Outcome, Actor, Detail string } `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &audit); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range audit.Entries {
		counts[e.Action+"/"+e.Outcome]++
	}
	for key, want := range map[string]int{"mode.change/ok": 3, "command.enable/refused": 1, "command.mode/refused": 1,
		"command.pause/refused": 1, "nova.pause/ok": 1, "nova.resume/ok": 1, "feedback/ok": 1} {
		if counts[key] != want {
			t.Errorf("audit %s: %d entries, want %d (all: %v)", key, counts[key], want, counts)
		}
	}
}

// Forged, replayed and stale Slack requests are refused, audited, and
// change nothing.
func TestForgedReplayedStaleSlackRequestsChangeNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	url := in.url + "/slack/commands"
	req, err := h.sl.SlashCommandRequest(url, h.env["prod"].Signing, "U0ALICE", "C0CHECKOUT", "disable checkout")
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*slackemu.SignedRequest{"forged": req.Forged(), "stale": req.Stale(), "unsigned": req.Unsigned()} {
		resp, body, err := r.Send()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 401 && resp.StatusCode != 400 {
			t.Errorf("%s request answered %d %s", name, resp.StatusCode, body)
		}
	}
	// The genuine one works once; its replay is refused.
	wrongSecret, _ := h.sl.SlashCommandRequest(url, "not-the-signing-secret", "U0ALICE", "C0CHECKOUT", "disable checkout")
	if resp, _, _ := wrongSecret.Send(); resp.StatusCode != 401 {
		t.Errorf("wrong secret answered %d", resp.StatusCode)
	}
	statusBefore := h.slash(in, "prod", "U0BOB", "C0CHECKOUT", "status checkout")
	if !strings.Contains(statusBefore, "Mode: *action*") {
		t.Fatalf("status: %s", statusBefore)
	}
	if resp, body, _ := req.Send(); resp.StatusCode != 200 || !strings.Contains(string(body), "to *off* mode") {
		t.Fatalf("genuine request: %d %s", resp.StatusCode, body)
	}
	if resp, _, _ := req.Send(); resp.StatusCode != 401 {
		t.Errorf("replay answered %d, want 401", resp.StatusCode)
	}
	_, body := httpGet(t, in.url+"/api/v1/audit?limit=1000", h.adminKey)
	if n := strings.Count(body, `"action":"slack.request"`); n != 5 {
		t.Errorf("%d refused Slack requests audited, want 5 (forged, stale, unsigned, wrong secret, replay): %s", n, body)
	}
	if n := strings.Count(body, `"action":"mode.change"`); n != 1 {
		t.Errorf("%d mode changes, want exactly the genuine one", n)
	}
}
