package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"

	"github.com/novasre/nova"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// hypothesisMessage is what a typical Nova hypothesis looks like.
func hypothesisMessage() nova.Message {
	return nova.Message{
		Text: "Nova hypothesis for #4211 checkout: bad deploy (confidence 0.82)",
		Blocks: []nova.Block{
			{Kind: nova.BlockHeader, Text: "🔎 #4211 checkout: 5xx rate above 2% — likely the 14:02 deploy"},
			{Kind: nova.BlockFields, Fields: []nova.Mrkdwn{"*Urgency*\nhigh", "*Confidence*\n0.82", "*Service*\ncheckout (prod)", "*Mode*\naction"}},
			{Kind: nova.BlockSection, Text: "*Hypothesis:* the deploy of `checkout v2.31.0` at 14:02 UTC raised the error rate from 0.1% to 4.7% within two minutes.", MoreURL: "https://nova.example.com/incidents/P1234"},
			{Kind: nova.BlockDivider},
			{Kind: nova.BlockSection, Text: "*Evidence*\n• <https://pd.example/changes/C1|Deploy checkout v2.31.0> 3 min before the first alert\n• same symptom in <https://pd.example/incidents/P0999|#3980>, resolved by rollback\n• no related incidents on payments or db-main"},
			{Kind: nova.BlockSection, Text: "*Suggested next steps*\n1. Roll back checkout to v2.30.4 (runbook: <https://wiki.example/checkout#rollback|rollback>)\n2. Watch the 5xx panel for 5 minutes"},
			{Kind: nova.BlockContext, Text: "nova-01J9Z6Q3 • read the <https://nova.example.com/incidents/P1234|full analysis>"},
			{Kind: nova.BlockActions, Buttons: []nova.Button{
				{ActionID: "nova_feedback_helpful", Text: "👍 Helpful", Value: "P1234", Style: nova.StylePrimary},
				{ActionID: "nova_feedback_wrong", Text: "👎 Wrong", Value: "P1234"},
				{ActionID: "nova_approve", Text: "Roll back checkout", Value: "appr-01J9Z6Q3", Style: nova.StyleDanger,
					Confirm: &nova.Confirm{Title: "Roll back checkout?", Text: "Nova will roll checkout in prod back to v2.30.4.", Yes: "Roll back", No: "Cancel"}},
				{ActionID: "nova_open", Text: "Open in Nova", URL: "https://nova.example.com/incidents/P1234"},
			}},
		},
		Metadata: map[string]string{"incident": "P1234", "key": "hyp-P1234"},
	}
}

// oversizeMessage breaks every limit Render enforces.
func oversizeMessage() nova.Message {
	m := nova.Message{Text: "storm"}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: nova.Mrkdwn(strings.Repeat("H", 200))})
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: nova.Mrkdwn(strings.Repeat("é", 3100)), MoreURL: "https://nova.example.com/i/big"})
	var fields []nova.Mrkdwn
	fields = append(fields, nova.Mrkdwn("*long* "+strings.Repeat("w", 2100)))
	for i := range 11 {
		fields = append(fields, nova.Mrkdwn(fmt.Sprintf("*f%d*", i)))
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockFields, Fields: fields})
	var buttons []nova.Button
	buttons = append(buttons, nova.Button{ActionID: "long", Text: strings.Repeat("B", 80), Value: strings.Repeat("v", 2100)})
	for i := range 26 {
		buttons = append(buttons, nova.Button{ActionID: fmt.Sprintf("a%d", i), Text: fmt.Sprint(i), Value: fmt.Sprint(i)})
	}
	buttons = append(buttons, nova.Button{ActionID: strings.Repeat("x", 300), Text: "confirm me", Style: nova.StyleDanger,
		Confirm: &nova.Confirm{Title: strings.Repeat("T", 120), Text: strings.Repeat("t", 400), Yes: strings.Repeat("Y", 40), No: strings.Repeat("N", 40)}})
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockActions, Buttons: buttons})
	for i := range 60 {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: nova.Mrkdwn(fmt.Sprintf("evidence line %d", i)), MoreURL: "https://nova.example.com/i/evidence"})
	}
	return m
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./slack -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s; rerun with -update if the change is intended\ngot:\n%s", t.Name(), path, got)
	}
}

func renderJSON(t *testing.T, m nova.Message) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <url|text> readable in the golden files
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"text": FallbackText(m), "blocks": Render(m)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderGoldenHypothesis(t *testing.T) {
	golden(t, "hypothesis", renderJSON(t, hypothesisMessage()))
}

func TestRenderGoldenOversize(t *testing.T) {
	golden(t, "oversize", renderJSON(t, oversizeMessage()))
}

// TestRenderOversizeLimits states the limits the golden file holds, so a
// regenerated golden cannot silently break them.
func TestRenderOversizeLimits(t *testing.T) {
	blocks := Render(oversizeMessage())
	if len(blocks) != maxBlocks {
		t.Fatalf("%d blocks, want exactly %d", len(blocks), maxBlocks)
	}
	last, ok := blocks[maxBlocks-1].(*slackgo.ContextBlock)
	if !ok {
		t.Fatalf("last block is %T, want the context note", blocks[maxBlocks-1])
	}
	note := last.ContextElements.Elements[0].(*slackgo.TextBlockObject).Text
	if !strings.HasPrefix(note, "… ") || !strings.HasSuffix(note, " more — <https://nova.example.com/i/evidence|see all>") {
		t.Fatalf("note = %q", note)
	}
	ids := map[string]bool{}
	buttons := 0
	for _, b := range blocks {
		id := blockID(b)
		if id == "" || ids[id] {
			t.Fatalf("block id %q missing or repeated", id)
		}
		ids[id] = true
		switch b := b.(type) {
		case *slackgo.HeaderBlock:
			if n := textLen(b.Text.Text); n > maxHeaderText {
				t.Errorf("header %d chars", n)
			}
		case *slackgo.SectionBlock:
			if b.Text != nil && textLen(b.Text.Text) > maxSectionText {
				t.Errorf("section %d chars", textLen(b.Text.Text))
			}
			if len(b.Fields) > maxFields {
				t.Errorf("%d fields", len(b.Fields))
			}
			for _, f := range b.Fields {
				if textLen(f.Text) > maxFieldText {
					t.Errorf("field %d chars", textLen(f.Text))
				}
			}
		case *slackgo.ActionBlock:
			if len(b.Elements.ElementSet) > maxButtons {
				t.Errorf("%d buttons in one block", len(b.Elements.ElementSet))
			}
			for _, el := range b.Elements.ElementSet {
				btn := el.(*slackgo.ButtonBlockElement)
				buttons++
				if textLen(btn.Text.Text) > maxButtonText || textLen(btn.Value) > maxButtonValue || len(btn.ActionID) > maxActionID {
					t.Errorf("button over a limit: text %d, value %d, action_id %d", textLen(btn.Text.Text), textLen(btn.Value), len(btn.ActionID))
				}
				if c := btn.Confirm; c != nil && (textLen(c.Title.Text) > maxConfirmTitle || textLen(c.Text.Text) > maxConfirmText ||
					textLen(c.Confirm.Text) > maxConfirmButton || textLen(c.Deny.Text) > maxConfirmButton) {
					t.Errorf("confirm over a limit: %+v", c)
				}
			}
		}
	}
	if buttons != 28 {
		t.Errorf("%d buttons rendered, want all 28 split over rows", buttons)
	}
}

func blockID(b slackgo.Block) string {
	raw, _ := json.Marshal(b)
	var v struct {
		BlockID string `json:"block_id"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.BlockID
}

func TestRenderEdgeCases(t *testing.T) {
	t.Run("empty blocks are dropped", func(t *testing.T) {
		got := Render(nova.Message{Blocks: []nova.Block{{Kind: nova.BlockHeader}, {Kind: nova.BlockSection, Text: "  "},
			{Kind: nova.BlockActions}, {Kind: nova.BlockContext}, {Kind: nova.BlockFields, Fields: []nova.Mrkdwn{"", " "}}}})
		if len(got) != 0 {
			t.Fatalf("rendered %d blocks from empty ones", len(got))
		}
	})
	t.Run("unknown kind keeps its text", func(t *testing.T) {
		got := Render(nova.Message{Blocks: []nova.Block{{Kind: "callout", Text: "keep me"}}})
		if len(got) != 1 || got[0].(*slackgo.SectionBlock).Text.Text != "keep me" {
			t.Fatalf("got %#v", got)
		}
	})
	t.Run("repeated action ids start a new row", func(t *testing.T) {
		got := Render(nova.Message{Blocks: []nova.Block{{Kind: nova.BlockActions, Buttons: []nova.Button{
			{ActionID: "vote", Text: "a", Value: "1"}, {ActionID: "vote", Text: "b", Value: "2"}}}}})
		if len(got) != 2 {
			t.Fatalf("got %d blocks, want 2 rows", len(got))
		}
	})
	t.Run("button label falls back and overlong url is dropped", func(t *testing.T) {
		got := Render(nova.Message{Blocks: []nova.Block{{Kind: nova.BlockActions, Buttons: []nova.Button{
			{ActionID: "open", URL: "https://x/" + strings.Repeat("p", 3000), Style: "fancy"}}}}})
		btn := got[0].(*slackgo.ActionBlock).Elements.ElementSet[0].(*slackgo.ButtonBlockElement)
		if btn.Text.Text != "open" || btn.URL != "" || btn.Style != "" {
			t.Fatalf("button = %+v", btn)
		}
	})
	t.Run("fallback text from the header", func(t *testing.T) {
		if got := FallbackText(nova.Message{Blocks: []nova.Block{{Kind: nova.BlockHeader, Text: "Title"}}}); got != "Title" {
			t.Fatalf("FallbackText = %q", got)
		}
	})
	t.Run("exactly 50 blocks are kept whole", func(t *testing.T) {
		var m nova.Message
		for i := range 50 {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: nova.Mrkdwn(fmt.Sprint(i))})
		}
		got := Render(m)
		if len(got) != 50 || got[49].(*slackgo.SectionBlock).Text.Text != "49" {
			t.Fatalf("got %d blocks", len(got))
		}
	})
	t.Run("note without any MoreURL", func(t *testing.T) {
		var m nova.Message
		for i := range 52 {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: nova.Mrkdwn(fmt.Sprint(i))})
		}
		got := Render(m)
		note := got[49].(*slackgo.ContextBlock).ContextElements.Elements[0].(*slackgo.TextBlockObject).Text
		if note != "… 3 more blocks not shown" {
			t.Fatalf("note = %q", note)
		}
	})
}
