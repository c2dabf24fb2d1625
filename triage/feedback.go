package triage

import (
	"fmt"
	"math"
)

// Feedback counts people's recent verdicts on a service's hypotheses
// (the helpful and wrong buttons in Slack, and, once postmortems record it,
// whether the resolution matched the hypothesis).
type Feedback struct {
	Helpful int `json:"helpful"`
	Wrong   int `json:"wrong"`
}

// Bounds of the per-service adjustment: a service whose hypotheses keep
// being marked wrong loses up to maxFeedbackDrop of confidence (enough to
// push borderline hypotheses into abstention), one whose hypotheses keep
// helping gains at most maxFeedbackRise. The calibration already says how
// often hypotheses are right in general; feedback only corrects it for one
// service, slowly.
const (
	maxFeedbackDrop = 0.15
	maxFeedbackRise = 0.05
	// minFeedback is how many verdicts it takes before they count at all.
	minFeedback = 3
	// expectedWrong is the share of wrong verdicts a calibrated engine
	// earns on average; feedback moves confidence only away from it.
	expectedWrong = 0.3
	// feedbackPrior is how many verdicts the shrinkage treats as "no
	// evidence": with n verdicts the shift is scaled by n/(n+feedbackPrior).
	feedbackPrior = 5.0
)

// FeedbackShift turns a service's recent verdicts into a bounded shift of
// confidence and the sentence that explains it ("lowered by 8 points: 3 of
// the 5 rated hypotheses on this service were marked wrong"). Fewer than
// three verdicts, or verdicts in line with what calibration expects, give
// no shift and an empty explanation.
func FeedbackShift(f Feedback) (float64, string) {
	if f.Helpful < 0 || f.Wrong < 0 {
		return 0, ""
	}
	n := f.Helpful + f.Wrong
	if n < minFeedback {
		return 0, ""
	}
	rate := float64(f.Wrong) / float64(n)
	shift := -0.5 * (rate - expectedWrong) * float64(n) / (float64(n) + feedbackPrior)
	shift = math.Max(-maxFeedbackDrop, math.Min(maxFeedbackRise, shift))
	points := int(math.Round(math.Abs(shift) * 100))
	return float64(points) / 100 * sign(shift), feedbackWhy(f, shift, points)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// feedbackWhy is the sentence for a shift of points in the direction of
// shift; empty for none.
func feedbackWhy(f Feedback, shift float64, points int) string {
	n := f.Helpful + f.Wrong
	switch {
	case points == 0:
		return ""
	case shift < 0:
		return fmt.Sprintf("Confidence lowered by %d points: %d of the %d rated hypotheses on this service were judged wrong (by responders or by how the incident was resolved)", points, f.Wrong, n)
	default:
		return fmt.Sprintf("Confidence raised by %d points: %d of the %d rated hypotheses on this service were judged helpful (by responders or by how the incident was resolved)", points, f.Helpful, n)
	}
}

// appliedFeedback is the explanation for the shift that actually moved a
// confidence from base to final (a raise stops at the ceiling, a drop at
// zero): empty when it moved nothing.
func appliedFeedback(f Feedback, base, final float64) string {
	moved := final - base
	return feedbackWhy(f, moved, int(math.Round(math.Abs(moved)*100)))
}
