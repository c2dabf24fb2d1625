package postmortem

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/novasre/nova"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./postmortem -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

const bot = "PBOT001"

// realistic is a resolved incident of checkout: Nova's hypothesis names a
// deploy, Nova notes and acks, proposes a rollback that Alice approves in
// Slack, the rollback runs, Bob writes a note and resolves.
func realistic() Input {
	alice := &nova.Ref{ID: "PALICE1", Type: "user_reference", Summary: "Alice Example"}
	bob := &nova.Ref{ID: "PBOB001", Type: "user_reference", Summary: "Bob Example"}
	nova_ := &nova.Ref{ID: bot, Type: "user_reference", Summary: "Nova (bot)"}
	svcRef := &nova.Ref{ID: "PCHECKOUT", Type: "service_reference", Summary: "Checkout"}
	rec := nova.IncidentRecord{
		ID: "Q1ABC", Environment: "prod", ServiceID: "PCHECKOUT", Title: "checkout-api: 5xx error rate above 5%",
		Number: 42, Urgency: "high", Status: nova.StatusResolved, HTMLURL: "https://acme.pagerduty.com/incidents/Q1ABC",
		Mode: nova.ModeAction, TriggeredAt: t0, ReceivedAt: t0.Add(2 * time.Second), HypothesisAt: t0.Add(5 * time.Second),
		FirstAckAt: t0.Add(6 * time.Second), AckedBy: nova.AckByNova, ResolvedAt: at(34),
		NoteID: "NNOVA1", SlackChannel: "C0CHECKOUT", SlackTS: "1764324000.000100",
		Triage: &nova.TriageResult{
			Hypotheses: []nova.Hypothesis{
				{Rank: 1, Category: nova.CategoryChange, Confidence: 0.72,
					Summary: "Likely caused by deploy 'checkout v2.3.1' 12 min before the incident (same service)",
					Evidence: []nova.Evidence{
						{Kind: nova.EvidenceChange, ID: "C1", Summary: "Deploy checkout v2.3.1", URL: "https://ci.example.com/deploys/981", At: at(-12)},
						{Kind: nova.EvidenceAlert, ID: "A1", Summary: "HTTP 5xx error rate 7.2% on checkout-api", URL: "https://acme.pagerduty.com/alerts/A1", At: t0},
						{Kind: nova.EvidenceRelatedIncident, ID: "Q2DEF", Summary: "payments-api: latency above 2 s", URL: "https://acme.pagerduty.com/incidents/Q2DEF", At: at(1)},
					},
					Suggestions: []nova.Suggestion{
						{ID: "s1", Title: "Roll back checkout to the previous release", Action: "rollback-checkout", Destructive: true},
						{ID: "s2", Title: "Checkout 5xx runbook", RunbookURL: "https://wiki.example.com/runbooks/checkout-5xx"},
					}},
				{Rank: 2, Category: nova.CategoryDependency, Confidence: 0.31, Summary: "Payments API timeouts",
					Evidence:    []nova.Evidence{{Kind: nova.EvidenceChange, ID: "C0", Summary: "Config change payments timeouts", At: at(-40)}},
					Suggestions: []nova.Suggestion{{ID: "s3", Title: "Restart payments client pool", Action: "restart-payments"}}},
			},
			Checked:    []string{"alerts", "past_incidents", "related_changes"},
			NotChecked: []string{"outlier (not available on this account)"},
			Storm:      []string{"Q2DEF"},
		},
	}
	inc := &nova.Incident{ID: "Q1ABC", Number: 42, Title: rec.Title, Status: nova.StatusResolved, Urgency: "high", Priority: "P1",
		HTMLURL: rec.HTMLURL, Service: *svcRef, ResolveReason: "Rolled back to v2.3.0; error rate back to baseline"}
	logs := []nova.LogEntry{
		{ID: "R1", Type: "trigger_log_entry", Summary: "Triggered through the API", CreatedAt: t0, Agent: svcRef},
		{ID: "R2", Type: "annotate_log_entry", Summary: "Note added", CreatedAt: t0.Add(5 * time.Second), Agent: nova_},
		{ID: "R3", Type: "acknowledge_log_entry", Summary: "Acknowledged by Nova (bot)", CreatedAt: t0.Add(6 * time.Second), Agent: nova_},
		{ID: "R4", Type: "escalate_log_entry", Summary: "Escalated to level 2: Bob Example", CreatedAt: at(15)},
		{ID: "R5", Type: "assign_log_entry", Summary: "Assigned to Bob Example", CreatedAt: at(15), Agent: alice},
		{ID: "R6", Type: "annotate_log_entry", Summary: "Note added", CreatedAt: at(31), Agent: bob},
		{ID: "R7", Type: "resolve_log_entry", Summary: "Resolved by Bob Example", CreatedAt: at(34), Agent: bob},
	}
	notes := []nova.Note{
		{ID: "NNOVA1", Content: "Nova hypothesis (72%): Likely caused by deploy …\n— Nova · audit nova-01AAA", CreatedAt: t0.Add(5 * time.Second), User: *nova_},
		{ID: "NBOB1", Content: "Error rate back to baseline after the rollback; watching for 5 min.", CreatedAt: at(31), User: *bob},
	}
	req := nova.ApprovalRequest{ID: "apr-1", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1ABC",
		Action: "rollback-checkout", Title: "Roll back checkout to the previous release", Destructive: true,
		Approvers: []string{"U0ALICE"}, RequiredApprovals: 1, State: nova.ApprovalSucceeded,
		Decisions: []nova.Decision{{UserID: "U0ALICE", Approve: true, At: at(20)}},
		CreatedAt: t0.Add(7 * time.Second), ExpiresAt: at(30), UpdatedAt: at(24), Result: "HTTP 200: rollback to v2.3.0 done"}
	audit := []nova.AuditEntry{
		{ID: "nova-01AAA", Time: t0.Add(5 * time.Second), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "nova", Action: "pagerduty.note.hypothesis", Outcome: nova.OutcomeOK, PagerDutyRef: "NNOVA1"},
		{ID: "nova-01AAB", Time: t0.Add(6 * time.Second), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "nova", Action: "pagerduty.acknowledge", Outcome: nova.OutcomeOK, PagerDutyRef: "R3"},
		{ID: "nova-01AAC", Time: t0.Add(7 * time.Second), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "nova", Action: "approval.requested", Outcome: nova.OutcomeOK, Detail: "apr-1 rollback-checkout"},
		{ID: "nova-01AAD", Time: t0.Add(8 * time.Second), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "nova", Action: "slack.post.hypothesis", Outcome: nova.OutcomeOK, Detail: "channel C0CHECKOUT ts 1764324000.000100"},
		{ID: "nova-01AAE", Time: at(18), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "slack:U0MALLORY", Action: "approval.approve", Outcome: nova.OutcomeRefused, Detail: "not an approver"},
		{ID: "nova-01AAF", Time: at(20), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "slack:U0ALICE", Action: "approval.approve", Outcome: nova.OutcomeOK, Detail: "apr-1 rollback-checkout: approved"},
		{ID: "nova-01AAG", Time: at(24), Environment: "prod", Service: "PCHECKOUT", Incident: "Q1ABC", Actor: "nova", Action: "action.run", Outcome: nova.OutcomeOK, Detail: "apr-1 rollback-checkout: HTTP 200: rollback to v2.3.0 done"},
		{ID: "nova-01ZZZ", Time: at(25), Environment: "prod", Service: "POTHER", Incident: "Q9OTHER", Actor: "nova", Action: "pagerduty.acknowledge", Outcome: nova.OutcomeOK},
	}
	return Input{Record: rec, Incident: inc, ServiceName: "Checkout", SlackURL: "https://acme.slack.com/archives/C0CHECKOUT/p1764324000000100",
		LogEntries: logs, Notes: notes, Audit: audit, Approvals: []nova.ApprovalRequest{req}, BotUserID: bot}
}
