package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/novasre/nova/review"
)

// The rollout review on a web page: an admin of every environment (here
// the only one) disables a service through /nova, signs in with (emulated)
// Slack and sees the mode drift on /review, linked from the services page,
// with its downloads; someone who is not an admin is refused the page, its
// downloads and the link.
func TestWebReviewPageShowsDriftToGlobalAdminsOnly(t *testing.T) {
	h := newHarness(t, harnessOptions{
		Web: true,
		Services: []serviceSpec{
			{ID: "PCHECKOUT", Name: "checkout", Env: "prod", Mode: "read-only", Channel: "C0CHECKOUT"},
		},
		Admins: []string{"U0ALICE"},
	})
	in := h.start()
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "disable checkout"); !strings.Contains(r, "to *off* mode") {
		t.Fatalf("disable: %s", r)
	}

	alice := newBrowser(t)
	alice.get(h.sl.SignInURL("U0ALICE"))
	if status, _, page := alice.get(in.url + "/"); status != 200 || !strings.Contains(page, `href="/review"`) {
		t.Errorf("services page for an admin of every environment: %d, no review link\n%s", status, page)
	}
	status, at, page := alice.get(in.url + "/review?since=30d")
	if status != 200 || at != in.url+"/review?since=30d" {
		t.Fatalf("review page: %d at %s\n%s", status, at, page)
	}
	mode := page[strings.Index(page, `id="mode_drift"`):]
	mode = mode[:strings.Index(mode, "</section>")]
	for _, want := range []string{"checkout (PCHECKOUT, prod)", "intended read-only (config), but off", "disabled by", "fix", "Needs action"} {
		if !strings.Contains(mode+page[:strings.Index(page, `id="mode_drift"`)], want) {
			t.Errorf("review page: mode drift lacks %q\n%s", want, page)
		}
	}
	if status, _, md := alice.get(in.url + "/review?since=30d&format=md"); status != 200 || !strings.Contains(md, "## Mode drift") || !strings.Contains(md, "checkout (PCHECKOUT, prod)") {
		t.Errorf("markdown download: %d\n%s", status, md)
	}
	status, _, js := alice.get(in.url + "/review?format=json")
	var rep review.Report
	if err := json.Unmarshal([]byte(js), &rep); status != 200 || err != nil || !rep.NeedsAction || !hasItem(rep, review.SectionMode, "checkout", review.RecFix, "but off") {
		t.Errorf("json download: %d %v\n%s", status, err, js)
	}

	bob := newBrowser(t)
	bob.get(h.sl.SignInURL("U0BOB"))
	if status, _, page := bob.get(in.url + "/"); status != 200 || strings.Contains(page, "/review") {
		t.Errorf("services page for a non-admin: %d, or links the review\n%s", status, page)
	}
	for _, q := range []string{"", "?format=md", "?format=json"} {
		status, _, page := bob.get(in.url + "/review" + q)
		if status != http.StatusForbidden || !strings.Contains(page, "only Nova admins of every environment") || strings.Contains(page, "PCHECKOUT") {
			t.Errorf("/review%s for a non-admin: %d\n%s", q, status, page)
		}
	}
}
