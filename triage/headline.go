package triage

import (
	"strconv"
	"strings"

	"github.com/novasre/nova"
)

// categoryPhrase is how a headline names a cause category.
var categoryPhrase = map[nova.Category]string{
	nova.CategoryChange:         "a recent change",
	nova.CategoryResource:       "a resource problem",
	nova.CategoryDependency:     "a failing dependency",
	nova.CategoryInfrastructure: "an infrastructure problem",
	nova.CategoryCertificate:    "a certificate problem",
	nova.CategoryTraffic:        "a traffic problem",
	nova.CategoryData:           "a data problem",
	nova.CategoryUnknown:        "an unknown cause",
}

// maxHeadline keeps headlines to one line in Slack and PagerDuty notes.
const maxHeadline = 220

// headline is the one-line summary of a candidate: the headline of its
// strongest piece, with a similar past incident named when one supports it
// without being the headline.
func headline(c *candidate) string {
	var main string
	var pastAlso string
	for _, p := range c.pieces {
		if p.headline == "" {
			continue
		}
		if main == "" {
			main = p.headline
			continue
		}
		if pastAlso == "" && len(p.evidence) > 0 && p.evidence[0].Kind == nova.EvidencePastIncident {
			pastAlso = "; resembles past incident " + quote(pastTitle(p.evidence[0]), 60)
		}
	}
	if main == "" {
		main = "Possibly " + categoryPhrase[c.cat]
	}
	return truncate(main+pastAlso, maxHeadline)
}

// pastTitle recovers the quoted title from past-incident evidence.
func pastTitle(e nova.Evidence) string {
	s := e.Summary
	if i := strings.Index(s, "'"); i >= 0 {
		if j := strings.Index(s[i+1:], "'"); j >= 0 {
			return s[i+1 : i+1+j]
		}
	}
	return e.ID
}

func changeHeadline(sc ScoredChange) string {
	return "Likely caused by " + changeNoun(sc.Change) + " " + quote(sc.Change.Summary, 70) + " " +
		ago(sc.Age) + " before the incident (" + string(sc.Relation) + ")"
}

func (v *view) signatureHeadline(c nova.Category, h sigHit) string {
	where := v.in.Incident.Title
	if h.alert != nil {
		where = h.alert.Summary
	}
	return "Likely " + categoryPhrase[c] + ": " + h.sig.Describe + " in " + quote(where, 80)
}

func pastHeadline(sp ScoredPast) string {
	s := "Same as past incident " + quote(sp.Past.Title, 70)
	if r := strings.TrimSpace(sp.Past.Resolution); r != "" {
		s += ", resolved by: " + truncate(r, 90)
	}
	return s
}

func (v *view) stormHeadline(s *stormInfo) string {
	what := "fail at once"
	if s.shared != nil {
		what = "show " + s.shared.Describe
	}
	return "Incident storm: this and " + strconv.Itoa(len(s.others)) + " other incidents on " +
		strconv.Itoa(len(s.services)+1) + " services " + what + "; likely one shared cause (" + string(s.category) + ")"
}
