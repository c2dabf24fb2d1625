package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/novasre/nova"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/slack"
	"github.com/novasre/nova/slack/slackemu"
)

// hostileCorpus is outside text that tries to become markup: Slack
// mentions and links, HTML, already-escaped entities (which must not be
// decoded into markup), control characters and bidirectional overrides.
// It seeds FuzzOutsideTextStaysText and drives the red-team tests.
var hostileCorpus = []string{
	"<!channel> checkout is down",
	"<!here>",
	"<!everyone> <!group>",
	"ping <@U0MALLORY> and <@W0BOSS|boss>",
	"<!subteam^S0ONCALL> <!subteam^S1|admins>",
	"<https://evil.example|Official rollback doc>",
	"<https://evil.example>",
	"<mailto:boss@evil.example|mail the boss>",
	"<#C0GENERAL>",
	"<!date^1392734382^{date}|today>",
	"<script>alert(1)</script>",
	`<img src=x onerror="alert(1)">`,
	"&lt;!channel&gt; already escaped",
	"&amp;lt;!here&amp;gt;",
	"a & b < c > d",
	"<<!channel>>",
	"<|>",
	"<https://evil.example|Official rollback doc",
	"line one\n<!channel> line two\r\n> quoted",
	"nul\x00byte\x07bell\x1b[31mred\x7f\u0085next",
	"\u202eexe.txt\u202c and \u2066isolate\u2069 \u200f",
	"zero\u200bwidth\ufeffjoiner\u2060",
	"tag\U000E0041\U000E0042 characters",
	"@here @channel @everyone",
	"`code` *bold* _it_ ~strike~ ```block```",
	"https://evil.example/|Official rollback doc",
	"https://pagerduty.com@evil.example/rollback",
	"javascript:alert(1)",
	"\xff\xfe invalid UTF-8",
	"https://ok.example/a|b>c<d",
}

// Nova's own links and mentions in the fixtures below: anything else in a
// rendered message came from outside text.
const (
	pdURL     = "https://acme.pagerduty.com/incidents/Q1"
	deployURL = "https://ci.example.com/deploys/981"
)

var novaMentions = map[string]bool{"user:U0ALICE": true, "user:U0BOB": true, "usergroup:S0ONCALL": true}

// hostileRecord puts h in every outside field of an incident: title, the
// acknowledger's name, summaries, evidence and its links, suggestions,
// what was not checked.
func hostileRecord(h, link string) nova.IncidentRecord {
	return nova.IncidentRecord{
		ID: "Q1", ServiceID: "PCHECKOUT", Title: h, Number: 42, HTMLURL: pdURL,
		Status: nova.StatusAcknowledged, AckedByName: h, TriggeredAt: trigger,
		Triage: &nova.TriageResult{
			Hypotheses: []nova.Hypothesis{{
				Rank: 1, Category: nova.CategoryChange, Confidence: 0.7, Summary: "Likely caused by " + h,
				Evidence: []nova.Evidence{
					{Kind: nova.EvidenceChange, ID: "C1", Summary: h, URL: deployURL, At: trigger.Add(-10 * time.Minute)},
					{Kind: nova.EvidenceChange, ID: "C2", Summary: "Deploy " + h, URL: link},
					{Kind: nova.EvidenceAlert, ID: "A1", Summary: h},
				},
				Suggestions: []nova.Suggestion{{ID: "s1", Title: h, Action: "rollback", Destructive: true, RunbookURL: link}},
			}, {Rank: 2, Category: nova.CategoryDependency, Confidence: 0.2, Summary: h}},
			Checked:    []string{"alerts"},
			NotChecked: []string{"outlier (" + h + ")"},
			Storm:      []string{h},
		},
	}
}

// hostileRequests are approval requests in every state, with h in each
// outside field.
func hostileRequests(h string, rec nova.IncidentRecord) []nova.ApprovalRequest {
	base := nova.ApprovalRequest{ID: "apr-1", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
		Action: "rollback", Title: "Roll back " + h, Destructive: true, Reason: "Likely caused by " + h,
		Params: map[string]string{"version": h}, Evidence: rec.Triage.Hypotheses[0].Evidence,
		Approvers: []string{"U0ALICE", "S0ONCALL"}, RequiredApprovals: 2,
		Decisions: []nova.Decision{{UserID: "U0BOB", Approve: true}}, ExpiresAt: trigger.Add(time.Hour)}
	var out []nova.ApprovalRequest
	for _, st := range []nova.ApprovalState{nova.ApprovalPending, nova.ApprovalApproved, nova.ApprovalRunning,
		nova.ApprovalSucceeded, nova.ApprovalFailed, nova.ApprovalDenied, nova.ApprovalExpired} {
		r := base
		r.State, r.Result, r.StateReason = st, h, h
		out = append(out, r)
		if st == nova.ApprovalPending {
			r.Destructive = false // the Apply variant
			out = append(out, r)
		}
	}
	return out
}

// slackMessages renders every Slack message Nova builds from outside text.
func slackMessages(h, link string) map[string]nova.Message {
	svc := nova.Service{ID: "PCHECKOUT", Name: "checkout"}
	rec := hostileRecord(h, link)
	out := map[string]nova.Message{
		"hypothesis":           HypothesisMessage(svc, rec, nova.ModeAction),
		"shadow hypothesis":    HypothesisMessage(svc, rec, nova.ModeReadOnly),
		"reply quoting a name": Text("Denied. *%s* will not run.", h),
	}
	abstained := rec
	t := *rec.Triage
	t.Abstained = true
	abstained.Triage = &t
	out["abstained hypothesis"] = HypothesisMessage(svc, abstained, nova.ModeAction)
	for _, req := range hostileRequests(h, rec) {
		out["approval "+string(req.State)] = ApprovalMessage(svc, rec, req, "")
	}
	out["postmortem reply"] = postmortem.SlackMessage(hostileDraft(h, link), postmortemLink)
	return out
}

// postmortemLink is the link to the hostile record's postmortem draft.
const postmortemLink = "https://nova.example.com/api/v1/incidents/Q1/postmortem?format=md"

// hostileDraft is the postmortem draft of the hostile record, resolved by
// a person whose name, note and log entries are hostile too.
func hostileDraft(h, link string) postmortem.Draft {
	rec := hostileRecord(h, link)
	rec.Environment, rec.ResolvedAt = "prod", trigger.Add(time.Hour)
	who := nova.Ref{ID: "PHOSTILE", Type: "user_reference", Summary: h}
	d, _, err := postmortem.Build(postmortem.Input{Record: rec, ServiceName: h,
		LogEntries: []nova.LogEntry{{ID: "R1", Type: "resolve_log_entry", Summary: h, CreatedAt: rec.ResolvedAt, Agent: &who}},
		Notes:      []nova.Note{{ID: "N1", Content: h, CreatedAt: rec.ResolvedAt, User: who}},
		Approvals: []nova.ApprovalRequest{{ID: "apr-1", IncidentID: "Q1", Action: "rollback", Title: h, State: nova.ApprovalSucceeded,
			Result: h, StateReason: h, CreatedAt: trigger, UpdatedAt: rec.ResolvedAt.Add(-time.Minute)}},
	}, nil, rec.ResolvedAt)
	if err != nil {
		panic(err)
	}
	return d
}

// checkSlack renders m as the Slack adapter does and fails on any entity
// Nova did not place itself, and on control or invisible formatting
// characters in any text.
func checkSlack(t *testing.T, name string, m nova.Message, links map[string]bool) {
	t.Helper()
	raw, err := json.Marshal(slack.Render(m))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	sm := slackemu.Message{Text: slack.FallbackText(m), Blocks: raw}
	for _, e := range sm.Entities() {
		switch e.Kind {
		case "user", "usergroup":
			if !novaMentions[e.Kind+":"+e.Target] {
				t.Errorf("%s: outside text became a mention %s", name, e.Source)
			}
		case "link":
			if !links[e.Target] {
				t.Errorf("%s: outside text became a link %s", name, e.Source)
			}
		default:
			t.Errorf("%s: outside text became a %s entity %s", name, e.Kind, e.Source)
		}
	}
	for _, s := range sm.Texts() {
		if r, ok := invisible(s, true); ok {
			t.Errorf("%s: text carries control or format character %U: %q", name, r, s)
		}
	}
}

// invisible reports a control or format character in s (newlines allowed
// when lines is set).
func invisible(s string, lines bool) (rune, bool) {
	for _, r := range s {
		if r == '\n' && lines {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d' || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

// checkNote fails on anything in a PagerDuty note that a renderer could
// read as markup (an HTML element or a <url|label> link needs a "<"), and
// on control or invisible formatting characters.
func checkNote(t *testing.T, name, note string) {
	t.Helper()
	if i := strings.IndexAny(note, "<>"); i >= 0 {
		t.Errorf("%s: note keeps markup characters: …%s…", name, note[max(0, i-20):min(len(note), i+20)])
	}
	if r, ok := invisible(note, true); ok {
		t.Errorf("%s: note carries control or format character %U", name, r)
	}
}

func notes(h, link string) map[string]string {
	rec := hostileRecord(h, link)
	abstained := rec
	t := *rec.Triage
	t.Abstained = true
	abstained.Triage = &t
	return map[string]string{
		"hypothesis note": HypothesisNote(rec, "https://nova.example.com", "nova-01TEST"),
		"abstain note":    HypothesisNote(abstained, "https://nova.example.com", "nova-01TEST"),
		"postmortem note": PostmortemNote(postmortem.NoteBody(hostileDraft(h, link), postmortemLink), "nova-01TEST"),
		"status note": StatusNote(StatusReport{What: "Ran catalog action rollback (" + h + ")", Target: "service " + h,
			Why: "Likely caused by " + h, ApprovedBy: []string{h}, Outcome: "failed: " + h}, "nova-01TEST"),
	}
}

// Red-team item 1: an incident title, alert and change summaries, change
// links, the acknowledger's display name and action parameters full of
// Slack markup produce no mention and no link in Nova's Slack messages:
// the only links are Nova's own (PagerDuty and a valid change link), the
// only mentions the approvers Nova names.
func TestRedTeam1_MentionInjectionInSlackMessages(t *testing.T) {
	links := map[string]bool{pdURL: true, deployURL: true, postmortemLink: true}
	for _, h := range hostileCorpus {
		// The change link itself is hostile: it may not become a labelled
		// link to evil.example.
		for name, m := range slackMessages(h, "https://evil.example|Official rollback doc") {
			checkSlack(t, name+" with "+strings.ToValidUTF8(h, "?"), m, links)
		}
	}
	// Escaped, not dropped: readers still see the title as written.
	m := slackMessages("<!channel> checkout & co", deployURL)["hypothesis"]
	if !strings.Contains(slack.FallbackText(m), "&lt;!channel&gt; checkout &amp; co") {
		t.Errorf("fallback text %q does not show the escaped title", slack.FallbackText(m))
	}
	blocks, _ := json.Marshal(slack.Render(m))
	if !strings.Contains(string(blocks), `"text":"#42 \u003c!channel\u003e checkout \u0026 co"`) {
		t.Errorf("the header does not show the title as plain text: %s", blocks)
	}
}

// Red-team item 1, PagerDuty side: the same text in notes cannot become
// an HTML element or a link with a label, and loses its control and
// bidirectional characters.
func TestRedTeam1_NotesNeutraliseMarkup(t *testing.T) {
	for _, h := range hostileCorpus {
		for name, note := range notes(h, "https://evil.example|Official rollback doc") {
			checkNote(t, name+" with "+strings.ToValidUTF8(h, "?"), note)
		}
	}
	note := notes("<script>alert(1)</script> & co", deployURL)["hypothesis note"]
	if !strings.Contains(note, "Nova hypothesis: Likely caused by ‹script›alert(1)‹/script› & co\n") {
		t.Errorf("the note does not show the summary readably:\n%s", note)
	}
	if !strings.Contains(note, deployURL) {
		t.Errorf("the note lost the valid change link:\n%s", note)
	}
}

// FuzzOutsideTextStaysText runs outside text through every renderer —
// Slack text and blocks (hypothesis, shadow, abstained, approval requests
// in every state, replies) and PagerDuty notes — and fails if any of it
// produces a mention, a link Nova did not validate, an HTML element, or a
// control or invisible formatting character.
func FuzzOutsideTextStaysText(f *testing.F) {
	for i, h := range hostileCorpus {
		f.Add(h, hostileCorpus[(i+7)%len(hostileCorpus)])
		f.Add(h, deployURL)
	}
	f.Fuzz(func(t *testing.T, h, link string) {
		links := map[string]bool{pdURL: true, deployURL: true, postmortemLink: true}
		if u, ok := nova.SafeURL(link); ok {
			// A valid http(s) change link is linked, as Nova's own link.
			links[strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(u)] = true
		}
		for name, m := range slackMessages(h, link) {
			checkSlack(t, name, m, links)
		}
		for name, note := range notes(h, link) {
			checkNote(t, name, note)
		}
	})
}
