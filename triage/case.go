package triage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/novasre/nova"
)

// Case is one evaluation case: an incident as the on-call engineer saw it
// at trigger time, and the answer established afterwards.
type Case struct {
	ID     string `json:"id"`
	Source Source `json:"source"`
	// Split is "dev" for cases looked at while tuning the rules and
	// "holdout" for cases that were not; the report gives both.
	Split string `json:"split,omitempty"`
	// Now is when triage runs, usually a minute or two after the trigger.
	Now    time.Time `json:"now"`
	Input  Input     `json:"input"`
	Answer Answer    `json:"answer"`
	// Notes explain how the case was built from its source.
	Notes string `json:"notes,omitempty"`
}

// Source names where a case comes from.
type Source struct {
	Dataset    string `json:"dataset"`
	OriginalID string `json:"original_id"`
	Licence    string `json:"licence"`
}

// Answer is what actually caused the incident and what fixed it.
type Answer struct {
	Category nova.Category `json:"category"`
	// CulpritChange is the id of the change event that caused it, if any.
	CulpritChange string `json:"culprit_change,omitempty"`
	// PastIncident is the id of the past incident with the same cause, if any.
	PastIncident string `json:"past_incident,omitempty"`
	// Fix is the accepted fix, in words.
	Fix string `json:"fix"`
	// FixActions are catalog action names that carry out the fix.
	FixActions []string `json:"fix_actions,omitempty"`
	// AbstainOK marks cases where the evidence at trigger time supports no
	// answer: abstaining is then counted as right.
	AbstainOK bool `json:"abstain_ok,omitempty"`
}

// ParseCase decodes one case strictly (unknown fields are errors, so a typo
// in the corpus cannot silently drop evidence) and checks that its answer
// refers to things in its input.
func ParseCase(b []byte) (Case, error) {
	var c Case
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Case{}, fmt.Errorf("decode case: %w", err)
	}
	if dec.More() {
		return Case{}, fmt.Errorf("case %s: trailing data after the case", c.ID)
	}
	return c, c.Validate()
}

// Validate checks that a case is complete and self-consistent.
func (c Case) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("case without id")
	case c.Source.Dataset == "" || c.Source.OriginalID == "" || c.Source.Licence == "":
		return fmt.Errorf("case %s: source needs dataset, original_id and licence", c.ID)
	case c.Now.IsZero():
		return fmt.Errorf("case %s: now is required", c.ID)
	case !validCategory(c.Answer.Category):
		return fmt.Errorf("case %s: unknown answer category %q", c.ID, c.Answer.Category)
	case c.Split != "" && c.Split != "dev" && c.Split != "holdout":
		return fmt.Errorf("case %s: split must be dev or holdout", c.ID)
	}
	if id := c.Answer.CulpritChange; id != "" {
		if c.Answer.Category != nova.CategoryChange {
			return fmt.Errorf("case %s: a culprit change needs category change", c.ID)
		}
		if !hasChange(c.Input.Changes, id) {
			return fmt.Errorf("case %s: culprit change %s is not among the input changes", c.ID, id)
		}
	}
	if id := c.Answer.PastIncident; id != "" && !hasPast(c.Input.Past, id) {
		return fmt.Errorf("case %s: past incident %s is not among the input past incidents", c.ID, id)
	}
	for _, name := range c.Answer.FixActions {
		if !hasAction(c.Input.Actions, name) {
			return fmt.Errorf("case %s: fix action %s is not in the catalog", c.ID, name)
		}
	}
	return nil
}

func hasChange(cs []nova.ChangeEvent, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

func hasPast(ps []nova.PastIncident, id string) bool {
	for _, p := range ps {
		if p.ID == id {
			return true
		}
	}
	return false
}

func hasAction(as []nova.Action, name string) bool {
	for _, a := range as {
		if a.Name == name {
			return true
		}
	}
	return false
}
