package triage

import (
	"fmt"
	"math"
	"sort"

	"github.com/novasre/nova"
)

// ConfidentAt is the confidence from which a wrong top hypothesis counts as
// "wrong but confident": the failure that costs trust, because an engineer
// would act on it.
const ConfidentAt = 0.6

// Ratio is a count of hits out of a number of cases.
type Ratio struct {
	Hits, Of int
}

// Value returns the ratio in [0, 1], or 0 when there were no cases.
func (r Ratio) Value() float64 {
	if r.Of == 0 {
		return 0
	}
	return float64(r.Hits) / float64(r.Of)
}

// String renders "81.2% (26/32)", or "n/a" when there were no cases.
func (r Ratio) String() string {
	if r.Of == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*r.Value(), r.Hits, r.Of)
}

// Scores are one system's figures over a set of cases.
type Scores struct {
	Name string
	// Top1 counts cases whose top hypothesis has the right category, not
	// abstained; abstaining counts as right on cases marked AbstainOK.
	Top1 Ratio
	// Top3 counts the right category among the first three hypotheses
	// (listed even when abstaining), or abstention on AbstainOK cases.
	Top3 Ratio
	// CulpritFirst counts change-caused cases where the first change the
	// result cites is the culprit. CulpritMeanRank is the culprit's mean
	// rank among all changes (a culprit outside the window ranks last + 1);
	// zero when not applicable.
	CulpritFirst    Ratio
	CulpritMeanRank float64
	// PastHit3 counts cases with a matching past incident where it is cited
	// by one of the first three hypotheses.
	PastHit3 Ratio
	// Abstained counts abstentions over all cases; AbstainedWrongly those on
	// cases that had an answer.
	Abstained        Ratio
	AbstainedWrongly Ratio
	// AbstainedSparedWrong counts, among the abstentions on cases that had
	// an answer, those where the top hypothesis Nova held back was wrong:
	// what abstaining there spared the timeline.
	AbstainedSparedWrong Ratio
	// AbstainRecall counts abstentions among the cases where abstaining is
	// right; AbstainPrecision counts cases where abstaining is right among
	// the abstentions.
	AbstainRecall, AbstainPrecision Ratio
	// WrongConfident counts cases where the top hypothesis has confidence
	// ≥ ConfidentAt, triage did not abstain, and the top hypothesis is wrong:
	// the wrong category, or a change hypothesis whose first cited change is
	// not the culprit (or that blames a change when none was recorded).
	// Baselines have no confidence: every wrong guess of theirs counts.
	WrongConfident Ratio
	// FixSuggested counts cases with catalog fix actions where the top
	// hypothesis suggests one of them.
	FixSuggested Ratio
}

// Outcome is Nova's result on one case, for listing failures.
type Outcome struct {
	ID, Split  string
	Want, Got  nova.Category
	Confidence float64
	Abstained  bool
	Top1, Top3 bool
	// Right is set when the top hypothesis is right (see topRight);
	// AbstainOK when abstaining is right on the case; NoHypothesis when
	// triage offered none.
	Right, AbstainOK, NoHypothesis bool
	// CulpritRank is the culprit's rank (1 = first), 0 when there is none.
	CulpritRank  int
	CulpritFirst bool
	// PastHit is set for cases with a matching past incident.
	PastHit *bool
	Summary string
}

// Report is the evaluation of Nova and its baselines over a corpus.
type Report struct {
	Cases int
	// Systems holds Nova first, then the baselines.
	Systems    []Scores
	BySource   map[string]int
	ByCategory map[nova.Category]int
	Outcomes   []Outcome
	// Reliability bins Nova's top confidence: how often it was right in each
	// bin (a calibrated engine is right about as often as it says).
	Reliability []Bin
	// Signals counts where each abstention signal fired (see
	// AbstentionSignals).
	Signals []SignalTally
}

// Bin is one row of a reliability table: the cases whose top confidence is
// in [Low, High), how many of them were right, and their mean confidence.
type Bin struct {
	Low, High      float64
	Right          Ratio
	MeanConfidence float64
}

// reliabilityEdges are the bins of the reliability table.
var reliabilityEdges = []float64{0, 0.2, 0.4, 0.6, 0.8, 1.0001}

// reliability bins outcomes by top confidence.
func reliability(outcomes []Outcome) []Bin {
	bins := make([]Bin, len(reliabilityEdges)-1)
	sums := make([]float64, len(bins))
	for i := range bins {
		bins[i].Low, bins[i].High = reliabilityEdges[i], reliabilityEdges[i+1]
	}
	for _, o := range outcomes {
		if o.NoHypothesis {
			continue
		}
		for i := range bins {
			if o.Confidence >= bins[i].Low && o.Confidence < bins[i].High {
				count(&bins[i].Right, o.Right)
				sums[i] += o.Confidence
				break
			}
		}
	}
	for i := range bins {
		if bins[i].Right.Of > 0 {
			bins[i].MeanConfidence = sums[i] / float64(bins[i].Right.Of)
		}
	}
	return bins
}

// Evaluate runs Analyze on every case (at the case's own now) and scores
// it beside two baselines: blaming the most recent change, and always
// answering the corpus's majority category. It is pure.
func Evaluate(cases []Case, opts Options) Report {
	r := Report{Cases: len(cases), BySource: map[string]int{}, ByCategory: map[nova.Category]int{}}
	for _, c := range cases {
		r.BySource[c.Source.Dataset]++
		r.ByCategory[c.Answer.Category]++
	}
	r.Systems = []Scores{evalNova(cases, opts, &r.Outcomes), evalMostRecent(cases, opts), evalMajority(cases, r.ByCategory)}
	r.Reliability = reliability(r.Outcomes)
	r.Signals = signalTallies(cases, opts, r.Outcomes)
	return r
}

// topRight reports whether the top hypothesis of res is right for c: the
// right category and, for a change, the right change first (or no change
// cited when the cause left no change event).
func topRight(c Case, res nova.TriageResult) bool {
	top := res.Top()
	if top == nil || top.Category != c.Answer.Category {
		return false
	}
	if top.Category != nova.CategoryChange {
		return true
	}
	first := ""
	for _, e := range top.Evidence {
		if e.Kind == nova.EvidenceChange {
			first = e.ID
			break
		}
	}
	return first == c.Answer.CulpritChange
}

// FitCalibration fits the confidence map and chooses the abstention
// threshold on the given cases (the development split, and only it). It
// runs the engine with IdentityCalibration to read each case's top evidence
// score and fits an isotonic map from score to the rate of right top
// hypotheses. A map fitted and judged on the same cases flatters itself:
// its step into "confident" lands exactly where the cases it saw stop being
// wrong. So both choices are made on cross-validated confidences instead
// (CrossValidate: each case's confidence comes from a map fitted without its
// postmortem): the margin by which the confident step is raised is the
// least under which cross-validated wrong-but-confident is, with 95%
// confidence, at most wrongConfidentTarget (WilsonUpper), and the abstention threshold is picked with
// ChooseAbstainBelow on the same confidences. It is pure and deterministic.
func FitCalibration(cases []Case, opts Options) (Calibration, AbstainChoice) {
	f := fitCV(cases, opts)
	return f.Calibration, f.Abstain
}

// CalibrationFit is what FitCalibration chose, with the cross-validated
// figures it chose it on.
type CalibrationFit struct {
	Calibration Calibration
	// Margin is how far the score at which confidence reaches ConfidentAt
	// was raised above the fitted step (RaiseConfident).
	Margin float64
	// Abstain is the abstention threshold and its cross-validated figures.
	Abstain AbstainChoice
	// WrongConfident is the cross-validated wrong-but-confident rate at
	// Margin, not counting abstentions at Abstain.Threshold.
	WrongConfident Ratio
	Folds          int
}

// FitCalibrationCV is FitCalibration with the figures it rests on.
func FitCalibrationCV(cases []Case, opts Options) CalibrationFit { return fitCV(cases, opts) }

// cvFolds is how many folds cross-validation splits the cases into.
const cvFolds = 5

// wrongConfidentTarget is the wrong-but-confident rate promised (issue 9).
// The margin is chosen so that the cross-validated rate's one-sided 95%
// upper bound (Wilson, z = upperZ) stays under it: with 231 cases, 6 wrong
// and confident pass and 7 do not. Cross-validation alone is not enough of
// a guard: the rules themselves were tuned on these cases, so every fold
// sees its wrong answers just under the same step, and the bound's
// allowance for chance is the margin for that.
const wrongConfidentTarget = 0.05

// upperZ is the normal quantile of the one-sided 95% bound.
const upperZ = 1.645

// WilsonUpper is the one-sided upper bound of the Wilson score interval
// for the rate r at normal quantile z: how high the true rate may be, given
// r.Hits of r.Of.
func WilsonUpper(r Ratio, z float64) float64 {
	if r.Of == 0 {
		return 1
	}
	n, p := float64(r.Of), r.Value()
	return (p + z*z/(2*n) + z*math.Sqrt(p*(1-p)/n+z*z/(4*n*n))) / (1 + z*z/n)
}

// maxMargin bounds the margin: beyond it the confident step would swallow
// most of the map.
const maxMargin = 0.35

func fitCV(cases []Case, opts Options) CalibrationFit {
	points := rawPoints(cases, opts)
	folds := sourceFolds(cases, cvFolds)
	// Each case's fold map, fitted on the other folds' points.
	foldCal := make([]Calibration, cvFolds)
	for k := range foldCal {
		var train []CalibrationPoint
		for i, p := range points {
			if folds[i] != k && p.ok {
				train = append(train, p.CalibrationPoint)
			}
		}
		foldCal[k] = FitIsotonic(train)
	}
	outOfFold := func(margin float64) []Outcome {
		out := make([]Outcome, len(cases))
		for i, p := range points {
			cal := RaiseConfident(foldCal[folds[i]], margin)
			out[i] = Outcome{ID: cases[i].ID, AbstainOK: cases[i].Answer.AbstainOK, Right: p.Right, NoHypothesis: !p.ok, Abstained: p.thin}
			if p.ok {
				out[i].Confidence = cal.apply(p.Score)
			}
		}
		return out
	}
	fit := CalibrationFit{Folds: cvFolds}
	for m := 0; m <= int(maxMargin*100); m++ {
		margin := float64(m) / 100
		outcomes := outOfFold(margin)
		choice := ChooseAbstainBelow(outcomes)
		var wc Ratio
		for _, o := range outcomes {
			abstain := o.NoHypothesis || o.Abstained || o.Confidence < choice.Threshold
			count(&wc, !abstain && !o.Right && o.Confidence >= ConfidentAt)
		}
		fit.Margin, fit.Abstain, fit.WrongConfident = margin, choice, wc
		if WilsonUpper(wc, upperZ) <= wrongConfidentTarget {
			break
		}
	}
	var all []CalibrationPoint
	for _, p := range points {
		if p.ok {
			all = append(all, p.CalibrationPoint)
		}
	}
	fit.Calibration = RaiseConfident(FitIsotonic(all), fit.Margin)
	return fit
}

// rawPoint is one case's top evidence score; ok is false when the engine
// offered no hypothesis.
type rawPoint struct {
	CalibrationPoint
	ok bool
	// thin marks a case triage abstains on whatever the map (thin evidence).
	thin bool
}

// rawPoints runs the engine uncalibrated on every case.
func rawPoints(cases []Case, opts Options) []rawPoint {
	raw := opts
	raw.Calibration = &IdentityCalibration
	raw.AbstainBelow = -1
	points := make([]rawPoint, len(cases))
	for i, c := range cases {
		res, thin := analyze(c.Input, raw, c.Now)
		if top := res.Top(); top != nil {
			points[i] = rawPoint{CalibrationPoint{Score: top.Confidence, Right: topRight(c, res)}, true, thin}
		}
	}
	return points
}

// sourceFolds assigns each case a fold in [0, k) by its postmortem, so that
// the variations of one postmortem are never on both sides of a fold:
// distinct sources in sorted order, dealt out in turn.
func sourceFolds(cases []Case, k int) []int {
	key := func(c Case) string { return c.Source.Dataset + "\x00" + c.Source.OriginalID }
	var keys []string
	seen := map[string]bool{}
	for _, c := range cases {
		if k := key(c); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	fold := map[string]int{}
	for i, s := range keys {
		fold[s] = i % k
	}
	out := make([]int, len(cases))
	for i, c := range cases {
		out[i] = fold[key(c)]
	}
	return out
}

func evalNova(cases []Case, opts Options, outcomes *[]Outcome) Scores {
	s := Scores{Name: "nova"}
	rankSum := 0
	for _, c := range cases {
		res := Analyze(c.Input, opts, c.Now)
		o := Outcome{ID: c.ID, Split: c.Split, Want: c.Answer.Category, Abstained: res.Abstained,
			Right: topRight(c, res), AbstainOK: c.Answer.AbstainOK, NoHypothesis: res.Top() == nil}
		if top := res.Top(); top != nil {
			o.Got, o.Confidence, o.Summary = top.Category, top.Confidence, top.Summary
		}
		rightAbstain := res.Abstained && c.Answer.AbstainOK
		o.Top1 = rightAbstain || (!res.Abstained && o.Got == c.Answer.Category && o.Got != "")
		o.Top3 = rightAbstain || inTop(res, c.Answer.Category, 3)
		count(&s.Top1, o.Top1)
		count(&s.Top3, o.Top3)
		count(&s.Abstained, res.Abstained)
		if !c.Answer.AbstainOK {
			count(&s.AbstainedWrongly, res.Abstained)
			if res.Abstained {
				count(&s.AbstainedSparedWrong, !o.Right)
			}
		} else {
			count(&s.AbstainRecall, res.Abstained)
		}
		if res.Abstained {
			count(&s.AbstainPrecision, c.Answer.AbstainOK)
		}
		count(&s.WrongConfident, !res.Abstained && !o.Right && o.Confidence >= ConfidentAt)
		if id := c.Answer.CulpritChange; id != "" {
			o.CulpritRank = changeRank(RankChanges(c.Input, opts, c.Now), id, len(c.Input.Changes))
			o.CulpritFirst = firstCitedChange(res) == id
			count(&s.CulpritFirst, o.CulpritFirst)
			rankSum += o.CulpritRank
		}
		if id := c.Answer.PastIncident; id != "" {
			hit := cites(res, nova.EvidencePastIncident, id, 3)
			o.PastHit = &hit
			count(&s.PastHit3, hit)
		}
		if len(c.Answer.FixActions) > 0 {
			count(&s.FixSuggested, suggestsAny(res.Top(), c.Answer.FixActions))
		}
		*outcomes = append(*outcomes, o)
	}
	if s.CulpritFirst.Of > 0 {
		s.CulpritMeanRank = float64(rankSum) / float64(s.CulpritFirst.Of)
	}
	return s
}

// signalTallies counts, per abstention signal, the cases it fired on.
func signalTallies(cases []Case, opts Options, outcomes []Outcome) []SignalTally {
	tallies := make([]SignalTally, len(AbstentionSignalNames))
	at := map[string]*SignalTally{}
	for i, n := range AbstentionSignalNames {
		tallies[i].Signal = n
		at[n] = &tallies[i]
	}
	for i, c := range cases {
		for _, s := range AbstentionSignals(c.Input, opts, c.Now) {
			t := at[s]
			switch {
			case c.Answer.AbstainOK:
				t.OK++
			case outcomes[i].Right:
				t.Right++
			default:
				t.Wrong++
			}
		}
	}
	return tallies
}

func count(r *Ratio, hit bool) {
	r.Of++
	if hit {
		r.Hits++
	}
}

func inTop(res nova.TriageResult, c nova.Category, n int) bool {
	for i, h := range res.Hypotheses {
		if i == n {
			break
		}
		if h.Category == c {
			return true
		}
	}
	return false
}

// firstCitedChange is the first change an engineer reading the result top
// to bottom would see.
func firstCitedChange(res nova.TriageResult) string {
	for _, h := range res.Hypotheses {
		for _, e := range h.Evidence {
			if e.Kind == nova.EvidenceChange {
				return e.ID
			}
		}
	}
	return ""
}

func cites(res nova.TriageResult, kind, id string, n int) bool {
	for i, h := range res.Hypotheses {
		if i == n {
			break
		}
		for _, e := range h.Evidence {
			if e.Kind == kind && e.ID == id {
				return true
			}
		}
	}
	return false
}

func changeRank(ranked []ScoredChange, id string, total int) int {
	for i, sc := range ranked {
		if sc.Change.ID == id {
			return i + 1
		}
	}
	return total + 1
}

func suggestsAny(h *nova.Hypothesis, names []string) bool {
	if h == nil {
		return false
	}
	for _, s := range h.Suggestions {
		for _, n := range names {
			if s.Action == n {
				return true
			}
		}
	}
	return false
}
