package postmortem

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestJudgeDecidesOnlyOnEvidence(t *testing.T) {
	cases := []struct {
		name    string
		change  func(in *Input)
		verdict string
		basis   string
	}{
		{"rank-1 action succeeded, then resolved", func(in *Input) {}, VerdictMatched, "rank-1"},
		{"runner-up action fixed it", func(in *Input) {
			in.Approvals[0].Action, in.Approvals[0].Title = "restart-payments", "Restart payments client pool"
		}, VerdictNotMatched, "runner-up hypothesis #2"},
		{"no action ran", func(in *Input) { in.Approvals = nil }, VerdictUndecided, "No action"},
		{"the action failed", func(in *Input) { in.Approvals[0].State = nova.ApprovalFailed }, VerdictUndecided, "No action"},
		{"the action was denied", func(in *Input) { in.Approvals[0].State = nova.ApprovalDenied }, VerdictUndecided, "No action"},
		{"resolved long after the action", func(in *Input) { in.Record.ResolvedAt = at(24).Add(61 * time.Minute) }, VerdictUndecided, "too long before"},
		{"action after the resolution", func(in *Input) { in.Approvals[0].UpdatedAt = at(40) }, VerdictUndecided, "No action"},
		{"action no hypothesis suggested", func(in *Input) { in.Approvals[0].Action = "flush-cache" }, VerdictUndecided, "not suggested"},
		{"abstained", func(in *Input) { in.Record.Triage.Abstained = true }, VerdictNoHypothesis, "abstained"},
		{"no triage", func(in *Input) { in.Record.Triage = nil }, VerdictNoHypothesis, "abstained"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := realistic()
			c.change(&in)
			d, _ := mustBuild(t, in, nil, at(200))
			if d.Outcome.Verdict != c.verdict || !strings.Contains(d.Outcome.Basis, c.basis) {
				t.Errorf("verdict %q (%s), want %q with %q", d.Outcome.Verdict, d.Outcome.Basis, c.verdict, c.basis)
			}
		})
	}
}
