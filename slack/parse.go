package slack

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/novasre/nova"
)

// parseCommand reads a slash command's form body. sslCheck reports Slack's
// certificate probe, which carries no command.
func parseCommand(body []byte) (req nova.CommandRequest, sslCheck bool, err error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return req, false, nova.WrapError(nova.EINVALID, err, "malformed slash command body")
	}
	if form.Get("ssl_check") == "1" {
		return req, true, nil
	}
	req, err = commandFields{
		UserID:      form.Get("user_id"),
		UserName:    form.Get("user_name"),
		ChannelID:   form.Get("channel_id"),
		TeamID:      form.Get("team_id"),
		Text:        form.Get("text"),
		ResponseURL: form.Get("response_url"),
	}.request()
	return req, false, err
}

// parseCommandJSON reads a Socket Mode slash_commands payload: the same
// fields as the HTTP form, as a JSON object.
func parseCommandJSON(payload []byte) (nova.CommandRequest, error) {
	var f commandFields
	if err := json.Unmarshal(payload, &f); err != nil {
		return nova.CommandRequest{}, nova.WrapError(nova.EINVALID, err, "malformed slash command payload")
	}
	return f.request()
}

// commandFields are the slash command fields Nova uses.
type commandFields struct {
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name"`
	ChannelID   string `json:"channel_id"`
	TeamID      string `json:"team_id"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
}

func (f commandFields) request() (nova.CommandRequest, error) {
	if f.UserID == "" {
		return nova.CommandRequest{}, nova.Errorf(nova.EINVALID, "slash command without user_id")
	}
	return nova.CommandRequest{
		UserID:      f.UserID,
		UserName:    f.UserName,
		ChannelID:   f.ChannelID,
		TeamID:      f.TeamID,
		Text:        strings.TrimSpace(f.Text),
		ResponseURL: f.ResponseURL,
	}, nil
}

// interactionPayload holds the parts of a block_actions payload Nova uses.
// Decoding only these keeps the parser small and tolerant of the many
// fields Slack adds over time.
type interactionPayload struct {
	Type        string `json:"type"`
	TriggerID   string `json:"trigger_id"`
	ResponseURL string `json:"response_url"`
	User        struct {
		ID string `json:"id"`
	} `json:"user"`
	Channel *struct {
		ID string `json:"id"`
	} `json:"channel"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTS string `json:"message_ts"`
	} `json:"container"`
	Message *struct {
		TS string `json:"ts"`
	} `json:"message"`
	Actions []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
}

// parseInteraction reads an interaction payload. handled is false for
// payloads Nova does not act on (modals, shortcuts, clicks without an
// action), which are acknowledged and dropped.
func parseInteraction(payload []byte) (in nova.Interaction, handled bool, err error) {
	var p interactionPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return in, false, nova.WrapError(nova.EINVALID, err, "malformed interaction payload")
	}
	if p.Type != "block_actions" || len(p.Actions) == 0 {
		return in, false, nil
	}
	if p.User.ID == "" {
		return in, false, nova.Errorf(nova.EINVALID, "interaction without user")
	}
	in = nova.Interaction{
		UserID:      p.User.ID,
		ActionID:    p.Actions[0].ActionID,
		Value:       p.Actions[0].Value,
		ChannelID:   p.Container.ChannelID,
		MessageTS:   p.Container.MessageTS,
		ResponseURL: p.ResponseURL,
		TriggerID:   p.TriggerID,
	}
	if p.Channel != nil && p.Channel.ID != "" {
		in.ChannelID = p.Channel.ID
	}
	if p.Message != nil && p.Message.TS != "" {
		in.MessageTS = p.Message.TS
	}
	return in, true, nil
}

// interactionFormPayload extracts the payload field of an interaction's
// form body.
func interactionFormPayload(body []byte) ([]byte, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nova.WrapError(nova.EINVALID, err, "malformed interaction body")
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, nova.Errorf(nova.EINVALID, "interaction without payload")
	}
	return []byte(payload), nil
}
