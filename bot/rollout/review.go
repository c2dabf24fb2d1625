package rollout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/store"
)

// The rollout review in Slack: /nova review for admins, and the scheduled
// review posted to the admins' channel once per period, by whichever
// replica gets there first.

// Reviewer builds the rollout review of the period that ends now (cmd/nova
// gathers the configuration, store, audit log, PagerDuty and Slack state).
type Reviewer interface {
	Review(ctx context.Context, period time.Duration) (review.Report, error)
}

// ReviewPost is the scheduled review's message, to be posted exactly once
// under Key (and audited).
type ReviewPost struct {
	Key         string
	Environment string
	Channel     string
	// Oldest bounds how far back an earlier attempt is looked for.
	Oldest  time.Time
	Message nova.Message
	// Detail describes the post for the audit log.
	Detail string
}

// DefaultReviewPeriod is what /nova review covers without a schedule.
const DefaultReviewPeriod = 90 * 24 * time.Hour

// reviewMark records the start of the last period whose scheduled review
// was posted: the exactly-once record of the post itself expires, this
// mark does not, so a period is never reviewed twice.
type reviewMark struct {
	Period time.Time `json:"period"`
	TS     string    `json:"ts"`
	At     time.Time `json:"at"`
}

// ReviewTick is how often a replica checks whether the period's review is
// due: a minute for quarterly reviews, down to a second for short periods.
func ReviewTick(every time.Duration) time.Duration {
	return min(max(every/3600, time.Second), time.Minute)
}

// reviewLink is the full report of a period, through the API.
func reviewLink(publicURL string, period time.Duration) string {
	if publicURL == "" {
		return ""
	}
	since := period.String()
	if period%(24*time.Hour) == 0 {
		since = fmt.Sprintf("%dd", int(period/(24*time.Hour)))
	}
	return strings.TrimRight(publicURL, "/") + "/api/v1/review?format=md&since=" + since
}

// reviewMessage is the review's summary for Slack: everything in it is
// escaped (people are named, not mentioned), and a summary cut to fit
// links to the full report.
func reviewMessage(rep review.Report, link string) nova.Message {
	if link == "" {
		return render.Text("%s", rep.Summary(""))
	}
	m := render.Text("%s\nFull report: %s", strings.TrimSuffix(rep.Summary(""), "\nFull report: `nova review`"),
		nova.MrkdwnLink(link, "Markdown, through the API")+" or `nova review`")
	if u, ok := nova.SafeURL(link); ok && len(m.Blocks) > 0 {
		m.Blocks[0].MoreURL = u
	}
	return m
}

// ReviewCommand answers /nova review [PERIOD] with the review's summary. The
// MayReview reports whether user may read the rollout review: the rule of
// /nova review (a global admin, directly or through a user group, or an
// admin of every environment), for callers outside Slack such as the web
// review page.
func (r *Rollout) MayReview(ctx context.Context, user string) (bool, error) {
	ok, _, err := r.globalAdmin(ctx, Caller{User: user})
	return ok, err
}

// review covers every environment (keys, access, audit), so it needs a
// global admin, like pause.
func (r *Rollout) ReviewCommand(ctx context.Context, req nova.CommandRequest, args []string) (nova.Reply, error) {
	if r.cfg.Reviewer == nil {
		return nova.Reply{}, nova.Errorf(nova.EUNAVAILABLE, "the rollout review is not available on this Nova")
	}
	admin, _, err := r.globalAdmin(ctx, CallerOf(req))
	if err != nil {
		return nova.Reply{}, err
	}
	if !admin {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "only Nova admins of every environment (or global admins) can run the review: it covers every environment's keys, access and audit log")
	}
	set := r.settings()
	period := set.Review.Every
	if period <= 0 {
		period = DefaultReviewPeriod
	}
	switch len(args) {
	case 0:
	case 1:
		if period, err = review.ParsePeriod(args[0]); err != nil {
			return nova.Reply{}, nova.Errorf(nova.EINVALID, "%v", err)
		}
	default:
		return nova.Reply{}, nova.Errorf(nova.EINVALID, "usage: `/nova review [90d]`")
	}
	rep, err := r.cfg.Reviewer.Review(ctx, period)
	if err != nil {
		return nova.Reply{}, fmt.Errorf("build the review: %w", err)
	}
	return nova.Reply{Message: reviewMessage(rep, reviewLink(set.PublicURL, period))}, nil
}

// ScheduledReview posts the current period's review to the admins'
// channel unless it was posted already; it reports whether this call
// posted it. Several replicas may call it at once: the post is exactly
// once per period (store.Once under the period's key, then the mark).
func (r *Rollout) ScheduledReview(ctx context.Context) (bool, error) {
	set := r.settings()
	rs := set.Review
	if rs.Channel == "" || rs.Environment == "" || rs.Every <= 0 || r.cfg.Reviewer == nil || r.cfg.PostReview == nil {
		return false, nil
	}
	now := r.cfg.Now()
	start := now.Truncate(rs.Every)
	mark, _, err := store.Load[reviewMark](ctx, r.cfg.Store, store.KindMeta, store.ReviewPostedID)
	if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
		return false, err
	}
	if !mark.Period.Before(start) {
		return false, nil
	}
	rep, err := r.cfg.Reviewer.Review(ctx, rs.Every)
	if err != nil {
		return false, fmt.Errorf("build the scheduled review: %w", err)
	}
	ts, err := r.cfg.PostReview(ctx, ReviewPost{
		Key: store.ReviewPostKey(rs.Environment, rs.Channel, start), Environment: rs.Environment, Channel: rs.Channel,
		Oldest: start.Add(-time.Minute), Message: reviewMessage(rep, reviewLink(set.PublicURL, rs.Every)),
		Detail: fmt.Sprintf("scheduled review of %s: %s", rep.Period(), rep.Tally()),
	})
	if err != nil {
		return false, fmt.Errorf("post the scheduled review: %w", err)
	}
	_, err = store.Update(ctx, r.cfg.Store, store.KindMeta, store.ReviewPostedID, func(m *reviewMark, exists bool) error {
		if exists && !m.Period.Before(start) {
			return store.ErrUnchanged // another replica marked it (the post was the same)
		}
		*m = reviewMark{Period: start, TS: ts, At: now}
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return false, nil
	}
	return err == nil, err
}
