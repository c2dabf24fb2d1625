package slackemu

import (
	"encoding/json"
	"slices"
	"time"
)

// Message is a message in a channel, as tests inspect it.
type Message struct {
	Channel  string          `json:"channel"`
	TS       string          `json:"ts"`
	ThreadTS string          `json:"thread_ts,omitempty"`
	User     string          `json:"user"`
	BotID    string          `json:"bot_id,omitempty"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks,omitempty"`
	Metadata *Metadata       `json:"metadata,omitempty"`
	// Edits are the earlier versions, oldest first.
	Edits   []Edit `json:"edits,omitempty"`
	Deleted bool   `json:"deleted,omitempty"`
	// Via is how it was posted: "chat.postMessage" or "response_url".
	Via string `json:"via"`
}

// Metadata is Slack message metadata.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// Edit is an earlier version of a message, kept when it was replaced.
type Edit struct {
	Text   string          `json:"text"`
	Blocks json.RawMessage `json:"blocks,omitempty"`
	// Via is what replaced this version: "chat.update" or "response_url".
	Via string    `json:"via"`
	At  time.Time `json:"at"`
}

// Ephemeral is a message only one user saw.
type Ephemeral struct {
	Channel string          `json:"channel"`
	User    string          `json:"user"`
	TS      string          `json:"ts"`
	Text    string          `json:"text"`
	Blocks  json.RawMessage `json:"blocks,omitempty"`
	// Via is "chat.postEphemeral" or "response_url".
	Via string `json:"via"`
}

// Response is one POST to a response_url the emulator handed out.
type Response struct {
	// ID is the last path element of the URL; Kind is "command" or "click".
	ID              string          `json:"id"`
	Kind            string          `json:"kind"`
	ResponseType    string          `json:"response_type,omitempty"`
	ReplaceOriginal bool            `json:"replace_original,omitempty"`
	DeleteOriginal  bool            `json:"delete_original,omitempty"`
	ThreadTS        string          `json:"thread_ts,omitempty"`
	Text            string          `json:"text,omitempty"`
	Blocks          json.RawMessage `json:"blocks,omitempty"`
	// Status is the HTTP status answered; Error the Slack error, if any.
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Request is one request the emulator served. Tokens are never recorded.
type Request struct {
	HTTPMethod string `json:"http_method"`
	Path       string `json:"path"`
	// Method is the Web API method, when the path was one.
	Method string `json:"method,omitempty"`
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

func (m *Message) clone() Message {
	c := *m
	c.Edits = slices.Clone(m.Edits)
	if m.Metadata != nil {
		md := *m.Metadata
		c.Metadata = &md
	}
	return c
}

// Messages returns the messages of channel in posting order, thread
// replies and deleted messages included.
func (e *Emulator) Messages(channel string) []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.channels[channel]
	if !ok {
		return nil
	}
	out := make([]Message, len(ch.messages))
	for i, m := range ch.messages {
		out[i] = m.clone()
	}
	return out
}

// Message returns the current version of the message at ts in channel.
func (e *Emulator) Message(channel, ts string) (Message, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.findMessage(channel, ts); m != nil {
		return m.clone(), true
	}
	return Message{}, false
}

// findMessage returns the stored message; caller holds mu.
func (e *Emulator) findMessage(channel, ts string) *Message {
	ch, ok := e.channels[channel]
	if !ok {
		return nil
	}
	for _, m := range ch.messages {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// Ephemerals returns the ephemeral messages shown so far.
func (e *Emulator) Ephemerals() []Ephemeral {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.ephemerals)
}

// Responses returns the response_url POSTs received so far.
func (e *Emulator) Responses() []Response {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.responses)
}

// Requests returns every request served, in order.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// RateLimited is how many requests were answered 429.
func (e *Emulator) RateLimited() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rateLimited
}

// Unexpected lists requests the emulator does not model. A test should
// fail when it is not empty.
func (e *Emulator) Unexpected() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.unexpected)
}

func (e *Emulator) recordUnexpected(what string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.unexpected = append(e.unexpected, what)
}

func (e *Emulator) recordRequest(r Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r)
}

// SetPostRate reshapes chat.postMessage per channel from now on (every
// channel, existing and new): one post per interval with bursts of burst,
// answered 429 with Retry-After beyond it, as Slack does. Tests use it to
// make Slack slow in the middle of a run.
func (e *Emulator) SetPostRate(interval time.Duration, burst int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opts.PostInterval, e.opts.PostBurst = interval, burst
	for _, ch := range e.channels {
		ch.bucket.interval, ch.bucket.burst = interval, float64(burst)
		ch.bucket.tokens = min(ch.bucket.tokens, float64(burst))
	}
}
