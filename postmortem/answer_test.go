package postmortem

import (
	"strings"
	"testing"

	"github.com/novasre/nova"
)

func TestAnswerOnePerPersonLatestWins(t *testing.T) {
	d, _ := mustBuild(t, realistic(), nil, at(35))
	d, before, err := RecordAnswer(d, "U0ALICE", "yes", at(40))
	if err != nil || before != "" {
		t.Fatalf("first answer: before %q err %v", before, err)
	}
	d, _, _ = RecordAnswer(d, "U0BOB", "partly", at(41))
	d, before, err = RecordAnswer(d, "U0ALICE", "no", at(42))
	if err != nil || before != AnswerRight {
		t.Fatalf("second click by Alice: before %q err %v, want her earlier answer", before, err)
	}
	if r, p, w := Tally(d.Answers); r != 0 || p != 1 || w != 1 || len(d.Answers) != 2 {
		t.Errorf("answers %+v: want Bob partly and Alice's latest, no", d.Answers)
	}
	if !strings.Contains(Markdown(d), "- U0ALICE: no (2026-11-28 10:42:00 UTC)") {
		t.Error("answers not shown in the draft")
	}
	// Answers survive a new version.
	in := realistic()
	in.Record.ResolvedAt = at(90)
	v2, _ := mustBuild(t, in, &d, at(91))
	if len(v2.Answers) != 2 {
		t.Errorf("version 2 lost the answers: %+v", v2.Answers)
	}
	if _, _, err := RecordAnswer(d, "U0ALICE", "maybe", at(43)); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("unknown answer: err %v", err)
	}
	in.Record.Triage.Abstained = true
	in.Record.ResolvedAt = at(34)
	abst, _ := mustBuild(t, in, nil, at(35))
	if _, _, err := RecordAnswer(abst, "U0ALICE", "yes", at(43)); !nova.IsCode(err, nova.ECONFLICT) {
		t.Errorf("answer on an abstention: err %v, want ECONFLICT", err)
	}
}

func TestSlackMessageAsksOnlyWhenThereIsAHypothesis(t *testing.T) {
	d, _ := mustBuild(t, realistic(), nil, at(35))
	link := Link("https://nova.example.com", d.IncidentID)
	m := SlackMessage(d, link)
	if len(m.Blocks) != 2 || len(m.Blocks[1].Buttons) != 3 || m.Blocks[1].Buttons[0].Value != "Q1ABC" ||
		AnswerOfAction(m.Blocks[1].Buttons[2].ActionID) != AnswerWrong {
		t.Fatalf("message %+v", m)
	}
	if !strings.Contains(string(m.Text), "<"+link+"|Postmortem draft, version 1>") {
		t.Errorf("text %q lacks the link", m.Text)
	}
	in := realistic()
	in.Record.Triage.Abstained = true
	d, _ = mustBuild(t, in, nil, at(35))
	if m := SlackMessage(d, link); len(m.Blocks) != 1 {
		t.Errorf("abstention: %d blocks, want no question", len(m.Blocks))
	}
}
