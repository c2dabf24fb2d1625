package pagerduty

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// apiCall is one logical call: attempts are retried until it succeeds,
// fails for good, or runs out of MaxElapsed.
type apiCall struct {
	name   string // for errors and logs, e.g. "add note to Q1"
	method string
	// run makes one attempt with a fresh go-pagerduty client.
	run func(ctx context.Context, pd *gopd.Client) error
	// reconcile, for a write that is not idempotent, runs before a retry
	// that follows an ambiguous failure (no answer, or 5xx) and reports
	// whether the earlier attempt took effect after all.
	reconcile func(ctx context.Context, pd *gopd.Client) (bool, error)
	// expected, when set, marks failures that are a normal answer for
	// this call (an account without a feature): they are logged at debug
	// level and the caller decides what to report.
	expected func(*nova.Error) bool
}

// attempt is what the transport saw of one attempt: go-pagerduty drops
// response headers and flattens transport errors into strings.
type attempt struct {
	status  int
	header  http.Header
	refused *nova.Error
}

type attemptKey struct{}

func attemptOf(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}

// verdict is how an attempt's failure is handled.
type verdict struct {
	retry     bool
	wait      time.Duration // before the next attempt
	ambiguous bool          // a write may have happened
	err       *nova.Error   // returned when no retry follows
	outcome   string        // metric label
	fields    logrus.Fields // PagerDuty's status and error code, for logs
}

func (c *Client) do(ctx context.Context, r apiCall) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.MaxElapsed)
	defer cancel()
	write := r.method != http.MethodGet
	ambiguous := false
	for n := 1; ; n++ {
		token := c.cfg.Token()
		if token == "" {
			return nova.Errorf(nova.EUNAUTHORIZED, "no PagerDuty API key for environment %s", c.cfg.Environment)
		}
		pd := c.api(token)
		fn := func(ctx context.Context) error { return r.run(ctx, pd) }
		if ambiguous && r.reconcile != nil {
			fn = func(ctx context.Context) error {
				// The look-up is a read of its own and waits its turn.
				if err := c.waitTurn(ctx, token, false); err != nil {
					return err
				}
				if done, err := r.reconcile(ctx, pd); err != nil || done {
					return err
				}
				return r.run(ctx, pd)
			}
		}
		v := c.attempt(ctx, token, write, r, fn)
		if v == nil {
			return nil
		}
		ambiguous = ambiguous || v.ambiguous
		if v.err.Code == nova.EUNAUTHORIZED && c.cfg.Token() != token {
			continue // the key was rotated under us: try the new one at once
		}
		if stop := c.pause(ctx, r, n, v); stop != nil {
			return stop
		}
	}
}

// attempt waits for the limiter and makes one attempt under Timeout; it
// returns nil on success.
func (c *Client) attempt(ctx context.Context, token string, write bool, r apiCall, fn func(context.Context) error) *verdict {
	if err := c.waitTurn(ctx, token, write); err != nil {
		return &verdict{err: err, outcome: "gave_up"}
	}
	a := &attempt{}
	actx, cancel := context.WithTimeout(context.WithValue(ctx, attemptKey{}, a), c.cfg.Timeout)
	err := fn(actx)
	cancel()
	if err == nil {
		c.count(r.method, "ok")
		return nil
	}
	v := c.classify(ctx, r, a, err)
	c.count(r.method, v.outcome)
	if v.outcome == "rate_limited" {
		c.holdOff(limiterKey(token), v.wait)
	}
	return &v
}

// holdOff stops every call on a credential until PagerDuty's
// ratelimit-reset has passed. Without it, the calls the limiter lets
// through meanwhile would each collect a 429 of their own: a 429 means
// someone else is spending this key too (a script, a replica that lost
// the shared limiter), so only PagerDuty's count is to be trusted.
func (c *Client) holdOff(key string, d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	until := time.Now().Add(d)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heldUntil == nil {
		c.heldUntil = map[string]time.Time{}
	}
	if until.After(c.heldUntil[key]) {
		c.heldUntil[key] = until
	}
}

func (c *Client) heldOff(key string) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Until(c.heldUntil[key])
}

// pause logs a failed attempt and sleeps before the next one; it returns
// the error to give up with, or nil to go on.
func (c *Client) pause(ctx context.Context, r apiCall, n int, v *verdict) error {
	fields := logrus.Fields{"op": r.name, "attempt": n, "outcome": v.outcome}
	for k, x := range v.fields {
		fields[k] = x
	}
	if !v.retry {
		if r.expected != nil && r.expected(v.err) {
			c.log.WithFields(fields).WithError(v.err).Debug("PagerDuty call answered as expected without the feature")
			return v.err
		}
		c.log.WithFields(fields).WithError(v.err).Warn("PagerDuty call failed")
		return v.err
	}
	wait := v.wait
	if wait == 0 {
		wait = c.backoff(n)
	}
	deadline, _ := ctx.Deadline()
	if time.Until(deadline) < wait {
		c.log.WithFields(fields).WithError(v.err).Warn("PagerDuty call gave up: out of time for retries")
		return v.err
	}
	c.log.WithFields(fields).WithField("wait", wait.String()).WithError(v.err).Info("PagerDuty call will be retried")
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return nova.WrapError(v.err.Code, ctx.Err(), "%s", v.err.Message)
	}
}

// backoff is full-jitter exponential: up to RetryBase·2^(n-1), capped at 8 s,
// so that replicas failing together do not retry together.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.cfg.RetryBase << min(n-1, 10)
	ceiling = min(ceiling, 8*time.Second)
	return ceiling/2 + rand.N(ceiling/2+1)
}

// waitTurn takes a turn from the shared limiter, waiting as it says. Reads
// leave ReadReserve in the bucket so writes go first.
func (c *Client) waitTurn(ctx context.Context, token string, write bool) *nova.Error {
	reserve := c.reserve
	switch {
	case write:
		reserve = 0
	case isBackground(ctx):
		reserve = c.backgroundReserve()
	}
	key := limiterKey(token)
	start := time.Now()
	for {
		wait := c.heldOff(key)
		if wait <= 0 {
			var err error
			if wait, err = c.cfg.Limiter.Take(ctx, key, c.rate, reserve); err != nil {
				return nova.WrapError(nova.EUNAVAILABLE, err, "PagerDuty rate limiter unavailable")
			}
			if wait <= 0 {
				c.observeWait(write, start)
				return nil
			}
		}
		deadline, _ := ctx.Deadline()
		if time.Until(deadline) < wait {
			return nova.Errorf(nova.ERATELIMITED, "PagerDuty request budget for environment %s is used up; try again in %s",
				c.cfg.Environment, wait.Round(time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nova.WrapError(nova.EUNAVAILABLE, ctx.Err(), "PagerDuty call cancelled while waiting for the rate limiter")
		}
	}
}

// resetWait reads PagerDuty's ratelimit-reset (seconds) from a 429.
func resetWait(h http.Header) time.Duration {
	s, err := strconv.Atoi(h.Get("ratelimit-reset"))
	if err != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

func (c *Client) count(method, outcome string) {
	if c.requests != nil {
		c.requests.WithLabelValues(c.cfg.Environment, method, outcome).Inc()
	}
}
