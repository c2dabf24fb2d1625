package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

func exampleWith(t *testing.T, extra string) (*Config, error) {
	t.Helper()
	b, err := os.ReadFile("../deploy/nova.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	src = strings.Replace(src, "\npromotion:", "\n# promotion:", 1)
	src = strings.Replace(src, "\nreview:", "\n# review:", 1)
	return Parse([]byte(src+"\n"+extra), lookupFrom(exampleEnv))
}

func TestPromotionAndReviewDefaults(t *testing.T) {
	c, err := exampleWith(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if n, p := c.Promotion.Feedback(); n != 10 || p != 0.8 {
		t.Errorf("promotion defaults: %d %v", n, p)
	}
	if c.Review.Every.Duration != 2160*time.Hour || c.Review.SlackChannel != "" || c.ReviewEnvironment() != "prod" {
		t.Errorf("review defaults: %+v, environment %q", c.Review, c.ReviewEnvironment())
	}
	c, err = exampleWith(t, "promotion: { min_feedback: 0, min_precision: 0.9 }\nreview: { slack_channel: C0ADMINS, environment: staging, every: 720h }\n")
	if err != nil {
		t.Fatal(err)
	}
	if n, p := c.Promotion.Feedback(); n != 0 || p != 0.9 {
		t.Errorf("promotion: %d %v (an explicit 0 turns the bar off)", n, p)
	}
	if c.Review.Every.Duration != 720*time.Hour || c.ReviewEnvironment() != "staging" {
		t.Errorf("review: %+v", c.Review)
	}
}

func TestPromotionAndReviewValidation(t *testing.T) {
	_, err := exampleWith(t, "promotion: { min_feedback: -1, min_precision: 1.5 }\nreview: { slack_channel: admins, environment: qa, every: 30s }\n")
	if err == nil {
		t.Fatal("invalid promotion and review sections accepted")
	}
	for _, want := range []string{
		"promotion.min_feedback: must be between 0 and 100000",
		"promotion.min_precision: must be between 0 and 1",
		"review.every: must be at least 1m",
		`review.slack_channel: "admins" is not a Slack channel id`,
		`review.environment: "qa" is not a configured environment`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
