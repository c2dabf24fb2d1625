package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/slack/slackemu"
)

// createWebhookSubscription creates a V3 webhook subscription in the
// emulated PagerDuty the way an admin does (its REST API, an admin's key),
// and returns its signing secret.
func (h *harness) createWebhookSubscription(env, url string, active bool) string {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"webhook_subscription": map[string]any{
		"type": "webhook_subscription", "description": "Nova " + env,
		"delivery_method": map[string]any{"type": "http_delivery_method", "url": url},
		"events":          handledEventTypes(), "filter": map[string]any{"type": "account_reference"}, "active": active,
	}})
	req, _ := http.NewRequest(http.MethodPost, h.pdURL+"/webhook_subscriptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Token token="+h.env[env].PDToken)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Sub struct {
			DeliveryMethod struct {
				Secret string `json:"secret"`
			} `json:"delivery_method"`
		} `json:"webhook_subscription"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("create webhook subscription: %d %v", resp.StatusCode, err)
	}
	return out.Sub.DeliveryMethod.Secret
}

// reload rewrites the configuration and waits for instance in to load it.
func (h *harness) reload(in *instance) {
	h.t.Helper()
	h.writeConfig()
	before := strings.Count(in.logs.String(), "configuration reloaded")
	in.reload <- syscall.SIGHUP
	h.eventually(5*time.Second, "the reload", func() bool { return strings.Count(in.logs.String(), "configuration reloaded") > before })
}

// runReview runs `nova review` as of the installation's clock and decodes
// its JSON report.
func (h *harness) runReview(extra ...string) (int, review.Report, string) {
	h.t.Helper()
	args := append([]string{"review", "--config", h.cfgPath, "--at", h.clock.Now().UTC().Format(time.RFC3339)}, extra...)
	code, out := run(h.t, append(args, "--format", "json")...)
	var rep review.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		h.t.Fatalf("nova review --format json printed no report (%v): %s", err, out)
	}
	_, md := run(h.t, args...)
	return code, rep, md
}

// hasItem reports whether the report lists, under section, an item about
// subject whose finding mentions text, with recommendation rec.
func hasItem(rep review.Report, section, subject, rec, text string) bool {
	for _, s := range rep.Sections {
		if s.ID != section {
			continue
		}
		for _, it := range s.Items {
			if strings.Contains(it.Subject, subject) && it.Recommendation == rec && strings.Contains(it.Finding, text) {
				return true
			}
		}
	}
	return false
}

// The "done when": every kind of drift appears under its heading
// with its recommendation and `nova review` exits 1; once each is fixed it
// exits 0. Everything goes through signed webhooks and Slack requests, the
// command line and the API.
func TestReviewFindsDriftAndPassesOnceFixed(t *testing.T) {
	start := time.Now().UTC()
	h := newHarness(t, harnessOptions{
		Backend: "redis",
		Services: []serviceSpec{
			{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "read-only", Channel: "C0CHECKOUT"},
			{ID: "PPAYMENTS", Name: "payments", Env: "prod", Mode: "read-only", Channel: "C0PAYMENTS"},
			{ID: "PSEARCH", Name: "search", Env: "prod", Mode: "read-only", Channel: "C0SEARCH"},
		},
		Admins:             []string{"U0ALICE"},
		Approvers:          []string{"U0ALICE", "U0BOB"},
		CredentialsCreated: start.Add(-10 * 24 * time.Hour).Format("2006-01-02"),
		ExtraYAML:          "promotion: { min_feedback: 1, min_precision: 0.8 }\n",
	})
	h.pd.AddService("prod", pdemu.Service{ID: "PLEGACY", Name: "legacy-batch"})
	oldSecret := h.env["prod"].Webhook[0]
	h.opts.WebhookCreated = map[string]string{oldSecret: start.Add(20*24*time.Hour - 120*24*time.Hour).Format("2006-01-02")}
	h.writeConfig()
	in := h.start()
	h.opts.PublicURL = in.url
	h.reload(in)
	hookURL := in.url + "/webhooks/pagerduty/prod"
	h.createWebhookSubscription("prod", hookURL, false) // disabled

	// checkout earns its promotion with one helpful answer and is promoted
	// through /nova, against the config's read-only.
	// (Nova caches a service's change events briefly: the deploy that the
	// rollback below is blamed on is known before the first incident.)
	h.pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PCHECKOUT", Summary: "Deploy checkout v2",
		Source: "argo-cd", Timestamp: time.Now().Add(-8 * time.Minute)})
	first := h.trigger("PCHECKOUT", "checkout worker: queue backlog above 10k messages")
	h.eventually(10*time.Second, "the shadow hypothesis", func() bool { _, ok := h.messageFor("C0CHECKOUT", first); return ok })
	if r := h.slash(in, "prod", "U0CAROL", "C0CHECKOUT", "feedback "+first+" helpful"); !strings.Contains(r, "recorded *helpful*") {
		t.Fatalf("feedback: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "mode checkout action"); !strings.Contains(r, "to *action* mode") {
		t.Fatalf("promotion: %s", r)
	}
	// Bob approves a rollback, then leaves the approvers.
	if err := h.pd.Resolve(first, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	// Later, the postmortem's answer says the first hypothesis was wrong
	// after all: the incident's verdict (what calibrates confidence, and
	// what the review's quality figure counts) turns wrong, while the
	// promotion rule keeps counting Carol's Helpful button.
	var pm []slackemu.Message
	h.eventually(15*time.Second, "the postmortem reply", func() bool { pm = h.postmortemReplies("C0CHECKOUT", first); return len(pm) == 1 })
	if r := h.click(in, "prod", "U0ALICE", pm[0], postmortem.ActionAnswerWrong); !strings.Contains(r, "wrong") {
		t.Fatalf("postmortem answer: %s", r)
	}
	defer func() {
		if t.Failed() {
			for _, m := range h.messages("C0CHECKOUT") {
				t.Logf("msg: %v", m.Texts())
			}
		}
	}()
	second, req := h.proposeRollback("v2")
	if r := h.click(in, "prod", "U0BOB", req, "approve"); !strings.Contains(r, "Approved") {
		t.Fatalf("approve: %s", r)
	}
	h.eventually(15*time.Second, "the rollback run", func() bool { return len(h.receiver.Runs()) == 1 })
	h.opts.Approvers = []string{"U0ALICE"}
	h.reload(in)
	// The second hypothesis is marked wrong.
	if r := h.slash(in, "prod", "U0CAROL", "C0CHECKOUT", "feedback "+second+" wrong DNS resolver outage"); !strings.Contains(r, "recorded *wrong*") {
		t.Fatalf("wrong feedback: %s", r)
	}
	// payments sees an incident, then an admin disables it.
	paid := h.trigger("PPAYMENTS", "payments-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the payments hypothesis", func() bool { _, ok := h.messageFor("C0PAYMENTS", paid); return ok })
	if r := h.slash(in, "prod", "U0ALICE", "C0PAYMENTS", "disable payments"); !strings.Contains(r, "to *off* mode") {
		t.Fatalf("disable: %s", r)
	}
	// An undeclared service sends events; search sends nothing.
	h.trigger("PLEGACY", "legacy-batch: job failed")
	h.settle()
	h.clock.Advance(20 * 24 * time.Hour)

	code, rep, md := h.runReview()
	if code != 1 || !rep.NeedsAction {
		t.Fatalf("review of a drifted installation exited %d:\n%s", code, md)
	}
	for _, want := range []struct{ section, subject, rec, text string }{
		{review.SectionMode, "checkout", review.RecFix, "intended read-only (config), actual action"},
		{review.SectionMode, "payments", review.RecFix, "paused: intended read-only (config), but off since"},
		{review.SectionMode, "payments", review.RecFix, "(20 days), disabled by @U0ALICE"},
		{review.SectionCoverage, "PLEGACY", review.RecFix, "undeclared service sent 1 event"},
		{review.SectionCoverage, "search", review.RecFix, "sent no event since"},
		{review.SectionCoverage, "webhook subscriptions (prod)", "", "is disabled (active: false)"},
		{review.SectionCoverage, "webhook subscriptions (prod)", review.RecFix, "no active subscription delivers prod's incident events to " + hookURL},
		{review.SectionKeys, "prod: pagerduty.webhook_secrets[0]", review.RecRotate, "days old"},
		{review.SectionAccess, "@U0BOB", review.RecCheck, "approved request"},
		{review.SectionAccess, "@U0BOB", review.RecCheck, "but is not an approver of prod now"},
		{review.SectionQuality, "checkout", review.RecDemote, second + " by @U0CAROL (real cause: \"DNS resolver outage\")"},
		{review.SectionQuality, "checkout", review.RecDemote, "verdicts 0 helpful, 2 wrong: 0% helpful (2 incidents judged)"},
		{review.SectionQuality, "checkout", review.RecDemote, "marked wrong: " + first + " by its postmortem answer, " + second + " by @U0CAROL"},
		{review.SectionQuality, "checkout", review.RecDemote, "the promotion rule counts responders' Helpful / Wrong buttons and backtest marks: 1 helpful, 1 wrong, precision 50%"},
		{review.SectionIntegrity, "audit chain", "", "intact"},
		{review.SectionIntegrity, "PagerDuty notes", "", "every one matches a note carrying its audit id"},
	} {
		if !hasItem(rep, want.section, want.subject, want.rec, want.text) {
			t.Errorf("the review lacks, under %s, a %q item about %q saying %q", want.section, want.rec, want.subject, want.text)
		}
	}
	for _, h := range []string{"## Mode drift", "## Coverage drift", "## Access drift", "## Key age", "## Quality", "## Integrity", "## Recommendations", "**ROTATE**", "**DEMOTE**"} {
		if !strings.Contains(md, h) {
			t.Errorf("the Markdown report lacks %q", h)
		}
	}
	if t.Failed() {
		t.Fatalf("report:\n%s", md)
	}
	// The API serves the same review to a read key.
	status, body := httpGet(t, in.url+"/api/v1/review?since=90d", h.readKey)
	var api review.Report
	if status != 200 || json.Unmarshal([]byte(body), &api) != nil || !api.NeedsAction || len(api.Sections) != 6 {
		t.Fatalf("GET /api/v1/review: %d %s", status, body)
	}
	if status, _ := httpGet(t, in.url+"/api/v1/review", ""); status != 401 {
		t.Errorf("GET /api/v1/review without a key: %d, want 401", status)
	}

	// Fix each one.
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "mode checkout read-only"); !strings.Contains(r, "to *read-only* mode") {
		t.Fatalf("demotion: %s", r)
	}
	code, out := run(t, "review", "--config", h.cfgPath, "--reconcile=config")
	if code != 0 || !strings.Contains(out, "payments (PPAYMENTS, prod): off → read-only") || !strings.Contains(out, "Dry run: nothing changed") {
		t.Fatalf("reconcile dry run: %d %s", code, out)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0PAYMENTS", "status payments"); !strings.Contains(r, "Mode: *off*") {
		t.Fatalf("the dry run changed the mode: %s", r)
	}
	code, out = run(t, "review", "--config", h.cfgPath, "--reconcile=config", "--apply")
	if code != 0 || !strings.Contains(out, "set payments to read-only (audit nova-") {
		t.Fatalf("reconcile: %d %s", code, out)
	}
	h.opts.Services = append(h.opts.Services, serviceSpec{ID: "PLEGACY", Name: "legacy", Env: "prod", Mode: "off", Channel: "C0LEGACY"})
	h.sl.AddChannel("C0LEGACY", "legacy")
	newSecret := h.createWebhookSubscription("prod", hookURL, true)
	s := h.env["prod"]
	s.Webhook = []string{oldSecret, newSecret}
	h.env["prod"] = s
	h.opts.WebhookCreated[newSecret] = h.clock.Now().UTC().Format("2006-01-02")
	h.opts.Approvers = []string{"U0ALICE", "U0BOB"}
	h.reload(in)
	searched := h.trigger("PSEARCH", "search-api: latency p99 above 2s")
	h.eventually(10*time.Second, "the search hypothesis", func() bool { _, ok := h.messageFor("C0SEARCH", searched); return ok })
	h.settle()
	s.Webhook = []string{newSecret} // the rotation ends: PagerDuty signs with the new secret only
	h.env["prod"] = s
	h.reload(in)

	code, rep, md = h.runReview()
	if code != 0 || rep.NeedsAction {
		t.Fatalf("review after every fix exited %d:\n%s", code, md)
	}
	if !hasItem(rep, review.SectionMode, "payments", "", "mode change") || !hasItem(rep, review.SectionAccess, "mode changes", "", "cli:") {
		t.Errorf("the reconcile is not in the review:\n%s", md)
	}
}

// Editing or deleting an audit entry makes the review's integrity section
// fail, naming the entry.
func TestReviewIntegrityFailsOnTamperedAudit(t *testing.T) {
	for _, tc := range []struct{ name, edit string }{{"edited", "edit"}, {"deleted", "delete"}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{CredentialsCreated: time.Now().UTC().Format("2006-01-02")})
			in := h.start()
			inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
			h.eventually(10*time.Second, "the note", func() bool { return len(h.novaNotes(inc)) == 1 })
			h.settle()
			h.stop(in) // bolt is one process: release the file

			code, rep, md := h.runReview()
			if !hasItem(rep, review.SectionIntegrity, "audit chain", "", "intact") {
				t.Fatalf("untouched log (exit %d):\n%s", code, md)
			}
			var target string
			tamper(t, h.dir+"/nova.db", func(b *bbolt.Bucket) {
				k, v := seqKey(b, 2)
				var e map[string]any
				_ = json.Unmarshal(v, &e)
				target, _ = e["id"].(string)
				if tc.edit == "delete" {
					_ = b.Delete(k)
					return
				}
				e["detail"] = "nothing to see here"
				nv, _ := json.Marshal(e)
				_ = b.Put(k, nv)
			})
			code, rep, md = h.runReview()
			if code != 1 || !rep.NeedsAction {
				t.Fatalf("review of a tampered log exited %d:\n%s", code, md)
			}
			want := target // an edited entry is named itself
			if tc.edit == "delete" {
				want = "expected 2 (an entry is missing)" // the next one names the gap
			}
			found := false
			for _, it := range rep.Recommendations {
				if it.Section == review.SectionIntegrity && it.Recommendation == review.RecFix && strings.Contains(it.Finding, want) && strings.Contains(it.Finding, "FAILED") {
					found = true
				}
			}
			if !found {
				t.Fatalf("the integrity section does not name %q:\n%s", want, md)
			}
		})
	}
}
