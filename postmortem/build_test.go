package postmortem

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

func mustBuild(t *testing.T, in Input, prev *Draft, now time.Time) (Draft, bool) {
	t.Helper()
	d, created, err := Build(in, prev, now)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return d, created
}

func TestTimelineHoldsEveryEventOnceInOrderWithItsSource(t *testing.T) {
	d, _ := mustBuild(t, realistic(), nil, at(35))
	var got []string
	for i, l := range d.Timeline {
		if i > 0 && l.At.Before(d.Timeline[i-1].At) {
			t.Errorf("line %d (%s) is out of order", i, l.Ref)
		}
		got = append(got, l.Source+"/"+l.Ref)
	}
	want := []string{
		"PagerDuty/R1", "Nova/nova-01AAA", "Nova/nova-01AAB", "Nova/nova-01AAC", "Nova/nova-01AAD",
		"PagerDuty/R4", "PagerDuty/R5", "Slack/nova-01AAF", "Nova/nova-01AAG", "PagerDuty note/NBOB1", "PagerDuty/R7",
	}
	// Nova's own note and ack appear once, as Nova's acts; annotate entries
	// give way to the notes; refusals and other incidents' entries stay out.
	if !slices.Equal(got, want) {
		t.Errorf("timeline\n got %v\nwant %v", got, want)
	}
}

func TestDecisionsMissingFromTheAuditComeFromTheRequests(t *testing.T) {
	in := realistic()
	in.Audit = nil
	d, _ := mustBuild(t, in, nil, at(35))
	var slack []Line
	for _, l := range d.Timeline {
		if l.Source == SourceSlack {
			slack = append(slack, l)
		}
	}
	if len(slack) != 1 || slack[0].Actor != "U0ALICE" || !strings.HasPrefix(slack[0].Text, "Approved Roll back checkout") || !slack[0].At.Equal(at(20)) {
		t.Errorf("Slack lines %+v, want Alice's approval at 10:20", slack)
	}
	// Without Nova's audit entries, its note stays out (it is Nova's) but its
	// ack log entry is shown from PagerDuty.
	for _, l := range d.Timeline {
		if l.Ref == "NNOVA1" {
			t.Errorf("Nova's own note shown as a person's: %+v", l)
		}
	}
	if !slices.ContainsFunc(d.Timeline, func(l Line) bool { return l.Ref == "R3" }) {
		t.Error("Nova's ack is missing when no audit entry stands for it")
	}
}

func TestImpactFigures(t *testing.T) {
	d, _ := mustBuild(t, realistic(), nil, at(35))
	im := d.Impact
	if im.TimeToAckSeconds != 6 || im.TimeToResolveSeconds != 34*60 || im.AckedBy != nova.AckByNova {
		t.Errorf("impact %+v", im)
	}
	if !slices.Equal(im.Responders, []string{"Alice Example", "Bob Example"}) {
		t.Errorf("responders %v: want the people, not Nova's bot user nor the service", im.Responders)
	}
	if len(im.Escalations) != 1 {
		t.Errorf("escalations %v", im.Escalations)
	}
	if d.Resolution.ResolvedBy != "Bob Example" || len(d.Resolution.LastNotes) != 1 || d.Resolution.LastNotes[0].ID != "NBOB1" {
		t.Errorf("resolution %+v", d.Resolution)
	}
}

func TestSecondDeliveryOfTheSameResolveChangesNothing(t *testing.T) {
	in := realistic()
	v1, created := mustBuild(t, in, nil, at(35))
	if !created || v1.Version != 1 || v1.ID != "pm-prod-Q1ABC" {
		t.Fatalf("first build: created %v, version %d, id %s", created, v1.Version, v1.ID)
	}
	again, created := mustBuild(t, in, &v1, at(50))
	if created || again.Version != 1 || !again.GeneratedAt.Equal(v1.GeneratedAt) || len(again.History) != 1 {
		t.Errorf("redelivery: created %v, version %d, history %d: want the stored draft unchanged", created, again.Version, len(again.History))
	}
}

func TestReResolveIsANewVersionOfTheSameDraft(t *testing.T) {
	in := realistic()
	v1, _ := mustBuild(t, in, nil, at(35))
	v1.Sections[0].Body = "The deploy removed a connection-pool setting." // people wrote this meanwhile
	in.Record.ResolvedAt = at(90)                                         // reopened, then resolved again
	in.LogEntries = append(in.LogEntries, nova.LogEntry{ID: "R9", Type: "resolve_log_entry", Summary: "Resolved by Alice Example", CreatedAt: at(90),
		Agent: &nova.Ref{ID: "PALICE1", Type: "user_reference", Summary: "Alice Example"}})
	v2, created := mustBuild(t, in, &v1, at(91))
	if !created || v2.ID != v1.ID || v2.Version != 2 {
		t.Fatalf("re-resolve: created %v, id %s, version %d: want version 2 of %s", created, v2.ID, v2.Version, v1.ID)
	}
	if len(v2.History) != 2 || !v2.History[0].ResolvedAt.Equal(at(34)) || !v2.History[1].ResolvedAt.Equal(at(90)) {
		t.Errorf("history %+v", v2.History)
	}
	if v2.Sections[0].Body != "The deploy removed a connection-pool setting." {
		t.Errorf("people's root cause text was not carried over: %q", v2.Sections[0].Body)
	}
	if v2.Resolution.ResolvedBy != "Alice Example" {
		t.Errorf("resolved by %q, want the latest resolver", v2.Resolution.ResolvedBy)
	}
	// The rollback ran before the first resolution, which did not hold.
	if v2.Outcome.Verdict != VerdictUndecided {
		t.Errorf("verdict %q after a reopen, want undecided: %s", v2.Outcome.Verdict, v2.Outcome.Basis)
	}
	if _, _, err := Build(in, &Draft{ID: "pm-prod-OTHER"}, at(91)); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("another incident's draft as prev: err %v, want EINVALID", err)
	}
	in.Record.ResolvedAt = time.Time{}
	if _, _, err := Build(in, nil, at(91)); !nova.IsCode(err, nova.ECONFLICT) {
		t.Errorf("unresolved incident: err %v, want ECONFLICT", err)
	}
}

func TestPeopleSectionsAreTheirsAndEmpty(t *testing.T) {
	d, _ := mustBuild(t, realistic(), nil, at(35))
	var keys []string
	for _, s := range d.Sections {
		keys = append(keys, s.Key)
		if s.Owner != OwnerPeople || s.Body != "" {
			t.Errorf("section %s: owner %q body %q, want people's and empty", s.Key, s.Owner, s.Body)
		}
	}
	if !slices.Equal(keys, []string{"root_cause", "went_well", "went_badly", "action_items"}) {
		t.Errorf("sections %v", keys)
	}
	md := Markdown(d)
	for _, title := range []string{"## Root cause analysis", "## What went well", "## What went badly", "## Action items"} {
		i := strings.Index(md, title)
		if i < 0 {
			t.Fatalf("%s missing", title)
		}
		rest := md[i+len(title):]
		if next := strings.Index(rest, "\n## "); next >= 0 {
			rest = rest[:next]
		}
		if !strings.Contains(rest, "written by people") || strings.Count(strings.TrimSpace(rest), "\n") != 1 {
			t.Errorf("%s is not marked as people's, or is not empty:\n%s", title, rest)
		}
	}
}

func TestNovaStatesNoRootCause(t *testing.T) {
	in := realistic()
	d, _ := mustBuild(t, in, nil, at(35))
	md := Markdown(d)
	top := in.Record.Triage.Hypotheses[0].Summary
	if n := strings.Count(md, top); n != 1 {
		t.Errorf("the hypothesis appears %d times; want once, in the hypothesis section", n)
	}
	if i, j := strings.Index(md, top), strings.Index(md, "### Nova's hypothesis at triage"); i < j {
		t.Error("the hypothesis appears outside its labelled section")
	}
	// Abstained: no hypothesis text at all, and the verdict says so.
	in.Record.Triage.Abstained = true
	d, _ = mustBuild(t, in, nil, at(35))
	if d.Hypothesis.Top != nil || d.Outcome.Verdict != VerdictNoHypothesis {
		t.Errorf("abstained: top %v, verdict %s", d.Hypothesis.Top, d.Outcome.Verdict)
	}
	if !strings.Contains(Markdown(d), "Nova abstained") {
		t.Error("abstention not said")
	}
}

func TestOutsideTextNeverBecomesMarkup(t *testing.T) {
	in := realistic()
	hostile := "<script>alert(1)</script> [click](javascript:alert(1)) | cell `code` *bold* _it_ \u202Eevil\nnext line"
	in.Record.Title = hostile
	in.Notes[1].Content = hostile
	in.LogEntries[4].Summary = hostile
	in.Approvals[0].Result = hostile
	in.Record.Triage.Hypotheses[0].Evidence[0].URL = "javascript:alert(1)"
	in.Record.HTMLURL = "https://evil.example.com/a) [x](javascript:1"
	d, _ := mustBuild(t, in, nil, at(35))
	md := Markdown(d)
	for _, bad := range []string{"<script", "\u202E"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown contains %q", bad)
		}
	}
	// Markup characters from outside text are backslash-escaped.
	unescaped := regexp.MustCompile("(^|[^\\\\])(\\]\\(javascript|\\*bold|`code|\\| cell|_it)")
	if m := unescaped.FindString(md); m != "" {
		t.Errorf("markdown contains unescaped markup %q", m)
	}
	if strings.Contains(md, "evil.example.com/a)") {
		t.Error("a URL ended its link destination early")
	}
	// Every timeline row still has its five cells.
	for _, row := range strings.Split(md, "\n") {
		if strings.HasPrefix(row, "| 2026-") {
			if n := strings.Count(strings.ReplaceAll(row, `\|`, ""), "|"); n != 6 {
				t.Errorf("row split into %d cells: %s", n-1, row)
			}
		}
	}
}

func TestLongTimelineStaysWithinLimits(t *testing.T) {
	in := realistic()
	for i := 0; i < 500; i++ {
		in.LogEntries = append(in.LogEntries, nova.LogEntry{ID: fmt.Sprintf("RN%03d", i), Type: "notify_log_entry",
			Summary: strings.Repeat("Notified Bob Example by phone ", 40), CreatedAt: at(1).Add(time.Duration(i) * time.Second)})
	}
	d, _ := mustBuild(t, in, nil, at(35))
	if len(d.Timeline) != 511 || d.Omitted != 0 {
		t.Errorf("timeline %d lines, %d omitted", len(d.Timeline), d.Omitted)
	}
	for _, l := range d.Timeline {
		if utf8.RuneCountInString(l.Text) > MaxLineChars {
			t.Fatalf("line of %d characters", utf8.RuneCountInString(l.Text))
		}
	}
	link := Link("https://nova.example.com", "Q1ABC")
	if note := NoteBody(d, link); utf8.RuneCountInString(note) > MaxAnnouncementChars || !strings.Contains(note, link) || !strings.Contains(note, "511 timeline lines") {
		t.Errorf("note of %d characters:\n%s", utf8.RuneCountInString(note), note)
	}
	if s := SlackText(d, link); utf8.RuneCountInString(string(s)) > 3000 {
		t.Errorf("Slack text of %d characters exceeds a section's 3000", utf8.RuneCountInString(string(s)))
	}
	for i := 0; i < 1500; i++ {
		in.LogEntries = append(in.LogEntries, nova.LogEntry{ID: fmt.Sprintf("RX%04d", i), Type: "notify_log_entry", CreatedAt: at(2).Add(time.Duration(i) * time.Millisecond)})
	}
	d, _ = mustBuild(t, in, nil, at(35))
	if len(d.Timeline) != MaxTimeline || d.Omitted != 2011-MaxTimeline {
		t.Errorf("timeline %d lines, %d omitted; want %d kept", len(d.Timeline), d.Omitted, MaxTimeline)
	}
	if d.Timeline[0].Ref != "R1" || d.Timeline[len(d.Timeline)-1].Ref != "R7" {
		t.Error("the start and the end of the timeline must be kept")
	}
	if !strings.Contains(Markdown(d), "1011 lines omitted here") {
		t.Error("omission not said in the Markdown")
	}
}

func TestLink(t *testing.T) {
	if got := Link("https://nova.example.com/", "Q1 ABC"); got != "https://nova.example.com/api/v1/incidents/Q1%20ABC/postmortem?format=md" {
		t.Errorf("Link = %q", got)
	}
	if got := Link("javascript:alert(1)", "Q1"); got != "" {
		t.Errorf("unsafe public URL gave %q", got)
	}
}
