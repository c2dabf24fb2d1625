package slackemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Slack lets a response_url be used 5 times within 30 minutes.
const (
	responseURLUses = 5
	responseURLLife = 30 * time.Minute
)

// responseURL is one handed out with a slash command or a click.
type responseURL struct {
	kind      string // "command" or "click"
	channel   string
	user      string
	messageTS string // the clicked message, for replace/delete_original
	issued    time.Time
	uses      int
}

// newResponseURL registers a response_url and returns it. Caller holds mu.
func (e *Emulator) newResponseURL(kind, channel, user, messageTS string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	e.responseURLs[id] = &responseURL{kind: kind, channel: channel, user: user,
		messageTS: messageTS, issued: e.opts.Now()}
	return e.base + "/response/" + id
}

// flexBool reads the booleans of a response_url body, which Slack's own
// docs send as "true"/"false" strings.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	*b = flexBool(s == "true" || s == "1")
	return nil
}

type responseBody struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal flexBool        `json:"replace_original"`
	DeleteOriginal  flexBool        `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func (e *Emulator) serveResponse(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	status, errCode := e.respond(r.Method, id, raw)
	e.recordRequest(Request{HTTPMethod: r.Method, Path: "/response/…", Status: status, Error: errCode})
	if errCode != "" {
		writeJSON(w, status, apiError(errCode))
		return
	}
	writeJSON(w, status, map[string]any{"ok": true})
}

func (e *Emulator) respond(httpMethod, id string, raw []byte) (int, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, found := e.responseURLs[id]
	if !found || httpMethod != http.MethodPost {
		// Nothing but a URL the emulator issued should ever be posted to.
		e.unexpected = append(e.unexpected, httpMethod+" unknown response_url")
		return http.StatusNotFound, "no_such_url"
	}
	var body responseBody
	rec := Response{ID: id, Kind: u.kind}
	status, errCode := e.applyResponse(u, raw, &body)
	rec.ResponseType, rec.ReplaceOriginal, rec.DeleteOriginal = body.ResponseType, bool(body.ReplaceOriginal), bool(body.DeleteOriginal)
	rec.ThreadTS, rec.Text, rec.Status, rec.Error = body.ThreadTS, body.Text, status, errCode
	if len(body.Blocks) > 0 && string(body.Blocks) != "null" {
		rec.Blocks = body.Blocks
	}
	e.responses = append(e.responses, rec)
	return status, errCode
}

// applyResponse does what Slack does with a response_url POST. Caller holds mu.
func (e *Emulator) applyResponse(u *responseURL, raw []byte, body *responseBody) (int, string) {
	switch {
	case e.opts.Now().Sub(u.issued) > responseURLLife:
		return http.StatusNotFound, "expired_url"
	case u.uses >= responseURLUses:
		return http.StatusNotFound, "used_url"
	}
	if err := json.Unmarshal(raw, body); err != nil {
		return http.StatusBadRequest, "invalid_payload"
	}
	u.uses++
	var blocks json.RawMessage
	if len(body.Blocks) > 0 && string(body.Blocks) != "null" {
		if err := checkBlocks(body.Blocks); err != nil {
			return http.StatusBadRequest, "invalid_blocks"
		}
		blocks = body.Blocks
	}
	original := e.findMessage(u.channel, u.messageTS)
	switch {
	case bool(body.DeleteOriginal) && original != nil:
		original.Deleted = true
		return http.StatusOK, ""
	case bool(body.ReplaceOriginal) && original != nil:
		e.replace(original, body.Text, blocks, "response_url")
		return http.StatusOK, ""
	}
	if body.Text == "" && blocks == nil {
		return http.StatusBadRequest, "no_text"
	}
	ch := e.channels[u.channel]
	if body.ResponseType == "in_channel" && ch != nil {
		// response_url bypasses channel membership and the posting rate.
		ch.messages = append(ch.messages, &Message{Channel: ch.id, TS: e.nextTS(), ThreadTS: body.ThreadTS,
			User: e.opts.BotUserID, BotID: e.opts.BotID, Text: body.Text, Blocks: blocks, Via: "response_url"})
		return http.StatusOK, ""
	}
	e.ephemerals = append(e.ephemerals, Ephemeral{Channel: u.channel, User: u.user, TS: e.nextTS(),
		Text: body.Text, Blocks: blocks, Via: "response_url"})
	return http.StatusOK, ""
}
