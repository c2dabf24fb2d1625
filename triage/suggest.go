package triage

import (
	"strings"

	"github.com/novasre/nova"
)

// suggestions draws next steps for h from the service's runbooks and the
// action catalog, and from nowhere else: triage never invents an action.
//
//   - A runbook whose Match is empty is the service's general runbook; it goes
//     with the top hypothesis.
//   - A runbook whose Match fits the alerts goes with the top hypothesis; one
//     whose Match fits a hypothesis' own summary and evidence goes with that
//     hypothesis.
//   - An action is offered when it applies to the service, addresses the
//     hypothesis' category, and its Match (if any) fits the alerts or the
//     hypothesis.
//
// Patterns that do not compile are ignored (an action with a bad pattern is
// not offered: its author meant to restrict it). Runbooks come first, then
// non-destructive actions, then destructive ones, each marked from the
// catalog.
func (v *view) suggestions(h nova.Hypothesis) []nova.Suggestion {
	own := hypothesisText(h)
	var rbs, safe, destructive []nova.Suggestion
	for _, rb := range v.in.Service.Runbooks {
		if rb.Title == "" && rb.URL == "" {
			continue
		}
		ok := false
		if rb.Match == "" {
			ok = h.Rank == 1
		} else if re := compileUserRegexp(rb.Match); re != nil {
			ok = (h.Rank == 1 && re.MatchString(v.text)) || re.MatchString(own)
		}
		if ok {
			title := rb.Title
			if title == "" {
				title = rb.URL
			}
			rbs = append(rbs, nova.Suggestion{ID: "runbook:" + firstNonEmpty(rb.URL, rb.Title), Title: title, RunbookURL: rb.URL})
		}
	}
	svc := v.in.serviceID()
	for _, a := range v.in.Actions {
		if a.Name == "" || !a.AppliesTo(svc) || !addresses(a, h.Category) {
			continue
		}
		if a.Match != "" {
			re := compileUserRegexp(a.Match)
			if re == nil || !(re.MatchString(v.text) || re.MatchString(own)) {
				continue
			}
		}
		s := nova.Suggestion{ID: "action:" + a.Name, Title: firstNonEmpty(a.Title, a.Name), Action: a.Name, Destructive: a.Destructive}
		if a.Destructive {
			destructive = append(destructive, s)
		} else {
			safe = append(safe, s)
		}
	}
	out := dedupeSuggestions(append(append(rbs, safe...), destructive...))
	if len(out) > v.opts.MaxSuggestions {
		out = out[:v.opts.MaxSuggestions]
	}
	return out
}

// hypothesisText is what a hypothesis says, for matching runbooks to it.
func hypothesisText(h nova.Hypothesis) string {
	parts := []string{string(h.Category), h.Summary}
	for _, e := range h.Evidence {
		parts = append(parts, e.Summary)
	}
	return strings.Join(parts, "\n")
}

func addresses(a nova.Action, c nova.Category) bool {
	for _, x := range a.Addresses {
		if x == c {
			return true
		}
	}
	return false
}

func dedupeSuggestions(in []nova.Suggestion) []nova.Suggestion {
	seen := map[string]bool{}
	out := in[:0]
	for _, s := range in {
		if seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		out = append(out, s)
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
