package nova

import (
	"context"
	"errors"
	"fmt"
)

// Error codes. Adapters translate their failures into these; the HTTP layer
// maps them to status codes in one table (web.StatusCode).
const (
	EINVALID      = "invalid"      // malformed input
	EUNAUTHORIZED = "unauthorized" // missing or bad signature or credentials
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // lost a compare-and-set, or a state that forbids the change
	ETOOLARGE     = "too_large"    // body or field over its limit
	EUNAVAILABLE  = "unavailable"  // a dependency (store, PagerDuty, Slack) cannot be reached; retry later
	ERATELIMITED  = "rate_limited" // over a rate limit; retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is Nova's error type. Message is safe to show to users: it never
// holds a secret. Err keeps the underlying cause for logs and errors.Is.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with code and a formatted user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an Error with code and message that keeps err as its cause.
func WrapError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain, or a generic message for other errors (whose text may hold details
// users should not see).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// IsCode reports whether err carries code.
func IsCode(err error, code string) bool { return err != nil && ErrorCode(err) == code }

// ErrUngrounded marks a language model's answer that says something the
// triage result does not: a cause outside the candidates, an id, URL or
// number not in the evidence, markup, or a catalog action triage did not
// suggest. The caller posts the deterministic text instead and counts it.
var ErrUngrounded = errors.New("the model's text is not supported by the evidence")

// IsRetryable reports whether err is worth another attempt later: a
// dependency unreachable or rate-limited, a lost compare-and-set, a
// deadline that passed. Anything else fails the same way again.
func IsRetryable(err error) bool {
	switch ErrorCode(err) {
	case EUNAVAILABLE, ERATELIMITED, ECONFLICT:
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}
