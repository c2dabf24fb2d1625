package triage

import (
	"sort"
	"time"

	"github.com/novasre/nova"
)

// piece is one piece of support for a category: a strength in [0, 1], the
// headline it would give the hypothesis if it were the strongest, and the
// evidence it rests on.
type piece struct {
	strength float64
	headline string
	evidence []nova.Evidence
	// past marks support carried over from a similar past incident.
	past bool
	// specific marks evidence that points at a cause rather than describing
	// a symptom every cause produces (5xx, latency) or a coincidence of
	// timing: an explained change, a specific signature, a number past its
	// limit, a provider event, a confined scope, a storm, a close past
	// incident. With none at all, triage abstains.
	specific bool
}

// candidate gathers every piece of support for one category, so that
// evidence for the same cause becomes one hypothesis rather than several
// near-duplicates.
type candidate struct {
	cat    nova.Category
	pieces []piece
	raw    float64
	// discount scales raw (zero means none): the change candidate is
	// discounted by symptoms that bad changes rarely produce.
	discount float64
	// capAt bounds raw (zero means none): a change that explains nothing
	// the alerts name is never more than a timing coincidence.
	capAt float64
	// score is the evidence score the calibration turns into confidence.
	score float64
}

// Analyze ranks hypotheses about what caused the incident. It is pure: the
// same input, options and now give the same result.
//
// Each signal adds pieces of support to a category (see the package
// documentation); a category's raw strength is the noisy-OR of its pieces,
// discounted by the strongest competing category so that two plausible
// explanations make both less certain. The calibration turns that evidence
// score into a confidence; triage abstains when the best confidence is
// under Options.AbstainBelow, and still lists the candidates it weighed.
func Analyze(in Input, opts Options, now time.Time) nova.TriageResult {
	res, _ := analyze(in, opts, now)
	return res
}

// analyze is Analyze, also saying whether the evidence was thin (the
// evaluation's fit needs to know which abstentions no threshold decides).
func analyze(in Input, opts Options, now time.Time) (nova.TriageResult, bool) {
	v := newView(in, opts, now)
	res := nova.TriageResult{
		Checked:    append([]string(nil), in.Checked...),
		NotChecked: append([]string(nil), in.NotChecked...),
	}
	if s := v.storm(); s.ok {
		res.Storm = append([]string(nil), s.ids...)
	}
	res.Hypotheses = v.hypotheses(v.candidates())
	// Thin evidence is a reason to abstain of its own, whatever the
	// calibration makes of the halved scores: a refit that moves the map a
	// little must not turn "symptoms and timing only" into an answer.
	res.Abstained = len(res.Hypotheses) == 0 ||
		(v.opts.AbstainBelow > 0 && (v.thin || res.Hypotheses[0].Confidence < v.opts.AbstainBelow))
	return res, v.thin
}

// candidates runs every signal and groups its support by category.
func (v *view) candidates() map[nova.Category]*candidate {
	cands := map[nova.Category]*candidate{}
	add := func(cat nova.Category, p piece) {
		if !validCategory(cat) || cat == nova.CategoryUnknown || !(p.strength > 0) {
			return
		}
		c := cands[cat]
		if c == nil {
			c = &candidate{cat: cat}
			cands[cat] = c
		}
		p.strength = clamp01(p.strength)
		c.pieces = append(c.pieces, p)
	}
	best := v.changeSupport(add)
	v.signatureSupport(add, best)
	v.metricSupport(add, best)
	v.scopeSupport(add, best)
	v.dependencySupport(add)
	if c := cands[nova.CategoryChange]; c != nil {
		c.discount = 1 - atypicalDiscount*v.atypical(best)
		if best != nil && !v.explains(best) {
			c.capAt = unexplainedCap
		}
	}
	v.pastSupport(add, best)
	if s := v.storm(); s.ok {
		ev := v.stormEvidence(s)
		add(s.category, piece{strength: s.strength, headline: v.stormHeadline(s), evidence: ev, specific: true})
		// Many services failing together right after a change to a service
		// they share is the classic shape of a bad infrastructure change. A
		// change to the incident's own service is not shared: the storm
		// says nothing for it.
		if shared := v.sharedChange(); shared != nil {
			add(nova.CategoryChange, piece{strength: s.strength * noisyOr(shared.Proximity, shared.Explain),
				evidence: []nova.Evidence{changeEvidence(*shared), ev[0]}, specific: true})
			if c := cands[nova.CategoryChange]; c != nil {
				c.capAt = 0
			}
		}
	}
	return cands
}

// sharedChange returns the best-ranked change to a service related to this
// one (not the service itself) made within the hour before the symptoms:
// the change a storm points at.
func (v *view) sharedChange() *ScoredChange {
	for _, sc := range v.rankChanges() {
		if sc.Relation == RelationRelated && sc.Age <= time.Hour && !sc.AfterOnset {
			return &sc
		}
	}
	return nil
}

// unexplainedCap bounds the change hypothesis when the best change explains
// nothing the alerts implicate: timing alone is never enough to be sure.
const unexplainedCap = 0.45

// minExplain is how much a change must share with the symptoms to count as
// explaining them.
const minExplain = 0.3

// explains reports whether a change explains the symptoms: it touched what
// the alerts implicate, by words or by topic.
func (v *view) explains(sc *ScoredChange) bool {
	return sc != nil && sc.Explain >= minExplain
}

// signatureSupport turns failure signatures in the alerts into support for
// the categories they point at. A pattern seen in several alerts counts a
// little more than one seen once, but not several times more: the alerts of
// one incident are not independent witnesses. A pattern seen only in the
// incident title counts less than one in an alert's own text and details.
//
// When the best change touched the signature's topic (an OOM after a change
// to memory limits, x509 errors after a certificate change), the change
// explains the symptom: part of the signature's support moves to the
// change hypothesis instead of standing for a separate cause. Connection,
// timeout and DNS failures that name an outside host point at that
// dependency rather than at our own infrastructure.
func (v *view) signatureSupport(add func(nova.Category, piece), best *ScoredChange) {
	var changeTopics map[string]bool
	if best != nil && !best.AfterOnset {
		changeTopics = topics(tokens(changeText(best.Change)))
	}
	for _, h := range v.hits {
		explain := 0.0
		if h.sig.ChangeAffinity >= providerSide {
			explain = v.absorb(best)
		}
		// A change to the symptom's topic takes it over, except for symptoms
		// no change produces by touching the topic (an expired certificate
		// was not renewed; a failed disk is hardware): renewing another
		// certificate does not expire this one.
		if h.sig.Topic != "" && changeTopics[h.sig.Topic] && h.sig.ChangeAffinity >= providerSide {
			explain = maxf(explain, topicExplain(best))
		}
		if v.outsideHostIn(h.alert) != nil {
			explain = 0 // an outside host failing is not our change's doing
		}
		if explain > 0 {
			_, wt := h.sig.bestCategory()
			add(nova.CategoryChange, piece{strength: wt * explain, evidence: []nova.Evidence{v.hitEvidence(h)}, specific: true})
		}
		boost := (1 + 0.1*minf(float64(h.matches-1), 3)) * (1 - 0.5*explain)
		if !h.inDetails {
			boost *= titleOnly
		}
		outside := v.outsideHostIn(h.alert)
		cats := make([]nova.Category, 0, len(h.sig.Weights))
		for c := range h.sig.Weights {
			cats = append(cats, c)
		}
		sort.Slice(cats, func(i, j int) bool { return cats[i] < cats[j] })
		for _, c := range cats {
			if c == nova.CategoryChange {
				continue // change support comes from change events only
			}
			s := minf(clamp01(h.sig.Weights[c])*boost, 0.9)
			target := c
			if outside != nil && reachFailure[h.sig.Name] && (c == nova.CategoryInfrastructure || c == nova.CategoryDependency) {
				target = nova.CategoryDependency
			}
			add(target, piece{strength: s, headline: v.signatureHeadline(target, h), evidence: []nova.Evidence{v.hitEvidence(h)},
				specific: !genericSignatures[h.sig.Name] && (h.inDetails || h.byToken) && (outside != nil || !reachFailure[h.sig.Name])})
		}
	}
}

// genericSignatures describe symptoms that every cause produces; they help
// rank but are never on their own a reason to answer.
var genericSignatures = map[string]bool{"error-rate": true, "latency": true, "timeout": true, "probe": true,
	"no-traffic": true, "scrape": true, "missing-workload": true}

// absorb is how much of a symptom's support the best change takes over when
// it explains the symptoms and came right before them: the CPU pinned
// minutes after a rule that touched the very component using it is the
// change's doing, not a separate resource problem.
func (v *view) absorb(best *ScoredChange) float64 {
	if best == nil || best.AfterOnset || !v.explains(best) || best.Against != "" {
		return 0
	}
	return best.Explain * best.Proximity
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// providerSide is the change affinity under which a symptom is the
// provider's or the hardware's (no capacity, power lost): a change may have
// asked for the capacity, but it did not take it away.
const providerSide = 0.1

// titleOnly scales a signature seen only in the incident title: titles are
// written by whoever configured the check, and often name the check rather
// than the failure.
const titleOnly = 0.7

// reachFailure are the signatures of failing to reach something: when the
// alert names an outside host, that host is what failed.
var reachFailure = map[string]bool{"connection": true, "timeout": true, "dns": true, "error-rate": true, "certificate": false}

// outsideHostIn returns the first outside host named in alert a.
func (v *view) outsideHostIn(a *nova.Alert) *outsideHost {
	if a == nil {
		return nil
	}
	for i := range v.hosts {
		if v.hosts[i].alert == a {
			return &v.hosts[i]
		}
	}
	return nil
}

// changeSupport supports the change category with the best candidate change
// and returns it (nil when there is none). Symptoms typical of a bad change
// add support in proportion to how near that change is.
func (v *view) changeSupport(add func(nova.Category, piece)) *ScoredChange {
	ranked := v.rankChanges()
	if len(ranked) == 0 || ranked[0].Score < 0.05 {
		return nil
	}
	best := ranked[0]
	ev := []nova.Evidence{changeEvidence(best)}
	for _, sc := range ranked[1:] {
		if len(ev) == 3 || sc.Score < 0.1 || sc.Score < best.Score/2 {
			break
		}
		ev = append(ev, changeEvidence(sc))
	}
	// A change that explains the symptoms is specific evidence, unless the
	// evidence counts against it (symptoms before it, a scope it does not
	// cover).
	add(nova.CategoryChange, piece{strength: best.Score, headline: changeHeadline(best), evidence: ev, specific: v.explains(&best) && best.Against == ""})
	var top *sigHit
	for i := range v.hits {
		if top == nil || v.hits[i].sig.ChangeAffinity > top.sig.ChangeAffinity {
			top = &v.hits[i]
		}
	}
	if top != nil && !best.AfterOnset {
		s := clamp01(top.sig.ChangeAffinity) * best.Proximity * affinityWeight
		if s > 0.02 {
			add(nova.CategoryChange, piece{strength: s, evidence: []nova.Evidence{v.hitEvidence(*top)}})
		}
	}
	return &best
}

// affinityWeight scales how much a symptom typical of bad changes (a crash
// loop, 5xx) right after a change adds to it.
const affinityWeight = 0.5

// atypicalDiscount is how much the least change-like symptom can take off
// the change hypothesis: with an unexplained "InsufficientInstanceCapacity"
// (weight 0.55, affinity 0.05) about an eighth.
const atypicalDiscount = 0.4

// atypical measures how strongly the alerts show a symptom that bad changes
// rarely produce (weight × (1 - change affinity)), ignoring symptoms the
// best change explains by having touched their topic. Bayes in one line:
// P(symptom | bad change) is low, so the symptom lowers P(bad change).
func (v *view) atypical(best *ScoredChange) float64 {
	var changeTopics map[string]bool
	if best != nil {
		changeTopics = topics(tokens(changeText(best.Change)))
	}
	worst := 0.0
	for _, h := range v.hits {
		if h.sig.Topic != "" && changeTopics[h.sig.Topic] {
			continue
		}
		_, wt := h.sig.bestCategory()
		if a := wt * (1 - clamp01(h.sig.ChangeAffinity)); a > worst {
			worst = a
		}
	}
	return worst
}

// maxPastHypotheses bounds how many past incidents are offered.
const maxPastHypotheses = 3

// pastSupport carries the categories of similar past incidents over. A past
// incident caused by a change only half-supports "change" when no change
// was made this time. When the similar past incidents disagree about the
// cause (the same alert title resolved three different ways), each counts
// for less.
func (v *view) pastSupport(add func(nova.Category, piece), best *ScoredChange) {
	of := outlierFactor(v.in.Outlier)
	var similar []ScoredPast
	for i, sp := range v.rankPast() {
		if i == maxPastHypotheses || sp.Similarity < minPastSimilarity {
			break
		}
		similar = append(similar, sp)
	}
	disagree := pastDisagree(similar)
	for _, sp := range similar {
		if sp.Category == nova.CategoryUnknown {
			continue
		}
		s := 0.7 * sp.Similarity * of
		if sp.Category == nova.CategoryChange && (best == nil || best.Score < 0.15) {
			s *= 0.5
		}
		ev := []nova.Evidence{v.pastEvidence(sp)}
		if disagree {
			s *= pastDisagreeFactor
			ev[0].Summary += "; similar past incidents disagree about the cause"
		}
		if v.in.Outlier != nil && v.in.Outlier.Category != "" {
			ev = append(ev, outlierEvidence(v.in.Outlier))
		}
		add(sp.Category, piece{strength: minf(s, 0.85), headline: pastHeadline(sp), evidence: ev, past: true,
			specific: sp.Similarity >= specificPast && !disagree})
	}
}

// specificPast is the similarity from which a past incident is evidence in
// its own right rather than a loose resemblance.
const specificPast = 0.5

// pastDisagreeFactor is what disagreeing past incidents are worth each.
const pastDisagreeFactor = 0.6

// pastDisagree reports whether similar past incidents name different causes
// with similar confidence.
func pastDisagree(similar []ScoredPast) bool {
	cats := map[nova.Category]float64{}
	for _, sp := range similar {
		if sp.Category != nova.CategoryUnknown && sp.Similarity > cats[sp.Category] {
			cats[sp.Category] = sp.Similarity
		}
	}
	if len(cats) < 2 {
		return false
	}
	var sims []float64
	for _, s := range cats {
		sims = append(sims, s)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(sims)))
	return sims[1] >= 0.75*sims[0]
}

// competition is how much the strongest rival category discounts a
// hypothesis: with a rival at 0.7, a 0.8 becomes 0.6.
const competition = 0.35

// closeAt is the ratio of the runner-up's strength to the leader's from
// which the two are too close to call: the leader's score drops further, so
// that the calibration sees a coin toss as one.
const closeAt = 0.85

// maxConfidence keeps triage from ever claiming certainty.
const maxConfidence = 0.95

// hypotheses turns candidates into ranked, calibrated hypotheses.
func (v *view) hypotheses(cands map[nova.Category]*candidate) []nova.Hypothesis {
	list := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		sort.SliceStable(c.pieces, func(i, j int) bool { return c.pieces[i].strength > c.pieces[j].strength })
		ps := make([]float64, len(c.pieces))
		for i, p := range c.pieces {
			ps[i] = p.strength
		}
		c.raw = minf(noisyOr(ps...), maxConfidence)
		if c.discount > 0 {
			c.raw *= c.discount
		}
		if c.capAt > 0 {
			c.raw = minf(c.raw, c.capAt)
		}
		if pastOnly(c) {
			c.raw = minf(c.raw, pastOnlyCap)
		}
		list = append(list, c)
	}
	for _, c := range list {
		rival := 0.0
		for _, o := range list {
			if o != c && o.raw > rival {
				rival = o.raw
			}
		}
		c.score = clamp01(c.raw * (1 - competition*rival))
		if c.raw > 0 && rival <= c.raw && rival/c.raw >= closeAt {
			c.score *= 1 - (rival/c.raw-closeAt)*2
		}
	}
	// Nothing but symptoms and timing, or a leader whose only specific
	// support is a resembling past incident (similar titles recur with
	// different causes): say so by scoring every candidate down, so that the
	// calibrated confidence falls under the abstention threshold.
	if !anySpecific(list) || leaderPastOnly(list) || leaderTimingOnly(list) {
		v.thin = true
		for _, c := range list {
			c.score *= thinEvidence
		}
	}
	ranked := make([]*candidate, 0, len(list))
	for _, c := range list {
		if c.score >= 0.05 {
			ranked = append(ranked, c)
		}
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].score != ranked[j].score {
			return ranked[i].score > ranked[j].score
		}
		return categoryOrder(ranked[i].cat) < categoryOrder(ranked[j].cat)
	})
	if len(ranked) > v.opts.MaxHypotheses {
		ranked = ranked[:v.opts.MaxHypotheses]
	}
	shift, why := 0.0, ""
	if v.in.Feedback != nil {
		shift, why = FeedbackShift(*v.in.Feedback)
	}
	out := make([]nova.Hypothesis, 0, len(ranked))
	for i, c := range ranked {
		base := round3(minf(clamp01(v.opts.Calibration.apply(c.score)), maxConfidence))
		conf := round3(minf(clamp01(base+shift), maxConfidence))
		h := nova.Hypothesis{
			Rank:       i + 1,
			Category:   c.cat,
			Confidence: conf,
			Summary:    headline(c),
			Evidence:   mergeEvidence(c.pieces),
		}
		if i == 0 {
			h.Evidence = append(h.Evidence, v.ruledOut(c)...)
			// Say what the feedback actually did to this confidence: a
			// raise that met the ceiling raised nothing.
			if why != "" {
				why = appliedFeedback(*v.in.Feedback, base, conf)
			}
			if why != "" {
				h.Evidence = append(h.Evidence, nova.Evidence{Kind: nova.EvidenceFeedback, Summary: why})
			}
		}
		h.Suggestions = v.suggestions(h)
		out = append(out, h)
	}
	return out
}

// pastOnlyCap bounds a hypothesis whose only specific support is a similar
// past incident: similar titles recur with different causes.
const pastOnlyCap = 0.55

// pastOnly reports whether a candidate's specific support is all past
// incidents.
func pastOnly(c *candidate) bool {
	any := false
	for _, p := range c.pieces {
		if p.specific && !p.past {
			return false
		}
		any = any || p.past
	}
	return any
}

// leaderPastOnly reports whether the best-scored candidate's only specific
// support is similar past incidents.
func leaderPastOnly(list []*candidate) bool {
	lead := leader(list)
	return lead != nil && pastOnly(lead)
}

// leader is the best-scored candidate, ties broken by category order as in
// the ranking.
func leader(list []*candidate) *candidate {
	var lead *candidate
	for _, c := range list {
		if lead == nil || c.score > lead.score || (c.score == lead.score && categoryOrder(c.cat) < categoryOrder(lead.cat)) {
			lead = c
		}
	}
	return lead
}

// leaderTimingOnly reports whether the best-scored candidate is a change
// that explains nothing the alerts implicate and has no specific support of
// its own: timing alone, which is never an answer.
func leaderTimingOnly(list []*candidate) bool {
	lead := leader(list)
	return lead != nil && lead.cat == nova.CategoryChange && !anySpecific([]*candidate{lead})
}

// thinEvidence scales the scores of an incident with no specific evidence.
const thinEvidence = 0.5

func anySpecific(list []*candidate) bool {
	for _, c := range list {
		for _, p := range c.pieces {
			if p.specific {
				return true
			}
		}
	}
	return false
}

// mergeEvidence lists the evidence of all pieces, strongest piece first,
// without repeating an item.
func mergeEvidence(ps []piece) []nova.Evidence {
	seen := map[string]bool{}
	var out []nova.Evidence
	for _, p := range ps {
		for _, e := range p.evidence {
			k := e.Kind + "\x00" + e.ID + "\x00" + e.Summary
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func categoryOrder(c nova.Category) int {
	for i, k := range nova.Categories {
		if k == c {
			return i
		}
	}
	return len(nova.Categories)
}

// round3 keeps confidences readable in notes and stable in golden files.
func round3(f float64) float64 { return float64(int(f*1000+0.5)) / 1000 }

// topicExplain is how much of a symptom's support a change that touched
// the symptom's very topic takes over: as much as its content explains the
// symptoms, however long ago it was made (a DNS change explains DNS
// failures an hour later as well as a minute later).
func topicExplain(best *ScoredChange) float64 { return best.Explain }
