package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/review"
)

type fakeReviewer struct{ calls int }

func (f *fakeReviewer) Review(_ context.Context, period time.Duration) (review.Report, error) {
	f.calls++
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return review.Build(review.Input{Now: now, Since: now.Add(-period)}), nil
}

// The scheduled review is posted once per period: not again in the same
// period (even after the post's exactly-once record expired), and again in
// the next one.
func TestScheduledReviewOncePerPeriod(t *testing.T) {
	f := newFixture(t)
	f.set.PublicURL = "https://nova.test"
	f.set.Review.Channel, f.set.Review.Environment, f.set.Review.Every = "C0ADMINS", "prod", 24*time.Hour
	rev := &fakeReviewer{}
	var posts []ReviewPost
	f.r.cfg.Reviewer = rev
	f.r.cfg.PostReview = func(_ context.Context, p ReviewPost) (string, error) {
		posts = append(posts, p)
		return "1700000000.000100", nil
	}
	ctx := context.Background()
	check := func(want bool) {
		t.Helper()
		posted, err := f.r.ScheduledReview(ctx)
		if err != nil || posted != want {
			t.Fatalf("ScheduledReview = %v, %v; want %v", posted, err, want)
		}
	}
	check(true)
	check(false)
	f.now = f.now.Truncate(24 * time.Hour).Add(23 * time.Hour) // later the same day
	check(false)
	f.now = f.now.Add(2 * time.Hour) // the next day
	check(true)
	if len(posts) != 2 || rev.calls != 2 || posts[0].Key == posts[1].Key || posts[1].Channel != "C0ADMINS" {
		t.Fatalf("posts %+v, reviews built %d", posts, rev.calls)
	}
	text := string(posts[1].Message.Text)
	if !strings.HasPrefix(text, "Rollout review, ") || !strings.Contains(text, "<https://nova.test/api/v1/review?format=md&amp;since=1d|") {
		t.Errorf("message: %s", text)
	}
	// Without a channel nothing is posted.
	f.set.Review.Channel = ""
	f.now = f.now.Add(48 * time.Hour)
	check(false)
}

func TestReviewCommandNeedsAGlobalAdmin(t *testing.T) {
	f := newFixture(t)
	f.r.cfg.Reviewer = &fakeReviewer{}
	ctx := context.Background()
	if _, err := f.r.ReviewCommand(ctx, cmd("U0ALICE", "C0X"), nil); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Fatalf("an admin of prod alone ran the review of every environment: %v", err)
	}
	r, err := f.r.ReviewCommand(ctx, cmd("U0BOB", "C0X"), []string{"30d"})
	if err != nil || !strings.Contains(string(r.Message.Text), "(30 days): nothing needs action") || r.InChannel {
		t.Fatalf("global admin: %q %v", r.Message.Text, err)
	}
	if _, err := f.r.ReviewCommand(ctx, cmd("U0BOB", "C0X"), []string{"forever"}); !nova.IsCode(err, nova.EINVALID) {
		t.Errorf("bad period: %v", err)
	}
}

// The web review page asks MayReview: the rule of /nova review, with no
// Slack request to say which environments the caller came through.
func TestMayReviewIsTheReviewCommandsRule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for user, want := range map[string]bool{"U0BOB": true, "U0ALICE": false, "U0CAROL": false, nova.ActorNova: false, "": false} {
		if ok, err := f.r.MayReview(ctx, user); err != nil || ok != want {
			t.Errorf("MayReview(%q) = %v %v, want %v", user, ok, err, want)
		}
	}
	// An admin of every environment, and a member of a global-admin group.
	f.set.Environments["staging"] = settings.Env{Admins: []string{"U0ALICE"}, Slack: true}
	f.set.GlobalAdmins = []string{"S0ADMINS"}
	for _, user := range []string{"U0ALICE", "U0CAROL"} {
		if ok, err := f.r.MayReview(ctx, user); err != nil || !ok {
			t.Errorf("MayReview(%q) = %v %v, want true", user, ok, err)
		}
	}
}
