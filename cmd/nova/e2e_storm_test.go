package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// TestRedTeam10_NotesWhileSlackLaneIsBlocked: every worker used to wait in
// the channel's one-message-per-second Slack lane before writing the next
// incident's PagerDuty note and ack (100 incidents on one channel: 36 noted
// in 60 s). With Slack holding Nova to one post per 20 s, every incident now
// gets its note and ack at once; the channel's backlog becomes one storm
// summary, updated as incidents keep coming, and each incident is posted
// (on its own or in the summary) exactly once.
func TestRedTeam10_NotesWhileSlackLaneIsBlocked(t *testing.T) {
	// A production-like visibility timeout: a worker may wait in Slack's
	// lane as long as it takes, as it would in production.
	h := newHarness(t, harnessOptions{Visibility: "2m", NoActions: true})
	in := h.start()
	create := func(i int) nova.Incident {
		return h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: fmt.Sprintf("checkout-api: 5xx error rate above 5%% (pod %d)", i),
			Alerts: []pdemu.AlertSpec{{Summary: fmt.Sprintf("HTTP 5xx error rate 9%% on checkout-api pod %d", i), Source: "prometheus"}}})
	}
	notedAndAcked := func(list []nova.Incident) func() bool {
		return func() bool {
			for _, inc := range list {
				cur, _ := h.pd.Incident(inc.ID)
				if len(h.novaNotes(inc.ID)) != 1 || cur.Status != nova.StatusAcknowledged {
					return false
				}
			}
			return true
		}
	}
	// Slack lets Nova post once, then makes it wait 15 s (429, Retry-After).
	h.sl.SetPostRate(15*time.Second, 1)
	incs := []nova.Incident{create(0)}
	h.eventually(10*time.Second, "the first incident's message", func() bool { _, ok := ownMessage(h, incs[0].ID); return ok })
	incs = append(incs, create(1))
	h.eventually(10*time.Second, "Slack to make Nova wait", func() bool { return h.sl.RateLimited() > 0 })
	start := time.Now()
	for i := 2; i < 12; i++ {
		incs = append(incs, create(i))
	}
	h.eventually(12*time.Second, "a note and an ack on every incident while Nova waits for Slack", notedAndAcked(incs))
	posted := len(topLevel(h.messages("C0CHECKOUT")))
	t.Logf("%d incidents noted and acknowledged in %s while Slack held the channel's lane (%d message posted)", len(incs)-2, time.Since(start).Round(time.Millisecond), posted)
	if posted != 1 {
		t.Fatalf("Slack took %d messages in the meantime: the lane was not blocked, the test proves nothing", posted)
	}
	h.sl.SetPostRate(time.Second, 3) // Slack recovers

	// The channel's backlog becomes one summary message.
	summary := func() (slackemu.Message, bool) {
		for _, m := range topLevel(h.messages("C0CHECKOUT")) {
			if m.Metadata != nil && m.Metadata.EventPayload["storm_id"] != nil {
				return m, true
			}
		}
		return slackemu.Message{}, false
	}
	h.eventually(40*time.Second, "the storm summary", func() bool { _, ok := summary(); return ok })
	// More incidents keep coming: they go into the same summary.
	for i := 12; i < 15; i++ {
		incs = append(incs, create(i))
	}
	h.eventually(10*time.Second, "notes and acks on the later incidents", notedAndAcked(incs[12:]))
	h.eventually(30*time.Second, "every incident posted on its own or listed in the summary", func() bool {
		s, _ := summary()
		for _, inc := range incs {
			if _, own := ownMessage(h, inc.ID); !own && !listedIn(s, inc.Number) {
				return false
			}
		}
		return true
	})
	s, _ := summary()
	if len(s.Edits) == 0 {
		t.Error("the summary was never updated as incidents came in")
	}
	if !s.Contains(fmt.Sprintf("Incident storm: %d incidents", len(incs)-countOwn(h, incs))) {
		t.Errorf("summary: %v", s.Texts())
	}
	h.settle()
	entries := auditEntries(t, in, h.adminKey)
	posts := map[string]int{}
	for _, e := range entries {
		if e.Action == "slack.post.hypothesis" && e.Outcome == nova.OutcomeOK {
			posts[e.Incident]++
		}
	}
	for _, inc := range incs {
		_, own := ownMessage(h, inc.ID)
		listed := listedIn(s, inc.Number)
		if own == listed {
			t.Errorf("incident #%d: own message %v, listed in the summary %v; want exactly one", inc.Number, own, listed)
		}
		if posts[inc.ID] != 1 {
			t.Errorf("incident #%d: %d slack.post.hypothesis audit entries, want 1", inc.Number, posts[inc.ID])
		}
		if got := len(h.novaNotes(inc.ID)); got != 1 {
			t.Errorf("incident #%d: %d notes", inc.Number, got)
		}
	}
	// A person acknowledging a listed incident updates the summary in place.
	var listed nova.Incident
	for _, inc := range incs {
		if _, own := ownMessage(h, inc.ID); !own {
			listed = inc
		}
	}
	if err := h.pd.Resolve(listed.ID, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(20*time.Second, "the summary to show the resolution", func() bool {
		s, _ := summary()
		return strings.Contains(lineOf(s, fmt.Sprintf("#%d", listed.Number)), ":white_check_mark:")
	})
}

// TestRedTeam10_SlackOutboxSurvivesCrash: Slack messages waiting in a
// channel's outbox when Nova is killed are posted after the restart, each
// incident exactly once (on its own or in the storm summary).
func TestRedTeam10_SlackOutboxSurvivesCrash(t *testing.T) {
	h := newHarness(t, harnessOptions{Visibility: "2s", NoActions: true})
	p := h.startProcess()
	for _, env := range h.opts.Envs {
		h.pd.Subscribe(env, p.url+"/webhooks/pagerduty/"+env, h.env[env].Webhook)
	}
	h.sl.SetPostRate(time.Hour, 1) // one post, then Slack makes Nova wait an hour
	create := func(i int) nova.Incident {
		return h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: fmt.Sprintf("checkout-api: pool exhausted (pod %d)", i)})
	}
	incs := []nova.Incident{create(0)}
	h.eventually(10*time.Second, "the first incident's message", func() bool { _, ok := ownMessage(h, incs[0].ID); return ok })
	for i := 1; i < 8; i++ {
		incs = append(incs, create(i))
	}
	h.eventually(20*time.Second, "every note", func() bool {
		for _, inc := range incs {
			if len(h.novaNotes(inc.ID)) != 1 {
				return false
			}
		}
		return true
	})
	h.eventually(10*time.Second, "Slack to make Nova wait", func() bool { return h.sl.RateLimited() > 0 })
	before := len(topLevel(h.messages("C0CHECKOUT")))
	p.kill(syscall.SIGKILL)
	h.sl.SetPostRate(time.Second, 3)
	p = h.startProcess()
	var s slackemu.Message
	h.eventually(30*time.Second, "every incident in Slack after the restart", func() bool {
		s = slackemu.Message{}
		for _, m := range topLevel(h.messages("C0CHECKOUT")) {
			if m.Metadata != nil && m.Metadata.EventPayload["storm_id"] != nil {
				s = m
			}
		}
		for _, inc := range incs {
			if _, own := ownMessage(h, inc.ID); !own && !listedIn(s, inc.Number) {
				return false
			}
		}
		return true
	})
	time.Sleep(time.Second) // anything posted twice would show by now
	t.Logf("%d message(s) before the crash, %d after", before, len(topLevel(h.messages("C0CHECKOUT"))))
	seen := map[string]int{}
	for _, m := range topLevel(h.messages("C0CHECKOUT")) {
		if m.Metadata != nil {
			if id, ok := m.Metadata.EventPayload["incident_id"].(string); ok {
				seen[id]++
			}
		}
	}
	posts := map[string]int{}
	for _, e := range auditEntries(t, p.instance(), h.adminKey) {
		if e.Action == "slack.post.hypothesis" && e.Outcome == nova.OutcomeOK {
			posts[e.Incident]++
		}
	}
	for _, inc := range incs {
		if own := seen[inc.ID]; own+boolInt(listedIn(s, inc.Number)) != 1 || posts[inc.ID] != 1 {
			t.Errorf("incident #%d: %d own message(s), listed in the summary %v, %d audit entries; want it posted exactly once",
				inc.Number, own, listedIn(s, inc.Number), posts[inc.ID])
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func topLevel(ms []slackemu.Message) []slackemu.Message {
	var out []slackemu.Message
	for _, m := range ms {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			out = append(out, m)
		}
	}
	return out
}

// ownMessage finds an incident's own hypothesis message.
func ownMessage(h *harness, incident string) (slackemu.Message, bool) {
	for _, m := range topLevel(h.messages("C0CHECKOUT")) {
		if m.Metadata != nil && m.Metadata.EventPayload["incident_id"] == incident {
			return m, true
		}
	}
	return slackemu.Message{}, false
}

func countOwn(h *harness, incs []nova.Incident) int {
	n := 0
	for _, inc := range incs {
		if _, ok := ownMessage(h, inc.ID); ok {
			n++
		}
	}
	return n
}

// listedIn reports whether a summary lists incident number n.
func listedIn(m slackemu.Message, n int) bool {
	return m.Contains(fmt.Sprintf("|#%d>", n)) || m.Contains(fmt.Sprintf("• #%d ", n))
}

// lineOf returns the summary line naming an incident.
func lineOf(m slackemu.Message, name string) string {
	for _, text := range m.Texts() {
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, name+">") || strings.Contains(l, name+" ") {
				return l
			}
		}
	}
	b, _ := json.Marshal(m.Texts())
	return string(b)
}
