package main

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// proposeRollback triggers an incident that Nova blames on a deploy (the
// alerts name the component the deploy changed: timing alone would not
// do), and returns it with the approval request Nova posted in its Slack
// thread.
func (h *harness) proposeRollback(title string) (string, slackemu.Message) {
	h.t.Helper()
	h.pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PCHECKOUT", Summary: "Deploy checkout " + title + ": new payment client",
		Source: "argo-cd", Timestamp: time.Now().Add(-8 * time.Minute)})
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5% "+title,
		pdemu.AlertSpec{Summary: "HTTP 5xx error rate 9% on checkout-api: panic: nil pointer dereference in payment client", Source: "prometheus"})
	var req slackemu.Message
	h.eventually(15*time.Second, "the approval request", func() bool {
		for _, m := range h.messages("C0CHECKOUT") {
			if m.ThreadTS != "" && m.Metadata != nil && m.Metadata.EventPayload["approval_id"] != nil {
				if _, ok := m.Button("approve"); ok && h.requestIncident(m) == inc {
					req = m
					return true
				}
			}
		}
		return false
	})
	return inc, req
}

// requestIncident reads the incident id an approval message is about.
func (h *harness) requestIncident(m slackemu.Message) string {
	parent, ok := h.parentOf(m)
	if !ok || parent.Metadata == nil {
		return ""
	}
	id, _ := parent.Metadata.EventPayload["incident_id"].(string)
	return id
}

func (h *harness) parentOf(m slackemu.Message) (slackemu.Message, bool) {
	for _, p := range h.messages(m.Channel) {
		if p.TS == m.ThreadTS {
			return p, true
		}
	}
	return slackemu.Message{}, false
}

// current returns the latest version of a message.
func (h *harness) current(m slackemu.Message) slackemu.Message {
	for _, p := range h.messages(m.Channel) {
		if p.TS == m.TS {
			return p
		}
	}
	return m
}

// staleClick clicks a button as it was on msg when the test saw it, even if
// the message has since been updated, and returns Nova's reply.
func (h *harness) staleClick(in *instance, user string, msg slackemu.Message, actionID string) string {
	h.t.Helper()
	req, err := h.sl.StaleClickRequest(in.url+"/slack/interactions", h.env["prod"].Signing, user, msg, actionID)
	if err != nil {
		h.t.Fatal(err)
	}
	before := len(h.sl.Responses())
	if resp, _, _ := req.Send(); resp.StatusCode != 200 {
		h.t.Fatalf("stale click answered %d", resp.StatusCode)
	}
	h.eventually(10*time.Second, "the answer to a stale click", func() bool { return len(h.sl.Responses()) > before })
	return h.sl.Responses()[len(h.sl.Responses())-1].Text
}

// Twenty concurrent Approve clicks by allowed people, across two Nova
// instances, run the action once; the result reaches PagerDuty and Slack.
func TestConcurrentApprovalsRunTheActionOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis"})
	a := h.start()
	b := h.start()
	inc, req := h.proposeRollback("v2.3.1")
	people := []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"} // U0DAVE approves through the S0ONCALL group
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := []*instance{a, b}[i%2]
			// Everyone clicks on the view they all saw at the same moment.
			click, err := h.sl.StaleClickRequest(in.url+"/slack/interactions", h.env["prod"].Signing, people[i%len(people)], req, "approve")
			if err != nil {
				t.Error(err)
				return
			}
			resp, body, err := click.Send()
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("click %d: %v %v %s", i, err, resp, body)
			}
		}(i)
	}
	wg.Wait()
	h.eventually(15*time.Second, "the run's result in Slack", func() bool { return h.current(req).Contains("Succeeded") })
	time.Sleep(time.Second)
	if runs := h.receiver.Runs(); len(runs) != 1 {
		t.Fatalf("the automation received %d runs, want 1", len(runs))
	}
	if !strings.Contains(h.receiver.Runs()[0].Body, `"approved_by":["U0`) {
		t.Errorf("run does not name its approver: %s", h.receiver.Runs()[0].Body)
	}
	h.eventually(10*time.Second, "the status note", func() bool {
		for _, n := range h.novaNotes(inc) {
			if strings.Contains(n.Content, "catalog action rollback") && strings.Contains(n.Content, "Approved by: U0") {
				return true
			}
		}
		return false
	})
	if _, ok := h.current(req).Button("approve"); ok {
		t.Error("the finished request still shows an Approve button")
	}
}

// Clicks that must not run anything run nothing, and say why.
func TestRefusedApprovalsRunNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()

	_, req := h.proposeRollback("v3.0.0-unauthorised")
	if r := h.click(in, "prod", "U0MALLORY", req, "approve"); !strings.Contains(r, "U0ALICE") {
		t.Errorf("unauthorised click: %q does not say who may approve", r)
	}
	forged, _ := h.sl.ClickRequest(in.url+"/slack/interactions", h.env["prod"].Signing, "U0ALICE", req, "approve")
	if resp, _, _ := forged.Forged().Send(); resp.StatusCode != 401 {
		t.Errorf("forged click answered %d", resp.StatusCode)
	}

	_, expiring := h.proposeRollback("v3.0.1-expiry")
	h.clock.Advance(31 * time.Minute)
	if r := h.click(in, "prod", "U0ALICE", expiring, "approve"); !strings.Contains(r, "expired") {
		t.Errorf("click after expiry: %q", r)
	}

	_, paused := h.proposeRollback("v3.0.2-pause")
	h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "pause")
	h.click(in, "prod", "U0ALICE", paused, "approve")
	h.eventually(30*time.Second, "the paused run to be cancelled", func() bool { return h.current(paused).Contains("Nova is paused") })
	h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "resume")

	resolvedInc, resolved := h.proposeRollback("v3.0.3-resolved")
	if err := h.pd.Resolve(resolvedInc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(30*time.Second, "the request to be withdrawn", func() bool { return h.current(resolved).Contains("resolved") })
	if r := h.staleClick(in, "U0ALICE", resolved, "approve"); !strings.Contains(r, "cancelled") {
		t.Errorf("click after resolve: %q", r)
	}

	_, demoted := h.proposeRollback("v3.0.4-demoted")
	h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "mode checkout read-only")
	h.eventually(30*time.Second, "the request to be withdrawn", func() bool { return h.current(demoted).Contains("read-only") })
	if r := h.staleClick(in, "U0ALICE", demoted, "approve"); !strings.Contains(r, "cancelled") {
		t.Errorf("click after demotion: %q", r)
	}

	h.settle()
	if runs := h.receiver.Runs(); len(runs) != 0 {
		t.Fatalf("%d actions ran; none should have", len(runs))
	}
}

// With the two-person rule one approval is not enough and the same person
// twice is not two; a deny after the run started changes nothing.
func TestTwoPersonRuleAndLateDeny(t *testing.T) {
	h := newHarness(t, harnessOptions{RequiredApprovals: 2})
	in := h.start()
	_, req := h.proposeRollback("v4.0.0")
	if r := h.click(in, "prod", "U0ALICE", req, "approve"); !strings.Contains(r, "1 of 2") {
		t.Fatalf("first approval: %q", r)
	}
	if r := h.click(in, "prod", "U0ALICE", req, "approve"); !strings.Contains(r, "already approved") {
		t.Fatalf("same person again: %q", r)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(h.receiver.Runs()); n != 0 {
		t.Fatalf("ran after %d distinct approvals of 2", 1)
	}
	hold := make(chan struct{})
	h.receiver.Hold(hold)
	h.click(in, "prod", "U0BOB", req, "approve")
	h.eventually(10*time.Second, "the run to start", func() bool { return len(h.receiver.Runs()) == 1 })
	if r := h.staleClick(in, "U0CAROL", req, "deny"); !strings.Contains(r, "running") {
		t.Errorf("deny while running: %q", r)
	}
	close(hold)
	h.eventually(10*time.Second, "the result", func() bool { return h.current(req).Contains("Succeeded") })
	if n := len(h.receiver.Runs()); n != 1 {
		t.Fatalf("%d runs, want 1", n)
	}
}

// A Nova killed while an approved action runs never runs it a second
// time: after restart the run is resumed with the same idempotency key
// (the automation deduplicates on it) and ends with a known outcome.
func TestCrashDuringRunningResumesWithTheSameKey(t *testing.T) {
	h := newHarness(t, harnessOptions{Visibility: "2s"})
	p := h.startProcess()
	for _, env := range h.opts.Envs {
		h.pd.Subscribe(env, p.url+"/webhooks/pagerduty/"+env, h.env[env].Webhook)
	}
	_, req := h.proposeRollback("v5.0.0")
	hold := make(chan struct{})
	h.receiver.Hold(hold)
	h.click(p.instance(), "prod", "U0ALICE", req, "approve")
	h.eventually(10*time.Second, "the run to reach the automation", func() bool { return len(h.receiver.Runs()) == 1 })
	p.kill(syscall.SIGKILL)
	close(hold)
	h.receiver.Hold(nil)
	h.startProcess()
	h.eventually(40*time.Second, "the resumed run to finish", func() bool { return h.current(req).Contains("Succeeded") })
	runs := h.receiver.Runs()
	if h.receiver.DistinctKeys() != 1 {
		t.Fatalf("runs with %d different idempotency keys: %+v", h.receiver.DistinctKeys(), runs)
	}
	t.Logf("the automation received %d deliveries of one run (key %s)", len(runs), runs[0].Key)
}
