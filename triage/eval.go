package triage

import (
	"fmt"

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
// threshold on the given cases (the development split, and only it): it
// runs the engine with IdentityCalibration to read each case's top evidence
// score, fits an isotonic map from score to the rate of right top
// hypotheses, then picks the threshold with ChooseAbstainBelow on the
// calibrated confidences. It is pure and deterministic.
func FitCalibration(cases []Case, opts Options) (Calibration, AbstainChoice) {
	raw := opts
	raw.Calibration = &IdentityCalibration
	raw.AbstainBelow = -1
	points := make([]CalibrationPoint, 0, len(cases))
	for _, c := range cases {
		res := Analyze(c.Input, raw, c.Now)
		if top := res.Top(); top != nil {
			points = append(points, CalibrationPoint{Score: top.Confidence, Right: topRight(c, res)})
		}
	}
	cal := FitIsotonic(points)
	fitted := opts
	fitted.Calibration = &cal
	fitted.AbstainBelow = -1
	var outcomes []Outcome
	for _, c := range cases {
		res := Analyze(c.Input, fitted, c.Now)
		o := Outcome{ID: c.ID, AbstainOK: c.Answer.AbstainOK, Right: topRight(c, res), NoHypothesis: res.Top() == nil}
		if top := res.Top(); top != nil {
			o.Confidence = top.Confidence
		}
		outcomes = append(outcomes, o)
	}
	return cal, ChooseAbstainBelow(outcomes)
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
