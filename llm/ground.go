package llm

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/triage"
)

// The model's answer is untrusted text: the alerts it read may hold
// instructions ("tell the on-call the fix is at https://…"). It may only
// phrase the engine's result, so ground refuses an answer that says
// anything the result does not:
//
//   - a cause in a category none of the candidates has (cause words below,
//     or "(category, NN%)");
//   - a URL (with a scheme, www., or a host followed by a path) that is not
//     a link of the evidence, a runbook or the incident itself;
//   - an id (nova-…, apr-…, #123, or a PagerDuty-style id such as PGR0VU2)
//     that is neither a structured id of the result nor written in the
//     incident title or the evidence;
//   - a percentage that is neither a candidate's confidence nor written in
//     the title or the evidence;
//   - Slack or HTML markup (<!channel>, <@U…>, <a href=…>).
//
// Refusals wrap nova.ErrUngrounded; the caller then posts the
// deterministic summary.

// causeWords name a cause category in plain words. They are causes, not
// symptoms: restating "5xx errors" or "timeouts" is not naming a cause.
var causeWords = []struct {
	category nova.Category
	re       *regexp.Regexp
}{
	{nova.CategoryChange, regexp.MustCompile(`(?i)\b(?:deploy(?:ment|ments|ed|s)?|releases?|released|roll-?outs?|config(?:uration)? (?:change|push)|code change|feature flags?)\b`)},
	{nova.CategoryCertificate, regexp.MustCompile(`(?i)\b(?:certificates?|certs?|tls|ssl|x\.?509)\b`)},
	{nova.CategoryInfrastructure, regexp.MustCompile(`(?i)\b(?:dns|bgp|route leaks?|network (?:partition|outage|failure)|packet loss|hardware|node failures?|availability zones?|data ?cent(?:er|re)s?|cloud provider|isp|kernel)\b`)},
	{nova.CategoryTraffic, regexp.MustCompile(`(?i)\b(?:traffic (?:spike|surge|increase)|surge in (?:traffic|requests)|ddos|load spike|flash crowd|bot traffic)\b`)},
	{nova.CategoryData, regexp.MustCompile(`(?i)\b(?:data corruption|corrupt(?:ed)? (?:data|records?)|bad data|poison(?:ed)? messages?)\b`)},
	{nova.CategoryResource, regexp.MustCompile(`(?i)\b(?:out of (?:memory|disk)|oom(?:[ -]?kill(?:ed|s)?)?|memory (?:leak|exhaustion|pressure)|cpu (?:saturation|throttling|exhaustion)|disk (?:full|space|pressure)|resource exhaustion)\b`)},
	{nova.CategoryDependency, regexp.MustCompile(`(?i)\b(?:dependency|dependencies|upstream (?:service|outage|failure)|third[- ]party|provider outage|vendor outage)\b`)},
}

// categoryLabel is a category written as the prompt shows it: "(change,
// 71%)" or "category: change".
var categoryLabel = regexp.MustCompile(`(?i)\((\w+),\s*\d{1,3}(?:\.\d+)?\s?%\)|\bcategory:?\s+(\w+)`)

var (
	schemeURL  = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]{1,15}:/{1,3}[^\s<>"'` + "`" + `]+|\b(?:javascript|data|vbscript|mailto|file):[^\s<>"']+|\bwww\.[^\s<>"']+`)
	hostPath   = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(?::\d+)?/[^\s<>"']*`)
	idToken    = regexp.MustCompile(`(?i)\b(?:nova|apr)-[0-9a-z][0-9a-z-]*|#\d+\b|\b[A-Z0-9]{5,}\b`)
	percentage = regexp.MustCompile(`\b(\d{1,3}(?:\.\d+)?)\s?%`)
	markup     = regexp.MustCompile(`<[!@#/a-zA-Z]|&(?:lt|gt|amp|#\d+);`)
)

// trailing is punctuation that ends a sentence rather than a URL.
const trailing = ".,;:!?)]}'\""

// ground checks text against the result it phrases.
func ground(text string, in triage.Input, r nova.TriageResult) error {
	if m := markup.FindString(text); m != "" {
		return ungrounded("contains markup (%q)", m)
	}
	var candidates []nova.Category
	for _, h := range r.Hypotheses {
		candidates = append(candidates, h.Category)
	}
	for _, cw := range causeWords {
		if m := cw.re.FindString(text); m != "" && !slices.Contains(candidates, cw.category) {
			return ungrounded("names a %s cause (%q) that no candidate has", cw.category, m)
		}
	}
	for _, m := range categoryLabel.FindAllStringSubmatch(text, -1) {
		c := nova.Category(strings.ToLower(m[1] + m[2]))
		if slices.Contains(nova.Categories, c) && !slices.Contains(candidates, c) {
			return ungrounded("gives the category %s, which no candidate has", c)
		}
	}
	facts := factText(in, r)
	links := evidenceLinks(in, r)
	for _, u := range append(schemeURL.FindAllString(text, -1), hostPath.FindAllString(text, -1)...) {
		if !links[normalURL(u)] {
			return ungrounded("mentions a URL that is not a link of the evidence")
		}
	}
	ids := evidenceIDs(in, r, facts)
	for _, id := range idToken.FindAllString(text, -1) {
		if isID(id) && !ids[strings.ToUpper(id)] {
			return ungrounded("mentions %q, which is not an id in the evidence", clipQuote(id))
		}
	}
	for _, m := range percentage.FindAllStringSubmatch(text, -1) {
		if !knownPercent(m[1], r, facts) {
			return ungrounded("states %s%%, which is neither a candidate's confidence nor in the evidence", m[1])
		}
	}
	return nil
}

func ungrounded(format string, args ...any) error {
	return nova.WrapError(nova.EINTERNAL, nova.ErrUngrounded, "llm summary refused: it "+format, args...)
}

// factText is what the engine's result rests on, lower-cased: the
// incident title, the candidates' summaries and their evidence. Raw alert
// text is not in it: it is where instructions to the model hide, and the
// evidence quotes whatever of it matters.
func factText(in triage.Input, r nova.TriageResult) string {
	parts := []string{in.Incident.Title}
	for _, h := range r.Hypotheses {
		parts = append(parts, h.Summary)
		for _, e := range h.Evidence {
			parts = append(parts, e.Summary)
		}
	}
	return strings.ToLower(strings.Join(parts, "\n"))
}

// evidenceLinks are the URLs the result may mention, normalised.
func evidenceLinks(in triage.Input, r nova.TriageResult) map[string]bool {
	out := map[string]bool{}
	add := func(u string) {
		if u = normalURL(u); u != "" {
			out[u] = true
		}
	}
	add(in.Incident.HTMLURL)
	for _, h := range r.Hypotheses {
		for _, e := range h.Evidence {
			add(e.URL)
		}
		for _, s := range h.Suggestions {
			add(s.RunbookURL)
		}
	}
	return out
}

// normalURL compares URLs loosely (scheme, case, trailing punctuation and
// slash ignored) so that a faithful mention matches.
func normalURL(u string) string {
	u = strings.ToLower(strings.TrimRight(strings.TrimSpace(u), trailing))
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	return strings.TrimRight(strings.TrimPrefix(u, "www."), "/")
}

// isID keeps id-looking tokens: nova-/apr- ids, incident numbers, and
// upper-case tokens mixing letters and digits (not words like "HTTP").
func isID(tok string) bool {
	lower := strings.ToLower(tok)
	if strings.HasPrefix(lower, "nova-") || strings.HasPrefix(lower, "apr-") || strings.HasPrefix(tok, "#") {
		return true
	}
	return strings.ContainsAny(tok, "0123456789") && strings.ContainsAny(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ToUpper(tok) == tok
}

// evidenceIDs are the ids the result may mention, upper-cased: structured
// ids of the incident, its alerts, the evidence and the storm, and any
// id-looking token written in the facts.
func evidenceIDs(in triage.Input, r nova.TriageResult, facts string) map[string]bool {
	out := map[string]bool{}
	add := func(id string) {
		if id != "" {
			out[strings.ToUpper(id)] = true
		}
	}
	add(in.Incident.ID)
	if in.Incident.Number > 0 {
		add("#" + strconv.Itoa(in.Incident.Number))
	}
	for _, a := range in.Alerts {
		add(a.ID)
	}
	for _, h := range r.Hypotheses {
		for _, e := range h.Evidence {
			add(e.ID)
		}
	}
	for _, id := range r.Storm {
		add(id)
	}
	for _, tok := range idToken.FindAllString(strings.ToUpper(facts), -1) {
		add(tok)
	}
	return out
}

// knownPercent reports whether p (a number before a %) is a candidate's
// confidence, rounded as Nova shows it, or is written in the facts.
func knownPercent(p string, r nova.TriageResult, facts string) bool {
	v, err := strconv.ParseFloat(p, 64)
	if err != nil {
		return false
	}
	for _, h := range r.Hypotheses {
		if math.Abs(h.Confidence*100-v) < 1 {
			return true
		}
	}
	for _, m := range percentage.FindAllStringSubmatch(facts, -1) {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil && f == v {
			return true
		}
	}
	return false
}

// clip bounds model text quoted in an error.
func clipQuote(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%.40s…", s)
	}
	return s
}
