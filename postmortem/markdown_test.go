package postmortem

import (
	"encoding/json"
	"testing"
)

func TestRealisticDraftGolden(t *testing.T) {
	d, created, err := Build(realistic(), nil, at(35))
	if err != nil || !created {
		t.Fatalf("Build: created %v, err %v", created, err)
	}
	golden(t, "realistic.md.golden", Markdown(d))
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "realistic.json.golden", string(b)+"\n")
}
