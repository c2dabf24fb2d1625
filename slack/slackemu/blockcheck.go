package slackemu

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
)

// Block Kit limits Slack enforces by refusing the message with
// invalid_blocks. The emulator checks them so a renderer bug fails a test
// instead of an incident.
const (
	maxBlocks       = 50
	maxBlockID      = 255
	maxText         = 3000
	maxHeader       = 150
	maxFields       = 10
	maxField        = 2000
	maxElements     = 25
	maxContextElems = 10
	maxButtonText   = 75
	maxActionID     = 255
	maxValue        = 2000
	maxURL          = 3000
	maxConfirmTitle = 100
	maxConfirmText  = 300
	maxConfirmBtn   = 30
)

type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type element struct {
	Type     string      `json:"type"`
	Text     *textObject `json:"text"`
	ActionID string      `json:"action_id"`
	Value    string      `json:"value"`
	URL      string      `json:"url"`
	Style    string      `json:"style"`
	Confirm  *struct {
		Title, Text, Confirm, Deny *textObject
	} `json:"confirm"`
}

type block struct {
	Type     string            `json:"type"`
	BlockID  string            `json:"block_id"`
	Text     *textObject       `json:"text"`
	Fields   []textObject      `json:"fields"`
	Elements []json.RawMessage `json:"elements"`
}

// length counts characters as Slack's clients do (UTF-16 code units).
func length(s string) int { return len(utf16.Encode([]rune(s))) }

func checkText(what string, t *textObject, max int, required bool) error {
	if t == nil {
		if required {
			return fmt.Errorf("%s: missing text", what)
		}
		return nil
	}
	if n := length(t.Text); n == 0 || n > max {
		return fmt.Errorf("%s: text length %d not in 1..%d", what, n, max)
	}
	return nil
}

// checkBlocks validates a message's blocks against Block Kit's limits.
func checkBlocks(raw []byte) error {
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return fmt.Errorf("blocks: %w", err)
	}
	if len(blocks) > maxBlocks {
		return fmt.Errorf("%d blocks, over %d", len(blocks), maxBlocks)
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		what := fmt.Sprintf("block %d (%s)", i, b.Type)
		if b.BlockID != "" {
			if ids[b.BlockID] || len(b.BlockID) > maxBlockID {
				return fmt.Errorf("%s: duplicate or overlong block_id", what)
			}
			ids[b.BlockID] = true
		}
		if err := checkBlock(what, b); err != nil {
			return err
		}
	}
	return nil
}

func checkBlock(what string, b block) error {
	switch b.Type {
	case "header":
		if b.Text == nil || b.Text.Type != "plain_text" {
			return fmt.Errorf("%s: header needs plain_text", what)
		}
		return checkText(what, b.Text, maxHeader, true)
	case "section":
		if b.Text == nil && len(b.Fields) == 0 {
			return fmt.Errorf("%s: section needs text or fields", what)
		}
		if len(b.Fields) > maxFields {
			return fmt.Errorf("%s: %d fields, over %d", what, len(b.Fields), maxFields)
		}
		for _, f := range b.Fields {
			if err := checkText(what+" field", &f, maxField, true); err != nil {
				return err
			}
		}
		return checkText(what, b.Text, maxText, false)
	case "context":
		if len(b.Elements) == 0 || len(b.Elements) > maxContextElems {
			return fmt.Errorf("%s: %d elements not in 1..%d", what, len(b.Elements), maxContextElems)
		}
		for _, raw := range b.Elements {
			var t textObject
			if json.Unmarshal(raw, &t) == nil && (t.Type == "mrkdwn" || t.Type == "plain_text") {
				if err := checkText(what, &t, maxText, true); err != nil {
					return err
				}
			}
		}
	case "actions":
		return checkActions(what, b.Elements)
	case "divider", "image", "rich_text", "markdown", "file", "input", "video":
	default:
		return fmt.Errorf("%s: unknown block type", what)
	}
	return nil
}

func checkActions(what string, elements []json.RawMessage) error {
	if len(elements) == 0 || len(elements) > maxElements {
		return fmt.Errorf("%s: %d elements not in 1..%d", what, len(elements), maxElements)
	}
	ids := map[string]bool{}
	for _, raw := range elements {
		var el element
		if err := json.Unmarshal(raw, &el); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if el.ActionID != "" {
			if ids[el.ActionID] || len(el.ActionID) > maxActionID {
				return fmt.Errorf("%s: duplicate or overlong action_id %q", what, el.ActionID)
			}
			ids[el.ActionID] = true
		}
		if el.Type != "button" {
			continue
		}
		if err := checkButton(what, el); err != nil {
			return err
		}
	}
	return nil
}

func checkButton(what string, el element) error {
	if err := checkText(what+" button", el.Text, maxButtonText, true); err != nil {
		return err
	}
	switch {
	case length(el.Value) > maxValue:
		return fmt.Errorf("%s: button value over %d", what, maxValue)
	case length(el.URL) > maxURL:
		return fmt.Errorf("%s: button url over %d", what, maxURL)
	case el.Style != "" && el.Style != "primary" && el.Style != "danger":
		return fmt.Errorf("%s: button style %q", what, el.Style)
	}
	if c := el.Confirm; c != nil {
		for _, part := range []struct {
			t   *textObject
			max int
		}{{c.Title, maxConfirmTitle}, {c.Text, maxConfirmText}, {c.Confirm, maxConfirmBtn}, {c.Deny, maxConfirmBtn}} {
			if err := checkText(what+" confirm", part.t, part.max, true); err != nil {
				return err
			}
		}
	}
	return nil
}
