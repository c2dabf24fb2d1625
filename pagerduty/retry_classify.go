package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	gopd "github.com/PagerDuty/go-pagerduty"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// classify turns a failed attempt into a verdict. 429, 5xx, timeouts and
// connection errors are retried; every other answer is final. Messages
// name the operation and environment, never the token.
func (c *Client) classify(ctx context.Context, r apiCall, a *attempt, err error) verdict {
	write := r.method != http.MethodGet
	var ne *nova.Error
	var ae gopd.APIError
	switch {
	case a.refused != nil:
		return verdict{err: a.refused, outcome: "refused"}
	case errors.As(err, &ne):
		return verdict{err: ne, outcome: "gave_up"}
	case errors.As(err, &ae):
		return c.classifyAPIError(r, a, ae)
	case ctx.Err() != nil:
		// The caller gave up (or MaxElapsed passed), not PagerDuty.
		return verdict{err: nova.WrapError(nova.EUNAVAILABLE, ctx.Err(), "%s: gave up waiting for PagerDuty", r.name),
			outcome: "cancelled"}
	case a.status >= 200 && a.status < 300 && isDecodeError(err):
		// PagerDuty answered in a shape Nova cannot read; asking again
		// would get the same answer.
		return verdict{err: nova.WrapError(nova.EINTERNAL, err, "%s: unreadable PagerDuty response", r.name),
			outcome: "bad_response"}
	}
	// No answer (timeout, reset connection) or a cut-off one: PagerDuty may
	// or may not have performed a write.
	return verdict{retry: true, ambiguous: write, outcome: "network_error",
		err: nova.WrapError(nova.EUNAVAILABLE, err, "%s: PagerDuty did not answer", r.name)}
}

func (c *Client) classifyAPIError(r apiCall, a *attempt, ae gopd.APIError) verdict {
	status, code, msg := ae.StatusCode, 0, ""
	fields := logrus.Fields{"status": status}
	if ae.APIError.Valid {
		obj := ae.APIError.ErrorObject
		code, msg = obj.Code, obj.Message
		fields["pd_code"], fields["pd_message"] = code, msg
		if len(obj.Errors) > 0 {
			fields["pd_errors"] = strings.Join(obj.Errors, "; ")
		}
	}
	env := c.cfg.Environment
	v := verdict{fields: fields}
	switch {
	case status == http.StatusTooManyRequests:
		v.retry, v.wait, v.outcome = true, resetWait(a.header), "rate_limited"
		v.err = nova.WrapError(nova.ERATELIMITED, ae, "%s: PagerDuty rate limit reached for environment %s", r.name, env)
	case status >= 500 || status == http.StatusRequestTimeout:
		v.retry, v.ambiguous, v.outcome = true, r.method != http.MethodGet, "server_error"
		v.err = nova.WrapError(nova.EUNAVAILABLE, ae, "%s: PagerDuty answered %d", r.name, status)
	case status == http.StatusNotFound || code == 2100:
		v.outcome = "not_found"
		v.err = nova.WrapError(nova.ENOTFOUND, ae, "%s: not found in PagerDuty environment %s", r.name, env)
	case status == http.StatusUnauthorized:
		v.outcome = "unauthorized"
		v.err = nova.WrapError(nova.EUNAUTHORIZED, ae, "%s: PagerDuty rejected the API key of environment %s", r.name, env)
	case status == http.StatusForbidden || status == http.StatusPaymentRequired:
		v.outcome = "forbidden"
		v.err = nova.WrapError(nova.EFORBIDDEN, ae, "%s: PagerDuty does not allow this for environment %s: %s", r.name, env, msg)
	case code == 1001 || code == 1002 || code == 1005 || code == 1019:
		// Already resolved / acknowledged / changed meanwhile / merged.
		v.outcome = "conflict"
		v.err = nova.WrapError(nova.ECONFLICT, ae, "%s: %s", r.name, msg)
	case status == http.StatusRequestEntityTooLarge:
		v.outcome = "too_large"
		v.err = nova.WrapError(nova.ETOOLARGE, ae, "%s: PagerDuty says the request is too large", r.name)
	default:
		v.outcome = "client_error"
		v.err = nova.WrapError(nova.EINVALID, ae, "%s: PagerDuty rejected the request: %s (code %d)", r.name, msg, code)
	}
	return v
}

// isDecodeError reports whether err came from reading JSON; go-pagerduty
// sometimes flattens such errors to text, hence the string checks.
func isDecodeError(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var re *responseError
	if errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &re) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "JSON") || strings.Contains(s, "json:") || strings.Contains(s, "unexpected end of JSON")
}
