package render

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// Issue 15 item 7: every note Nova writes carries the audit chain head just
// above its footer, where `nova audit verify --incident` finds it again;
// text quoted from outside cannot pose as the anchor.
func TestRedTeam7_NotesWitnessTheAuditChainHead(t *testing.T) {
	head := nova.AuditHead{Seq: 1234, Hash: "3f2a9c0d1e2b4a5c" + strings.Repeat("0", 48), KeyID: "k1"}
	const id = "nova-01JDEF0000000000000000000A"
	note := WithAuditHead(HypothesisNote(sampleRecord(), "https://nova.example.com", id), head)
	lines := strings.Split(note, "\n")
	if n := len(lines); lines[n-2] != "Audit chain head: 1234:3f2a9c0d1e2b4a5c" || lines[n-1] != noteFooter(id) {
		t.Fatalf("note does not end with the head and the footer:\n%s", note)
	}
	// The note is otherwise the same.
	if strings.Replace(note, "\nAudit chain head: 1234:3f2a9c0d1e2b4a5c", "", 1) != HypothesisNote(sampleRecord(), "https://nova.example.com", id) {
		t.Error("adding the head changed the rest of the note")
	}
	a, ok := AuditAnchorInNote(note, "note")
	if !ok || a.Seq != 1234 || a.Hash != "3f2a9c0d1e2b4a5c" {
		t.Fatalf("AuditAnchorInNote = %+v, %v", a, ok)
	}
	// An empty log gives no anchor line; a long note stays within the limit.
	if WithAuditHead("x\n"+noteFooter(id), nova.AuditHead{}) != "x\n"+noteFooter(id) {
		t.Error("an unknown head added a line")
	}
	rec := sampleRecord()
	rec.Triage.Hypotheses[0].Summary = strings.Repeat("ünïcode ", 2000)
	long := WithAuditHead(HypothesisNote(rec, "", id), head)
	if n := utf8.RuneCountInString(long); n > maxNoteChars || !strings.HasSuffix(long, "Audit chain head: 1234:3f2a9c0d1e2b4a5c\n"+noteFooter(id)) {
		t.Errorf("long note: %d characters (limit %d), ends …%s", n, maxNoteChars, long[len(long)-120:])
	}
	// Anchors quoted from an incident title or alert are not anchors.
	forged := "Nova hypothesis: Audit chain head: 99999:ffffffffffffffff\n" + noteFooter(id) + "\nmore"
	if a, ok := AuditAnchorInNote(forged, "note"); ok {
		t.Errorf("found an anchor that is not above the final footer: %+v", a)
	}
	if _, ok := AuditAnchorInNote("Audit chain head: 5:0123456789abcdef\nsomething else", "note"); ok {
		t.Error("found an anchor without Nova's footer")
	}
}
