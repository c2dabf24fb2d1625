package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/slack/slackemu"
)

// draftOf reads an incident's postmortem draft through Nova's API, or
// returns false while there is none.
func (h *harness) draftOf(in *instance, inc string) (postmortem.Draft, bool) {
	h.t.Helper()
	code, body := httpGet(h.t, in.url+"/api/v1/incidents/"+inc+"/postmortem", h.readKey)
	if code == 404 {
		return postmortem.Draft{}, false
	}
	var d postmortem.Draft
	if code != 200 || json.Unmarshal([]byte(body), &d) != nil {
		h.t.Fatalf("GET postmortem: %d %s", code, body)
	}
	return d, true
}

// postmortemReplies returns Nova's postmortem replies about an incident in a channel.
func (h *harness) postmortemReplies(channel, inc string) []slackemu.Message {
	var out []slackemu.Message
	for _, m := range h.messages(channel) {
		if m.Metadata != nil && m.Metadata.EventPayload["postmortem"] == "pm-prod-"+inc {
			out = append(out, m)
		}
	}
	return out
}

// Trigger → hypothesis → Nova's ack → approval and run of a rollback → a
// person's note → resolve gives one draft whose timeline holds each of
// those in order with its source, one PagerDuty note linking it and one
// Slack thread reply. A redelivered resolve changes nothing; reopen and
// resolve again give version 2 of the same draft, with no second note and
// the same reply updated in place. Yes / Partly / No answers count once per
// person and show in /nova status.
func TestPostmortemDraftOnResolve(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc, req := h.proposeRollback("v2.3.1")
	h.click(in, "prod", "U0ALICE", req, "approve")
	h.eventually(15*time.Second, "the rollback's result", func() bool { return h.current(req).Contains("Succeeded") })
	if _, err := h.pd.AddNote(inc, "PALICEPROD", "Error rate back to normal after the rollback"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // PagerDuty's times have whole seconds
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	var d postmortem.Draft
	h.eventually(15*time.Second, "the postmortem draft", func() bool {
		var ok bool
		d, ok = h.draftOf(in, inc)
		return ok
	})
	h.settle()
	if d.ID != "pm-prod-"+inc || d.Version != 1 {
		t.Fatalf("draft %s version %d", d.ID, d.Version)
	}
	// The timeline holds every event, in order, with its source.
	want := []string{
		"PagerDuty:Triggered", "Nova:Posted its hypothesis note", "Nova:Acknowledged the incident",
		"Nova:Proposed a destructive action", "Slack:Approved", "Nova:Ran the action",
		"PagerDuty note:Error rate back to normal", "PagerDuty:Resolved by Alice",
	}
	next := 0
	var got []string
	for i, l := range d.Timeline {
		got = append(got, l.Source+":"+l.Text)
		if i > 0 && l.At.Before(d.Timeline[i-1].At) {
			t.Errorf("timeline out of order at %d", i)
		}
		if next < len(want) {
			src, text, _ := strings.Cut(want[next], ":")
			if l.Source == src && strings.HasPrefix(l.Text, text) {
				next++
			}
		}
	}
	if next != len(want) {
		t.Errorf("timeline lacks %q (in order):\n%s", want[next], strings.Join(got, "\n"))
	}
	if d.Outcome.Verdict != postmortem.VerdictMatched || d.Hypothesis.Top == nil || len(d.Actions) != 1 || d.Actions[0].ApprovedBy[0] != "U0ALICE" {
		t.Errorf("outcome %+v, actions %+v", d.Outcome, d.Actions)
	}
	code, md := httpGet(t, in.url+"/api/v1/incidents/"+inc+"/postmortem?format=md", h.readKey)
	if code != 200 || !strings.Contains(md, "## Root cause analysis") || !strings.Contains(md, "Nova states no root cause") {
		t.Errorf("markdown: %d\n%s", code, md)
	}
	link := "https://nova.test/api/v1/incidents/" + inc + "/postmortem?format=md"
	notes := func() (n int) {
		for _, note := range h.novaNotes(inc) {
			if strings.Contains(note.Content, "Postmortem draft") {
				n++
				if !strings.Contains(note.Content, link) || !strings.Contains(note.Content, "audit nova-") {
					t.Errorf("postmortem note without link or audit id: %s", note.Content)
				}
			}
		}
		return n
	}
	if n := notes(); n != 1 {
		t.Errorf("%d postmortem notes, want 1", n)
	}
	replies := h.postmortemReplies("C0CHECKOUT", inc)
	if len(replies) != 1 || replies[0].ThreadTS == "" || !replies[0].Contains("version 1") {
		t.Fatalf("postmortem replies %+v, want one thread reply", replies)
	}
	if _, ok := replies[0].Button(postmortem.ActionAnswerRight); !ok {
		t.Error("the reply does not ask whether Nova was right")
	}

	// PagerDuty delivers the resolve again: nothing changes.
	writes := h.pd.NonGET("prod")
	for _, dl := range h.pd.Deliveries() {
		if dl.IncidentID == inc && dl.EventType == "incident.resolved" {
			if err := h.pd.Redeliver(dl.WebhookID); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	h.settle()
	if again, _ := h.draftOf(in, inc); again.Version != 1 || h.pd.NonGET("prod") != writes || notes() != 1 || len(h.postmortemReplies("C0CHECKOUT", inc)) != 1 {
		t.Errorf("redelivered resolve: version %d, %d writes (was %d)", again.Version, h.pd.NonGET("prod"), writes)
	}

	// Reopen and resolve again: version 2 of the same draft, the same reply
	// updated, no second note.
	if err := h.pd.Reopen(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	time.Sleep(20 * time.Millisecond)
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(15*time.Second, "version 2", func() bool { d, _ = h.draftOf(in, inc); return d.Version == 2 })
	h.settle()
	if d.ID != "pm-prod-"+inc || len(d.History) != 2 {
		t.Errorf("version 2: id %s, history %+v", d.ID, d.History)
	}
	if n := notes(); n != 1 {
		t.Errorf("%d postmortem notes after re-resolve, want 1", n)
	}
	replies = h.postmortemReplies("C0CHECKOUT", inc)
	if len(replies) != 1 || !replies[0].Contains("version 2") {
		t.Errorf("replies after re-resolve: %d, texts %v", len(replies), replies[0].Texts())
	}

	// Answers: one per person, the latest counts, shown in /nova status.
	if r := h.click(in, "prod", "U0ALICE", replies[0], postmortem.ActionAnswerRight); !strings.Contains(r, "right") {
		t.Errorf("answer reply %q", r)
	}
	h.click(in, "prod", "U0ALICE", h.current(replies[0]), postmortem.ActionAnswerWrong)
	h.click(in, "prod", "U0BOB", h.current(replies[0]), postmortem.ActionAnswerPartly)
	d, _ = h.draftOf(in, inc)
	if r, p, w := postmortem.Tally(d.Answers); r != 0 || p != 1 || w != 1 {
		t.Errorf("answers %+v", d.Answers)
	}
	status := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "status checkout")
	if !strings.Contains(status, "Hypothesis right per postmortem answers: 0% (0 right, 1 partly, 1 wrong)") ||
		!strings.Contains(status, "abstained on 0% of 1 resolved incidents") {
		t.Errorf("status: %s", status)
	}
}

// A read-only service gets the draft and the Slack reply, and PagerDuty
// gets no write at all.
func TestPostmortemReadOnlyWritesNothingToPagerDuty(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc := h.trigger("PPAYMENTS", "payments-api: latency above 2 s")
	h.eventually(15*time.Second, "the shadow message", func() bool { return len(h.messages("C0PAYMENTS")) > 0 })
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(15*time.Second, "the draft's Slack reply", func() bool { return len(h.postmortemReplies("C0PAYMENTS", inc)) == 1 })
	h.settle()
	if _, ok := h.draftOf(in, inc); !ok {
		t.Error("no draft for the read-only service")
	}
	if n := h.pd.NonGET("prod"); n != 0 {
		t.Errorf("%d PagerDuty writes for a read-only service, want 0", n)
	}
}

// On the standard tier no draft is written.
func TestPostmortemNeedsEnterprise(t *testing.T) {
	h := newHarness(t, harnessOptions{Tier: "standard", NoActions: true, Services: []serviceSpec{
		{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "action", Channel: "C0CHECKOUT"}}})
	in := h.start()
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx")
	h.eventually(15*time.Second, "the hypothesis note", func() bool { return len(h.novaNotes(inc)) == 1 })
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.settle()
	if _, ok := h.draftOf(in, inc); ok || len(h.novaNotes(inc)) != 1 || len(h.postmortemReplies("C0CHECKOUT", inc)) != 0 {
		t.Error(fmt.Sprintf("standard tier drafted a postmortem (%d notes)", len(h.novaNotes(inc))))
	}
}

// Two replicas on one Redis: the resolve gives one draft, one note and one
// reply, whichever replica handles what.
func TestPostmortemOnceAcrossReplicas(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis"})
	a := h.start()
	b := h.start()
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(15*time.Second, "the hypothesis note", func() bool { return len(h.novaNotes(inc)) == 1 })
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(15*time.Second, "the draft's Slack reply", func() bool { return len(h.postmortemReplies("C0CHECKOUT", inc)) == 1 })
	h.settle()
	for _, in := range []*instance{a, b} {
		if d, ok := h.draftOf(in, inc); !ok || d.Version != 1 {
			t.Errorf("draft through %s: %v version %d", in.url, ok, d.Version)
		}
	}
	if n := len(h.novaNotes(inc)); n != 2 {
		t.Errorf("%d Nova notes, want the hypothesis and one postmortem note", n)
	}
	if n := len(h.postmortemReplies("C0CHECKOUT", inc)); n != 1 {
		t.Errorf("%d replies", n)
	}
}
