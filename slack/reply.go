package slack

import (
	"encoding/json"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/novasre/nova"
)

// Response types of a reply.
const (
	responseEphemeral = "ephemeral"
	responseInChannel = "in_channel"
)

// replyBody is a reply as Slack takes it in a slash command's HTTP answer,
// a Socket Mode ack and a response_url POST. response_type and
// replace_original are always sent: Slack's defaults differ between those
// three places, so nothing is left to them.
type replyBody struct {
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	Text            string          `json:"text"`
	Blocks          []slackgo.Block `json:"blocks,omitempty"`
}

func newReplyBody(r nova.Reply) replyBody {
	body := replyBody{
		ResponseType:    responseEphemeral,
		ReplaceOriginal: r.ReplaceOriginal,
		Text:            FallbackText(r.Message),
		Blocks:          Render(r.Message),
	}
	if r.InChannel {
		body.ResponseType = responseInChannel
	}
	return body
}

// ReplyJSON renders a reply as the JSON Slack accepts as an immediate
// answer and on a response_url.
func ReplyJSON(r nova.Reply) ([]byte, error) {
	return json.Marshal(newReplyBody(r))
}

// emptyReply reports whether r has nothing to show, in which case Nova
// answers with an empty 200 and posts nothing to the response_url.
func emptyReply(r nova.Reply) bool {
	return strings.TrimSpace(string(r.Text)) == "" && len(r.Blocks) == 0
}

// errorReply is what a person sees when App refuses or fails: Slack shows
// a non-200 answer as a bare failure, so errors travel as ephemeral text.
func errorReply(err error) nova.Reply {
	// Error messages can quote outside text (what the user typed, a
	// request's title): escaped, keeping only the approver mentions Nova
	// writes. The reply is ephemeral, so even those notify nobody.
	return nova.Reply{Message: nova.Message{Text: "⚠️ " + nova.EscapeExceptMentions(nova.ErrorMessage(err))}}
}

// workingReply acknowledges a slash command whose answer is still being
// prepared; the real reply follows on the response_url.
var workingReply = nova.Reply{Message: nova.Message{Text: "⏳ Working on it…"}}
