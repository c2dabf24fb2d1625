package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/review"
)

// fakeReviewer is Reviews over a fixed input: a service whose actual mode
// drifted from its declared one and an overdue key, with text in the
// names (so the hostile corpus can be poured in).
type fakeReviewer struct {
	mu     sync.Mutex
	admins []string
	text   string
	period time.Duration
	mayErr error
}

func (f *fakeReviewer) MayReview(_ context.Context, user string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.admins, user), f.mayErr
}

func (f *fakeReviewer) Review(_ context.Context, period time.Duration) (review.Report, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.period = period
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	svc := nova.Service{ID: "PCHECKOUT", Name: "checkout " + f.text, Environment: "prod", DeclaredMode: nova.ModeAction}
	rep := review.Build(review.Input{Now: now, Since: now.Add(-period), Services: []nova.Service{svc},
		States:      map[string]nova.ServiceState{"PCHECKOUT": {ServiceID: "PCHECKOUT", Mode: nova.ModeReadOnly, Since: now.Add(-time.Hour), ChangedBy: f.text}},
		Credentials: []review.Credential{{Environment: "prod", Kind: "api_key", Name: "dash " + f.text, Created: now.Add(-100 * 24 * time.Hour), AgeDays: 100, Status: "due"}}})
	return rep, nil
}

func newReviewRig(t *testing.T, text string) (*rig, *fakeReviewer) {
	rg := newRig(t, fixture(text))
	rv := &fakeReviewer{admins: []string{"U0ALICE"}, text: text}
	rg.pages.cfg.Reviews = rv
	return rg, rv
}

func TestReviewPageForGlobalAdmins(t *testing.T) {
	rg, rv := newReviewRig(t, "plain")
	alice := rg.browser()
	rg.signIn(alice, "U0ALICE")
	if home := get(t, alice, rg.srv.URL+"/", 200); !strings.Contains(home, `href="/review"`) {
		t.Errorf("the services page does not link the review for a global admin:\n%s", home)
	}
	body := get(t, alice, rg.srv.URL+"/review", 200)
	for _, want := range []string{"Mode drift", "Coverage drift", "Access drift", "Key age", "Quality", "Integrity", "Recommendations",
		"checkout plain (PCHECKOUT, prod)", "Needs action", `href="/review?format=md&amp;since=90d"`, `href="/review?format=json&amp;since=90d"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the review page lacks %q:\n%s", want, body)
		}
	}
	if rv.period != 90*24*time.Hour {
		t.Errorf("default period %v, want 90 days", rv.period)
	}
	if body := get(t, alice, rg.srv.URL+"/review?since=30d", 200); rv.period != 30*24*time.Hour || !strings.Contains(body, `value="30d"`) {
		t.Errorf("?since=30d: period %v", rv.period)
	}
	resp, err := alice.Get(rg.srv.URL + "/review?since=30d&format=md")
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `attachment; filename="nova-review-2026-12-01.md"`) || !strings.Contains(b, "## Mode drift") {
		t.Errorf("markdown download: %d %v\n%s", resp.StatusCode, resp.Header, b)
	}
	resp, err = alice.Get(rg.srv.URL + "/review?format=json")
	if err != nil {
		t.Fatal(err)
	}
	var rep review.Report
	if err := json.Unmarshal([]byte(readAll(t, resp)), &rep); err != nil || resp.StatusCode != 200 || !rep.NeedsAction || len(rep.Sections) != 6 ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), ".json") {
		t.Errorf("json download: %d %v %+v", resp.StatusCode, err, rep)
	}
	for _, q := range []string{"?since=forever", "?since=10m", "?format=pdf"} {
		get(t, alice, rg.srv.URL+"/review"+q, 400)
	}
}

func TestReviewPageRefusesOthers(t *testing.T) {
	rg, rv := newReviewRig(t, "plain")
	bob := rg.browser()
	rg.signIn(bob, "U0BOB")
	if home := get(t, bob, rg.srv.URL+"/", 200); strings.Contains(home, "/review") {
		t.Errorf("the services page links the review for someone who may not read it")
	}
	for _, q := range []string{"", "?format=md", "?format=json"} {
		body := get(t, bob, rg.srv.URL+"/review"+q, 403)
		if !strings.Contains(body, "only Nova admins of every environment") || strings.Contains(body, "PCHECKOUT") {
			t.Errorf("/review%s refused without saying why, or with the report:\n%s", q, body)
		}
	}
	if rv.period != 0 {
		t.Error("the review was built for someone refused")
	}
	// Signed out: the sign-in, not the report.
	resp, err := noRedirect(rg.browser()).Get(rg.srv.URL + "/review?format=md")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), LoginPath) {
		t.Errorf("signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Slack unreachable when asking: the review is refused with the error,
	// and the services page stays up without the link.
	rv.mu.Lock()
	rv.admins, rv.mayErr = []string{"U0BOB"}, nova.Errorf(nova.EUNAVAILABLE, "Slack is unreachable")
	rv.mu.Unlock()
	get(t, bob, rg.srv.URL+"/review", 503)
	if home := get(t, bob, rg.srv.URL+"/", 200); strings.Contains(home, "/review") {
		t.Errorf("the link shows although the check failed")
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
