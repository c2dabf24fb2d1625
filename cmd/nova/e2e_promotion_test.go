package main

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova/review"
)

// Promotion must be earned: refused with too little or too poor feedback
// (saying what is missing), allowed with enough good feedback; --force
// still works for an admin, is audited as an override and reported by the
// review.
func TestPromotionMustBeEarned(t *testing.T) {
	h := newHarness(t, harnessOptions{
		Services: []serviceSpec{
			{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "read-only", Channel: "C0CHECKOUT"},
			{ID: "PPAYMENTS", Name: "payments", Env: "prod", Mode: "read-only", Channel: "C0PAYMENTS"},
		},
		ExtraYAML: "promotion: { min_feedback: 3, min_precision: 0.8 }\n",
	})
	in := h.start()
	judge := func(inc, verdict string) {
		t.Helper()
		if r := h.slash(in, "prod", "U0CAROL", "C0CHECKOUT", "feedback "+inc+" "+verdict); !strings.Contains(r, "recorded *"+verdict+"*") {
			t.Fatalf("feedback %s: %s", verdict, r)
		}
	}
	promote := func(want string) {
		t.Helper()
		if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "mode checkout action"); !strings.Contains(r, want) {
			t.Fatalf("promotion: got %q, want %q", r, want)
		}
	}
	var incs []string
	for i, title := range []string{"checkout-api: 5xx error rate above 5%", "checkout-api: latency p99 above 2s", "checkout worker: queue backlog growing"} {
		inc := h.trigger("PCHECKOUT", title)
		h.eventually(10*time.Second, "the shadow hypothesis", func() bool { _, ok := h.messageFor("C0CHECKOUT", inc); return ok })
		incs = append(incs, inc)
		if i < 2 {
			judge(inc, "helpful")
		}
	}
	h.clock.Advance(15 * 24 * time.Hour) // the watching period is over
	promote("2 of 3 needed answers; precision 100%")
	judge(incs[2], "wrong")
	promote("precision 67% is below the 80% bar (2 of 3 answers helpful)")
	judge(incs[2], "helpful") // the latest verdict of a person counts
	promote("to *action* mode")

	// An admin may still force a service that has earned nothing.
	if r := h.slash(in, "prod", "U0MALLORY", "C0PAYMENTS", "mode payments action --force"); !strings.Contains(r, "only Nova admins") {
		t.Fatalf("non-admin --force: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0PAYMENTS", "mode payments action --force"); !strings.Contains(r, "to *action* mode") || !strings.Contains(r, "override") {
		t.Fatalf("--force: %s", r)
	}
	h.settle()
	h.stop(in)
	code, out := run(t, "audit", "export", "--config", h.cfgPath)
	if code != 0 || !strings.Contains(out, `"action":"mode.override"`) || !strings.Contains(out, "0 of 3 needed answers") {
		t.Fatalf("the override is not audited as one: %s", out)
	}
	_, rep, md := h.runReview()
	if !hasItem(rep, review.SectionMode, "payments", "", "override: @U0ALICE forced") || hasItem(rep, review.SectionMode, "checkout", "", "override") {
		t.Errorf("the review does not list exactly the override:\n%s", md)
	}
}

// The scheduled review posts its summary to the admins' channel once per
// period with two replicas running, and /nova review answers admins only.
func TestScheduledReviewPostsOncePerPeriod(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis", ExtraYAML: "review: { slack_channel: C0NOVAADMIN, every: 1h }\n"})
	h.sl.AddChannel("C0NOVAADMIN", "nova-admins")
	// Periods start on the hour: put Nova's clock in the middle of one, so
	// that the seconds the test takes never cross into the next.
	now := h.clock.Now()
	h.clock.Advance(now.Truncate(time.Hour).Add(30 * time.Minute).Sub(now))
	reviews := func() int {
		n := 0
		for _, m := range h.messages("C0NOVAADMIN") {
			if strings.Contains(string(m.Text), "Rollout review") {
				n++
			}
		}
		return n
	}
	a := h.start()
	h.start()
	h.eventually(20*time.Second, "the scheduled review", func() bool { return reviews() >= 1 })
	time.Sleep(3 * time.Second) // both replicas ticked several times meanwhile
	if n := reviews(); n != 1 {
		t.Fatalf("%d reviews posted for one period, want 1", n)
	}
	m := h.messages("C0NOVAADMIN")[0]
	if !strings.Contains(string(m.Text), "needs action") || !strings.Contains(string(m.Text), "<https://nova.test/api/v1/review?format=md&amp;since=1h0m0s|Markdown, through the API>") {
		t.Errorf("review summary: %s", m.Text)
	}
	h.clock.Advance(time.Hour)
	h.eventually(20*time.Second, "the next period's review", func() bool { return reviews() >= 2 })
	time.Sleep(3 * time.Second)
	if n := reviews(); n != 2 {
		t.Fatalf("%d reviews posted for two periods, want 2", n)
	}

	if r := h.slash(a, "prod", "U0MALLORY", "C0CHECKOUT", "review"); !strings.Contains(r, "only Nova admins") {
		t.Errorf("/nova review by a non-admin: %s", r)
	}
	if r := h.slash(a, "prod", "U0ALICE", "C0CHECKOUT", "review"); !strings.Contains(r, "Rollout review") || !strings.Contains(r, "Full report:") {
		t.Errorf("/nova review by an admin: %s", r)
	}
}
