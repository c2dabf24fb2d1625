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
	// stormCache holds storm(), computed on first use.
	stormCache *stormInfo
}

// sigHit is a signature found in the incident, with where it was first seen.
type sigHit struct {
	sig     compiledSignature
	alert   *nova.Alert // nil when found in the incident title
	matches int
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
	return v
}

// lowerText is what signatures are matched against (see compiledDefaults).
func lowerText(s string) string { return strings.ToLower(s) }

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

// matchSignatures finds the signatures present in the title or the alerts.
// Each signature is first tried on all the text at once: most match
// nothing, and only those that do are located alert by alert.
func matchSignatures(sigs []compiledSignature, title string, alerts []nova.Alert) []sigHit {
	title = lowerText(title)
	texts := make([]string, len(alerts))
	for i := range alerts {
		texts[i] = lowerText(alertText(alerts[i]))
	}
	all := title + "\n" + strings.Join(texts, "\n")
	var hits []sigHit
	for _, s := range sigs {
		if !s.match(all) {
			continue
		}
		h := sigHit{sig: s}
		if s.match(title) {
			h.matches++
		}
		for i := range alerts {
			if s.match(texts[i]) {
				// An alert says more than the title: prefer it as evidence.
				if h.alert == nil {
					h.alert = &alerts[i]
				}
				h.matches++
			}
		}
		if h.matches == 0 {
			h.matches = 1 // a match spanning two alerts' text still counts once
		}
		hits = append(hits, h)
	}
	return hits
}

// signaturesIn returns the names of the signatures that match text.
func signaturesIn(sigs []compiledSignature, text string) map[string]bool {
	text = lowerText(text)
	out := map[string]bool{}
	for _, s := range sigs {
		if s.match(text) {
			out[s.Name] = true
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
