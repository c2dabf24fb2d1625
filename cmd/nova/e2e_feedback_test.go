package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty/pdemu"
)

// Verdicts people give in Slack adjust the service's confidence, one per
// incident: after "wrong cause" clicks on three incidents (three people on
// the first count once), /nova status says confidence is lowered and why,
// and the next hypothesis note on the service carries the same explanation
// and a lower confidence than the first.
func TestFeedbackLowersConfidenceThroughSlack(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	const ch = "C0CHECKOUT"
	certAlert := pdemu.AlertSpec{Summary: "checkout: TLS handshakes failing", Source: "datadog",
		Details: map[string]any{"error": "x509: certificate has expired or is not yet valid", "upstream_host": "api.partner.example"}}

	var before int
	for i, users := range [][]string{{"U0ALICE", "U0BOB", "U0CAROL"}, {"U0ALICE"}, {"U0BOB"}} {
		id := h.trigger("PCHECKOUT", "checkout: TLS handshakes failing", certAlert)
		h.eventually(10*time.Second, "a hypothesis", func() bool { _, ok := h.messageFor(ch, id); return ok })
		h.settle()
		if i == 0 {
			before = noteConfidence(t, h.novaNotes(id))
		}
		m, _ := h.messageFor(ch, id)
		for _, user := range users {
			if r := h.click(in, "prod", user, m, "feedback_wrong"); !strings.Contains(r, "wrong") {
				t.Fatalf("feedback reply for %s: %s", user, r)
			}
		}
		if i == 0 {
			if status := h.slash(in, "prod", "U0BOB", ch, "status checkout"); !strings.Contains(status, "0 helpful, 1 wrong") {
				t.Fatalf("status after three people judged one incident wrong: %s", status)
			}
		}
	}
	status := h.slash(in, "prod", "U0BOB", ch, "status checkout")
	if !strings.Contains(status, "0 helpful, 3 wrong") || !strings.Contains(status, "Confidence lowered by") {
		t.Fatalf("status after three incidents judged wrong: %s", status)
	}

	next := h.trigger("PCHECKOUT", "checkout: TLS handshakes failing", certAlert)
	h.eventually(10*time.Second, "the next hypothesis", func() bool { return len(h.novaNotes(next)) > 0 })
	h.settle()
	notes := h.novaNotes(next)
	if !strings.Contains(notes[0].Content, "Confidence lowered by") || !strings.Contains(notes[0].Content, "3 of the 3 rated hypotheses") {
		t.Errorf("the next note does not explain the adjustment:\n%s", notes[0].Content)
	}
	if after := noteConfidence(t, notes); after >= before {
		t.Errorf("confidence %d%% after three incidents judged wrong, %d%% before", after, before)
	}
}

// noteConfidence returns the confidence in percent a hypothesis note
// states ("… confidence 91%"), or -1 when the note abstains.
func noteConfidence(t *testing.T, notes []nova.Note) int {
	t.Helper()
	if len(notes) == 0 {
		t.Fatal("no Nova note")
	}
	_, rest, ok := strings.Cut(notes[0].Content, "confidence ")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.Fields(rest)[0], "%"))
	if err != nil {
		t.Fatalf("confidence in %q: %v", notes[0].Content, err)
	}
	return n
}
