package triage

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// view is the incident as the signals read it, derived once per Analyze.
type view struct {
	in      Input
	opts    Options
	now     time.Time
	trigger time.Time
	sigs    []compiledSignature
	// text is the title, alert summaries and details: what runbook and
	// action patterns are matched against.
	text string
	toks []string
	hits []sigHit
	// ownName holds the tokens of the service's own name and id. They are
	// ignored when comparing texts: relation to the service is scored
	// separately, and counting the name again would double it.
	ownName map[string]bool
	// stormCache holds storm() and rankedCache rankChanges(), computed on
	// first use.
	stormCache  *stormInfo
	rankedCache []ScoredChange
	// What the alerts say in structure: numbers against limits, where the
	// failure is, outside hosts and provider events, when it began.
	metrics []metric
	scope   scopeInfo
	spread  spreadInfo
	// thin is set by hypotheses when the evidence is thin: symptoms and
	// timing only, or a leader resting on past incidents alone.
	thin   bool
	hosts  []outsideHost
	events []providerEvent
	// onset is when the symptoms began (zero when unknown): the earliest
	// paging alert or detail that says so; onsetFrom names it.
	onset     time.Time
	onsetFrom string
	// failing are the topics the alerts implicate: those of the signatures
	// found and of numbers past their limits.
	failing map[string]bool
}

// sigHit is a signature found in the incident, with where it was first seen.
type sigHit struct {
	sig     compiledSignature
	alert   *nova.Alert // nil when found in the incident title
	matches int
	// inDetails is set when the signature shows in an alert (its summary or
	// details), not only in the incident title; byToken when one of its
	// language-neutral tokens was found.
	inDetails, byToken bool
}

// maxDetail bounds each alert detail value: some integrations put whole
// log excerpts there, and the first part carries the signal.
const maxDetail = 500

func newView(in Input, opts Options, now time.Time) *view {
	v := &view{in: in, opts: opts.withDefaults(), now: now}
	v.trigger = in.triggerTime(now)
	v.sigs = v.opts.signatures()
	parts := []string{in.Incident.Title}
	for i := range in.Alerts {
		parts = append(parts, alertText(in.Alerts[i]))
	}
	v.text = strings.Join(parts, "\n")
	v.toks = tokens(v.text)
	v.ownName = map[string]bool{}
	for _, s := range []string{in.Service.Name, in.Service.ID, in.Incident.Service.Summary, in.Incident.Service.ID} {
		for _, t := range tokens(s) {
			v.ownName[t] = true
		}
	}
	v.hits = matchSignatures(v.sigs, in.Incident.Title, in.Alerts)
	v.readStructure()
	return v
}

// readStructure derives the structured facts: metrics, scope, outside hosts,
// provider events, onset, and the topics the alerts implicate. A signature
// about a resource whose numbers in the same incident are comfortably
// normal (a title that says "disk full?" over "disk_used_pct: 61") is
// contradicted and dropped.
func (v *view) readStructure() {
	for i := range v.in.Alerts {
		a := &v.in.Alerts[i]
		if ev, ok := readProviderEvent(a); ok {
			v.events = append(v.events, ev)
			continue
		}
		v.metrics = append(v.metrics, readMetrics(a)...)
		if a.CreatedAt.IsZero() || a.CreatedAt.After(v.trigger) {
			continue
		}
		if t := readOnset(a, v.trigger); !t.IsZero() && (v.onset.IsZero() || t.Before(v.onset)) {
			v.onset, v.onsetFrom = t, "the alert details"
		}
		if !quietSeverity(a.Severity) && (v.onset.IsZero() || a.CreatedAt.Before(v.onset)) {
			v.onset, v.onsetFrom = a.CreatedAt, "the first alert"
		}
	}
	if !v.onset.IsZero() && (v.onset.After(v.trigger) || v.trigger.Sub(v.onset) > maxOnsetLead) {
		v.onset, v.onsetFrom = time.Time{}, ""
	}
	v.scope = readScope(v.in.Alerts)
	v.spread = readSpread(v.in.Alerts)
	v.scope = v.scope.withSpread(v.spread)
	v.hosts = externalHosts(v.in.Alerts, v.ownName)
	breached, normal := map[string]bool{}, map[string]bool{}
	for _, m := range v.metrics {
		switch m.state {
		case 1:
			breached[m.topic] = true
		case -1:
			normal[m.topic] = true
		}
	}
	kept := v.hits[:0]
	for _, h := range v.hits {
		if t := h.sig.Topic; t != "" && normal[t] && !breached[t] && !h.byToken {
			continue
		}
		kept = append(kept, h)
	}
	v.hits = kept
	// A topic is implicated when a signature shows it in an alert that does
	// not name an outside host: an outside registry returning 502 is not
	// something our own image change explains.
	v.failing = map[string]bool{}
	for _, h := range v.hits {
		if h.sig.Topic != "" && v.outsideHostIn(h.alert) == nil {
			v.failing[h.sig.Topic] = true
		}
	}
	for t := range breached {
		if resourceTopics[t] != "" {
			v.failing[t] = true
		}
	}
}

// maxOnsetLead bounds how long before the trigger an onset may be: older
// "first seen" values describe something else.
const maxOnsetLead = 7 * 24 * time.Hour

// onsetOr returns the onset, or t when it is unknown.
func (v *view) onsetOr(t time.Time) time.Time {
	if v.onset.IsZero() {
		return t
	}
	return v.onset
}

// lowerText is what signatures are matched against (see compiledDefaults):
// the text lower-cased, followed by the camel-case identifiers it contains
// split into words, so that an alert rule named "NodeFilesystemSpaceFillingUp"
// or "HostOutOfMemory" reads like the prose the patterns are written for.
func lowerText(s string) string {
	lower := strings.ToLower(s)
	var extra []string
	for _, f := range strings.Fields(s) {
		if sp := splitIdentifier(f); len(sp) != len(f) {
			extra = append(extra, sp)
		}
	}
	if len(extra) == 0 {
		return lower
	}
	return lower + "\n" + strings.ToLower(strings.Join(extra, " "))
}

// alertText is an alert's summary followed by its details as "key: value"
// lines in key order, so the same alert always reads the same.
func alertText(a nova.Alert) string { return withDetails(a.Summary, a.Details) }

// withDetails appends details to summary as sorted "key: value" lines, each
// value cut to maxDetail.
func withDetails(summary string, details map[string]string) string {
	var b strings.Builder
	b.WriteString(summary)
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString("\n")
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(truncate(details[k], maxDetail))
	}
	return b.String()
}

// matchSignatures finds the signatures present in the title or the alerts,
// by pattern or by token. Each signature is first tried on all the text at
// once: most match nothing, and only those that do are located alert by
// alert.
func matchSignatures(sigs []compiledSignature, title string, alerts []nova.Alert) []sigHit {
	type loc struct {
		lower string
		words wordText
	}
	locs := make([]loc, len(alerts)+1)
	locs[0] = loc{lowerText(title), newWordText(title)}
	parts := []string{locs[0].lower}
	for i := range alerts {
		t := alertText(alerts[i])
		locs[i+1] = loc{lowerText(t), newWordText(t)}
		parts = append(parts, locs[i+1].lower)
	}
	all := strings.Join(parts, "\n")
	allWords := newWordText(all)
	var hits []sigHit
	for i := range sigs {
		s := &sigs[i]
		anyTokens := s.matchTokens(allWords)
		byPattern := s.re != nil && s.match(all)
		if !anyTokens && !byPattern {
			continue
		}
		h := sigHit{sig: *s, byToken: anyTokens}
		if s.foundIn(locs[0].lower, locs[0].words, byPattern) {
			h.matches++
		}
		for j := range alerts {
			if s.foundIn(locs[j+1].lower, locs[j+1].words, byPattern) {
				// An alert says more than the title: prefer it as evidence.
				if h.alert == nil {
					h.alert = &alerts[j]
				}
				h.inDetails = true
				h.matches++
			}
		}
		if h.matches == 0 {
			continue // contradicted wherever it appeared, or split across alerts
		}
		hits = append(hits, h)
	}
	return hits
}

// signaturesIn returns the names of the signatures that match text.
func signaturesIn(sigs []compiledSignature, text string) map[string]bool {
	lower, words := lowerText(text), newWordText(text)
	out := map[string]bool{}
	for i := range sigs {
		if sigs[i].found(lower, words) {
			out[sigs[i].Name] = true
		}
	}
	return out
}

// categoryOfSignatures infers a category from the signatures a text
// matched, for past incidents recorded without one.
func categoryOfSignatures(sigs []compiledSignature, matched map[string]bool) nova.Category {
	score := map[nova.Category]float64{}
	for _, s := range sigs {
		if matched[s.Name] {
			c, wt := s.bestCategory()
			score[c] += wt
		}
	}
	best, bw := nova.CategoryUnknown, 0.0
	for _, c := range nova.Categories {
		if score[c] > bw {
			best, bw = c, score[c]
		}
	}
	return best
}

// hitEvidence describes where a signature was seen.
func (v *view) hitEvidence(h sigHit) nova.Evidence {
	e := nova.Evidence{Kind: nova.EvidenceSignature, ID: h.sig.Name}
	if h.alert != nil {
		e.Summary = "Alert shows " + h.sig.Describe + ": " + quote(h.alert.Summary, 100)
		e.URL = h.alert.HTMLURL
		e.At = h.alert.CreatedAt
		if e.ID == "" {
			e.ID = h.alert.ID
		}
		return e
	}
	e.Summary = "Incident title shows " + h.sig.Describe + ": " + quote(v.in.Incident.Title, 100)
	e.URL = v.in.Incident.HTMLURL
	e.At = v.in.Incident.CreatedAt
	return e
}

// quote returns s shortened and in single quotes.
func quote(s string, n int) string { return "'" + truncate(s, n) + "'" }

// ago renders a duration in the units an on-call engineer would say.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < 2*time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}
