package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// MaxResultBody is how much of the receiver's answer is kept: enough for
// an error message or a job link, not enough to bloat a Slack message.
const MaxResultBody = 1024

// maxDelay caps the wait between attempts, including a Retry-After.
const maxDelay = 30 * time.Second

// Result is the receiver's last answer.
type Result struct {
	// Status is the HTTP status of the last attempt; 0 if none answered.
	Status int
	// Body is the start of the last answer, at most MaxResultBody bytes.
	Body string
	// Truncated is true when the answer was longer than Body.
	Truncated bool
	// Attempts counts the requests sent, including the first.
	Attempts int
}

// attempt is the outcome of one POST.
type attempt struct {
	status     int
	body       string
	truncated  bool
	err        error // nil on 2xx
	retry      bool
	retryAfter time.Duration
}

// Run POSTs r to the webhook, retrying 5xx, 408, 429, timeouts and network
// errors with backoff. Every attempt sends the same body and Idempotency-Key
// with a fresh timestamp and signature; a 2xx answer means the receiver took
// the action. Any other 4xx or a 3xx fails at once, since sending the same
// request again cannot change the answer. The Result is filled in on
// failure too, for the audit trail.
//
// A deadline on ctx bounds the whole run, Retry-After waits included: each
// attempt ends by it, and Run never waits for a retry that could not start
// before it. Nova gives every run a deadline inside the lease that keeps
// other replicas from starting the same run.
func (w *Webhook) Run(ctx context.Context, r Run) (Result, error) {
	if err := validateRun(r); err != nil {
		return Result{}, err
	}
	body, err := runBody(r)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for n := 1; ; n++ {
		res.Attempts = n
		a := w.post(ctx, body, r.IdempotencyKey)
		res.Status, res.Body, res.Truncated = a.status, a.body, a.truncated
		if a.err == nil {
			return res, nil
		}
		if !a.retry || n >= w.maxAttempts {
			return res, a.err
		}
		wait := w.delay(n, a.retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			// The run's time limit ends before the next attempt could start:
			// say so now rather than sleep until it does.
			return res, nova.WrapError(nova.EUNAVAILABLE, context.DeadlineExceeded,
				"stopped retrying the action webhook %s after %d attempt(s): the next one (in %s) could not start within the run's time limit; the last one failed with: %s",
				w.shownURL, n, wait.Round(time.Millisecond), nova.ErrorMessage(a.err))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return res, nova.WrapError(nova.EUNAVAILABLE, ctx.Err(),
				"stopped retrying the action webhook %s after %d attempt(s); the last one failed with: %s", w.shownURL, n, nova.ErrorMessage(a.err))
		case <-timer.C:
		}
	}
}

// post sends one signed attempt and classifies the answer.
func (w *Webhook) post(ctx context.Context, body []byte, key string) attempt {
	actx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return attempt{err: nova.WrapError(nova.EINTERNAL, w.safe(err), "build the action webhook request")}
	}
	ts := w.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "nova-action-webhook/1")
	req.Header.Set(HeaderIdempotencyKey, key)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))

	resp, err := w.client.Do(req)
	if err != nil {
		return w.transportFailure(ctx, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResultBody+1))
	// Drain a little more so the connection can be reused for the retry.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	a := attempt{status: resp.StatusCode}
	a.body, a.truncated = clip(b, MaxResultBody)
	code, status := resp.StatusCode, resp.Status
	switch {
	case code >= 200 && code < 300:
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		a.retry = true
		a.retryAfter = retryAfter(resp.Header.Get("Retry-After"))
		a.err = nova.Errorf(nova.EUNAVAILABLE, "the action webhook %s answered %s", w.shownURL, status)
	case code >= 300 && code < 400:
		a.err = nova.Errorf(nova.EINVALID, "the action webhook %s answered %s, a redirect; Nova does not follow redirects: configure the final URL", w.shownURL, status)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		a.err = nova.Errorf(nova.EUNAUTHORIZED, "the action webhook %s refused Nova's request with %s: check that both sides use the same secret and that the clocks agree", w.shownURL, status)
	default:
		a.err = nova.Errorf(nova.EINVALID, "the action webhook %s rejected the request with %s; it was not retried", w.shownURL, status)
	}
	return a
}

// transportFailure classifies an error from the HTTP client: the caller
// giving up stops the run; a timeout or a network error is retried.
func (w *Webhook) transportFailure(ctx context.Context, err error) attempt {
	cause := w.safe(err)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return attempt{err: nova.WrapError(nova.EUNAVAILABLE, cause,
			"the action webhook %s did not answer within the run's time limit; the action may have started anyway", w.shownURL)}
	}
	if ctx.Err() != nil {
		return attempt{err: nova.WrapError(nova.EUNAVAILABLE, cause, "gave up on the action webhook %s", w.shownURL)}
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		// The receiver may have started the action before the deadline; the
		// retry carries the same Idempotency-Key so it can tell.
		return attempt{retry: true, err: nova.WrapError(nova.EUNAVAILABLE, cause,
			"the action webhook %s did not answer within %s; the action may have started anyway", w.shownURL, w.timeout)}
	}
	return attempt{retry: true, err: nova.WrapError(nova.EUNAVAILABLE, cause, "could not reach the action webhook %s", w.shownURL)}
}

// delay is the wait before attempt n+1: exponential with jitter, or the
// receiver's Retry-After when that is longer, capped at maxDelay.
func (w *Webhook) delay(n int, retryAfter time.Duration) time.Duration {
	d := w.backoff
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	// Jitter keeps replicas that failed together from retrying together.
	d = d/2 + rand.N(d/2+1)
	return min(max(d, retryAfter), maxDelay)
}

// retryAfter parses a Retry-After given in seconds; dates are ignored.
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || s <= 0 {
		return 0
	}
	return min(time.Duration(s)*time.Second, maxDelay)
}

// clip returns b as valid UTF-8 of at most n bytes, cut on a rune
// boundary, and whether anything was cut.
func clip(b []byte, n int) (string, bool) {
	if len(b) <= n {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return strings.ToValidUTF8(string(b[:i]), "\uFFFD"), true
}

// safeError keeps the cause for errors.Is while its text is scrubbed.
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

// safe drops net/http's *url.Error layer, whose text is the full URL, and
// scrubs anything secret that might still be in the message (a proxy error,
// say). The cause stays reachable for errors.Is.
func (w *Webhook) safe(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	for _, s := range w.secretParts() {
		msg = strings.ReplaceAll(msg, s, "***")
	}
	return &safeError{msg: msg, err: err}
}

// secretParts are the strings that must never appear in an error.
func (w *Webhook) secretParts() []string {
	parts := []string{w.secret, w.url.String(), w.url.RawQuery, w.url.EscapedPath()}
	if w.url.User != nil {
		parts = append(parts, w.url.User.String())
		if p, ok := w.url.User.Password(); ok {
			parts = append(parts, p)
		}
	}
	var out []string
	for _, p := range parts {
		if len(p) > 1 { // "/" or "" would mangle every message
			out = append(out, p)
		}
	}
	return out
}

// String describes a result for the request's Result field and the audit.
func (r Result) String() string {
	if r.Status == 0 {
		return fmt.Sprintf("no answer after %d attempt(s)", r.Attempts)
	}
	s := fmt.Sprintf("HTTP %d after %d attempt(s)", r.Status, r.Attempts)
	if r.Body != "" {
		s += ": " + r.Body
		if r.Truncated {
			s += "…"
		}
	}
	return s
}
