package config

import "time"

// PromotionConfig is the bar a service must clear to be promoted from
// read-only to action mode, besides its watching period: enough answered
// hypotheses (helpful or wrong) and a precision (helpful share) at least
// MinPrecision.
type PromotionConfig struct {
	// MinFeedback is how many answered hypotheses promotion needs
	// (default 10; 0 turns the feedback bar off).
	MinFeedback *int `yaml:"min_feedback"`
	// MinPrecision is the helpful share promotion needs (default 0.8).
	MinPrecision *float64 `yaml:"min_precision"`
}

// Promotion defaults.
const (
	DefaultMinFeedback  = 10
	DefaultMinPrecision = 0.8
)

// Feedback returns the bar with its defaults applied.
func (p PromotionConfig) Feedback() (minFeedback int, minPrecision float64) {
	minFeedback, minPrecision = DefaultMinFeedback, DefaultMinPrecision
	if p.MinFeedback != nil {
		minFeedback = *p.MinFeedback
	}
	if p.MinPrecision != nil {
		minPrecision = *p.MinPrecision
	}
	return minFeedback, minPrecision
}

// ReviewConfig schedules the rollout review: its summary is posted to an
// admins' Slack channel once per period.
type ReviewConfig struct {
	// SlackChannel is the channel id (C…) the summary goes to; empty turns
	// the scheduled review off (`nova review` and `/nova review` still work).
	SlackChannel string `yaml:"slack_channel"`
	// Environment names the Slack app that posts (default: the first
	// environment, by name, with Slack configured).
	Environment string `yaml:"environment"`
	// Every is the period, and the span each review covers (default 2160h,
	// a quarter).
	Every Duration `yaml:"every"`
}

// DefaultReviewEvery is a quarter: 90 days.
const DefaultReviewEvery = 2160 * time.Hour

// ReviewEnvironment returns the environment whose Slack app posts the
// scheduled review, or "" when none can.
func (c *Config) ReviewEnvironment() string {
	if c.Review.Environment != "" {
		return c.Review.Environment
	}
	for _, name := range c.EnvironmentNames() {
		if c.Environments[name].Slack.Enabled() {
			return name
		}
	}
	return ""
}

func (c *Config) applyReviewDefaults() {
	if c.Review.Every.Duration == 0 {
		c.Review.Every.Duration = DefaultReviewEvery
	}
}

func (c *Config) validateReview(p *problems) {
	if v := c.Promotion.MinFeedback; v != nil && (*v < 0 || *v > 100000) {
		p.add("promotion.min_feedback", "must be between 0 and 100000")
	}
	if v := c.Promotion.MinPrecision; v != nil && (*v < 0 || *v > 1) {
		p.add("promotion.min_precision", "must be between 0 and 1 (0.8 means 80%% of answered hypotheses helpful)")
	}
	if c.Review.Every.Duration < time.Minute {
		p.add("review.every", "must be at least 1m (default 2160h, a quarter)")
	}
	if ch := c.Review.SlackChannel; ch != "" && !slackChanPattern.MatchString(ch) {
		p.add("review.slack_channel", "%q is not a Slack channel id (C…)", ch)
	}
	if c.Review.Environment != "" {
		e, ok := c.Environments[c.Review.Environment]
		switch {
		case !ok:
			p.add("review.environment", "%q is not a configured environment", c.Review.Environment)
		case !e.Slack.Enabled():
			p.add("review.environment", "environment %s has no Slack app (slack.bot_token)", c.Review.Environment)
		}
	}
	if c.Review.SlackChannel != "" && c.ReviewEnvironment() == "" {
		p.add("review.slack_channel", "set, but no environment has a Slack app to post with")
	}
}
