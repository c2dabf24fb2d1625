package llm

import (
	"encoding/json"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/triage"
)

// systemPrompt fixes the model's job: phrase, do not decide.
const systemPrompt = `You rewrite the result of an automated incident triage for the on-call engineer.
Use only the facts in the JSON you are given; do not add causes, numbers, services or events.
Keep the cause category and the confidence as given, and say it is a hypothesis.
Do not suggest actions, commands or fixes: the engineer sees the suggested next steps separately.
Answer with one plain-text paragraph of at most 80 words, without markdown.`

// Bounds on what the prompt carries, so that a noisy incident cannot blow
// the context window or the bill.
const (
	maxPromptAlerts   = 15
	maxPromptEvidence = 12
	maxPromptText     = 300
)

// promptFacts is everything the model sees. Alert details, change details,
// runbooks and the action catalog are left out on purpose: details can hold
// tokens and hostnames, and the catalog would invite the model to choose
// actions.
type promptFacts struct {
	Incident   string         `json:"incident"`
	Service    string         `json:"service,omitempty"`
	Alerts     []string       `json:"alerts,omitempty"`
	Hypothesis promptHyp      `json:"top_hypothesis"`
	Others     []promptBrief  `json:"other_hypotheses,omitempty"`
	Checked    []string       `json:"checked,omitempty"`
	NotChecked []string       `json:"not_checked,omitempty"`
	Storm      int            `json:"concurrent_incidents_in_storm,omitempty"`
	Evidence   []promptDetail `json:"evidence"`
}

type promptHyp struct {
	Summary    string  `json:"summary"`
	Category   string  `json:"category"`
	Confidence float64 `json:"confidence"`
}

type promptBrief struct {
	Category   string  `json:"category"`
	Confidence float64 `json:"confidence"`
}

type promptDetail struct {
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
}

// userPrompt renders the facts as JSON: unambiguous to the model and easy
// to check in tests for what it must not contain.
func userPrompt(in triage.Input, r nova.TriageResult) string {
	top := r.Top()
	f := promptFacts{
		Incident:   clip(in.Incident.Title),
		Service:    clip(firstNonEmpty(in.Service.Name, in.Incident.Service.Summary)),
		Hypothesis: promptHyp{Summary: clip(top.Summary), Category: string(top.Category), Confidence: top.Confidence},
		Checked:    r.Checked,
		NotChecked: r.NotChecked,
		Storm:      len(r.Storm),
	}
	for i, a := range in.Alerts {
		if i == maxPromptAlerts {
			break
		}
		f.Alerts = append(f.Alerts, clip(a.Summary))
	}
	for i, e := range top.Evidence {
		if i == maxPromptEvidence {
			break
		}
		f.Evidence = append(f.Evidence, promptDetail{Kind: e.Kind, Summary: clip(e.Summary)})
	}
	for _, h := range r.Hypotheses[1:] {
		f.Others = append(f.Others, promptBrief{Category: string(h.Category), Confidence: h.Confidence})
	}
	b, _ := json.MarshalIndent(f, "", " ") // plain strings and numbers cannot fail to encode
	return "Triage result:\n" + string(b)
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxPromptText {
		return string(r[:maxPromptText-1]) + "…"
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
