package triage

import (
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/novasre/nova"
)

// Relation says how a change's services relate to the incident's service.
type Relation string

// Relations, from most to least telling.
const (
	RelationSame      Relation = "same service"
	RelationRelated   Relation = "related service"
	RelationUnknown   Relation = "no service recorded"
	RelationUnrelated Relation = "unrelated service"
)

// timeRelation scales the evidence of timing by how the change relates to
// the service: a deploy of this service just before it broke is suspicious
// by timing alone, a deploy of an unrelated service much less so.
var timeRelation = map[Relation]float64{
	RelationSame:      1.0,
	RelationRelated:   0.7,
	RelationUnknown:   0.6,
	RelationUnrelated: 0.3,
}

// contentRelation scales the evidence of content (the change touched what
// is failing) far less: shared infrastructure is not always modelled as a
// dependency, and a change to "another" service that rewrote the very
// certificate the alerts complain about is a prime suspect.
var contentRelation = map[Relation]float64{
	RelationSame:      1.0,
	RelationRelated:   0.9,
	RelationUnknown:   0.9,
	RelationUnrelated: 0.75,
}

// ScoredChange is a change event with triage's estimate that it caused the
// incident.
type ScoredChange struct {
	Change nova.ChangeEvent
	// Score is in [0, 0.95]; it is a ranking score, not a probability.
	Score float64
	// Proximity is the timing evidence alone: time decay (from the onset of
	// the symptoms when known) scaled by relation.
	Proximity float64
	// Explain is the content evidence alone, in [0, 1]: how much of what the
	// alerts implicate (components, parameters, resources, dependencies) the
	// change touched. Timing without it never makes a change a confident
	// answer.
	Explain float64
	// Age is how long before the trigger the change happened.
	Age      time.Duration
	Relation Relation
	// Shared lists words (and #topics) the change shares with the alerts.
	Shared []string
	// AfterOnset is set when the change came after the symptoms began.
	AfterOnset bool
	// Against says what counts against the change ("errors began at 09:55,
	// before it"), when something does.
	Against string
}

var (
	// The patterns of a change's kind are lower case, matched against the
	// lower-cased summary (faster than case folding).
	//
	// docsOnly changes rarely break production.
	docsOnly = regexp.MustCompile(`\b(readme|docs?|documentation|runbooks?|typo|changelog|comments?|lint(?:ing)?|tests? only|unit tests?)\b`)
	// reverts are usually the fix for an earlier change, not a new cause.
	revertish = regexp.MustCompile(`\b(revert(?:ed|ing)?|roll(?:ed)?[ -]?back)\b`)
	// inert changes had not taken effect when the symptoms began: approved
	// or scheduled for later, not yet in rotation, shipped disabled, a dry
	// run.
	inert = regexp.MustCompile(`\b(?:approved|scheduled|queued|planned)\b[^.;]{0,40}\b(?:at|for|on|from)\s+\d|` +
		`\bnot yet (?:in rotation|enabled|applied|live|active|rolled out|serving)\b|\((?:disabled|off|inactive|dark)\)|\bdry[ -]?run\b`)
	// failed changes leave things half-applied: more suspicious, not less.
	failedChange = regexp.MustCompile(`\b(fail(?:ed|ure)?|errored|aborted|timed out|partially applied)\b`)
	// emptying changes leave a workload with nothing running: scaled to
	// zero, deleted, stopped.
	emptying = regexp.MustCompile(`(?i)\breplicas?:?\s*\d+\s*(?:->|→|=>|to)\s*0\b|\bscaled?\s+(?:down\s+)?to\s+(?:0|zero)\b|` +
		`\b(?:deployment|service|statefulset|daemonset|replicaset|workload|node ?group|target ?group)s?(?:/[\w.-]+)?:?\s+(?:[\w.-]+\s+)?(?:was\s+|is\s+)?(?:deleted|removed|stopped|scaled to zero)\b|` +
		`\b(?:deleted?|removed?|stopped?)\s+(?:the\s+)?(?:deployment|statefulset|daemonset|replicaset|workload|node ?group|target ?group)s?\b`)
)

// faultFlag matches a feature flag switched on whose very name says it
// breaks something: fault-injection flags (OpenTelemetry demo, chaos
// tooling) and kill switches. The name is read with camelCase split.
var (
	flagChange = regexp.MustCompile(`(?i)\b(?:flagd?|feature[ -]?flags?|toggle|launchdarkly|unleash|flipper)\b`)
	faultWords = regexp.MustCompile(`(?i)\b(?:fail(?:ure|ures|ing)?|unreachable|unavailable|errors?|problems?|crash(?:es)?|leaks?|outage|kill(?:[ -]?switch)?|corrupt(?:ion)?|flood|break|broken|high (?:cpu|memory))\b`)
	flagOff    = regexp.MustCompile(`(?i)\b(?:off|disabled?|false|0%)\s*$`)
)

// faultFlagExplain is how much such a flag on this service explains its
// failures.
const faultFlagExplain = 0.5

// isFaultFlag reports whether c switches on a flag whose name says it
// breaks something.
func isFaultFlag(c nova.ChangeEvent) bool {
	s := splitCamel(c.Summary)
	return flagChange.MatchString(c.Summary+" "+s) && faultWords.MatchString(s) && !flagOff.MatchString(s)
}

// detaching changes leave a workload running but unreachable: a
// Kubernetes Service's selector, ports or endpoints rewritten.
var detaching = regexp.MustCompile(`(?i)\b(?:selector|target ?port|endpointslices?|service ?ports?)\b|\bservice/[\w.-]+:?\s+(?:ports?|endpoints?)\b`)

// emptyingExplain is how much a change that empties this service or one it
// depends on explains requests going nowhere or being refused.
const emptyingExplain = 0.6

// unreachableSymptoms are the signatures of requests finding nothing to
// serve them.
var unreachableSymptoms = map[string]bool{"no-traffic": true, "missing-workload": true, "connection": true}

// unreachable reports whether the alerts show requests finding nothing to
// serve them, in an alert that names no outside host.
func (v *view) unreachable() bool {
	for _, h := range v.hits {
		if unreachableSymptoms[h.sig.Name] && v.outsideHostIn(h.alert) == nil {
			return true
		}
	}
	return false
}

// Weights of the change score. Timing alone (a change of this service at
// the onset) reaches at most timingWeight; content that explains the
// symptoms reaches contentWeight. Tuned on the development split.
const (
	timingWeight  = 0.45
	contentWeight = 0.85
	// afterOnsetFactor discounts a change made after the symptoms began:
	// it cannot have caused them, but onset estimates can be a minute off.
	afterOnsetFactor = 0.15
	// onsetTolerance is how long after the onset a change still counts as
	// before it (alert timestamps lag the symptom they report).
	onsetTolerance = time.Minute
	// minDelayedExplain is how well a change older than the change window
	// must explain the symptoms to be considered at all.
	minDelayedExplain = 0.45
)

// A change-typical symptom (changeTypical) in the service changed within
// typicalWithin counts as typicalExplain of explanation.
const (
	typicalWithin  = 30 * time.Minute
	typicalExplain = 0.35
	// typicalAffinity is the change affinity from which a signature is what
	// bad changes typically produce (crash loops, panics, image pulls).
	typicalAffinity = 0.5
)

// changeTypical reports whether the alerts show a symptom that bad changes
// typically produce, in an alert that names no outside host.
func (v *view) changeTypical() bool {
	for _, h := range v.hits {
		if h.sig.ChangeAffinity >= typicalAffinity && h.inDetails && v.outsideHostIn(h.alert) == nil {
			return true
		}
	}
	return false
}

// delayedTopics are subsystems whose changes take effect late: caches and
// TTLs expire, certificates and credentials run out, leaks and disks fill,
// quotas and schedules arrive. Content evidence for them fades over
// Options.DelayedWindow rather than the change window.
var delayedTopics = map[string]bool{
	"certificate": true, "dns": true, "cache": true, "memory": true, "storage": true, "quota": true,
	"auth": true, "logging": true, "queue": true, "fd": true, "clock": true,
}

// RankChanges scores every change made within the change window before the
// trigger, and older ones whose content explains the symptoms (delayed
// effects), best first. Changes after the trigger, or with no timestamp,
// are left out: they cannot have caused it.
func RankChanges(in Input, opts Options, now time.Time) []ScoredChange {
	return newView(in, opts, now).rankChanges()
}

func (v *view) rankChanges() []ScoredChange {
	if v.rankedCache != nil {
		return v.rankedCache
	}
	cands := v.candidateChanges()
	docs := make([][]string, len(cands))
	for i, c := range cands {
		docs[i] = tokens(changeText(c))
	}
	weights := newIDF(docs)
	out := make([]ScoredChange, 0, len(cands))
	ref := v.onsetOr(v.trigger)
	for i, c := range cands {
		sc := ScoredChange{Change: c, Age: v.trigger.Sub(c.Timestamp), Relation: v.relation(c)}
		ov, shared := overlap(docs[i], v.toks, v.ownName, weights)
		// Touching the subsystem the alerts implicate (a DNS change when
		// lookups fail, a memory limit when pods are OOM-killed) is stronger
		// than sharing words.
		delayed := false
		changeTopics := topics(without(docs[i], v.ownName))
		for _, tp := range sortedTopics(changeTopics) {
			if v.failing[tp] {
				ov = noisyOr(ov, 0.7)
				delayed = delayed || delayedTopics[tp]
				if !containsString(shared, "#"+tp) {
					shared = append(shared, "#"+tp)
				}
			}
		}
		// A crash loop, a panic or a failing image pull in the very service a
		// change was just made to is what a bad change looks like: partly
		// explained, beyond coincidence of timing.
		if sc.Relation == RelationSame && sc.Age <= typicalWithin && v.changeTypical() {
			ov = noisyOr(ov, typicalExplain)
		}
		// A flag named for the failure it injects, switched on in this
		// service, explains the failures that follow.
		if sc.Relation == RelationSame && isFaultFlag(c) {
			ov = noisyOr(ov, faultFlagExplain)
		}
		// A workload scaled to zero, deleted or detached from its traffic,
		// here or in a service this one calls, explains requests that find
		// nothing to serve them.
		if (sc.Relation == RelationSame || sc.Relation == RelationRelated) && v.unreachable() && (emptying.MatchString(c.Summary) || detaching.MatchString(c.Summary)) {
			ov = noisyOr(ov, emptyingExplain)
		}
		sc.Explain = ov
		sc.Shared = shared
		if sc.Age > v.opts.ChangeWindow && sc.Explain < minDelayedExplain {
			continue
		}
		gap := ref.Sub(c.Timestamp)
		if gap < 0 {
			gap = 0
		}
		sc.Proximity = v.proximity(gap, sc.Relation)
		fade := v.opts.ChangeWindow
		if delayed {
			fade = v.opts.DelayedWindow
		}
		// Content evidence fades too, but slowly: it halves at the edge of
		// the window (the delayed window for delayed-effect topics).
		content := ov * contentRelation[sc.Relation] / (1 + float64(sc.Age)/float64(fade))
		sc.Score = kindFactor(c) * reasonFactor(c) * noisyOr(timingWeight*sc.Proximity, contentWeight*content)
		if !v.onset.IsZero() && c.Timestamp.After(v.onset.Add(onsetTolerance)) {
			sc.AfterOnset = true
			sc.Score *= afterOnsetFactor
			sc.Against = "the symptoms began at " + clock(v.onset) + " (" + v.onsetFrom + "), before it"
		} else if f, why := v.scope.scopeFactor(c, sc.Explain); f != 1 {
			sc.Score *= f
			sc.Against = why
		} else if f, why := v.spread.spreadFactor(c); f != 1 {
			sc.Score *= f
			sc.Against = why
		}
		if sc.Against == "" && inert.MatchString(strings.ToLower(c.Summary)) {
			sc.Against = "it says it had not taken effect yet (scheduled, disabled or not in rotation)"
		}
		sc.Score = minf(sc.Score, 0.95)
		out = append(out, sc)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		if out[i].Age != out[j].Age {
			return out[i].Age < out[j].Age
		}
		return out[i].Change.ID < out[j].Change.ID
	})
	v.rankedCache = out
	return out
}

// clock renders a time as an on-call engineer reads it in a note.
func clock(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }

// proximity is how close in time and in the service graph a change is,
// regardless of what it touched.
func (v *view) proximity(age time.Duration, rel Relation) float64 {
	decay := 1 / (1 + float64(age)/float64(v.opts.ChangeDecay))
	return decay * timeRelation[rel]
}

// candidateChanges returns the changes that may have caused the incident:
// made before the trigger and within the delayed window (older ones than the
// change window must still explain the symptoms), deduplicated by id.
func (v *view) candidateChanges() []nova.ChangeEvent {
	seen := map[string]int{}
	var out []nova.ChangeEvent
	window := v.opts.ChangeWindow
	if v.opts.DelayedWindow > window {
		window = v.opts.DelayedWindow
	}
	for _, c := range v.in.Changes {
		if c.Timestamp.IsZero() || c.Timestamp.After(v.trigger) || v.trigger.Sub(c.Timestamp) > window {
			continue
		}
		if c.ID != "" {
			if i, ok := seen[c.ID]; ok {
				if out[i].CorrelationReason == "" {
					out[i].CorrelationReason = c.CorrelationReason
				}
				continue
			}
			seen[c.ID] = len(out)
		}
		out = append(out, c)
	}
	return out
}

// relation classifies a change against the incident's service, its related
// services, and the services of a storm the incident is part of.
func (v *view) relation(c nova.ChangeEvent) Relation {
	own := v.in.serviceID()
	if len(c.Services) == 0 {
		if c.CorrelationReason == "related_service" {
			return RelationRelated
		}
		return RelationUnknown
	}
	rel := RelationUnrelated
	for _, s := range c.Services {
		switch {
		case s.ID != "" && s.ID == own:
			return RelationSame
		case contains(v.in.Service.Related, s.ID) || contains(v.in.Service.DependsOn, s.ID) || v.storm().services[s.ID]:
			rel = RelationRelated
		}
	}
	if c.CorrelationReason == "related_service" {
		rel = RelationRelated
	}
	return rel
}

// kindFactor discounts changes that rarely break things and raises those
// that failed half-way.
func kindFactor(c nova.ChangeEvent) float64 {
	t := strings.ToLower(c.Summary)
	switch {
	case docsOnly.MatchString(t):
		return 0.35
	case inert.MatchString(t):
		return 0.35
	case revertish.MatchString(t):
		return 0.7
	case failedChange.MatchString(t):
		return 1.2
	}
	return 1
}

// reasonFactor trusts PagerDuty's own judgement a little: "intelligent"
// means its model related the change to this incident.
func reasonFactor(c nova.ChangeEvent) float64 {
	if c.CorrelationReason == "intelligent" {
		return 1.25
	}
	return 1
}

// changeText is what a change says about itself.
func changeText(c nova.ChangeEvent) string { return withDetails(c.Summary, c.Details) }

// changeNoun names a change the way an engineer would.
func changeNoun(c nova.ChangeEvent) string {
	t := strings.ToLower(c.Summary + " " + c.Source)
	switch {
	case strings.Contains(t, "revert") || strings.Contains(t, "rollback"):
		return "rollback"
	case emptying.MatchString(c.Summary):
		if strings.Contains(t, "replica") || strings.Contains(t, "scale") {
			return "scale-down"
		}
		return "removal"
	case strings.Contains(t, "flag"):
		return "feature-flag change"
	case strings.Contains(t, "terraform") || strings.Contains(t, "config") || strings.Contains(t, "configmap"):
		return "configuration change"
	case strings.Contains(t, "deploy") || strings.Contains(t, "release") || strings.Contains(t, "image") ||
		strings.Contains(t, "helm") || strings.Contains(t, "upgrade") || strings.Contains(t, "rollout"):
		return "deploy"
	}
	return "change"
}

// changeEvidence describes one scored change.
func changeEvidence(sc ScoredChange) nova.Evidence {
	s := changeNoun(sc.Change) + " " + quote(sc.Change.Summary, 80) + ", " + ago(sc.Age) + " before the incident (" + string(sc.Relation)
	if words := plainShared(sc.Shared, changeText(sc.Change), 4); words != "" {
		s += "; touches " + words
	}
	s += ")"
	url := sc.Change.HTMLURL
	if url == "" && len(sc.Change.Links) > 0 {
		url = sc.Change.Links[0].Href
	}
	return nova.Evidence{Kind: nova.EvidenceChange, ID: sc.Change.ID, Summary: upperFirst(s), URL: url, At: sc.Change.Timestamp}
}

// plainShared renders up to n shared terms as they are written in text
// (tokens are stemmed), topics without their marker.
func plainShared(shared []string, text string, n int) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range shared {
		if strings.HasPrefix(s, "#") {
			s = s[1:]
		} else {
			s = surface(text, s)
		}
		if seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, ", ")
}

// surface returns the first word of text whose stem is st, lower-cased.
func surface(text, st string) string {
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if stem(f) == st {
			return f
		}
	}
	return st
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func contains(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

func sortedTopics(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
