package slackemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// SignedRequest is a request Slack would send to Nova, kept so that tests
// can send it again (a replay) or tamper with it before sending.
type SignedRequest struct {
	URL       string
	Body      []byte
	Timestamp int64
	// Signature is the X-Slack-Signature header; empty sends none.
	Signature string
	secret    string
	client    *http.Client
}

// sign computes Slack's v0 signature. The emulator has its own copy, not
// the adapter's, so that a bug in one cannot hide a bug in the other.
func sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

func (e *Emulator) signed(target, secret string, body []byte) *SignedRequest {
	ts := e.opts.Now().Unix()
	return &SignedRequest{URL: target, Body: body, Timestamp: ts, Signature: sign(secret, ts, body),
		secret: secret, client: e.opts.HTTPClient}
}

// Send posts the request as Slack does (form-encoded, signed) and returns
// the answer with its body read.
func (r *SignedRequest) Send() (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	if r.Signature != "" {
		req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(r.Timestamp, 10))
		req.Header.Set("X-Slack-Signature", r.Signature)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// Forged returns a copy signed with a secret that is not Nova's.
func (r *SignedRequest) Forged() *SignedRequest {
	c := *r
	c.Signature = sign("forged-"+r.secret, r.Timestamp, r.Body)
	return &c
}

// Stale returns a copy correctly signed but sent 10 minutes ago, outside
// the 5-minute window.
func (r *SignedRequest) Stale() *SignedRequest {
	c := *r
	c.Timestamp -= int64((10 * time.Minute).Seconds())
	c.Signature = sign(r.secret, c.Timestamp, r.Body)
	return &c
}

// Unsigned returns a copy without signature headers.
func (r *SignedRequest) Unsigned() *SignedRequest {
	c := *r
	c.Signature = ""
	return &c
}

// SlashCommandRequest builds the signed /nova request Slack sends when
// user types "/nova text" in channel, with a response_url pointing at the
// emulator.
func (e *Emulator) SlashCommandRequest(novaURL, signingSecret, user, channel, text string) (*SignedRequest, error) {
	form, err := e.commandFields(user, channel, text)
	if err != nil {
		return nil, err
	}
	return e.signed(novaURL, signingSecret, []byte(form.Encode())), nil
}

// SlashCommand sends a signed /nova command to Nova at novaURL (the full
// commands endpoint URL).
func (e *Emulator) SlashCommand(novaURL, signingSecret, user, channel, text string) (*http.Response, []byte, error) {
	req, err := e.SlashCommandRequest(novaURL, signingSecret, user, channel, text)
	if err != nil {
		return nil, nil, err
	}
	return req.Send()
}

func (e *Emulator) commandFields(user, channel, text string) (url.Values, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.channels[channel]
	if !ok {
		return nil, fmt.Errorf("slackemu: no channel %q (AddChannel first)", channel)
	}
	e.seq++
	return url.Values{
		"token":        {"slackemu-verification-token"},
		"team_id":      {e.opts.TeamID},
		"team_domain":  {"slackemu"},
		"channel_id":   {ch.id},
		"channel_name": {ch.name},
		"user_id":      {user},
		"user_name":    {e.users[user]},
		"command":      {"/nova"},
		"text":         {text},
		"api_app_id":   {e.opts.AppID},
		"response_url": {e.newResponseURL("command", ch.id, user, "")},
		"trigger_id":   {fmt.Sprintf("%d.%s.slackemu", e.seq, e.opts.TeamID)},
	}, nil
}

// ClickRequest builds the signed block_actions request Slack sends when
// user clicks the button actionID in msg. It uses the message as it is now
// in the channel, and fails if that message has no such button.
func (e *Emulator) ClickRequest(novaURL, signingSecret, user string, msg Message, actionID string) (*SignedRequest, error) {
	payload, err := e.clickPayload(user, msg, actionID)
	if err != nil {
		return nil, err
	}
	body := url.Values{"payload": {string(payload)}}.Encode()
	return e.signed(novaURL, signingSecret, []byte(body)), nil
}

// Click sends a signed button click to Nova at novaURL (the full
// interactions endpoint URL).
func (e *Emulator) Click(novaURL, signingSecret, user string, msg Message, actionID string) (*http.Response, []byte, error) {
	req, err := e.ClickRequest(novaURL, signingSecret, user, msg, actionID)
	if err != nil {
		return nil, nil, err
	}
	return req.Send()
}

// StaleClickRequest builds the click a person sends from an outdated view
// of msg: the button is taken from msg as given (a snapshot the test kept),
// even if the message was since updated and lost it. Slack clients do send
// such clicks, so Nova must judge them by the request's state, not the UI.
func (e *Emulator) StaleClickRequest(novaURL, signingSecret, user string, msg Message, actionID string) (*SignedRequest, error) {
	payload, err := e.clickPayloadFrom(user, msg, actionID, true)
	if err != nil {
		return nil, err
	}
	body := url.Values{"payload": {string(payload)}}.Encode()
	return e.signed(novaURL, signingSecret, []byte(body)), nil
}

func (e *Emulator) clickPayload(user string, msg Message, actionID string) ([]byte, error) {
	return e.clickPayloadFrom(user, msg, actionID, false)
}

func (e *Emulator) clickPayloadFrom(user string, msg Message, actionID string, stale bool) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	current := e.findMessage(msg.Channel, msg.TS)
	if current == nil || current.Deleted {
		return nil, fmt.Errorf("slackemu: no message %s in channel %s to click", msg.TS, msg.Channel)
	}
	view := current.Blocks
	if stale {
		view = msg.Blocks
	}
	b, found := findButton(view, actionID)
	if !found {
		return nil, fmt.Errorf("slackemu: message %s has no button %q", msg.TS, actionID)
	}
	ch := e.channels[msg.Channel]
	e.seq++
	return json.Marshal(map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": e.opts.TeamID, "domain": "slackemu"},
		"user":       map[string]any{"id": user, "username": e.users[user], "team_id": e.opts.TeamID},
		"api_app_id": e.opts.AppID,
		"token":      "slackemu-verification-token",
		"container": map[string]any{"type": "message", "message_ts": current.TS,
			"channel_id": ch.id, "is_ephemeral": false},
		"trigger_id":   fmt.Sprintf("%d.%s.slackemu", e.seq, e.opts.TeamID),
		"channel":      map[string]any{"id": ch.id, "name": ch.name},
		"message":      e.wireMessage(current, false),
		"response_url": e.newResponseURL("click", ch.id, user, current.TS),
		"actions": []map[string]any{{
			"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value,
			"text":      map[string]any{"type": "plain_text", "text": b.Text, "emoji": true},
			"action_ts": fmt.Sprintf("%d.%06d", e.opts.Now().Unix(), e.seq%1_000_000),
		}},
	})
}
