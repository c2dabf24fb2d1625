package bot

import (
	"context"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/writeback"
)

// reviewLoop posts the scheduled rollout review when its period begins
// (rollout.ScheduledReview), checking every rollout.ReviewTick; every
// replica runs it and the post happens once.
// After a failure (a channel the app is not in, Slack or PagerDuty down) it
// waits twice as long each time, up to maxReviewBackoff, so that a broken
// setting costs a failed post (and its audit entry) an hour, not a minute.
func (a *App) reviewLoop(ctx context.Context) {
	var backoff time.Duration
	for {
		wait := rollout.ReviewTick(a.cfg.Settings().Review.Every)
		if posted, err := a.rollout.ScheduledReview(ctx); err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, wait), maxReviewBackoff)
			wait = backoff
			a.log.WithError(err).WithField("retry_in", wait.String()).Warn("scheduled rollout review failed")
		} else {
			backoff = 0
			if posted {
				a.log.Info("scheduled rollout review posted")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// maxReviewBackoff bounds the wait after failed scheduled reviews.
const maxReviewBackoff = time.Hour

// postReview posts the scheduled review's message exactly once under its
// key, and audits the post.
func (a *App) postReview(ctx context.Context, p rollout.ReviewPost) (string, error) {
	chat, err := a.cfg.Envs.Chat(p.Environment)
	if err != nil {
		return "", err
	}
	ts, auditID, err := a.writer.Post(ctx, chat, writeback.SlackPost{Key: p.Key, Channel: p.Channel,
		Message: func() nova.Message { return p.Message }, Oldest: p.Oldest})
	err = a.writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: p.Environment,
		Action: "slack.post.review", Detail: p.Detail + "; channel " + p.Channel + " ts " + ts})
	return ts, err
}
