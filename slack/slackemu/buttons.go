package slackemu

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Button is a button found in a message's blocks.
type Button struct {
	BlockID  string `json:"block_id"`
	ActionID string `json:"action_id"`
	Text     string `json:"text"`
	Value    string `json:"value,omitempty"`
	Style    string `json:"style,omitempty"`
	URL      string `json:"url,omitempty"`
	// Confirm reports whether clicking it asks for confirmation first.
	Confirm bool `json:"confirm,omitempty"`
}

// Buttons lists the buttons of the message, in order.
func (m Message) Buttons() []Button { return buttons(m.Blocks) }

// Button returns the message's button with actionID.
func (m Message) Button(actionID string) (Button, bool) { return findButton(m.Blocks, actionID) }

func buttons(raw json.RawMessage) []Button {
	var blocks []struct {
		Type     string            `json:"type"`
		BlockID  string            `json:"block_id"`
		Elements []json.RawMessage `json:"elements"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil {
		return nil
	}
	var out []Button
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, rawEl := range b.Elements {
			var el element
			if json.Unmarshal(rawEl, &el) != nil || el.Type != "button" {
				continue
			}
			btn := Button{BlockID: b.BlockID, ActionID: el.ActionID, Value: el.Value,
				Style: el.Style, URL: el.URL, Confirm: el.Confirm != nil}
			if el.Text != nil {
				btn.Text = el.Text.Text
			}
			out = append(out, btn)
		}
	}
	return out
}

func findButton(raw json.RawMessage, actionID string) (Button, bool) {
	for _, b := range buttons(raw) {
		if b.ActionID == actionID {
			return b, true
		}
	}
	return Button{}, false
}

// Texts returns the message's text followed by every text in its blocks,
// decoded: what a person reading the message would see. Tests
// match against it instead of the raw JSON, whose escaping varies.
func (m Message) Texts() []string { return texts(m.Text, m.Blocks) }

func texts(text string, raw json.RawMessage) []string {
	out := []string{text}
	var tree any
	if len(raw) > 0 && json.Unmarshal(raw, &tree) == nil {
		collectTexts(tree, &out)
	}
	return out
}

func collectTexts(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["text"].(string); ok {
			*out = append(*out, s)
		}
		// Sorted keys keep the order the same from run to run.
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if child := v[k]; k != "text" || !isString(child) {
				collectTexts(child, out)
			}
		}
	case []any:
		for _, child := range v {
			collectTexts(child, out)
		}
	}
}

func isString(v any) bool { _, ok := v.(string); return ok }

// Contains reports whether the message shows s anywhere, in its text or
// its blocks.
func (m Message) Contains(s string) bool {
	for _, t := range m.Texts() {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}
