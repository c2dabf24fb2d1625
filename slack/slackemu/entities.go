package slackemu

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Entity is something Slack reads from mrkdwn instead of showing it as
// text: a mention, a link, a channel reference or a date. Tests use it to
// check that outside text in a message stayed text.
type Entity struct {
	// Kind is "user" (<@U…>), "usergroup" (<!subteam^S…>), "special"
	// (<!here>, <!channel>, <!everyone>, <!group>, and bare @here,
	// @channel, @everyone where Slack parses them automatically), "channel"
	// (<#C…>), "date" (<!date^…>), "command" (any other <!…>) or "link"
	// (<url> or <url|label>).
	Kind string `json:"kind"`
	// Target is the id, the special word or the URL (entities decoded).
	Target string `json:"target"`
	// Label is the text after "|", if any (entities decoded).
	Label string `json:"label,omitempty"`
	// Source is the sequence as it appeared in the text.
	Source string `json:"source"`
}

// Slack's control characters are &, < and >; everything between < and >
// is parsed (reference/slack-api.md, "Escaping outside text"). Escaped
// text (&lt;!channel&gt;) holds no < and so no entity.
var entityDecoder = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// autoMention is what Slack's automatic parsing may turn into a special
// mention in a mrkdwn text object whose verbatim flag is not set ("certain
// mentions will be automatically parsed"). The emulator assumes the worst.
var autoMention = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_])@(here|channel|everyone)\b`)

// ParseMrkdwn lists the entities Slack reads from a mrkdwn text. autoParse
// adds the bare special mentions Slack may parse in a text object without
// verbatim.
func ParseMrkdwn(text string, autoParse bool) []Entity {
	var out []Entity
	rest := text
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		out = append(out, entity(rest[i:i+j+1]))
		rest = rest[i+j+1:]
	}
	if autoParse {
		for _, m := range autoMention.FindAllStringSubmatch(text, -1) {
			out = append(out, Entity{Kind: "special", Target: m[1], Source: "@" + m[1]})
		}
	}
	return out
}

func entity(src string) Entity {
	inner := src[1 : len(src)-1]
	target, label, _ := strings.Cut(inner, "|")
	e := Entity{Target: entityDecoder.Replace(target), Label: entityDecoder.Replace(label), Source: src}
	switch {
	case strings.HasPrefix(target, "@"):
		e.Kind, e.Target = "user", strings.TrimPrefix(e.Target, "@")
	case strings.HasPrefix(target, "#"):
		e.Kind, e.Target = "channel", strings.TrimPrefix(e.Target, "#")
	case strings.HasPrefix(target, "!subteam^"):
		e.Kind, e.Target = "usergroup", strings.TrimPrefix(e.Target, "!subteam^")
	case strings.HasPrefix(target, "!date^"):
		e.Kind = "date"
	case target == "!here" || target == "!channel" || target == "!everyone" || target == "!group":
		e.Kind, e.Target = "special", strings.TrimPrefix(e.Target, "!")
	case strings.HasPrefix(target, "!"):
		e.Kind = "command"
	default:
		e.Kind = "link"
	}
	return e
}

// Entities lists what Slack reads from the message: its top-level text
// (mrkdwn, parsed without automatic mentions, as chat.postMessage's
// default parse=none does) and every mrkdwn text object in its blocks.
// plain_text objects (headers, buttons, confirmations) are not parsed.
func (m Message) Entities() []Entity { return entities(m.Text, m.Blocks) }

func entities(text string, raw json.RawMessage) []Entity {
	out := ParseMrkdwn(text, false)
	var tree any
	if len(raw) > 0 && json.Unmarshal(raw, &tree) == nil {
		collectEntities(tree, &out)
	}
	return out
}

func collectEntities(v any, out *[]Entity) {
	switch v := v.(type) {
	case map[string]any:
		if v["type"] == "mrkdwn" {
			if s, ok := v["text"].(string); ok {
				verbatim, _ := v["verbatim"].(bool)
				*out = append(*out, ParseMrkdwn(s, !verbatim)...)
			}
			return
		}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			collectEntities(v[k], out)
		}
	case []any:
		for _, child := range v {
			collectEntities(child, out)
		}
	}
}
