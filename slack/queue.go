package slack

import (
	"context"
	"errors"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"
)

// bucket is a token bucket: one token every interval, at most burst saved.
// Slack allows about one message per second per channel with short bursts.
type bucket struct {
	interval time.Duration
	burst    float64
	tokens   float64
	last     time.Time
}

// take reserves a token and returns how long to wait before using it.
func (b *bucket) take(now time.Time) time.Duration {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.interval))
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens * float64(b.interval))
}

// drain empties the bucket after Slack said 429, so the posts queued
// behind resume at the steady rate instead of bursting into another 429.
func (b *bucket) drain(now time.Time) {
	b.tokens, b.last = 0, now
}

// job is one Web API call waiting in a channel's lane.
type job struct {
	ctx    context.Context
	method string
	run    func(ctx context.Context) error
	done   chan error
}

// lane serialises the writes to one channel: one worker drains it in
// order, so messages appear in the order Nova posted them.
type lane struct {
	mu      sync.Mutex
	jobs    []*job
	running bool
	bucket  bucket
}

// enqueue runs fn in channel's lane and waits for its result. A 429 is
// retried after Retry-After for as long as ctx allows: a storm delays
// messages but loses none. A job whose ctx ends while queued is skipped.
func (c *Client) enqueue(ctx context.Context, channel, method string, fn func(ctx context.Context) error) error {
	j := &job{ctx: ctx, method: method, run: fn, done: make(chan error, 1)}
	c.lanesMu.Lock()
	l, ok := c.lanes[channel]
	if !ok {
		l = &lane{bucket: bucket{interval: c.cfg.PerChannelInterval, burst: float64(c.cfg.Burst)}}
		c.lanes[channel] = l
	}
	c.lanesMu.Unlock()

	l.mu.Lock()
	l.jobs = append(l.jobs, j)
	if !l.running {
		l.running = true
		go c.work(l)
	}
	l.mu.Unlock()

	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) work(l *lane) {
	for {
		l.mu.Lock()
		if len(l.jobs) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		j := l.jobs[0]
		l.jobs = l.jobs[1:]
		l.mu.Unlock()
		j.done <- c.runJob(l, j)
	}
}

func (c *Client) runJob(l *lane, j *job) error {
	for {
		// Only this lane's worker touches its bucket, so it needs no lock.
		if err := sleep(j.ctx, l.bucket.take(time.Now())); err != nil {
			return err
		}
		err := j.run(j.ctx)
		var rl *slackgo.RateLimitedError
		if !errors.As(err, &rl) {
			return err
		}
		c.metrics.rateLimited.WithLabelValues(j.method).Inc()
		wait := max(rl.RetryAfter, c.cfg.PerChannelInterval)
		c.log.WithField("method", j.method).WithField("retry_after", wait).Warn("slack: rate limited; waiting to retry")
		l.bucket.drain(time.Now())
		if err := sleep(j.ctx, wait); err != nil {
			return err
		}
	}
}

// withRetry runs a call that is not tied to a channel, retrying 429s after
// Retry-After up to a few times.
func (c *Client) withRetry(ctx context.Context, method string, fn func(ctx context.Context) error) error {
	const attempts = 5
	for i := 1; ; i++ {
		err := fn(ctx)
		var rl *slackgo.RateLimitedError
		if !errors.As(err, &rl) || i == attempts {
			return err
		}
		c.metrics.rateLimited.WithLabelValues(method).Inc()
		if err := sleep(ctx, max(rl.RetryAfter, time.Second)); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
