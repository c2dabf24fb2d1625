package slack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"

	slackgo "github.com/slack-go/slack"

	"github.com/novasre/nova"
)

// slackErrorCodes maps Slack's "error" strings to Nova codes. Codes not
// listed are EINTERNAL: an error Nova does not expect is a bug to look at.
var slackErrorCodes = map[string]string{
	"invalid_auth":            nova.EUNAUTHORIZED,
	"not_authed":              nova.EUNAUTHORIZED,
	"account_inactive":        nova.EUNAUTHORIZED,
	"token_revoked":           nova.EUNAUTHORIZED,
	"token_expired":           nova.EUNAUTHORIZED,
	"channel_not_found":       nova.ENOTFOUND,
	"message_not_found":       nova.ENOTFOUND,
	"thread_not_found":        nova.ENOTFOUND,
	"user_not_found":          nova.ENOTFOUND,
	"no_such_subteam":         nova.ENOTFOUND,
	"subteam_not_found":       nova.ENOTFOUND,
	"expired_url":             nova.ENOTFOUND,
	"used_url":                nova.ENOTFOUND,
	"ratelimited":             nova.ERATELIMITED,
	"rate_limited":            nova.ERATELIMITED,
	"not_in_channel":          nova.EFORBIDDEN,
	"is_archived":             nova.EFORBIDDEN,
	"missing_scope":           nova.EFORBIDDEN,
	"restricted_action":       nova.EFORBIDDEN,
	"cant_update_message":     nova.EFORBIDDEN,
	"edit_window_closed":      nova.EFORBIDDEN,
	"user_not_in_channel":     nova.EFORBIDDEN,
	"invalid_blocks":          nova.EINVALID,
	"invalid_arguments":       nova.EINVALID,
	"invalid_metadata_format": nova.EINVALID,
	"msg_too_long":            nova.EINVALID,
	"no_text":                 nova.EINVALID,
	"fatal_error":             nova.EUNAVAILABLE,
	"internal_error":          nova.EUNAVAILABLE,
	"service_unavailable":     nova.EUNAVAILABLE,
	"request_timeout":         nova.EUNAVAILABLE,
}

// tokenPattern matches Slack tokens so that none survives into an error
// or a log line, whatever a library or a server echoed back.
var tokenPattern = regexp.MustCompile(`xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+`)

// redacted is a cause whose text has tokens removed; it still unwraps to
// the original for errors.Is and errors.As.
type redacted struct {
	msg   string
	cause error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.cause }

func redact(err error) error {
	if err == nil {
		return nil
	}
	return &redacted{msg: tokenPattern.ReplaceAllString(err.Error(), "xox…REDACTED"), cause: err}
}

// mapError translates a slack-go or transport failure of op (a Web API
// method name) into a *nova.Error whose message is safe to show.
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ne *nova.Error
	if errors.As(err, &ne) {
		return err
	}
	code, what := classify(err)
	return nova.WrapError(code, redact(err), "Slack %s: %s", op, what)
}

func classify(err error) (code, what string) {
	var rl *slackgo.RateLimitedError
	var se slackgo.SlackErrorResponse
	var sc slackgo.StatusCodeError
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return nova.EUNAVAILABLE, "gave up waiting"
	case errors.As(err, &rl):
		return nova.ERATELIMITED, "rate limited"
	case errors.As(err, &se):
		if c, ok := slackErrorCodes[se.Err]; ok {
			return c, se.Err
		}
		return nova.EINTERNAL, se.Err
	case errors.As(err, &sc):
		return statusCode(sc.Code), http.StatusText(sc.Code)
	case errors.As(err, &netErr), errors.As(err, &urlErr):
		return nova.EUNAVAILABLE, "cannot reach Slack"
	}
	return nova.EINTERNAL, "unexpected answer"
}

func statusCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return nova.ERATELIMITED
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nova.EUNAUTHORIZED
	case status == http.StatusNotFound || status == http.StatusGone:
		return nova.ENOTFOUND
	case status >= 500:
		return nova.EUNAVAILABLE
	}
	return nova.EINTERNAL
}
