package postmortem

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// Input is everything Build reads. The caller gathers it (PagerDuty reads
// through the scoped client, the rest from Nova's store); Build does no I/O.
type Input struct {
	// Record is Nova's record of the incident, with its triage result; it
	// must be resolved (ResolvedAt set).
	Record nova.IncidentRecord
	// Incident is PagerDuty's view of the incident when the caller has it
	// (priority, resolve reason); nil otherwise.
	Incident *nova.Incident
	// ServiceName is the configured name of the incident's service.
	ServiceName string
	// SlackURL is the permalink of the incident's Slack message, if known.
	SlackURL string
	// LogEntries and Notes are the incident's PagerDuty timeline.
	LogEntries []nova.LogEntry
	Notes      []nova.Note
	// Audit holds Nova's audit entries for the incident; entries of other
	// incidents are ignored.
	Audit []nova.AuditEntry
	// Approvals are the action requests Nova made for the incident.
	Approvals []nova.ApprovalRequest
	// BotUserID is the PagerDuty user Nova writes as, so that Nova's own
	// notes and acks are shown once, as Nova's acts.
	BotUserID string
}

// DraftID is the id of an incident's draft, the same for every version.
func DraftID(env, incidentID string) string { return "pm-" + env + "-" + incidentID }

// Build assembles the draft for in.Record's current resolution. prev is the
// stored draft of the incident, or nil.
//
// Versioning: a draft covers one resolution, identified by the record's
// ResolvedAt. When prev already covers it (a second delivery of the same
// resolve event, a retry after a crash), Build returns prev unchanged and
// created=false, so the caller writes nothing. When the incident was
// reopened and resolved again, the draft keeps its id and gets the next
// version, its history grows by one, and whatever people wrote in its
// sections is carried over untouched.
func Build(in Input, prev *Draft, now time.Time) (d Draft, created bool, err error) {
	rec := in.Record
	if rec.ID == "" || rec.Environment == "" {
		return Draft{}, false, nova.Errorf(nova.EINVALID, "postmortem: the incident record has no id or environment")
	}
	if rec.ResolvedAt.IsZero() {
		return Draft{}, false, nova.Errorf(nova.ECONFLICT, "postmortem: incident %s is not resolved", rec.ID)
	}
	id := DraftID(rec.Environment, rec.ID)
	version := 1
	var history []Revision
	sections := clone(peopleSections)
	answers := []Answer{}
	if prev != nil {
		if prev.ID != id {
			return Draft{}, false, nova.Errorf(nova.EINVALID, "postmortem: draft %s is not the draft of incident %s", prev.ID, rec.ID)
		}
		if n := len(prev.History); n > 0 && prev.History[n-1].ResolvedAt.Equal(rec.ResolvedAt) {
			return *prev, false, nil
		}
		version = prev.Version + 1
		history = slices.Clone(prev.History)
		sections = carrySections(prev.Sections)
		answers = append(answers, cloneAnswers(prev.Answers)...)
	}
	for i := range sections {
		sections[i].Owner = OwnerPeople
	}
	history = append(history, Revision{Version: version, DraftedAt: now.UTC(), ResolvedAt: rec.ResolvedAt.UTC()})

	d = Draft{
		ID: id, Version: version, Environment: rec.Environment, IncidentID: rec.ID, ServiceID: rec.ServiceID,
		GeneratedAt: now.UTC(), History: history, Sections: sections, Answers: answers,
	}
	d.Header = header(in)
	d.Impact = impact(in)
	d.Timeline, d.Omitted = timeline(in)
	d.Hypothesis = hypothesis(rec.Triage)
	d.Resolution = resolution(in)
	d.Actions = actions(in)
	d.Changes, d.Related = changesAndRelated(rec.Triage)
	d.Outcome = Judge(d)
	return d, true, nil
}

func clone(s []Section) []Section { return slices.Clone(s) }

// carrySections keeps people's text from the previous version and adds any
// section the previous version lacked.
func carrySections(prev []Section) []Section {
	out := clone(peopleSections)
	for i := range out {
		for _, p := range prev {
			if p.Key == out[i].Key {
				out[i].Body = p.Body
			}
		}
	}
	for _, p := range prev {
		if !slices.ContainsFunc(out, func(s Section) bool { return s.Key == p.Key }) {
			out = append(out, p)
		}
	}
	return out
}

func header(in Input) Header {
	rec := in.Record
	h := Header{
		Number: rec.Number, Title: line(rec.Title), ServiceID: rec.ServiceID, ServiceName: line(in.ServiceName),
		Environment: rec.Environment, Urgency: rec.Urgency, PagerDutyURL: safeURL(rec.HTMLURL),
		SlackURL: safeURL(in.SlackURL), Mode: rec.Mode,
	}
	if inc := in.Incident; inc != nil {
		h.Priority = line(inc.Priority)
		if h.Urgency == "" {
			h.Urgency = inc.Urgency
		}
		if h.PagerDutyURL == "" {
			h.PagerDutyURL = safeURL(inc.HTMLURL)
		}
		if h.Number == 0 {
			h.Number = inc.Number
		}
	}
	return h
}

// Log entry types Build reads.
const (
	logTrigger     = "trigger_log_entry"
	logAcknowledge = "acknowledge_log_entry"
	logResolve     = "resolve_log_entry"
	logEscalate    = "escalate_log_entry"
	logAssign      = "assign_log_entry"
	logAnnotate    = "annotate_log_entry"
)

func impact(in Input) Impact {
	rec := in.Record
	im := Impact{
		TriggeredAt: rec.TriggeredAt.UTC(), FirstAckAt: rec.FirstAckAt.UTC(), AckedBy: rec.AckedBy,
		AckedByName: line(rec.AckedByName), ResolvedAt: rec.ResolvedAt.UTC(),
		Escalations: []string{}, Responders: []string{},
	}
	if rec.FirstAckAt.IsZero() {
		im.FirstAckAt = time.Time{}
	}
	entries := sortedEntries(in.LogEntries)
	for _, e := range entries {
		if e.Type == logTrigger && (im.TriggeredAt.IsZero() || e.CreatedAt.Before(im.TriggeredAt)) {
			im.TriggeredAt = e.CreatedAt.UTC()
		}
	}
	for _, e := range entries {
		switch e.Type {
		case logEscalate:
			im.Escalations = append(im.Escalations, line(orType(e)))
		case logAcknowledge, logAssign, logAnnotate, logResolve:
			if e.Agent != nil && isUser(e.Agent) && e.Agent.ID != in.BotUserID {
				if name := line(e.Agent.String()); !slices.Contains(im.Responders, name) {
					im.Responders = append(im.Responders, name)
				}
			}
		}
	}
	for _, n := range in.Notes {
		if !novaNote(in, n) && isUser(&n.User) {
			if name := line(n.User.String()); name != "" && !slices.Contains(im.Responders, name) {
				im.Responders = append(im.Responders, name)
			}
		}
	}
	if !im.FirstAckAt.IsZero() && !im.TriggeredAt.IsZero() {
		im.TimeToAckSeconds = int64(im.FirstAckAt.Sub(im.TriggeredAt) / time.Second)
	}
	if !im.TriggeredAt.IsZero() {
		im.TimeToResolveSeconds = int64(im.ResolvedAt.Sub(im.TriggeredAt) / time.Second)
	}
	return im
}

// isUser reports whether a PagerDuty reference is a person (a user), not a
// service, an integration or an escalation policy.
func isUser(r *nova.Ref) bool {
	return r != nil && r.ID != "" && (r.Type == "" || strings.HasPrefix(r.Type, "user"))
}

func sortedEntries(in []nova.LogEntry) []nova.LogEntry {
	out := slices.Clone(in)
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out
}

func orType(e nova.LogEntry) string {
	if e.Summary != "" {
		return e.Summary
	}
	return strings.ReplaceAll(strings.TrimSuffix(e.Type, "_log_entry"), "_", " ")
}

// novaNote reports whether a PagerDuty note is one of Nova's own: written
// by the bot user, recorded in Nova's audit log, or carrying an audit id.
func novaNote(in Input, n nova.Note) bool {
	if in.BotUserID != "" && n.User.ID == in.BotUserID {
		return true
	}
	if strings.Contains(n.Content, "audit nova-") {
		return true
	}
	for _, a := range in.Audit {
		if a.PagerDutyRef != "" && a.PagerDutyRef == n.ID {
			return true
		}
	}
	return false
}

// shownAudit reports whether an audit entry belongs in the timeline: Nova's
// acts and people's decisions about this incident, not refusals.
func shownAudit(rec nova.IncidentRecord, e nova.AuditEntry) bool {
	if e.Incident != rec.ID || (e.Environment != "" && e.Environment != rec.Environment) {
		return false
	}
	return e.Outcome != nova.OutcomeRefused && e.Outcome != nova.OutcomeDenied
}

func timeline(in Input) ([]Line, int) {
	rec := in.Record
	var lines []Line
	novaAudited := false
	for _, a := range in.Audit {
		if shownAudit(rec, a) && !strings.HasPrefix(a.Actor, "slack:") {
			novaAudited = true
		}
	}
	for _, e := range sortedEntries(in.LogEntries) {
		if e.Type == logAnnotate {
			continue // the notes themselves are in the timeline
		}
		if novaAudited && e.Agent != nil && in.BotUserID != "" && e.Agent.ID == in.BotUserID {
			continue // Nova's ack or note: shown once, from its audit entry
		}
		actor := ""
		if e.Agent != nil {
			actor = line(e.Agent.String())
		}
		lines = append(lines, Line{At: e.CreatedAt.UTC(), Source: SourcePagerDuty, Actor: actor, Text: line(orType(e)), Ref: e.ID})
	}
	for _, n := range in.Notes {
		if novaNote(in, n) {
			continue
		}
		text := line(n.Content)
		if n.Trimmed {
			text += " …"
		}
		lines = append(lines, Line{At: n.CreatedAt.UTC(), Source: SourceNote, Actor: line(n.User.String()), Text: text, Ref: n.ID})
	}
	covered := map[string]bool{}
	for _, a := range in.Audit {
		if !shownAudit(rec, a) {
			continue
		}
		l := Line{At: a.Time.UTC(), Source: SourceNova, Actor: "Nova", Text: describeAudit(a), Ref: a.ID}
		if user, ok := strings.CutPrefix(a.Actor, "slack:"); ok {
			l.Source, l.Actor = SourceSlack, line(user)
			if a.Action == "approval.approve" || a.Action == "approval.deny" {
				reqID, _, _ := strings.Cut(a.Detail, " ")
				covered[decisionKey(reqID, user, a.Action == "approval.approve")] = true
			}
		}
		lines = append(lines, l)
	}
	// Decisions the audit entries given did not cover still appear, from
	// the approval requests themselves.
	for _, r := range in.Approvals {
		for _, dec := range r.Decisions {
			if covered[decisionKey(r.ID, dec.UserID, dec.Approve)] {
				continue
			}
			verb := "Denied"
			if dec.Approve {
				verb = "Approved"
			}
			lines = append(lines, Line{At: dec.At.UTC(), Source: SourceSlack, Actor: line(dec.UserID),
				Text: verb + " " + line(r.Title) + " (" + line(r.Action) + ")", Ref: r.ID})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].At.Before(lines[j].At) })
	if len(lines) <= MaxTimeline {
		return lines, 0
	}
	// Keep the start and the end, where incidents are decided.
	head := MaxTimeline / 2
	tail := MaxTimeline - head
	omitted := len(lines) - MaxTimeline
	return append(slices.Clone(lines[:head]), lines[len(lines)-tail:]...), omitted
}

func decisionKey(reqID, user string, approve bool) string {
	if approve {
		return reqID + "\x00" + user + "\x00approve"
	}
	return reqID + "\x00" + user + "\x00deny"
}

// auditPhrases names Nova's acts in words; other actions show as recorded.
var auditPhrases = map[string]string{
	"pagerduty.note.hypothesis":   "Posted its hypothesis note to PagerDuty",
	"pagerduty.note.action":       "Posted an action status note to PagerDuty",
	"pagerduty.note.postmortem":   "Posted the postmortem draft link to PagerDuty",
	"pagerduty.acknowledge":       "Acknowledged the incident",
	"slack.post.hypothesis":       "Posted its hypothesis in Slack",
	"slack.post.approval_request": "Asked for approval in Slack",
	"slack.post.storm_summary":    "Listed the incident in a Slack storm summary",
	"slack.post.postmortem":       "Posted the postmortem draft link in Slack",
	"approval.requested":          "Proposed a destructive action, pending approval",
	"action.proposed":             "Proposed an action",
	"approval.approve":            "Approved",
	"approval.deny":               "Denied",
	"approval.expire":             "Approval request expired",
	"approval.cancel":             "Approval request cancelled",
	"approval.revoke":             "An approval stopped counting under the current policy",
	"approval.reevaluate":         "Approval request re-evaluated under the current policy",
	"action.apply":                "Applied",
	"action.run":                  "Ran the action",
	"feedback":                    "Judged Nova's hypothesis",
	"postmortem.draft":            "Drafted the postmortem",
	"postmortem.outcome":          "Answered whether Nova's hypothesis was right",
}

func describeAudit(a nova.AuditEntry) string {
	phrase, ok := auditPhrases[a.Action]
	if !ok {
		phrase = a.Action
	}
	if a.Action == "action.run" && a.Outcome == nova.OutcomeFailed {
		phrase = "Ran the action; it failed"
	}
	if a.Detail != "" {
		phrase += ": " + a.Detail
	}
	return line(phrase)
}

func hypothesis(t *nova.TriageResult) Hypothesis {
	h := Hypothesis{RunnersUp: []nova.Hypothesis{}, Checked: []string{}, NotChecked: []string{}}
	if t == nil {
		h.Abstained = true
		return h
	}
	h.Abstained = t.Abstained
	h.Checked = append(h.Checked, t.Checked...)
	h.NotChecked = append(h.NotChecked, t.NotChecked...)
	h.PhrasedByModel = t.SummarisedBy == "llm"
	if top := t.Top(); top != nil && !t.Abstained {
		c := *top
		h.Top = &c
		h.RunnersUp = append(h.RunnersUp, t.Hypotheses[1:]...)
	} else {
		h.RunnersUp = append(h.RunnersUp, t.Hypotheses...)
	}
	return h
}

func resolution(in Input) Resolution {
	r := Resolution{LastNotes: []nova.Note{}}
	for _, e := range sortedEntries(in.LogEntries) {
		if e.Type == logResolve && e.Agent != nil {
			r.ResolvedBy = line(e.Agent.String())
		}
	}
	if in.Incident != nil {
		r.ResolveReason = line(in.Incident.ResolveReason)
	}
	var people []nova.Note
	for _, n := range in.Notes {
		if !novaNote(in, n) {
			people = append(people, n)
		}
	}
	sort.SliceStable(people, func(i, j int) bool { return people[i].CreatedAt.Before(people[j].CreatedAt) })
	if len(people) > MaxResolutionNotes {
		people = people[len(people)-MaxResolutionNotes:]
	}
	for _, n := range people {
		n.Content = line(n.Content)
		n.User.Summary = line(n.User.Summary)
		r.LastNotes = append(r.LastNotes, n)
	}
	return r
}

func actions(in Input) []ActionRow {
	rows := []ActionRow{}
	reqs := slices.Clone(in.Approvals)
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].CreatedAt.Before(reqs[j].CreatedAt) })
	for _, r := range reqs {
		if r.IncidentID != in.Record.ID {
			continue
		}
		row := ActionRow{
			RequestID: r.ID, Action: line(r.Action), Title: line(r.Title), Destructive: r.Destructive, State: r.State,
			StateReason: line(r.StateReason), ProposedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			ApprovedBy: []string{}, DeniedBy: []string{}, Result: line(r.Result), FromRank: suggestedBy(in.Record.Triage, r.Action),
		}
		for _, dec := range r.Decisions {
			if dec.Approve {
				row.ApprovedBy = append(row.ApprovedBy, line(dec.UserID))
			} else {
				row.DeniedBy = append(row.DeniedBy, line(dec.UserID))
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// suggestedBy returns the rank of the best hypothesis that suggested the
// catalog action, or 0.
func suggestedBy(t *nova.TriageResult, action string) int {
	if t == nil {
		return 0
	}
	for _, h := range t.Hypotheses {
		for _, s := range h.Suggestions {
			if s.Action != "" && s.Action == action {
				return h.Rank
			}
		}
	}
	return 0
}

func changesAndRelated(t *nova.TriageResult) ([]nova.Evidence, []Related) {
	changes, related := []nova.Evidence{}, []Related{}
	if t == nil {
		return changes, related
	}
	seenC, seenR := map[string]bool{}, map[string]bool{}
	for _, h := range t.Hypotheses {
		for _, ev := range h.Evidence {
			key := ev.ID
			if key == "" {
				key = ev.Summary
			}
			switch ev.Kind {
			case nova.EvidenceChange:
				if !seenC[key] {
					seenC[key] = true
					ev.Summary, ev.URL = line(ev.Summary), safeURL(ev.URL)
					changes = append(changes, ev)
				}
			case nova.EvidenceRelatedIncident:
				if !seenR[key] {
					seenR[key] = true
					related = append(related, Related{ID: ev.ID, Summary: line(ev.Summary), URL: safeURL(ev.URL), Storm: slices.Contains(t.Storm, ev.ID)})
				}
			}
		}
	}
	for _, id := range t.Storm {
		if !seenR[id] {
			seenR[id] = true
			related = append(related, Related{ID: id, Storm: true})
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].At.Before(changes[j].At) })
	return changes, related
}

// line is outside text as one clean line of at most MaxLineChars
// characters (escaping for a format happens when rendering).
func line(s string) string {
	s = strings.TrimSpace(nova.PlainText(s))
	if utf8.RuneCountInString(s) <= MaxLineChars {
		return s
	}
	r := []rune(s)
	return string(r[:MaxLineChars-1]) + "…"
}

// safeURL keeps a URL only when nova.SafeURL accepts it.
func safeURL(u string) string {
	if u == "" {
		return ""
	}
	if s, ok := nova.SafeURL(u); ok {
		return s
	}
	return ""
}
