package nova

import (
	"encoding/json"
	"time"
)

// Category is the kind of cause a hypothesis names.
type Category string

// Cause categories.
const (
	CategoryChange         Category = "change"
	CategoryResource       Category = "resource"
	CategoryDependency     Category = "dependency"
	CategoryInfrastructure Category = "infrastructure"
	CategoryCertificate    Category = "certificate"
	CategoryTraffic        Category = "traffic"
	CategoryData           Category = "data"
	CategoryUnknown        Category = "unknown"
)

// Categories lists every cause category.
var Categories = []Category{CategoryChange, CategoryResource, CategoryDependency,
	CategoryInfrastructure, CategoryCertificate, CategoryTraffic, CategoryData, CategoryUnknown}

// Evidence kinds.
const (
	EvidenceAlert           = "alert"
	EvidenceChange          = "change"
	EvidencePastIncident    = "past_incident"
	EvidenceRelatedIncident = "related_incident"
	EvidenceOutlier         = "outlier"
	EvidenceSignature       = "signature"
	EvidenceRunbook         = "runbook"
	// EvidenceRuledOut says why a tempting suspect is not the answer ("not
	// the 10:02 flag change: errors began at 09:55").
	EvidenceRuledOut = "ruled_out"
	// EvidenceFeedback explains a per-service confidence adjustment from
	// people's verdicts on earlier hypotheses.
	EvidenceFeedback = "feedback"
)

// Evidence is one fact a hypothesis rests on.
type Evidence struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id,omitempty"`
	Summary string    `json:"summary"`
	URL     string    `json:"url,omitempty"`
	At      time.Time `json:"at,omitempty"`
}

// MarshalJSON omits a zero At (encoding/json's omitempty cannot see a zero time).
func (e Evidence) MarshalJSON() ([]byte, error) {
	type plain Evidence
	if e.At.IsZero() {
		return json.Marshal(struct {
			plain
			At *time.Time `json:"at,omitempty"`
		}{plain: plain(e)})
	}
	return json.Marshal(plain(e))
}

// Suggestion is a next step, drawn only from runbooks and the action catalog.
type Suggestion struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Action      string `json:"action,omitempty"` // catalog action name, empty for a runbook step
	Destructive bool   `json:"destructive"`
	RunbookURL  string `json:"runbook_url,omitempty"`
}

// Hypothesis is one ranked explanation of an incident.
type Hypothesis struct {
	Rank        int          `json:"rank"`
	Summary     string       `json:"summary"`
	Category    Category     `json:"category"`
	Confidence  float64      `json:"confidence"`
	Evidence    []Evidence   `json:"evidence"`
	Suggestions []Suggestion `json:"suggestions"`
}

// TriageResult is what triage concluded about one incident.
type TriageResult struct {
	Abstained  bool         `json:"abstained"`
	Hypotheses []Hypothesis `json:"hypotheses"`
	// Checked and NotChecked name the evidence sources consulted and those
	// that were missing, failed or too slow.
	Checked    []string `json:"checked"`
	NotChecked []string `json:"not_checked"`
	// Storm lists the ids of concurrent incidents judged to share a cause.
	Storm   []string      `json:"storm,omitempty"`
	Elapsed time.Duration `json:"-"`
	// SummarisedBy is "llm" when a language model phrased the top summary.
	SummarisedBy string `json:"summarised_by,omitempty"`
}

// Top returns the best hypothesis, or nil when there is none.
func (r *TriageResult) Top() *Hypothesis {
	if r == nil || len(r.Hypotheses) == 0 {
		return nil
	}
	return &r.Hypotheses[0]
}

type triageResultJSON struct {
	Alias
	ElapsedMS int64 `json:"elapsed_ms"`
}

// Alias is TriageResult without its JSON methods.
type Alias TriageResult

// MarshalJSON renders Elapsed as elapsed_ms and empty lists as [].
func (r TriageResult) MarshalJSON() ([]byte, error) {
	a := Alias(r)
	if a.Hypotheses == nil {
		a.Hypotheses = []Hypothesis{}
	}
	for i := range a.Hypotheses {
		if a.Hypotheses[i].Evidence == nil {
			a.Hypotheses[i].Evidence = []Evidence{}
		}
		if a.Hypotheses[i].Suggestions == nil {
			a.Hypotheses[i].Suggestions = []Suggestion{}
		}
	}
	if a.Checked == nil {
		a.Checked = []string{}
	}
	if a.NotChecked == nil {
		a.NotChecked = []string{}
	}
	return json.Marshal(triageResultJSON{Alias: a, ElapsedMS: r.Elapsed.Milliseconds()})
}

// UnmarshalJSON reads elapsed_ms back into Elapsed.
func (r *TriageResult) UnmarshalJSON(b []byte) error {
	var v triageResultJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = TriageResult(v.Alias)
	r.Elapsed = time.Duration(v.ElapsedMS) * time.Millisecond
	return nil
}
