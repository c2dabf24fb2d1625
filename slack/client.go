package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	slackgo "github.com/slack-go/slack"

	"github.com/novasre/nova"
)

// Client defaults.
const (
	DefaultAPIURL             = "https://slack.com/api/"
	DefaultPerChannelInterval = time.Second
	DefaultBurst              = 3
)

// MetadataEventType is the event_type of the metadata Nova attaches to
// its messages, which FindByMetadata looks for.
const MetadataEventType = "nova"

// ClientConfig is what NewClient needs.
type ClientConfig struct {
	// APIURL is the Web API base; it must end with "/" because slack-go
	// appends method names to it. Tests point it at slackemu.
	APIURL string
	// BotToken is called on every request so a rotated token is used at once.
	BotToken func() string
	// PerChannelInterval and Burst shape posting to each channel.
	PerChannelInterval time.Duration
	Burst              int
	HTTPClient         *http.Client
	Log                logrus.FieldLogger
	Registerer         prometheus.Registerer
}

// Client is Nova's Slack Web API client. Writes to a channel go through
// that channel's queue, in order and at Slack's posting rate.
type Client struct {
	cfg     ClientConfig
	api     *url.URL
	log     logrus.FieldLogger
	metrics *clientMetrics

	lanesMu sync.Mutex
	lanes   map[string]*lane
}

// NewClient validates cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.BotToken == nil {
		return nil, errors.New("slack: ClientConfig.BotToken is required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	api, err := url.Parse(cfg.APIURL)
	if err != nil || !api.IsAbs() || !strings.HasSuffix(cfg.APIURL, "/") {
		return nil, errors.New("slack: ClientConfig.APIURL must be an absolute URL ending with /")
	}
	if cfg.PerChannelInterval <= 0 {
		cfg.PerChannelInterval = DefaultPerChannelInterval
	}
	if cfg.Burst <= 0 {
		cfg.Burst = DefaultBurst
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = logrus.StandardLogger()
	}
	return &Client{
		cfg: cfg, api: api, log: cfg.Log,
		metrics: newClientMetrics(cfg.Registerer),
		lanes:   map[string]*lane{},
	}, nil
}

// sdk returns a slack-go client with the current token. It is cheap, and
// building one per call is what lets token rotation work without locks.
func (c *Client) sdk() *slackgo.Client {
	return slackgo.New(c.cfg.BotToken(),
		slackgo.OptionAPIURL(c.cfg.APIURL),
		slackgo.OptionHTTPClient(c.cfg.HTTPClient))
}

// count records a call's outcome and translates its error.
func (c *Client) count(method string, err error) error {
	err = mapError(method, err)
	result := "ok"
	if err != nil {
		result = nova.ErrorCode(err)
	}
	c.metrics.calls.WithLabelValues(method, result).Inc()
	return err
}

// messageOptions renders m for chat.* methods. An update always sends its
// blocks, even none, because that is how Slack clears the old ones (such as
// buttons already clicked); a new post leaves out an empty list.
func messageOptions(m nova.Message, update bool) []slackgo.MsgOption {
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(FallbackText(m), false)}
	if blocks := Render(m); len(blocks) > 0 || update {
		opts = append(opts, slackgo.MsgOptionBlocks(blocks...))
	}
	if len(m.Metadata) > 0 {
		payload := make(map[string]any, len(m.Metadata))
		for k, v := range m.Metadata {
			payload[k] = v
		}
		opts = append(opts, slackgo.MsgOptionMetadata(slackgo.SlackMetadata{EventType: MetadataEventType, EventPayload: payload}))
	}
	return opts
}

// Post posts m to channel, in the thread threadTS when set, and returns
// the new message's ts. m.Metadata travels as Slack message metadata so
// that FindByMetadata can find the message after a crash.
func (c *Client) Post(ctx context.Context, channel, threadTS string, m nova.Message) (string, error) {
	opts := messageOptions(m, false)
	if threadTS != "" {
		opts = append(opts, slackgo.MsgOptionTS(threadTS))
	}
	var ts string
	err := c.enqueue(ctx, channel, "chat.postMessage", func(ctx context.Context) error {
		var err error
		_, ts, err = c.sdk().PostMessageContext(ctx, channel, opts...)
		return err
	})
	return ts, c.count("chat.postMessage", err)
}

// Update replaces the message at ts in channel with m.
func (c *Client) Update(ctx context.Context, channel, ts string, m nova.Message) error {
	opts := messageOptions(m, true)
	err := c.enqueue(ctx, channel, "chat.update", func(ctx context.Context) error {
		_, _, _, err := c.sdk().UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
	return c.count("chat.update", err)
}

// PostEphemeral shows m to user alone, in channel.
func (c *Client) PostEphemeral(ctx context.Context, channel, user string, m nova.Message) error {
	opts := messageOptions(m, false)
	err := c.enqueue(ctx, channel, "chat.postEphemeral", func(ctx context.Context) error {
		_, err := c.sdk().PostEphemeralContext(ctx, channel, user, opts...)
		return err
	})
	return c.count("chat.postEphemeral", err)
}

// FindByMetadata returns the ts of a message Nova posted since oldest whose
// Nova metadata has key = value: in channel's top level when threadTS is
// empty, else in the thread threadTS. Nova calls it before posting again
// after a crash or a lost answer, so that a post whose answer never arrived
// is found instead of posted twice. It looks where the post went:
// conversations.history lists top-level messages only, never thread
// replies, so thread posts are searched with conversations.replies.
func (c *Client) FindByMetadata(ctx context.Context, channel, threadTS, key, value string, oldest time.Time) (string, bool, error) {
	if threadTS != "" {
		return c.findInThread(ctx, channel, threadTS, key, value, oldest)
	}
	params := &slackgo.GetConversationHistoryParameters{
		ChannelID: channel, IncludeAllMetadata: true, Limit: 200, Inclusive: true,
	}
	if !oldest.IsZero() {
		params.Oldest = formatTS(oldest)
	}
	for range maxFindPages {
		var resp *slackgo.GetConversationHistoryResponse
		err := c.withRetry(ctx, "conversations.history", func(ctx context.Context) error {
			var err error
			resp, err = c.sdk().GetConversationHistoryContext(ctx, params)
			return err
		})
		if err = c.count("conversations.history", err); err != nil {
			return "", false, err
		}
		if ts, ok := matchMetadata(resp.Messages, key, value); ok {
			return ts, true, nil
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return "", false, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", false, nil
}

// maxFindPages bounds a search to 4,000 messages: far more than one
// incident's window or thread holds.
const maxFindPages = 20

// findInThread searches the thread threadTS of channel with
// conversations.replies, which returns the thread's messages oldest first.
func (c *Client) findInThread(ctx context.Context, channel, threadTS, key, value string, oldest time.Time) (string, bool, error) {
	params := &slackgo.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: threadTS, IncludeAllMetadata: true, Limit: 200, Inclusive: true,
	}
	if !oldest.IsZero() {
		params.Oldest = formatTS(oldest)
	}
	for range maxFindPages {
		var msgs []slackgo.Message
		var more bool
		var next string
		err := c.withRetry(ctx, "conversations.replies", func(ctx context.Context) error {
			var err error
			msgs, more, next, err = c.sdk().GetConversationRepliesContext(ctx, params)
			return err
		})
		if err = c.count("conversations.replies", err); err != nil {
			return "", false, err
		}
		if ts, ok := matchMetadata(msgs, key, value); ok {
			return ts, true, nil
		}
		if !more || next == "" {
			return "", false, nil
		}
		params.Cursor = next
	}
	return "", false, nil
}

// matchMetadata returns the ts of the first message whose Nova metadata
// has key = value.
func matchMetadata(msgs []slackgo.Message, key, value string) (string, bool) {
	for _, m := range msgs {
		if m.Metadata.EventType != MetadataEventType {
			continue
		}
		if v, ok := m.Metadata.EventPayload[key].(string); ok && v == value {
			return m.Timestamp, true
		}
	}
	return "", false
}

// GroupMembers returns the user ids of a Slack user group, for admin and
// approver checks.
func (c *Client) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	var users []string
	err := c.withRetry(ctx, "usergroups.users.list", func(ctx context.Context) error {
		var err error
		users, err = c.sdk().GetUserGroupMembersContext(ctx, groupID)
		return err
	})
	return users, c.count("usergroups.users.list", err)
}

// Identity is who the bot token belongs to.
type Identity struct {
	TeamID string
	UserID string
	BotID  string
}

// AuthTest checks the bot token and returns its identity; Nova uses the
// user id to recognise its own messages.
func (c *Client) AuthTest(ctx context.Context) (Identity, error) {
	var id Identity
	err := c.withRetry(ctx, "auth.test", func(ctx context.Context) error {
		resp, err := c.sdk().AuthTestContext(ctx)
		if err == nil {
			id = Identity{TeamID: resp.TeamID, UserID: resp.UserID, BotID: resp.BotID}
		}
		return err
	})
	return id, c.count("auth.test", err)
}

// formatTS writes t as a Slack timestamp ("seconds.micros").
func formatTS(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}
