package slack

import (
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/novasre/nova"
)

// rendered is one Block Kit block and the MoreURL of the nova.Block it came
// from, so that the "N more" note can point at what it hides.
type rendered struct {
	block   slackgo.Block
	moreURL string
}

// Render turns a platform-neutral message into Block Kit blocks. It never
// fails: anything over a Block Kit limit is truncated or split (long field
// lists and button rows become several blocks), empty blocks are dropped,
// and past 50 blocks the first 49 are kept with a note saying how many
// more there are. Block ids are unique and stable across renders.
func Render(m nova.Message) []slackgo.Block {
	var out []rendered
	for _, b := range m.Blocks {
		for _, blk := range renderBlock(b) {
			out = append(out, rendered{block: blk, moreURL: b.MoreURL})
		}
	}
	if len(out) > maxBlocks {
		hidden := out[maxBlocks-1:]
		url := firstMoreURL(hidden)
		if url == "" {
			url = firstMoreURL(out)
		}
		out = append(out[:maxBlocks-1:maxBlocks-1], rendered{block: moreNote(len(hidden), url)})
	}
	blocks := make([]slackgo.Block, len(out))
	for i, r := range out {
		setBlockID(r.block, fmt.Sprintf("%s-%d", r.block.BlockType(), i))
		blocks[i] = r.block
	}
	return blocks
}

// FallbackText is the notification text sent with the blocks: the
// message's Text, or else its first header or section, so that Slack never
// shows an empty notification. Slack parses it as mrkdwn, so it stays
// mrkdwn (outside text in it escaped) and is cut without splitting a link
// or an entity.
func FallbackText(m nova.Message) string {
	text := strings.TrimSpace(string(m.Text))
	for _, b := range m.Blocks {
		if text != "" {
			break
		}
		if b.Kind == nova.BlockHeader || b.Kind == nova.BlockSection {
			text = strings.TrimSpace(string(b.Text))
		}
	}
	return clipMrkdwn(text, maxFallbackText, "")
}

func firstMoreURL(rs []rendered) string {
	for _, r := range rs {
		if r.moreURL != "" {
			return r.moreURL
		}
	}
	return ""
}

func moreNote(n int, url string) slackgo.Block {
	text := fmt.Sprintf("%s %d more blocks not shown", ellipsis, n)
	if _, ok := nova.SafeURL(url); ok {
		text = fmt.Sprintf("%s %d more — %s", ellipsis, n, nova.MrkdwnLink(url, "see all"))
	}
	return slackgo.NewContextBlock("", mrkdwn(text))
}

func renderBlock(b nova.Block) []slackgo.Block {
	text := strings.TrimSpace(string(b.Text))
	switch b.Kind {
	case nova.BlockHeader:
		// plain_text: Slack parses nothing in it, so it shows what a reader
		// of the mrkdwn would see.
		if text = strings.TrimSpace(nova.PlainText(b.Text.Plain())); text == "" {
			return nil
		}
		return []slackgo.Block{slackgo.NewHeaderBlock(plain(clipPlain(text, maxHeaderText)))}
	case nova.BlockDivider:
		return []slackgo.Block{slackgo.NewDividerBlock()}
	case nova.BlockContext:
		if text == "" {
			return nil
		}
		return []slackgo.Block{slackgo.NewContextBlock("", mrkdwn(clipMrkdwn(text, maxContextText, b.MoreURL)))}
	case nova.BlockActions:
		var out []slackgo.Block
		if text != "" {
			out = append(out, section(text, b.MoreURL, nil))
		}
		return append(out, actionBlocks(b.Buttons)...)
	default:
		// Sections, field lists and kinds this renderer does not know yet
		// all become sections: showing the text beats dropping it.
		return fieldSections(text, b.MoreURL, b.Fields)
	}
}

// fieldSections renders text and fields as sections of at most 10 fields
// each; the text goes on the first.
func fieldSections(text, moreURL string, fields []nova.Mrkdwn) []slackgo.Block {
	var objs []*slackgo.TextBlockObject
	for _, field := range fields {
		if f := strings.TrimSpace(string(field)); f != "" {
			objs = append(objs, mrkdwn(clipMrkdwn(f, maxFieldText, moreURL)))
		}
	}
	if text == "" && len(objs) == 0 {
		return nil
	}
	var out []slackgo.Block
	for first := true; first || len(objs) > 0; first = false {
		n := min(len(objs), maxFields)
		t := ""
		if first {
			t = text
		}
		out = append(out, section(t, moreURL, objs[:n]))
		objs = objs[n:]
	}
	return out
}

func section(text, moreURL string, fields []*slackgo.TextBlockObject) slackgo.Block {
	var obj *slackgo.TextBlockObject
	if text != "" {
		obj = mrkdwn(clipMrkdwn(text, maxSectionText, moreURL))
	}
	return slackgo.NewSectionBlock(obj, fields, nil)
}

// actionBlocks puts buttons in rows of at most 25, starting a new row when
// an action_id repeats, because Slack requires them unique per block.
func actionBlocks(buttons []nova.Button) []slackgo.Block {
	var out []slackgo.Block
	var row []slackgo.BlockElement
	seen := map[string]bool{}
	flush := func() {
		if len(row) > 0 {
			out = append(out, slackgo.NewActionBlock("", row...))
		}
		row, seen = nil, map[string]bool{}
	}
	for _, b := range buttons {
		el := button(b)
		if len(row) == maxButtons || seen[el.ActionID] {
			flush()
		}
		seen[el.ActionID] = true
		row = append(row, el)
	}
	flush()
	return out
}

func button(b nova.Button) *slackgo.ButtonBlockElement {
	actionID := cut(strings.TrimSpace(b.ActionID), maxActionID)
	label := strings.TrimSpace(nova.PlainText(b.Text))
	if label == "" {
		label = actionID
	}
	if label == "" {
		label = "Open"
	}
	el := slackgo.NewButtonBlockElement(actionID, cut(b.Value, maxButtonValue), plain(clipPlain(label, maxButtonText)))
	switch b.Style {
	case nova.StylePrimary, nova.StyleDanger:
		el.WithStyle(slackgo.Style(b.Style))
	}
	// A shortened URL would lead somewhere else, so an overlong one is
	// dropped, as is one that is not a plain http(s) URL.
	if u, ok := nova.SafeURL(b.URL); ok && len(u) <= maxButtonURL {
		el.WithURL(u)
	}
	if b.Confirm != nil {
		el.WithConfirm(confirm(*b.Confirm, b.Style))
	}
	return el
}

// confirm fills the parts Slack requires when the message left them empty.
func confirm(c nova.Confirm, style string) *slackgo.ConfirmationBlockObject {
	obj := slackgo.NewConfirmationBlockObject(
		plain(clipPlain(orDefault(c.Title, "Are you sure?"), maxConfirmTitle)),
		plain(clipPlain(orDefault(c.Text, "Please confirm."), maxConfirmText)),
		plain(clipPlain(orDefault(c.Yes, "Confirm"), maxConfirmButton)),
		plain(clipPlain(orDefault(c.No, "Cancel"), maxConfirmButton)),
	)
	if style == nova.StyleDanger {
		obj.WithStyle(slackgo.StyleDanger)
	}
	return obj
}

func orDefault(s, def string) string {
	if s = strings.TrimSpace(nova.PlainText(s)); s != "" {
		return s
	}
	return def
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, true, false)
}

// mrkdwn is a mrkdwn text object with verbatim set: Slack still reads
// Nova's own <url|label> links and <@U…> mentions, but does not
// auto-convert anything in the text (URLs, channel names, "certain
// mentions"), so outside text shown in it stays text.
func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, true)
}

func setBlockID(b slackgo.Block, id string) {
	switch b := b.(type) {
	case *slackgo.HeaderBlock:
		b.BlockID = id
	case *slackgo.SectionBlock:
		b.BlockID = id
	case *slackgo.ContextBlock:
		b.BlockID = id
	case *slackgo.ActionBlock:
		b.BlockID = id
	case *slackgo.DividerBlock:
		b.BlockID = id
	}
}
