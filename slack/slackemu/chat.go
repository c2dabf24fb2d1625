package slackemu

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
)

// maxMessageText is where Slack refuses text outright (it truncates above
// 40,000 characters; refusing makes an overlong text visible in tests).
const maxMessageText = 40000

// lookupChannel resolves an id or "#name". Caller holds mu.
func (e *Emulator) lookupChannel(ref string) *channel {
	if ch, ok := e.channels[ref]; ok {
		return ch
	}
	name := strings.TrimPrefix(ref, "#")
	for _, ch := range e.channels {
		if ch.name == name {
			return ch
		}
	}
	return nil
}

// content reads and checks text, blocks and metadata shared by the chat
// methods. It returns a Slack error code when the content is refused.
func content(p params) (text string, blocks json.RawMessage, md *Metadata, errCode string) {
	text = p["text"]
	if raw := strings.TrimSpace(p["blocks"]); raw != "" && raw != "null" {
		if err := checkBlocks([]byte(raw)); err != nil {
			return "", nil, nil, "invalid_blocks"
		}
		blocks = json.RawMessage(raw)
	}
	if text == "" && blocks == nil {
		return "", nil, nil, "no_text"
	}
	if len([]rune(text)) > maxMessageText {
		return "", nil, nil, "msg_too_long"
	}
	if raw := strings.TrimSpace(p["metadata"]); raw != "" {
		md = &Metadata{}
		if json.Unmarshal([]byte(raw), md) != nil || md.EventType == "" {
			return "", nil, nil, "invalid_metadata_format"
		}
	}
	return text, blocks, md, ""
}

func (e *Emulator) postMessage(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	if !ch.member && ch.private {
		return fail("not_in_channel")
	}
	text, blocks, md, errCode := content(p)
	if errCode != "" {
		return fail(errCode)
	}
	if thread := p["thread_ts"]; thread != "" && e.findMessage(ch.id, thread) == nil {
		return fail("thread_not_found")
	}
	// Checked after the arguments so that a refused post spends no allowance.
	if wait := ch.bucket.take(e.opts.Now()); wait > 0 {
		e.rateLimited++
		return apiResult{status: http.StatusTooManyRequests, body: apiError("ratelimited"),
			retryAfter: int(math.Ceil(wait.Seconds()))}
	}
	m := &Message{Channel: ch.id, TS: e.nextTS(), ThreadTS: p["thread_ts"], User: e.opts.BotUserID,
		BotID: e.opts.BotID, Text: text, Blocks: blocks, Metadata: md, Via: "chat.postMessage"}
	ch.messages = append(ch.messages, m)
	return ok(map[string]any{"channel": ch.id, "ts": m.TS, "message": e.wireMessage(m, true)})
}

func (e *Emulator) update(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	m := e.findMessage(ch.id, p["ts"])
	if m == nil || m.Deleted {
		return fail("message_not_found")
	}
	if m.User != e.opts.BotUserID {
		return fail("cant_update_message")
	}
	text, blocks, md, errCode := content(p)
	if errCode != "" {
		return fail(errCode)
	}
	e.replace(m, text, blocks, "chat.update")
	if md != nil {
		m.Metadata = md
	}
	return ok(map[string]any{"channel": ch.id, "ts": m.TS, "text": m.Text})
}

// replace keeps the current version in the edit history. Caller holds mu.
func (e *Emulator) replace(m *Message, text string, blocks json.RawMessage, via string) {
	m.Edits = append(m.Edits, Edit{Text: m.Text, Blocks: m.Blocks, Via: via, At: e.opts.Now()})
	m.Text, m.Blocks = text, blocks
}

func (e *Emulator) postEphemeral(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	if p["user"] == "" {
		return fail("user_not_found")
	}
	text, blocks, _, errCode := content(p)
	if errCode != "" {
		return fail(errCode)
	}
	ts := e.nextTS()
	e.ephemerals = append(e.ephemerals, Ephemeral{Channel: ch.id, User: p["user"], TS: ts,
		Text: text, Blocks: blocks, Via: "chat.postEphemeral"})
	return ok(map[string]any{"message_ts": ts})
}

// wireMessage is a message as the Web API returns it. Metadata is only
// included when asked for, as conversations.history does.
func (e *Emulator) wireMessage(m *Message, withMetadata bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if withMetadata && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

// bucket is the per-channel posting allowance: one message per interval,
// at most burst saved up.
type bucket struct {
	interval time.Duration
	burst    float64
	tokens   float64
	last     time.Time
}

// take spends a token if one is there, or returns how long until one is.
func (b *bucket) take(now time.Time) time.Duration {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.interval))
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(b.interval))
}
