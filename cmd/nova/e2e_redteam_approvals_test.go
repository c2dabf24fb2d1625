package main

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// reconfigure edits the installation's options, rewrites the configuration
// file and reloads it with SIGHUP, waiting until the instance says so.
func (h *harness) reconfigure(in *instance, edit func(*harnessOptions)) {
	h.t.Helper()
	edit(&h.opts)
	h.writeConfig()
	before := strings.Count(in.logs.String(), "configuration reloaded")
	in.reload <- syscall.SIGHUP
	h.eventually(5*time.Second, "the reload", func() bool { return strings.Count(in.logs.String(), "configuration reloaded") > before })
}

// Red-team item 2: after a SIGHUP that removed an approver and raised the
// quorum, the removed approver's single click still ran the action. Pending
// requests are now decided under the policy in force, never a weaker one
// than they were proposed with, and a removed approver's approval is lost.
func TestRedTeam2_ReloadReachesPendingApprovals(t *testing.T) {
	h := newHarness(t, harnessOptions{}) // one approval by alice, bob, carol or the on-call group
	in := h.start()
	_, early := h.proposeRollback("v6.0.0") // proposed when one approval was enough

	h.reconfigure(in, func(o *harnessOptions) { o.RequiredApprovals = 2 })
	_, late := h.proposeRollback("v6.0.1")
	if r := h.click(in, "prod", "U0ALICE", early, "approve"); !strings.Contains(r, "1 of 2") {
		t.Fatalf("one approval after the quorum was raised: %q, want 1 of 2", r)
	}
	if r := h.click(in, "prod", "U0ALICE", late, "approve"); !strings.Contains(r, "1 of 2") {
		t.Fatalf("first approval of the later request: %q", r)
	}

	h.reconfigure(in, func(o *harnessOptions) { o.Approvers = []string{"U0BOB", "U0CAROL", "S0ONCALL"} })
	h.eventually(15*time.Second, "the sweeper to withdraw alice's approvals", func() bool {
		return h.current(early).Contains("(0 of 2)") && h.current(late).Contains("(0 of 2)")
	})
	if r := h.click(in, "prod", "U0ALICE", late, "approve"); !strings.Contains(r, "not allowed") {
		t.Errorf("click by the removed approver: %q, want a refusal", r)
	}
	if r := h.click(in, "prod", "U0BOB", late, "approve"); !strings.Contains(r, "1 of 2") {
		t.Fatalf("bob after alice's approval was withdrawn: %q, want 1 of 2", r)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(h.receiver.Runs()); n != 0 {
		t.Fatalf("%d runs with the removed approver's approval counted", n)
	}

	// Two approvers under the new policy run the early request, once.
	h.click(in, "prod", "U0BOB", early, "approve")
	h.click(in, "prod", "U0DAVE", early, "approve") // through the on-call group
	h.eventually(15*time.Second, "the run's result", func() bool { return h.current(early).Contains("Succeeded") })
	runs := h.receiver.Runs()
	if len(runs) != 1 || !strings.Contains(runs[0].Body, `"approved_by":["U0BOB","U0DAVE"]`) {
		t.Fatalf("runs = %+v, want one approved by bob and dave", runs)
	}
	if _, body := httpGet(t, in.url+"/api/v1/audit?limit=1000", h.adminKey); !strings.Contains(body, "approval.revoke") {
		t.Errorf("the withdrawn approvals are not in the audit log")
	}
}

// Red-team item 3: one approval, two concurrent destructive runs. An action
// receiver slower than the visibility timeout, with two instances sweeping
// all the while, receives the run once: the run is bounded inside its
// lease, the lease is renewed while it runs, and the sweepers wait for its
// owner to be provably gone.
func TestRedTeam3_SlowRunIsNotStartedTwice(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis", Visibility: "2s"})
	a := h.start()
	h.start() // a second replica whose sweeper watches the same runs
	_, req := h.proposeRollback("v7.0.0")
	hold := make(chan struct{})
	h.receiver.Hold(hold)
	defer func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	}()
	h.click(a, "prod", "U0ALICE", req, "approve")
	h.eventually(10*time.Second, "the run to reach the automation", func() bool { return len(h.receiver.Runs()) == 1 })
	time.Sleep(12 * time.Second) // six visibility timeouts; both instances sweep every 2 s
	close(hold)
	h.eventually(15*time.Second, "the run's outcome in Slack", func() bool {
		m := h.current(req)
		return m.Contains("Failed") || m.Contains("Succeeded")
	})
	if runs := h.receiver.Runs(); len(runs) != 1 {
		t.Fatalf("the automation received %d deliveries of one approved run, want 1", len(runs))
	}
	if m := h.current(req); !m.Contains("time limit") {
		t.Errorf("the failed run does not say why: %v", m.Texts())
	}
}

// Red-team item 5: with PagerDuty unreachable, the "incident still open"
// check used Nova's stored record, and an action ran on an incident
// PagerDuty had resolved. No fresh confirmation, no run; Slack says why.
func TestRedTeam5_NoRunWhenPagerDutyCannotConfirmTheIncident(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	_, req := h.proposeRollback("v8.0.0")
	h.settle()
	// From now on PagerDuty's API cannot be reached; Nova's own record of
	// the incident still says it is open.
	h.pd.InjectFault(pdemu.Fault{Method: "GET", Path: "/incidents/{id}", Status: 503})
	h.click(in, "prod", "U0ALICE", req, "approve")
	const why = "could not confirm with PagerDuty that the incident is still open"
	// The PagerDuty client retries a 503 for up to 30 s before giving up.
	h.eventually(45*time.Second, "the request to end unrun", func() bool { return h.current(req).Contains(why) })
	time.Sleep(300 * time.Millisecond)
	if n := len(h.receiver.Runs()); n != 0 {
		t.Fatalf("%d runs on an incident PagerDuty could not confirm open", n)
	}
	h.pd.ClearFaults()
	if _, body := httpGet(t, in.url+"/api/v1/audit?limit=1000", h.adminKey); !strings.Contains(body, why) {
		t.Errorf("the audit log does not say why the action did not run")
	}
}

// Red-team item 6: an approval request posted in the incident's thread
// whose answer was lost was posted again (4 copies seen), because the
// recovery looked for it in conversations.history, which omits replies.
func TestRedTeam6_LostApprovalPostIsNotReposted(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	h.sl.LoseAnswers(slackemu.AnswerLoss{Method: "chat.postMessage", InThread: true, Count: 1})
	_, req := h.proposeRollback("v9.0.0")
	h.settle()
	time.Sleep(3 * time.Second) // the retry after the lost answer has long happened
	var copies int
	for _, m := range h.messages("C0CHECKOUT") {
		if m.ThreadTS == req.ThreadTS && m.Metadata != nil && m.Metadata.EventPayload["approval_id"] == req.Metadata.EventPayload["approval_id"] {
			copies++
		}
	}
	if copies != 1 {
		t.Fatalf("the approval request is in the thread %d times, want once", copies)
	}
	// Nova recorded the post it found: the result updates that message.
	h.click(in, "prod", "U0ALICE", req, "approve")
	h.eventually(15*time.Second, "the run's result on the found message", func() bool { return h.current(req).Contains("Succeeded") })
}
