package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// auditEntries reads the audit log through the API.
func (h *harness) auditEntries(in *instance) []struct{ Action, Outcome, Actor, Detail, Environment string } {
	h.t.Helper()
	_, body := httpGet(h.t, in.url+"/api/v1/audit?limit=1000", h.adminKey)
	var audit struct {
		Entries []struct{ Action, Outcome, Actor, Detail, Environment string } `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &audit); err != nil {
		h.t.Fatalf("audit log: %v: %s", err, body)
	}
	return audit.Entries
}

// Issue 15 item 4: an admin of staging alone, through staging's Slack app,
// can neither pause nor resume Nova as a whole, nor see or judge prod's
// services; the refused pause is audited and changes nothing. A global
// admin (global_admins) and an admin of every environment can pause and
// resume.
func TestRedTeam4_StagingAdminCannotPauseOrReachProd(t *testing.T) {
	h := newHarness(t, harnessOptions{
		Envs: []string{"prod", "staging"},
		Services: []serviceSpec{
			{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "action", Channel: "C0CHECKOUT"},
			{ID: "PSTAGING", Name: "checkout-staging", Env: "staging", Mode: "action", Channel: "C0STAGING"},
		},
		EnvAdmins:    map[string][]string{"prod": {"U0ALICE"}, "staging": {"U0DAVE", "U0ALICE"}},
		GlobalAdmins: []string{"U0BOB"},
		NoActions:    true,
	})
	h.sl.AddChannel("C0ELSEWHERE", "random")
	in := h.start()

	// The staging-only admin's pause is refused, says why, and is audited.
	r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "pause")
	if strings.Contains(r, "paused Nova") || !strings.Contains(r, "not an admin of prod") || !strings.Contains(r, "global_admins") {
		t.Fatalf("staging admin's /nova pause: %s", r)
	}
	if r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "resume"); !strings.Contains(r, "not an admin of prod") {
		t.Fatalf("staging admin's /nova resume: %s", r)
	}
	refused := 0
	for _, e := range h.auditEntries(in) {
		if e.Action == "nova.pause" || e.Action == "nova.resume" {
			t.Errorf("audit records a pause or resume by a staging admin: %+v", e)
		}
		if e.Action == "command.pause" && e.Outcome == "refused" && e.Actor == "slack:U0DAVE" && strings.Contains(e.Detail, "prod") {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d refused pause entries by U0DAVE in the audit log, want 1", refused)
	}
	// …and changed nothing: prod still gets its note, status shows no pause.
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the prod note after the refused pause", func() bool { return len(h.novaNotes(inc)) == 1 })
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status"); strings.Contains(r, "paused") {
		t.Errorf("status after a refused pause: %s", r)
	}
	h.eventually(10*time.Second, "the prod hypothesis message", func() bool { _, ok := h.messageFor("C0CHECKOUT", inc); return ok })

	// Status through staging's app shows staging only, even to its admin.
	r = h.slash(in, "staging", "U0DAVE", "C0STAGING", "status")
	if !strings.Contains(r, "checkout-staging") || strings.Contains(r, "PCHECKOUT") {
		t.Errorf("staging admin's status lists prod: %s", r)
	}
	if r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "status checkout"); !strings.Contains(r, "unknown service") {
		t.Errorf("staging admin's status of a prod service: %s", r)
	}
	// A non-admin sees the service of the channel they ask in, nothing else.
	r = h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "status")
	if !strings.Contains(r, "PCHECKOUT") || strings.Contains(r, "PSTAGING") {
		t.Errorf("a non-admin's status in the checkout channel: %s", r)
	}
	if r := h.slash(in, "prod", "U0MALLORY", "C0ELSEWHERE", "status"); strings.Contains(r, "PCHECKOUT") || !strings.Contains(r, "No services") {
		t.Errorf("a non-admin's status elsewhere: %s", r)
	}

	// Feedback on a prod incident through staging's app does not reach prod.
	if r := h.slash(in, "staging", "U0DAVE", "C0STAGING", "feedback "+inc+" wrong deploy"); !strings.Contains(r, "no record of incident") {
		t.Errorf("staging admin's feedback on a prod incident: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status checkout"); !strings.Contains(r, "No feedback") {
		t.Errorf("prod service's feedback changed through staging: %s", r)
	}
	// Anyone in the service's channel may judge it.
	if r := h.slash(in, "prod", "U0MALLORY", "C0CHECKOUT", "feedback "+inc+" helpful"); !strings.Contains(r, "recorded *helpful*") {
		t.Errorf("feedback in the service's channel: %s", r)
	}

	// A global admin may pause (through either app), and an admin of every
	// environment may resume.
	if r := h.slash(in, "staging", "U0BOB", "C0STAGING", "pause"); !strings.Contains(r, "paused Nova") {
		t.Fatalf("global admin's pause: %s", r)
	}
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "resume"); !strings.Contains(r, "resumed Nova") {
		t.Fatalf("resume by an admin of every environment: %s", r)
	}
	counts := map[string]int{}
	for _, e := range h.auditEntries(in) {
		counts[e.Action+"/"+e.Outcome+"/"+e.Actor]++
	}
	if counts["nova.pause/ok/slack:U0BOB"] != 1 || counts["nova.resume/ok/slack:U0ALICE"] != 1 || counts["command.feedback/refused/slack:U0DAVE"] != 1 {
		t.Errorf("audit counts: %v", counts)
	}
}
