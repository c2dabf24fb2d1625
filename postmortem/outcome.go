package postmortem

import (
	"github.com/novasre/nova"

	"fmt"
	"time"
)

// DecisiveWindow is how soon after a successful action the incident must be
// resolved for that action to decide the verdict.
const DecisiveWindow = time.Hour

// Judge says whether the resolution matched Nova's hypothesis, from the
// record alone, and why. It decides only on this evidence: the last catalog
// action that succeeded before the resolution, within DecisiveWindow of it,
// with no earlier resolution of the incident (a reopen) after it.
//
//   - the action was suggested by the rank-1 hypothesis: matched;
//   - it was suggested only by a runner-up: not matched;
//   - anything else (no such action, one no hypothesis suggested, a failed
//     run, a fix that did not hold): undecided.
//
// Nova abstaining gives no_hypothesis. What people answer (right, partly,
// wrong) is recorded beside the verdict, never replaced by it.
func Judge(d Draft) Outcome {
	if d.Hypothesis.Top == nil {
		return Outcome{Verdict: VerdictNoHypothesis, Basis: "Nova abstained: it posted no hypothesis to judge."}
	}
	resolved := d.Impact.ResolvedAt
	var last *ActionRow
	for i := range d.Actions {
		a := &d.Actions[i]
		if a.State != nova.ApprovalSucceeded || a.UpdatedAt.After(resolved) {
			continue
		}
		if last == nil || a.UpdatedAt.After(last.UpdatedAt) {
			last = a
		}
	}
	undecided := func(why string) Outcome {
		return Outcome{Verdict: VerdictUndecided, Basis: why + " Only the responders can say whether Nova was right."}
	}
	if last == nil {
		return undecided("No action Nova proposed ran successfully before the resolution.")
	}
	gap := resolved.Sub(last.UpdatedAt)
	if gap > DecisiveWindow {
		return undecided(fmt.Sprintf("The last successful action (%s) ended %s before the resolution, too long before it to decide.", last.Action, minutes(gap)))
	}
	for _, r := range d.History {
		if r.Version != d.Version && r.ResolvedAt.After(last.UpdatedAt) && r.ResolvedAt.Before(resolved) {
			return undecided(fmt.Sprintf("The incident was resolved after %s ran and then reopened, so the action did not settle it.", last.Action))
		}
	}
	switch {
	case last.FromRank == 1:
		return Outcome{Verdict: VerdictMatched, Basis: fmt.Sprintf("%s, suggested by Nova's rank-1 hypothesis, succeeded and the incident was resolved %s later.", last.Action, minutes(gap))}
	case last.FromRank > 1:
		return Outcome{Verdict: VerdictNotMatched, Basis: fmt.Sprintf("%s, suggested by runner-up hypothesis #%d rather than the rank-1 one, succeeded and the incident was resolved %s later.", last.Action, last.FromRank, minutes(gap))}
	}
	return undecided(fmt.Sprintf("The last successful action (%s) was not suggested by any of Nova's hypotheses.", last.Action))
}

// minutes renders a duration for people: "45 s", "12 min", "3 h 05 min".
func minutes(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
