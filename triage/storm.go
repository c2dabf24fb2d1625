package triage

import (
	"sort"
	"strconv"
	"time"

	"github.com/novasre/nova"
)

// stormInfo is what triage makes of the concurrent incidents.
type stormInfo struct {
	// ok is true when there are enough concurrent incidents across enough
	// services to call it a storm.
	ok bool
	// ids are the other incidents of the storm, in start order.
	ids      []string
	others   []stormMember
	services map[string]bool
	// shared is the signature most of the storm's incidents show, if any,
	// and share the fraction of incidents showing it.
	shared   *compiledSignature
	share    float64
	category nova.Category
	strength float64
}

type stormMember struct {
	id, title, url, service string
	at                      time.Time
}

// maxStormEvidence bounds how many storm members are cited one by one.
const maxStormEvidence = 8

// storm gathers concurrent incidents once per view: both the storm
// hypothesis and change relations need it.
func (v *view) storm() *stormInfo {
	if v.stormCache != nil {
		return v.stormCache
	}
	s := &stormInfo{services: map[string]bool{}}
	v.stormCache = s
	seen := map[string]bool{v.in.Incident.ID: true}
	add := func(m stormMember) {
		if m.id == "" || seen[m.id] {
			return
		}
		if !m.at.IsZero() && absDur(m.at.Sub(v.trigger)) > v.opts.StormWindow {
			return
		}
		seen[m.id] = true
		s.others = append(s.others, m)
	}
	for _, r := range v.in.Related {
		add(stormMember{id: r.ID, title: r.Title, url: r.HTMLURL, service: r.Service.ID, at: r.CreatedAt})
	}
	for _, c := range v.in.Concurrent {
		add(stormMember{id: c.ID, title: c.Title, url: c.HTMLURL, service: c.Service.ID, at: c.CreatedAt})
	}
	sort.SliceStable(s.others, func(i, j int) bool { return s.others[i].at.Before(s.others[j].at) })
	own := v.in.serviceID()
	for _, m := range s.others {
		s.ids = append(s.ids, m.id)
		if m.service != "" && m.service != own {
			s.services[m.service] = true
		}
	}
	s.ok = len(s.others) >= v.opts.StormThreshold && len(s.services) >= 1
	if !s.ok {
		return s
	}
	v.classifyStorm(s)
	return s
}

// classifyStorm finds the signature the storm's incidents share and turns
// it into a category and a strength.
func (v *view) classifyStorm(s *stormInfo) {
	count := map[string]int{}
	for _, h := range v.hits {
		count[h.sig.Name]++
	}
	for _, m := range s.others {
		for name := range signaturesIn(v.sigs, m.title) {
			count[name]++
		}
	}
	total := float64(len(s.others) + 1)
	best := -1
	for i := range v.sigs {
		if c := count[v.sigs[i].Name]; c > 0 && (best < 0 || c > count[v.sigs[best].Name]) {
			best = i
		}
	}
	s.category = nova.CategoryInfrastructure
	if best >= 0 {
		s.share = float64(count[v.sigs[best].Name]) / total
		if s.share >= 0.5 {
			s.shared = &v.sigs[best]
			// A pattern that alone says "dependency" (connections refused,
			// 5xx) shared by many of our own services says they share
			// infrastructure; an outside dependency needs to be declared.
			if c, _ := s.shared.bestCategory(); c != nova.CategoryUnknown && c != nova.CategoryDependency {
				s.category = c
			}
		}
	}
	// A storm across services this one depends on is a failing dependency.
	deps := 0
	for _, m := range s.others {
		if v.in.dependsOn(m.service, "", "") {
			deps++
		}
	}
	if 2*deps >= len(s.others) {
		s.category = nova.CategoryDependency
	}
	// Services failing together is evidence of one shared cause even when
	// their titles share no recognised pattern; a shared pattern and more
	// services make it stronger.
	extra := float64(len(s.others) - v.opts.StormThreshold)
	s.strength = (0.45 + 0.04*minf(extra, 5)) * (0.75 + 0.25*s.share)
}

// stormEvidence cites the storm as a whole and its first members.
func (v *view) stormEvidence(s *stormInfo) []nova.Evidence {
	what := "many services failing at once"
	if s.shared != nil {
		what = s.shared.Describe
	}
	ev := []nova.Evidence{{
		Kind: nova.EvidenceRelatedIncident,
		Summary: strconv.Itoa(len(s.others)) + " other incidents on " + strconv.Itoa(len(s.services)) +
			" other services started within " + ago(v.opts.StormWindow) + " of this one; " +
			strconv.Itoa(int(s.share*100+0.5)) + "% show " + what,
	}}
	for i, m := range s.others {
		if i == maxStormEvidence {
			break
		}
		ev = append(ev, nova.Evidence{Kind: nova.EvidenceRelatedIncident, ID: m.id,
			Summary: "Concurrent incident " + quote(m.title, 80), URL: m.url, At: m.at})
	}
	return ev
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
