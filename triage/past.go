package triage

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// ScoredPast is a past incident with triage's estimate of how alike it is.
type ScoredPast struct {
	Past nova.PastIncident
	// Similarity is in [0, 1]: PagerDuty's score (60%) and triage's own
	// comparison of titles and failure signatures (40%).
	Similarity float64
	// Category is the one recorded for it, or else inferred from its title
	// and resolution; unknown when neither says.
	Category nova.Category
}

// minPastSimilarity is the similarity under which a past incident is not
// offered as a hypothesis: below it, "resembles" would be a stretch.
const minPastSimilarity = 0.3

// RankPast scores the past incidents, most similar first.
func RankPast(in Input, opts Options, now time.Time) []ScoredPast {
	return newView(in, opts, now).rankPast()
}

func (v *view) rankPast() []ScoredPast {
	parts := []string{v.in.Incident.Title}
	for _, a := range v.in.Alerts {
		parts = append(parts, a.Summary)
	}
	cur := tokens(strings.Join(parts, " "))
	curSigs := map[string]bool{}
	for _, h := range v.hits {
		curSigs[h.sig.Name] = true
	}
	seen := map[string]bool{}
	var out []ScoredPast
	for _, p := range v.in.Past {
		if p.ID != "" {
			if seen[p.ID] || p.ID == v.in.Incident.ID {
				continue
			}
			seen[p.ID] = true
		}
		text := math.Min(1, 2.5*jaccard(cur, tokens(p.Title)))
		// Signatures compare what the incidents were about: the past one's
		// title and resolution against this one's title and alerts. Generic
		// titles ("health check is DOWN") match across unrelated causes;
		// signatures that disagree on both sides expose that.
		pastSigs := signaturesIn(v.sigs, p.Title+"\n"+p.Resolution)
		sigSim := setJaccard(curSigs, pastSigs)
		// PagerDuty's score sees more metadata than the title; ours is a
		// cross-check that also works when the score is missing.
		sim := 0.6*pdScore(p.Score) + 0.4*(0.6*text+0.4*sigSim)
		if len(curSigs) > 0 && len(pastSigs) > 0 && sigSim == 0 {
			sim *= 0.6
		}
		cat := p.Category
		if !validCategory(cat) || cat == nova.CategoryUnknown {
			cat = categoryOfSignatures(v.sigs, pastSigs)
		}
		out = append(out, ScoredPast{Past: p, Similarity: clamp01(sim), Category: cat})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Similarity != out[j].Similarity {
			return out[i].Similarity > out[j].Similarity
		}
		return out[i].Past.CreatedAt.After(out[j].Past.CreatedAt)
	})
	return out
}

// setJaccard is the Jaccard index of two sets; 0 when both are empty.
func setJaccard(a, b map[string]bool) float64 {
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// pdScore brings PagerDuty's similarity score into [0, 1]. The API returns
// it on a 0–100 scale (46.8249 in its examples); an adapter may already
// have normalised it.
func pdScore(s float64) float64 {
	if math.IsNaN(s) || math.IsInf(s, 0) || s <= 0 {
		return 0
	}
	if s > 1 {
		s /= 100
	}
	return clamp01(s)
}

// outlierFactor scales "same as before" hypotheses by how usual PagerDuty
// says this kind of incident is on the service: a frequent one is probably
// the usual cause, an anomaly probably is not.
func outlierFactor(o *nova.Outlier) float64 {
	if o == nil {
		return 1
	}
	switch strings.ToLower(o.Category) {
	case "frequent":
		return 1.2
	case "rare":
		return 0.8
	case "anomaly":
		return 0.6
	}
	return 1
}

// outlierEvidence cites PagerDuty's outlier classification.
func outlierEvidence(o *nova.Outlier) nova.Evidence {
	s := "PagerDuty classes this incident as " + strings.ToLower(o.Category)
	switch strings.ToLower(o.Category) {
	case "frequent":
		s += " on this service (seen " + strconv.Itoa(o.Count) + " times): the usual cause is likely"
	case "rare", "anomaly":
		s += " on this service: past causes are a weaker guide"
	}
	return nova.Evidence{Kind: nova.EvidenceOutlier, ID: o.Template, Summary: s}
}

// pastEvidence cites a similar past incident and how it was resolved.
func (v *view) pastEvidence(sp ScoredPast) nova.Evidence {
	s := "Resembles past incident " + quote(sp.Past.Title, 80)
	if !sp.Past.CreatedAt.IsZero() && sp.Past.CreatedAt.Before(v.trigger) {
		s += " from " + ago(v.trigger.Sub(sp.Past.CreatedAt)) + " ago"
	}
	s += " (similarity " + strconv.Itoa(int(sp.Similarity*100+0.5)) + "%"
	if sp.Category != nova.CategoryUnknown {
		s += ", " + string(sp.Category)
	}
	s += ")"
	if r := strings.TrimSpace(sp.Past.Resolution); r != "" {
		s += "; resolved by: " + truncate(r, 160)
	}
	return nova.Evidence{Kind: nova.EvidencePastIncident, ID: sp.Past.ID, Summary: s, URL: sp.Past.HTMLURL, At: sp.Past.CreatedAt}
}
