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
	// WrongConfident counts cases where the top hypothesis has confidence
	// ≥ ConfidentAt, triage did not abstain, and the category is wrong.
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
	return r
}

func evalNova(cases []Case, opts Options, outcomes *[]Outcome) Scores {
	s := Scores{Name: "nova"}
	rankSum := 0
	for _, c := range cases {
		res := Analyze(c.Input, opts, c.Now)
		o := Outcome{ID: c.ID, Split: c.Split, Want: c.Answer.Category, Abstained: res.Abstained}
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
		}
		count(&s.WrongConfident, !res.Abstained && o.Got != c.Answer.Category && o.Confidence >= ConfidentAt)
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
