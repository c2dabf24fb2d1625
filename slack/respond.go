package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/novasre/nova"
)

// Respond posts r to a response_url from a slash command or click. Slack
// accepts five uses within 30 minutes. The URL must be https, or plain
// http on the API URL's host (the emulator): a response_url is only ever
// Slack's, and Nova should not be steered into posting anywhere else.
func (c *Client) Respond(ctx context.Context, responseURL string, r nova.Reply) error {
	u, err := url.Parse(responseURL)
	if err != nil || !c.allowedResponseURL(u) {
		return c.count("response_url", nova.Errorf(nova.EINVALID, "refusing to post to a response_url that is not Slack's"))
	}
	body, err := ReplyJSON(r)
	if err != nil {
		return c.count("response_url", nova.WrapError(nova.EINTERNAL, err, "render reply"))
	}
	err = c.withRetry(ctx, "response_url", func(ctx context.Context) error {
		return c.postResponse(ctx, u.String(), body)
	})
	return c.count("response_url", err)
}

func (c *Client) allowedResponseURL(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		return u.Host == c.api.Host && c.api.Scheme == "http"
	}
	return false
}

// postResponse sends one response_url POST. No token is sent: the URL
// itself is the credential.
func (c *Client) postResponse(ctx context.Context, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL is a capability; keep it out of the error text.
		var ue *url.Error
		if errors.As(err, &ue) {
			return &net.OpError{Op: "post", Net: "tcp", Err: ue.Err}
		}
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &slackgo.RateLimitedError{RetryAfter: time.Duration(secs) * time.Second}
	}
	// Slack answers "ok" as text or {"ok":...} as JSON, depending on the surface.
	var result struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(answer, &result) == nil && !result.OK && result.Error != "" {
		return slackgo.SlackErrorResponse{Err: result.Error}
	}
	if resp.StatusCode != http.StatusOK {
		return slackgo.StatusCodeError{Code: resp.StatusCode, Status: resp.Status}
	}
	return nil
}
