package triage

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Signals read from structure rather than prose: numbers past their limits,
// the place a failure is confined to, outside providers.

// metricSupport turns numbers past their limits into support: a resource at
// its limit for "resource", a request rate far above its baseline for
// "traffic". One piece per topic: ten alerts about the same memory limit are
// one witness.
//
// A resource at its limit right after a change that explains the symptoms
// is mostly that change's doing (see absorb).
func (v *view) metricSupport(add func(nova.Category, piece), best *ScoredChange) {
	seen := map[string]bool{}
	absorb := v.absorb(best)
	for _, m := range v.metrics {
		if m.state != 1 || seen[m.topic] {
			continue
		}
		switch {
		case resourceTopics[m.topic] != "":
			seen[m.topic] = true
			if absorb > 0 {
				add(nova.CategoryChange, piece{strength: metricResource * absorb, evidence: []nova.Evidence{metricEvidence(m)}, specific: true})
			}
			add(nova.CategoryResource, piece{strength: metricResource * (1 - 0.5*absorb), specific: true,
				headline: "Likely " + categoryPhrase[nova.CategoryResource] + ": " + describeMetric(m) + " in " + quote(m.alert.Summary, 80),
				evidence: []nova.Evidence{metricEvidence(m)}})
		case m.topic == "traffic":
			seen[m.topic] = true
			ratio := m.value // a multiple ("21x") is already one
			switch {
			case m.mult:
			case m.limit < 0:
				ratio = m.value / -m.limit
			case m.limit > 0:
				ratio = m.value / m.limit
			}
			s := minf(0.35+0.1*math.Log2(math.Max(ratio, 1)), 0.65)
			add(nova.CategoryTraffic, piece{strength: s, specific: true,
				headline: "Likely " + categoryPhrase[nova.CategoryTraffic] + ": " + describeMetric(m) + " in " + quote(m.alert.Summary, 80),
				evidence: []nova.Evidence{metricEvidence(m)}})
		}
	}
}

// metricResource is the support a resource number past its limit gives.
const metricResource = 0.5

// describeMetric says what a number shows, in the alert's own terms.
func describeMetric(m metric) string {
	name := resourceTopics[m.topic]
	if name == "" {
		name = m.topic
	}
	switch {
	case m.limit < 0:
		return name + " at " + ratioText(m.value/-m.limit) + " the usual (" + m.key + " " + num(m.value) + " against " + num(-m.limit) + ")"
	case m.limit > 0 && m.topic == "traffic":
		return name + " at " + ratioText(m.value/m.limit) + " the usual (" + m.key + " " + num(m.value) + " against " + num(m.limit) + ")"
	case m.limit > 0:
		return name + " at its limit (" + m.key + " " + num(m.value) + " against " + num(m.limit) + ")"
	case m.pct:
		return name + " at " + num(m.value) + "% (" + m.key + ")"
	case m.mult:
		return name + " at " + ratioText(m.value) + " the usual (" + m.key + ")"
	}
	return name + " at " + ratioText(m.value) + " the usual (" + m.key + ")"
}

func ratioText(r float64) string { return strconv.FormatFloat(math.Round(r*10)/10, 'f', -1, 64) + "×" }

func num(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func metricEvidence(m metric) nova.Evidence {
	return nova.Evidence{Kind: nova.EvidenceAlert, ID: m.alert.ID, Summary: upperFirst(describeMetric(m)) + ": " + quote(m.alert.Summary, 100),
		URL: m.alert.HTMLURL, At: m.alert.CreatedAt}
}

// scopeSupport: failures confined to one zone, region or data centre while
// the others are healthy point at that place's infrastructure, unless the
// best change was made to that very place.
func (v *view) scopeSupport(add func(nova.Category, piece), best *ScoredChange) {
	s := v.scope
	if !s.confined || s.where == "" {
		return
	}
	if best != nil && strings.Contains(strings.ToLower(changeText(best.Change)), strings.ToLower(s.where)) {
		return // the change explains the place
	}
	strength := 0.0
	switch {
	case s.kind == scopeZone && s.strong:
		strength = 0.5
	case s.kind == scopeZone:
		strength = 0.25
	case s.kind == scopeHost && s.strong:
		strength = 0.2
	default:
		return
	}
	what := "zone"
	if s.kind == scopeHost {
		what = "host"
	}
	ev := nova.Evidence{Kind: nova.EvidenceAlert, ID: s.alert.ID, Summary: "Failure confined to " + what + " " + s.where + " (" + s.evidence + "): " + quote(s.alert.Summary, 80),
		URL: s.alert.HTMLURL, At: s.alert.CreatedAt}
	add(nova.CategoryInfrastructure, piece{strength: strength, specific: s.strong,
		headline: "Likely " + categoryPhrase[nova.CategoryInfrastructure] + " in " + s.where + ": the failure is confined to that " + what,
		evidence: []nova.Evidence{ev}})
}

// dependencySupport builds the outside-dependency hypothesis from provider
// status and health alerts, outside hosts the alerts name as failing, a CDN
// failing in front of a healthy origin, and incidents on services this one
// depends on.
func (v *view) dependencySupport(add func(nova.Category, piece)) {
	named := map[string]bool{}
	for _, h := range v.hosts {
		if h.provider != "" {
			named[h.provider] = true
		}
	}
	for _, e := range v.events {
		cat := nova.CategoryDependency
		if e.infra {
			cat = nova.CategoryInfrastructure
		}
		s := providerEventStrength
		if named[e.provider] {
			s += 0.1
		}
		add(cat, piece{strength: s, specific: true,
			headline: "Likely " + categoryPhrase[cat] + ": " + e.provider + " reports a problem (" + quote(e.alert.Summary, 90) + ")",
			evidence: []nova.Evidence{{Kind: nova.EvidenceAlert, ID: e.alert.ID, Summary: "Provider status alert: " + quote(e.alert.Summary, 120),
				URL: e.alert.HTMLURL, At: e.alert.CreatedAt}}})
	}
	pieces := 0
	seen := map[string]bool{}
	for _, h := range v.hosts {
		key := h.provider
		if key == "" {
			key = h.host
		}
		if seen[key] || pieces == 2 {
			continue
		}
		seen[key] = true
		pieces++
		s := 0.35
		if h.upstream {
			s = 0.5
		}
		if othersHealthy(h.alert) {
			s += 0.1
		}
		if v.in.dependsOn("", h.provider, h.host) {
			s += 0.1
		}
		who := "the outside host " + h.host
		switch {
		case h.host == "":
			who = "the outside provider " + h.provider
		case h.provider != "":
			who += " (" + h.provider + ")"
		}
		add(nova.CategoryDependency, piece{strength: s, specific: true,
			headline: "Likely " + categoryPhrase[nova.CategoryDependency] + ": " + who + " is failing (" + quote(h.alert.Summary, 80) + ")",
			evidence: []nova.Evidence{{Kind: nova.EvidenceAlert, ID: h.alert.ID, Summary: "Alert names " + who + " as failing: " + quote(h.alert.Summary, 100),
				URL: h.alert.HTMLURL, At: h.alert.CreatedAt}}})
	}
	for i := range v.in.Alerts {
		a := &v.in.Alerts[i]
		p, ok := cdnNamed(a)
		if !ok {
			continue
		}
		s, how := 0.35, "returns errors"
		if originHealthy(a) {
			s, how = 0.6, "returns errors while the origin behind it is healthy"
		}
		add(nova.CategoryDependency, piece{strength: s, specific: true,
			headline: "Likely " + categoryPhrase[nova.CategoryDependency] + ": the CDN (" + p + ") " + how,
			evidence: []nova.Evidence{{Kind: nova.EvidenceAlert, ID: a.ID, Summary: "The CDN (" + p + ") " + how + ": " + quote(a.Summary, 100),
				URL: a.HTMLURL, At: a.CreatedAt}}})
		break
	}
	type depIncident struct {
		id, title, url, svc string
		at                  time.Time
		declared            bool
	}
	var deps []depIncident
	for _, r := range v.in.Related {
		declared := v.in.dependsOn(r.Service.ID, r.Service.Summary, "")
		if declared || r.Relationship == "service_dependency" {
			deps = append(deps, depIncident{r.ID, r.Title, r.HTMLURL, firstNonEmpty(r.Service.Summary, r.Service.ID), r.CreatedAt, declared})
		}
	}
	for _, c := range v.in.Concurrent {
		if c.ID != v.in.Incident.ID && v.in.dependsOn(c.Service.ID, c.Service.Summary, "") {
			deps = append(deps, depIncident{c.ID, c.Title, c.HTMLURL, firstNonEmpty(c.Service.Summary, c.Service.ID), c.CreatedAt, true})
		}
	}
	for i, d := range deps {
		if i == 2 {
			break
		}
		if !d.at.IsZero() && d.at.Sub(v.trigger) > v.opts.StormWindow {
			continue
		}
		s := 0.55
		if d.declared {
			s = 0.6
		}
		why := "PagerDuty relates it as a dependency"
		if d.declared {
			why = "a dependency of this service"
		}
		add(nova.CategoryDependency, piece{strength: s, specific: true,
			headline: "Likely " + categoryPhrase[nova.CategoryDependency] + ": concurrent incident on " + d.svc + " (" + why + "): " + quote(d.title, 80),
			evidence: []nova.Evidence{{Kind: nova.EvidenceRelatedIncident, ID: d.id, Summary: "Incident on " + d.svc + " (" + why + "): " + quote(d.title, 100),
				URL: d.url, At: d.at}}})
	}
}

// providerEventStrength is the support a provider's own status or health
// alert gives: strong, since the provider says so, but not beyond what a
// change that explains the symptoms can reach.
const providerEventStrength = 0.6

// othersHealthy reports whether an alert says the other upstreams, zones or
// hosts are fine ("other_upstreams: ok").
func othersHealthy(a *nova.Alert) bool {
	if a == nil {
		return false
	}
	for k, v := range a.Details {
		if strings.Contains(strings.ToLower(k), "other") && healthyValue(v) {
			return true
		}
	}
	return false
}

// ruledOut says why the most tempting change is not the answer when it
// matters: the change a reader would suspect first (the freshest change to
// this service or a related one, or the best-ranked change when the answer
// is not a change) made after the symptoms began, outside the place they
// are confined to, or touching nothing they name.
func (v *view) ruledOut(top *candidate) []nova.Evidence {
	ranked := v.rankChanges()
	if len(ranked) == 0 {
		return nil
	}
	cited := ""
	if top.cat == nova.CategoryChange {
		for _, e := range mergeEvidence(top.pieces) {
			if e.Kind == nova.EvidenceChange {
				cited = e.ID
				break
			}
		}
	}
	var tempting *ScoredChange
	for i := range ranked {
		sc := &ranked[i]
		if sc.Change.ID == cited || sc.Age > time.Hour || (sc.Relation != RelationSame && sc.Relation != RelationRelated) {
			continue
		}
		if tempting == nil || sc.Age < tempting.Age {
			tempting = sc
		}
	}
	if tempting == nil && top.cat != nova.CategoryChange && ranked[0].Score >= 0.2 {
		tempting = &ranked[0]
	}
	if tempting == nil {
		return nil
	}
	reason := tempting.Against
	if reason == "" {
		if tempting.Explain >= minExplain {
			return nil
		}
		reason = "it touches nothing the alerts name, and timing alone does not make it the cause"
	}
	s := "Not the " + changeNoun(tempting.Change) + " " + quote(tempting.Change.Summary, 70) + " at " + clock(tempting.Change.Timestamp) + ": " + reason
	return []nova.Evidence{{Kind: nova.EvidenceRuledOut, ID: tempting.Change.ID, Summary: s, At: tempting.Change.Timestamp}}
}
