package nova

// Message is a platform-neutral chat message; the Slack adapter renders it
// as Block Kit. Keeping it neutral lets bot build messages without slack-go.
type Message struct {
	// Text is the notification and fallback text (mrkdwn: Slack parses it).
	Text   Mrkdwn  `json:"text"`
	Blocks []Block `json:"blocks,omitempty"`
	// Metadata tags the message (for example with an idempotency key) so that
	// it can be found again after a crash.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// BlockKind is the kind of a message block.
type BlockKind string

// Block kinds.
const (
	BlockHeader  BlockKind = "header"
	BlockSection BlockKind = "section"
	BlockFields  BlockKind = "fields"
	BlockContext BlockKind = "context"
	BlockActions BlockKind = "actions"
	BlockDivider BlockKind = "divider"
)

// Block is one block of a message. Text and Fields are Mrkdwn, so outside
// text in them is escaped (see Escape); a header shows its Text as plain
// text (Mrkdwn.Plain).
type Block struct {
	Kind    BlockKind `json:"kind"`
	Text    Mrkdwn    `json:"text,omitempty"`
	Fields  []Mrkdwn  `json:"fields,omitempty"`
	Buttons []Button  `json:"buttons,omitempty"`
	// MoreURL is where a reader finds the full text when it is truncated;
	// it is linked only if it passes SafeURL.
	MoreURL string `json:"more_url,omitempty"`
}

// Button styles.
const (
	StylePrimary = "primary"
	StyleDanger  = "danger"
)

// Button is an interactive button. Value carries only an opaque id. Text
// and the Confirm texts are plain text (Slack does not parse them); URL is
// kept only if it passes SafeURL.
type Button struct {
	ActionID string   `json:"action_id"`
	Text     string   `json:"text"`
	Value    string   `json:"value,omitempty"`
	Style    string   `json:"style,omitempty"`
	URL      string   `json:"url,omitempty"`
	Confirm  *Confirm `json:"confirm,omitempty"`
}

// Confirm is a confirmation dialog shown before a button acts.
type Confirm struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	Yes   string `json:"yes"`
	No    string `json:"no"`
}

// CommandRequest is a /nova slash command after its signature was verified.
type CommandRequest struct {
	UserID      string `json:"user_id"`
	UserName    string `json:"user_name,omitempty"`
	ChannelID   string `json:"channel_id"`
	TeamID      string `json:"team_id,omitempty"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url,omitempty"`
	// Environments whose Slack signing secret verified the request.
	Environments []string `json:"environments,omitempty"`
}

// Interaction is a button click after its signature was verified.
type Interaction struct {
	UserID      string `json:"user_id"`
	ActionID    string `json:"action_id"`
	Value       string `json:"value"`
	ChannelID   string `json:"channel_id,omitempty"`
	MessageTS   string `json:"message_ts,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
	TriggerID   string `json:"trigger_id,omitempty"`
	// Environments whose Slack signing secret verified the request.
	Environments []string `json:"environments,omitempty"`
}

// Reply is an answer to a command or interaction.
type Reply struct {
	Message
	// InChannel makes the reply visible to the channel; default ephemeral.
	InChannel bool `json:"in_channel,omitempty"`
	// ReplaceOriginal updates the message that held the clicked button.
	ReplaceOriginal bool `json:"replace_original,omitempty"`
}
