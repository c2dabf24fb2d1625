package backtest

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/novasre/nova"
)

// Verdicts on a hypothesis, decided automatically only when the record of
// what happened leaves no doubt.
const (
	VerdictRight     = "right"
	VerdictWrong     = "wrong"
	VerdictUndecided = "undecided"
	// VerdictAbstained: Nova would have said it had no confident answer.
	VerdictAbstained = "abstained"
)

// Outcome is what actually happened after an incident triggered, read from
// its timeline, its notes and the changes they name.
type Outcome struct {
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ResolvedBy string    `json:"resolved_by,omitempty"`
	// Resolution is what the responders recorded as the fix: the resolve
	// log entry's text or, failing that, the last human note.
	Resolution string `json:"resolution,omitempty"`
	// ResolveReason is PagerDuty's resolve_reason (e.g. merged), if any.
	ResolveReason string `json:"resolve_reason,omitempty"`
	// Notes are the last human notes written after the trigger, oldest first.
	Notes        []string      `json:"notes,omitempty"`
	AckedBy      string        `json:"acked_by,omitempty"`
	TimeToAck    time.Duration `json:"time_to_ack_ns,omitempty"`
	TimeToSolve  time.Duration `json:"time_to_resolve_ns,omitempty"`
	Escalations  int           `json:"escalations,omitempty"`
	NamedChanges []ChangeRef   `json:"named_changes,omitempty"`
	// Culprits are the changes the resolution itself names.
	Culprits []ChangeRef `json:"culprits,omitempty"`
	// Category is the one cause category the resolution's words point to;
	// empty when they point to none or to several.
	Category nova.Category `json:"category,omitempty"`
}

// ChangeRef names a change event.
type ChangeRef struct {
	ID      string    `json:"id"`
	Summary string    `json:"summary"`
	At      time.Time `json:"at"`
}

// lastNotes is how many of the last human notes an outcome keeps.
const lastNotes = 3

// Happened reads what happened to inc (as PagerDuty has it now, resolved)
// from its notes, its log entries and the service's changes around it.
// Nova's own notes (they carry an audit id) are not what happened.
func Happened(inc nova.Incident, notes []nova.Note, log []nova.LogEntry, changes []nova.ChangeEvent) Outcome {
	t := inc.CreatedAt
	o := Outcome{ResolvedAt: inc.ResolvedAt, ResolveReason: inc.ResolveReason}
	log = slices.Clone(log)
	sort.SliceStable(log, func(i, j int) bool { return log[i].CreatedAt.Before(log[j].CreatedAt) })
	var resolveText string
	for _, l := range log {
		if l.CreatedAt.Before(t) {
			continue
		}
		switch l.Type {
		case "acknowledge_log_entry":
			if o.AckedBy == "" {
				o.AckedBy, o.TimeToAck = agentName(l.Agent), l.CreatedAt.Sub(t)
			}
		case "escalate_log_entry":
			o.Escalations++
		case "resolve_log_entry":
			o.ResolvedBy = agentName(l.Agent)
			if o.ResolvedAt.IsZero() {
				o.ResolvedAt = l.CreatedAt
			}
			resolveText = resolutionText(l.Summary)
		}
	}
	if !o.ResolvedAt.IsZero() {
		o.TimeToSolve = o.ResolvedAt.Sub(t)
	}
	var human []nova.Note
	for _, n := range notes {
		if n.CreatedAt.Before(t) || strings.Contains(n.Content, "audit nova-") || strings.TrimSpace(n.Content) == "" {
			continue
		}
		human = append(human, n)
	}
	sort.SliceStable(human, func(i, j int) bool { return human[i].CreatedAt.Before(human[j].CreatedAt) })
	for _, n := range human[max(0, len(human)-lastNotes):] {
		o.Notes = append(o.Notes, clip(n.Content, 500))
	}
	o.Resolution = resolveText
	if o.Resolution == "" && len(human) > 0 {
		o.Resolution = clip(human[len(human)-1].Content, 500)
	}
	all := resolveText
	for _, n := range human {
		all += "\n" + n.Content
	}
	o.NamedChanges = named(changes, all)
	o.Culprits = named(changes, o.Resolution)
	o.Category = categoryOf(o.Resolution)
	return o
}

// resolutionText is the text PagerDuty puts after "Resolved by X" when the
// resolver gave a resolution ("Resolved by Alice: rolled back v42"), or "".
func resolutionText(summary string) string {
	_, after, ok := strings.Cut(summary, ": ")
	if !ok || !strings.HasPrefix(summary, "Resolved") {
		return ""
	}
	return clip(strings.TrimSpace(after), 500)
}

func agentName(r *nova.Ref) string {
	if r == nil {
		return ""
	}
	if r.Summary != "" {
		return r.Summary
	}
	return r.ID
}

// named returns the changes that text names: by id, link, whole summary,
// or a version-like token of the summary (v42, 1.4.2, build-1234) written
// as a word of its own.
func named(changes []nova.ChangeEvent, text string) []ChangeRef {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	lower := strings.ToLower(text)
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(lower, wordSep) {
		words[w] = true
	}
	var out []ChangeRef
	for _, c := range changes {
		hit := c.ID != "" && strings.Contains(lower, strings.ToLower(c.ID))
		for _, l := range c.Links {
			hit = hit || l.Href != "" && strings.Contains(lower, strings.ToLower(l.Href))
		}
		if s := strings.ToLower(strings.TrimSpace(c.Summary)); len(s) >= 8 && strings.Contains(lower, s) {
			hit = true
		}
		for _, w := range strings.FieldsFunc(strings.ToLower(c.Summary), wordSep) {
			hit = hit || versionLike(w) && words[w]
		}
		if hit {
			out = append(out, ChangeRef{ID: c.ID, Summary: c.Summary, At: c.Timestamp})
		}
	}
	return out
}

func wordSep(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '-' && r != '_' && r != '#'
}

// versionLike is a token with a digit and at least three characters that
// is not a plain number (an HTTP status or a count is not a version).
func versionLike(w string) bool {
	w = strings.Trim(w, ".-_")
	if len(w) < 3 {
		return false
	}
	digit, other := false, false
	for _, r := range w {
		if unicode.IsDigit(r) {
			digit = true
		} else if r != ',' {
			other = true
		}
	}
	return digit && other
}

// categoryWords are the words in a resolution that point to a cause
// category. A resolution that points to several decides nothing.
var categoryWords = []struct {
	cat nova.Category
	re  *regexp.Regexp
}{
	{nova.CategoryChange, regexp.MustCompile(`\b(roll(ed)?[ -]?back|revert(ed)?|bad (deploy|release|config)|redeploy(ed)?|hotfix)\b`)},
	{nova.CategoryResource, regexp.MustCompile(`\b(disk (full|space)|out of memory|oom(killed)?|memory leak|cpu (starvation|saturat\w*)|connection pool|file descriptors?|quota)\b`)},
	{nova.CategoryCertificate, regexp.MustCompile(`\b(certificate|cert expired|expired cert\w*|tls handshake|ssl)\b`)},
	{nova.CategoryDependency, regexp.MustCompile(`\b(upstream|third[- ]party|vendor|provider outage|dependency)\b`)},
	{nova.CategoryTraffic, regexp.MustCompile(`\b(traffic (spike|surge)|load spike|ddos|bot traffic|rate limited by)\b`)},
	{nova.CategoryInfrastructure, regexp.MustCompile(`\b(node (failure|down|replaced)|host (failure|down)|network (partition|outage)|dns|hardware|availability zone|az outage)\b`)},
	{nova.CategoryData, regexp.MustCompile(`\b(data corruption|corrupt(ed)? data|bad data|schema|backfill)\b`)},
}

// negation marks a resolution that rules something out rather than in.
var negation = regexp.MustCompile(`\b(not|unrelated|ruled out|wasn't|was not|isn't|false alarm)\b`)

func categoryOf(resolution string) nova.Category {
	s := strings.ToLower(resolution)
	if s == "" || negation.MatchString(s) {
		return ""
	}
	var found nova.Category
	for _, cw := range categoryWords {
		if cw.re.MatchString(s) {
			if found != "" {
				return ""
			}
			found = cw.cat
		}
	}
	return found
}

// Judge gives the automatic verdict on a triage result against what
// happened: right or wrong only when the resolution decides it (it names
// the culprit change, or its words point to one cause category and it
// rules nothing out), undecided otherwise. It never guesses.
func Judge(res nova.TriageResult, o Outcome) (verdict, why string) {
	top := res.Top()
	if res.Abstained || top == nil {
		return VerdictAbstained, "Nova would have said it had no confident answer"
	}
	negated := negation.MatchString(strings.ToLower(o.Resolution))
	if len(o.Culprits) > 0 && !negated {
		cited := map[string]bool{}
		for _, e := range top.Evidence {
			if e.Kind == nova.EvidenceChange && e.ID != "" {
				cited[e.ID] = true
			}
		}
		for _, c := range o.Culprits {
			if cited[c.ID] {
				return VerdictRight, "the resolution names the change Nova blamed (" + c.Summary + ")"
			}
		}
		if top.Category == nova.CategoryChange {
			return VerdictWrong, "the resolution names another change (" + o.Culprits[0].Summary + ")"
		}
		return VerdictWrong, "the resolution names a change (" + o.Culprits[0].Summary + "); Nova pointed to " + string(top.Category)
	}
	if o.Category != "" {
		if top.Category == o.Category {
			return VerdictRight, "the resolution points to " + string(o.Category)
		}
		return VerdictWrong, "the resolution points to " + string(o.Category) + "; Nova pointed to " + string(top.Category)
	}
	return VerdictUndecided, "the record does not decide it"
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
