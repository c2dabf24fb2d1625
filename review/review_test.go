package review

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const day24 = 24 * time.Hour

// drifted is an installation with one of every problem the review finds.
func drifted() Input {
	since := now.Add(-90 * day24)
	return Input{
		Now: now, Since: since,
		Services: []nova.Service{
			{ID: "PCHECK", Name: "checkout", Environment: "prod", DeclaredMode: nova.ModeReadOnly, WatchDays: 14},
			{ID: "PPAY", Name: "payments", Environment: "prod", DeclaredMode: nova.ModeReadOnly, WatchDays: 14},
			{ID: "PSILENT", Name: "search", Environment: "prod", DeclaredMode: nova.ModeReadOnly, WatchDays: 14},
			{ID: "PREADY", Name: "ledger", Environment: "prod", DeclaredMode: nova.ModeReadOnly, WatchDays: 14},
		},
		States: map[string]nova.ServiceState{
			"PCHECK":  {ServiceID: "PCHECK", Mode: nova.ModeAction, Since: now.Add(-30 * day24), ChangedBy: "slack:U0ALICE", Helpful: 10},
			"PPAY":    {ServiceID: "PPAY", Mode: nova.ModeOff, Since: now.Add(-20 * day24), ChangedBy: "slack:U0ALICE"},
			"PSILENT": {ServiceID: "PSILENT", Mode: nova.ModeReadOnly, Since: since.Add(-day24), ReadOnlySince: since.Add(-day24)},
			"PREADY":  {ServiceID: "PREADY", Mode: nova.ModeReadOnly, Since: since, ReadOnlySince: since, Helpful: 12, Wrong: 1},
		},
		Access: map[string]Access{"prod": {Admins: []string{"U0ALICE"}, Approvers: []string{"U0ALICE", "S0ONCALL"}}},
		Groups: map[string][]string{"S0ONCALL": {"U0DAVE"}},
		Audit: []nova.AuditEntry{
			{ID: "nova-1", Seq: 1, Time: now.Add(-30 * day24), Environment: "prod", Service: "PCHECK", Actor: "slack:U0ALICE", Action: "mode.change", Outcome: "ok", Detail: "checkout: read-only → action (--force: watching period overridden)"},
			{ID: "nova-2", Seq: 2, Time: now.Add(-20 * day24), Environment: "prod", Service: "PPAY", Actor: "slack:U0ALICE", Action: "mode.change", Outcome: "ok", Detail: "payments: read-only → off"},
			{ID: "nova-3", Seq: 3, Time: now.Add(-10 * day24), Environment: "prod", Service: "PCHECK", Incident: "Q1", Actor: "slack:U0BOB", Action: "approval.approve", Outcome: "ok", Detail: "req-1 rollback: approved"},
			{ID: "nova-4", Seq: 4, Time: now.Add(-10 * day24), Environment: "prod", Service: "PCHECK", Incident: "Q1", Actor: "slack:U0DAVE", Action: "approval.approve", Outcome: "ok", Detail: "req-2 rollback: approved"},
			{ID: "nova-5", Seq: 5, Time: now.Add(-9 * day24), Actor: "nova", Action: "slack.request", Outcome: "refused", Detail: "slack command from 10.0.0.1 refused: bad Slack signature"},
			{ID: "nova-6", Seq: 6, Time: now.Add(-9 * day24), Actor: "slack:U0MALLORY", Action: "command.disable", Outcome: "refused", Detail: "only Nova admins of prod can change modes"},
		},
		Chain: Chain{Entries: 6, Keyed: true, Head: "6:0123456789abcdef"},
		Notes: NoteMatch{Writes: 1, Checked: 1},
		Credentials: []Credential{
			{Environment: "prod", Kind: "pagerduty_webhook_secret", Name: "pagerduty.webhook_secrets[0]", Created: now.Add(-120 * day24), AgeDays: 120, Status: "due"},
			{Environment: "prod", Kind: "pagerduty_token", Name: "pagerduty.token", Created: now.Add(-10 * day24), AgeDays: 10, Status: "ok"},
			{Environment: "prod", Kind: "slack_signing_secret", Name: "slack.signing_secret", Status: "unknown", AgeDays: -1},
		},
		Subscriptions: []EnvSubscriptions{{Environment: "prod", ExpectedURL: "https://nova.test/webhooks/pagerduty/prod",
			ExpectedEvents: []string{"incident.triggered", "incident.resolved"},
			Found: []Subscription{{ID: "PSUB1", URL: "https://nova.test/webhooks/pagerduty/prod", Events: []string{"incident.triggered", "incident.resolved"},
				FilterType: "account_reference", Active: false}}}},
		Incidents: []nova.IncidentRecord{
			{ID: "Q1", Environment: "prod", ServiceID: "PCHECK", Triage: &nova.TriageResult{}, Feedback: []nova.Feedback{{UserID: "U0CAROL", Verdict: "wrong", Cause: "DNS"}}},
			{ID: "Q2", Environment: "prod", ServiceID: "PREADY", Triage: &nova.TriageResult{}},
		},
		Sightings: []Sighting{{Environment: "prod", ServiceID: "PUNKNOWN", Events: 3, First: now.Add(-2 * day24), Last: now.Add(-day24)}},
		Promotion: Promotion{MinFeedback: 1, MinPrecision: 0.8},
	}
}

// find returns the items of a section whose subject contains subj.
func find(r Report, section, subj string) []Item {
	var out []Item
	for _, s := range r.Sections {
		if s.ID != section {
			continue
		}
		for _, it := range s.Items {
			if strings.Contains(it.Subject, subj) {
				out = append(out, it)
			}
		}
	}
	return out
}

func wantItem(t *testing.T, r Report, section, subj, rec, text string) {
	t.Helper()
	for _, it := range find(r, section, subj) {
		if it.Recommendation == rec && strings.Contains(it.Finding+" "+it.Action, text) {
			return
		}
	}
	t.Errorf("%s has no %q item about %q mentioning %q; it has %+v", section, rec, subj, text, find(r, section, ""))
}

func TestEveryDriftUnderItsHeading(t *testing.T) {
	r := Build(drifted())
	if !r.NeedsAction {
		t.Fatal("a drifted installation needs action")
	}
	wantItem(t, r, SectionMode, "checkout", RecFix, "intended read-only (config), actual action")
	wantItem(t, r, SectionMode, "checkout", "", "override: @U0ALICE forced")
	wantItem(t, r, SectionMode, "payments", RecFix, "paused: intended read-only (config), but off since 2026-11-11 12:00 UTC (20 days), disabled by @U0ALICE")
	wantItem(t, r, SectionCoverage, "PUNKNOWN", RecFix, "undeclared service sent 3 events")
	wantItem(t, r, SectionCoverage, "search", RecFix, "sent no event since")
	wantItem(t, r, SectionCoverage, "webhook subscriptions (prod)", "", "subscription PSUB1 (account scope) is disabled")
	wantItem(t, r, SectionCoverage, "webhook subscriptions (prod)", RecFix, "no active subscription delivers")
	wantItem(t, r, SectionAccess, "@U0BOB", RecCheck, "approved request req-1 on prod incident Q1")
	if got := find(r, SectionAccess, "@U0DAVE"); len(got) != 0 {
		t.Errorf("an approver through a user group is listed: %+v", got)
	}
	wantItem(t, r, SectionAccess, "refused attempts", "", "forged (bad signature) 1, unauthorised 1")
	wantItem(t, r, SectionKeys, "webhook_secrets[0]", RecRotate, "120 days old")
	wantItem(t, r, SectionKeys, "webhook_secrets[0]", RecRotate, "add the subscription's new secret")
	wantItem(t, r, SectionKeys, "signing_secret", "", "age unknown")
	wantItem(t, r, SectionQuality, "checkout", RecDemote, "precision 0%")
	wantItem(t, r, SectionQuality, "checkout", RecDemote, "Q1 by @U0CAROL (real cause: \"DNS\")")
	wantItem(t, r, SectionQuality, "ledger", RecPromote, "/nova mode ledger action")
	wantItem(t, r, SectionIntegrity, "audit chain", "", "intact: 6 entries verified")
	if r.Recommendations[0].Recommendation != RecFix || r.Recommendations[len(r.Recommendations)-1].Recommendation != RecPromote {
		t.Errorf("recommendations are not most urgent first: %+v", r.Recommendations)
	}
	md := r.Markdown()
	for _, h := range []string{"## Mode drift", "## Coverage drift", "## Access drift", "## Key age", "## Quality", "## Integrity", "## Recommendations", "**FIX**", "**ROTATE**", "**DEMOTE**", "**PROMOTE**"} {
		if !strings.Contains(md, h) {
			t.Errorf("markdown lacks %q:\n%s", h, md)
		}
	}
}

func TestFixedInstallationNeedsNothing(t *testing.T) {
	in := drifted()
	in.States["PCHECK"] = nova.ServiceState{ServiceID: "PCHECK", Mode: nova.ModeReadOnly, ReadOnlySince: now.Add(-day24)}
	in.States["PPAY"] = nova.ServiceState{ServiceID: "PPAY", Mode: nova.ModeReadOnly, ReadOnlySince: now.Add(-day24)}
	in.Services = append(in.Services, nova.Service{ID: "PUNKNOWN", Name: "legacy", Environment: "prod", DeclaredMode: nova.ModeOff})
	in.Incidents = append(in.Incidents, nova.IncidentRecord{ID: "Q3", ServiceID: "PSILENT"}, nova.IncidentRecord{ID: "Q4", ServiceID: "PPAY"})
	in.Subscriptions[0].Found = append(in.Subscriptions[0].Found, Subscription{ID: "PSUB2", URL: "https://nova.test/webhooks/pagerduty/prod/",
		Events: []string{"incident.resolved", "incident.triggered", "incident.annotated"}, FilterType: "account_reference", Active: true})
	in.Access["prod"] = Access{Admins: []string{"U0ALICE"}, Approvers: []string{"U0ALICE", "U0BOB", "S0ONCALL"}}
	in.Credentials[0] = Credential{Environment: "prod", Kind: "pagerduty_webhook_secret", Name: "pagerduty.webhook_secrets[0]", Created: now.Add(-day24), AgeDays: 1, Status: "ok"}
	r := Build(in)
	if r.NeedsAction {
		t.Fatalf("a fixed installation still needs action: %+v", r.Recommendations)
	}
	// The disabled subscription is still listed, without a recommendation,
	// and the ready service may still be promoted.
	wantItem(t, r, SectionCoverage, "webhook subscriptions (prod)", "", "PSUB1 (account scope) is disabled")
	wantItem(t, r, SectionQuality, "ledger", RecPromote, "promotion earned")
	if !strings.Contains(r.Markdown(), "**Nothing needs action** (1 promote)") {
		t.Errorf("markdown headline: %s", r.Markdown())
	}
}

func TestIntegrityFailureNamesTheEntry(t *testing.T) {
	in := drifted()
	in.Chain = Chain{Entries: 2, Problem: "entry nova-3 (seq 3) was altered: its hash does not match its content", EntryID: "nova-3"}
	in.Notes = NoteMatch{Writes: 3, Checked: 2, Sampled: true, Mismatches: []NoteMismatch{{AuditID: "nova-9", Environment: "prod", Incident: "Q1", NoteID: "N1", Problem: "PagerDuty has no note N1"}}}
	r := Build(in)
	wantItem(t, r, SectionIntegrity, "audit entry nova-3", RecFix, "FAILED verification after 2 good entries: entry nova-3 (seq 3) was altered")
	wantItem(t, r, SectionIntegrity, "audit entry nova-9", RecFix, "PagerDuty has no note N1")
	wantItem(t, r, SectionIntegrity, "PagerDuty notes", "", "2 of 3 note writes compared with PagerDuty (a sample of incidents): 1 mismatched")
}

func TestAccessDriftForModeChangesAndPauses(t *testing.T) {
	in := drifted()
	in.Access["prod"] = Access{Admins: []string{"U0CAROL"}, Approvers: []string{"U0BOB"}}
	in.Groups = nil
	in.Audit = append(in.Audit, nova.AuditEntry{ID: "nova-7", Seq: 7, Time: now.Add(-day24), Actor: "slack:U0ALICE", Action: "nova.pause", Outcome: "ok"},
		nova.AuditEntry{ID: "nova-8", Seq: 8, Time: now.Add(-day24), Environment: "prod", Actor: "nova", Action: "pagerduty.call", Outcome: "refused", Detail: "refused by the allow-list: DELETE /incidents/Q1"})
	in.Access["prod"] = Access{Admins: []string{"U0CAROL"}, Approvers: []string{"U0BOB", "S0ONCALL"}}
	in.GroupErrors = map[string]string{"S0ONCALL": "missing_scope"}
	r := Build(in)
	wantItem(t, r, SectionAccess, "@U0ALICE", RecCheck, "changed the mode of PCHECK")
	wantItem(t, r, SectionAccess, "@U0ALICE", RecCheck, "ran pause")
	wantItem(t, r, SectionAccess, "@U0DAVE", RecCheck, "user groups that could not be read: S0ONCALL: missing_scope")
	wantItem(t, r, SectionAccess, "PagerDuty allow-list", RecCheck, "1 call outside its allow-list")
}

func TestPauseIsDrift(t *testing.T) {
	in := drifted()
	in.Pause = Pause{Paused: true, By: "U0ALICE", At: now.Add(-3 * day24)}
	wantItem(t, Build(in), SectionMode, "Nova (every service)", RecFix, "paused by @U0ALICE since 2026-11-28 12:00 UTC (3 days)")
}

func TestSubscriptionProblems(t *testing.T) {
	in := drifted()
	in.Subscriptions = []EnvSubscriptions{
		{Environment: "prod", ExpectedURL: "https://nova.test/webhooks/pagerduty/prod", ExpectedEvents: []string{"incident.triggered", "incident.resolved"},
			Found: []Subscription{
				{ID: "PA", URL: "https://old.example/webhooks/pagerduty/prod", Events: []string{"incident.triggered"}, FilterType: "account_reference", Active: true, TemporarilyDisabled: true},
				{ID: "PB", URL: "https://nova.test/webhooks/pagerduty/prod", Events: []string{"incident.triggered", "incident.resolved"}, FilterType: "service_reference", FilterID: "PCHECK", Active: true},
				{ID: "PC", URL: "https://elsewhere.example/hook", Events: []string{"incident.triggered"}, FilterType: "account_reference", Active: true},
			}},
		{Environment: "staging", Error: "403 Forbidden"},
	}
	r := Build(in)
	wantItem(t, r, SectionCoverage, "(prod)", "", "PA (account scope) delivers to https://old.example/webhooks/pagerduty/prod, not https://nova.test/webhooks/pagerduty/prod (public_url); was temporarily disabled by PagerDuty after failed deliveries; does not send incident.resolved")
	wantItem(t, r, SectionCoverage, "(prod)", "", "PB (service PCHECK) delivers every event type")
	wantItem(t, r, SectionCoverage, "search", RecFix, "scoped to other services")
	wantItem(t, r, SectionCoverage, "(staging)", RecCheck, "403 Forbidden")
	if got := find(r, SectionCoverage, "PC"); len(got) != 0 {
		t.Errorf("a subscription to another endpoint is Nova's business: %+v", got)
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Build(drifted()), Build(drifted())
	if !reflect.DeepEqual(a, b) || a.Markdown() != b.Markdown() {
		t.Fatal("two builds of the same input differ")
	}
	j, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(j, &back); err != nil || back.NeedsAction != a.NeedsAction || len(back.Sections) != 6 {
		t.Fatalf("JSON round trip: %v %s", err, j)
	}
}

func TestEarned(t *testing.T) {
	p := Promotion{MinFeedback: 10, MinPrecision: 0.8}
	for _, c := range []struct {
		helpful, wrong int64
		ok             bool
		why            string
	}{
		{6, 1, false, "7 of 10 needed answers; precision 86%"},
		{199, 51, false, "precision 79.6% is below the 80% bar (199 of 250 answers helpful)"},
		{0, 0, false, "0 of 10 needed answers; no precision yet"},
		{7, 3, false, "precision 70% is below the 80% bar (7 of 10 answers helpful)"},
		{8, 2, true, "10 answers, precision 80%"},
		{12, 0, true, "12 answers, precision 100%"},
	} {
		ok, why := p.Earned(c.helpful, c.wrong)
		if ok != c.ok || !strings.Contains(why, c.why) {
			t.Errorf("Earned(%d, %d) = %v %q, want %v %q", c.helpful, c.wrong, ok, why, c.ok, c.why)
		}
	}
	if ok, _ := (Promotion{MinFeedback: 0, MinPrecision: 0.8}).Earned(0, 0); !ok {
		t.Error("min_feedback 0 turns the bar off")
	}
}

func TestSummary(t *testing.T) {
	r := Build(drifted())
	s := r.Summary("https://nova.test/api/v1/review")
	if !strings.HasPrefix(s, "Rollout review, 2026-09-02 12:00 → 2026-12-01 12:00 UTC (90 days): needs action (") ||
		!strings.Contains(s, "• FIX · Mode drift · checkout") || !strings.Contains(s, "set by @U0ALICE") || !strings.HasSuffix(s, "Full report: https://nova.test/api/v1/review (or `nova review`)") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestBacktestMarksCountInQuality(t *testing.T) {
	in := drifted()
	mark := func(seq int64, incident, actor, outcome, detail string) nova.AuditEntry {
		return nova.AuditEntry{Seq: seq, Time: now.Add(-day24), Environment: "prod", Service: "PSILENT", Incident: incident,
			Actor: actor, Action: ActionBacktestMark, Outcome: outcome, Detail: detail}
	}
	in.Audit = append(in.Audit,
		mark(7, "Q7", "slack:U0ALICE", nova.OutcomeOK, "wrong"),
		mark(8, "Q8", "slack:U0ALICE", nova.OutcomeOK, "partly"),
		mark(9, "Q7", "slack:U0MALLORY", nova.OutcomeRefused, "only Nova admins of prod can mark backtest rows of search"),
		mark(10, "Q7", "slack:U0ALICE", nova.OutcomeOK, "right (was wrong)"))
	r := Build(in)
	wantItem(t, r, SectionQuality, "search", "", "verdicts 1 helpful, 0 wrong: 100% helpful (1 incident judged) (including backtest marks: 1 right, 1 partly, 0 wrong)")
	wantItem(t, Build(drifted()), SectionQuality, "search", "", "no feedback")
}

// Quality counts one verdict per incident, as /nova status does: a
// person's latest (Slack button or postmortem answer), else how the
// incident was resolved; promotion and demotion keep counting responders'
// buttons and backtest marks, and the report says so.
func TestQualityCountsPerIncidentVerdicts(t *testing.T) {
	in := drifted()
	at := now.Add(-5 * day24)
	rec := func(id, svc string, fb ...nova.Feedback) nova.IncidentRecord {
		return nova.IncidentRecord{ID: id, Environment: "prod", ServiceID: svc, Triage: &nova.TriageResult{}, Feedback: fb}
	}
	byResolution := func(verdict string) nova.IncidentVerdict {
		return nova.IncidentVerdict{ServiceID: "PREADY", Environment: "prod", Resolution: verdict, Counted: verdict, CountedByResolution: true}
	}
	in.Incidents = []nova.IncidentRecord{
		rec("Q1", "PCHECK", nova.Feedback{UserID: "U0CAROL", Verdict: "helpful", At: at}),
		rec("Q9", "PCHECK"), rec("Q10", "PCHECK"),
		rec("Q2", "PREADY"), rec("Q5", "PREADY"),
		// Frank found it helpful, then Erin said wrong: her later verdict
		// beats the resolution's; both buttons count for promotion.
		rec("Q6", "PREADY", nova.Feedback{UserID: "U0FRANK", Verdict: "helpful", At: at},
			nova.Feedback{UserID: "U0ERIN", Verdict: "wrong", Cause: "disk full", At: at.Add(time.Minute)}),
		rec("Q7", "PREADY"),
		rec("Q8", "PREADY"), // not judged
	}
	in.Verdicts = map[string]nova.IncidentVerdict{
		"Q1":  {ServiceID: "PCHECK", Environment: "prod", Person: "helpful", PersonBy: nova.VerdictBySlack, Counted: "helpful"},
		"Q9":  {ServiceID: "PCHECK", Environment: "prod", Resolution: "wrong", Counted: "wrong", CountedByResolution: true},
		"Q10": {ServiceID: "PCHECK", Environment: "prod", Resolution: "wrong", Counted: "wrong", CountedByResolution: true},
		"Q2":  byResolution("helpful"),
		"Q5":  byResolution("wrong"),
		"Q6":  {ServiceID: "PREADY", Environment: "prod", Person: "wrong", PersonBy: nova.VerdictBySlack, Resolution: "helpful", Counted: "wrong"},
		"Q7":  {ServiceID: "PREADY", Environment: "prod", Person: "wrong", PersonBy: nova.VerdictByPostmortem, Counted: "wrong"},
		"Q8":  {ServiceID: "PREADY", Environment: "prod", Person: "partly", PersonBy: nova.VerdictByPostmortem},
	}
	r := Build(in)
	wantItem(t, r, SectionQuality, "ledger", RecPromote, "verdicts 1 helpful, 3 wrong: 25% helpful (4 incidents judged; 2 by resolution)")
	wantItem(t, r, SectionQuality, "ledger", RecPromote,
		`marked wrong: Q5 by how it was resolved, Q6 by @U0ERIN (real cause: "disk full"), Q7 by its postmortem answer`)
	wantItem(t, r, SectionQuality, "ledger", RecPromote,
		"the promotion rule counts responders' Helpful / Wrong buttons and backtest marks: 1 helpful, 1 wrong, precision 50%")
	// Promotion reads the service's button and mark counters (12 helpful,
	// 1 wrong), not the period's verdicts.
	wantItem(t, r, SectionQuality, "ledger", RecPromote, "promotion earned on responders' buttons and backtest marks (13 answers, precision 92%")
	// checkout's verdicts are mostly wrong by resolution, but its one
	// button says helpful: no demotion, and the figure shows why.
	wantItem(t, r, SectionQuality, "checkout", "", "verdicts 1 helpful, 2 wrong: 33% helpful (3 incidents judged; 2 by resolution); the promotion rule counts responders' Helpful / Wrong buttons and backtest marks: 1 helpful, 0 wrong, precision 100%")
	wantItem(t, r, SectionQuality, "checkout", "", "marked wrong: Q9 by how it was resolved, Q10 by how it was resolved")
	if it := find(r, SectionQuality, "checkout"); len(it) != 1 || it[0].Recommendation != "" {
		t.Errorf("checkout is judged on its verdicts, not on the promotion rule's count: %+v", it)
	}
	// The Markdown report carries the same figures.
	if md := r.Markdown(); !strings.Contains(md, "25% helpful (4 incidents judged; 2 by resolution)") {
		t.Errorf("markdown lacks the verdicts:\n%s", md)
	}
}
