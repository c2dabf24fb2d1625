package triage

import (
	"time"

	"github.com/novasre/nova"
)

// Abstention signals: properties of an incident's evidence that could argue
// for answering nothing. Triage abstains on thin evidence (through the
// halved scores and the calibrated threshold); the others are reported by
// the evaluation, split by split, so that whether each one predicts the
// cases where abstaining is right is measured rather than assumed.
const (
	// SignalThin: no specific evidence at all, only generic symptoms
	// (5xx, latency, timeouts) and timing.
	SignalThin = "thin evidence"
	// SignalTimingOnly: the top hypothesis is a change that explains
	// nothing the alerts implicate.
	SignalTimingOnly = "timing only"
	// SignalClose: the runner-up's evidence is within closeAt of the
	// leader's.
	SignalClose = "top two close"
	// SignalPastDisagree: similar past incidents name different causes.
	SignalPastDisagree = "past incidents disagree"
	// SignalPastOnly: the top hypothesis' only specific support is similar
	// past incidents.
	SignalPastOnly = "past incidents only"
)

// AbstentionSignals lists the abstention signals that hold for the
// incident, in the order of the constants above. It is pure.
func AbstentionSignals(in Input, opts Options, now time.Time) []string {
	v := newView(in, opts, now)
	cands := v.candidates()
	list := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		list = append(list, c)
	}
	var out []string
	if !anySpecific(list) {
		out = append(out, SignalThin)
	}
	raw := opts
	raw.Calibration = &IdentityCalibration
	raw.AbstainBelow = -1
	res := Analyze(in, raw, now)
	top := res.Top()
	if top != nil && top.Category == nova.CategoryChange {
		if ranked := v.rankChanges(); len(ranked) > 0 && !v.explains(&ranked[0]) {
			out = append(out, SignalTimingOnly)
		}
	}
	if top != nil && len(res.Hypotheses) > 1 && top.Confidence > 0 && res.Hypotheses[1].Confidence/top.Confidence >= closeAt {
		out = append(out, SignalClose)
	}
	var similar []ScoredPast
	for i, sp := range v.rankPast() {
		if i == maxPastHypotheses || sp.Similarity < minPastSimilarity {
			break
		}
		similar = append(similar, sp)
	}
	if pastDisagree(similar) {
		out = append(out, SignalPastDisagree)
	}
	if top != nil {
		if c := cands[top.Category]; c != nil && pastOnly(c) {
			out = append(out, SignalPastOnly)
		}
	}
	return out
}

// AbstentionSignalNames are the signals AbstentionSignals reports, in order.
var AbstentionSignalNames = []string{SignalThin, SignalTimingOnly, SignalClose, SignalPastDisagree, SignalPastOnly}

// SignalTally counts where one abstention signal fired: on cases where
// abstaining is right, on the others where the top hypothesis was right
// anyway, and on the others where it was wrong. Abstaining on the signal
// would have precision OK/(OK+Right+Wrong) and recall OK over the
// abstain-ok cases.
type SignalTally struct {
	Signal           string
	OK, Right, Wrong int
}
