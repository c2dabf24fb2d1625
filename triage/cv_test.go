package triage

import "testing"

// TestSourceFoldsKeepPostmortemsTogether: every variation of one postmortem
// is in the same fold, and the folds are all used.
func TestSourceFoldsKeepPostmortemsTogether(t *testing.T) {
	var cases []Case
	for i := 0; i < 30; i++ {
		src := Source{Dataset: "d", OriginalID: string(rune('a' + i%10))}
		cases = append(cases, Case{ID: string(rune('A' + i)), Source: src})
	}
	folds := sourceFolds(cases, 5)
	fold := map[Source]int{}
	used := map[int]bool{}
	for i, c := range cases {
		if f, ok := fold[c.Source]; ok && f != folds[i] {
			t.Errorf("%s: source %v in folds %d and %d", c.ID, c.Source, f, folds[i])
		}
		fold[c.Source] = folds[i]
		used[folds[i]] = true
	}
	if len(used) != 5 {
		t.Errorf("folds used %v, want 5", used)
	}
}
