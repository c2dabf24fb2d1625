package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/review"
)

var markIncident = regexp.MustCompile(`name="incident" value="([^"]+)"`)

// TestBacktestMarksCountAsFeedback: an admin runs a backtest from Slack,
// follows the summary's link to the backtest page, marks an undecided row
// wrong and then right; `/nova status` and the rollout review move with
// each mark and never count it twice. A non-admin's mark is refused (403)
// and audited.
func TestBacktestMarksCountAsFeedback(t *testing.T) {
	h := newHarness(t, harnessOptions{Web: true})
	pd := h.pd
	base := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Minute)
	var ids []string
	for k := 0; k < 4; k++ {
		at := base.Add(time.Duration(k) * 24 * time.Hour)
		deploy := pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PPAYMENTS", Summary: fmt.Sprintf("deploy payments v%d: new card tokenizer", 300+k),
			Source: "argo", Timestamp: at.Add(-20 * time.Minute)})
		inc := pd.SeedIncident(pdemu.IncidentSpec{ServiceID: "PPAYMENTS", Title: "payments 5xx", CreatedAt: at,
			Alerts: []pdemu.AlertSpec{{Summary: "payments 5xx rate above 5%", Source: "prometheus", Severity: "critical",
				Details: map[string]any{"top_error": "card tokenizer: nil pointer dereference"}}}})
		pd.CorrelateChange(inc.ID, deploy, "most_recent")
		for _, past := range ids {
			pd.LinkPastIncident(inc.ID, past, 60)
		}
		ids = append(ids, inc.ID)
		// The last one's resolution decides nothing: a person must judge it.
		resolution := fmt.Sprintf("rolled back deploy payments v%d", 300+k)
		if k == 3 {
			resolution = "went away on its own"
		}
		pd.ResolveAt(inc.ID, "PALICEPROD", resolution, at.Add(30*time.Minute))
	}
	in := h.start()
	const ch = "C0PAYMENTS"
	if r := h.slash(in, "prod", "U0ALICE", ch, "backtest payments"); !strings.Contains(r, "started a backtest of") {
		t.Fatalf("backtest not started: %s", r)
	}
	var summary string
	h.eventually(60*time.Second, "the backtest summary in the channel", func() bool {
		for _, m := range h.messages(ch) {
			if strings.Contains(m.Text, "Backtest of payments") {
				summary = m.Text
				return true
			}
		}
		return false
	})
	page := in.url + "/backtest/PPAYMENTS"
	if !strings.Contains(summary, "<"+page+"|the backtest page>") {
		t.Fatalf("the summary does not link the backtest page %s:\n%s", page, summary)
	}
	status := func() string { return h.slash(in, "prod", "U0ALICE", ch, "status payments") }
	reviewQuality := func(text string) bool {
		t.Helper()
		code, body := httpGet(t, in.url+"/api/v1/review?since=90d", h.readKey)
		var rep review.Report
		if code != 200 || json.Unmarshal([]byte(body), &rep) != nil {
			t.Fatalf("review: %d %s", code, body)
		}
		for _, s := range rep.Sections {
			for _, it := range s.Items {
				if s.ID == review.SectionQuality && strings.Contains(it.Subject, "payments") && strings.Contains(it.Finding, text) {
					return true
				}
			}
		}
		t.Logf("review sections: %+v", rep.Sections)
		return false
	}

	alice := newBrowser(t)
	alice.get(h.sl.SignInURL("U0ALICE"))
	code, _, body := alice.get(page)
	m := markIncident.FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("the admin's backtest page offers no mark: %d\n%s", code, body)
	}
	inc, token := m[1], csrfInput.FindStringSubmatch(body)[1]
	mark := func(b *browser, token, verdict string) (int, string) {
		return b.post(page, url.Values{"csrf": {token}, "incident": {inc}, "mark": {verdict}})
	}

	if code, body := mark(alice, token, "wrong"); code != 200 || !strings.Contains(body, "marked <strong class=\"mark\">wrong</strong> by @U0ALICE") {
		t.Fatalf("mark wrong: %d\n%s", code, body)
	}
	if s := status(); !strings.Contains(s, "0 helpful, 1 wrong") {
		t.Errorf("status after a wrong mark: %s", s)
	}
	if !reviewQuality("verdicts 0 helpful, 1 wrong: 0% helpful (1 incident judged) (including backtest marks: 0 right, 0 partly, 1 wrong)") {
		t.Error("the review does not count the wrong mark")
	}
	if code, body := mark(alice, token, "right"); code != 200 || !strings.Contains(body, "was right.") {
		t.Fatalf("mark right: %d\n%s", code, body)
	}
	if s := status(); !strings.Contains(s, "1 helpful, 0 wrong") {
		t.Errorf("status after the mark changed to right: %s", s)
	}
	if !reviewQuality("verdicts 1 helpful, 0 wrong: 100% helpful (1 incident judged) (including backtest marks: 1 right, 0 partly, 0 wrong)") {
		t.Error("the review does not move with the changed mark")
	}

	mallory := newBrowser(t)
	mallory.get(h.sl.SignInURL("U0MALLORY"))
	code, _, body = mallory.get(page)
	if code != 200 || markIncident.MatchString(body) {
		t.Errorf("a non-admin is offered marks: %d\n%s", code, body)
	}
	if code, body := mark(mallory, csrfInput.FindStringSubmatch(body)[1], "wrong"); code != http.StatusForbidden || !strings.Contains(body, "only Nova admins") {
		t.Errorf("a non-admin's mark: %d, want 403\n%s", code, body)
	}
	if s := status(); !strings.Contains(s, "1 helpful, 0 wrong") {
		t.Errorf("status after a refused mark: %s", s)
	}
	var refused, marks int
	for _, e := range h.auditEntries(in) {
		if e.Action != review.ActionBacktestMark {
			continue
		}
		marks++
		if e.Actor == "slack:U0MALLORY" && e.Outcome == "refused" {
			refused++
		}
	}
	if marks != 3 || refused != 1 {
		t.Errorf("audit: %d backtest marks with %d refusals, want 3 with 1", marks, refused)
	}
}
