package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// fakeDecider lets U0ALICE decide and records every decision.
type fakeDecider struct {
	mu    sync.Mutex
	calls []string
}

func (d *fakeDecider) MayDecide(_ context.Context, user string, req nova.ApprovalRequest) (bool, error) {
	return slices.Contains(req.Approvers, user), nil
}

func (d *fakeDecider) Decide(_ context.Context, user string, req nova.ApprovalRequest, verb string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !slices.Contains(req.Approvers, user) {
		return "", nova.Errorf(nova.EFORBIDDEN, "only U0ALICE may decide this request")
	}
	d.calls = append(d.calls, user+" "+verb+" "+req.ID)
	return "Approved. Nova will run <b>it</b> now.", nil
}

func (d *fakeDecider) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

func newDecideRig(t *testing.T) (*rig, *fakeDecider) {
	d := &fakeDecider{}
	rg := newRigWith(t, fixture("x"), d)
	return rg, d
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestApproveFromThePageNeedsConfirmation(t *testing.T) {
	rg, d := newDecideRig(t)
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	page := rg.srv.URL + "/incidents/Q1/suggestions/s1"
	body := get(t, c, page, 200)
	if !strings.Contains(body, `id="approve"`) || !strings.Contains(body, `id="deny"`) || strings.Contains(body, `id="confirm-approve"`) {
		t.Fatalf("an approver's page lacks Approve… and Deny:\n%s", body)
	}
	token := csrfField.FindStringSubmatch(body)[1]
	// Approve without the confirmation step lands on it and decides nothing.
	status, body := post(t, c, page, url.Values{"csrf": {token}, "request": {"apr-1"}, "verb": {"approve"}})
	if status != 200 || !strings.Contains(body, `id="confirm-approve"`) || !strings.Contains(body, "This is destructive") {
		t.Fatalf("approve without confirm: %d\n%s", status, body)
	}
	if len(d.Calls()) != 0 {
		t.Fatalf("decided before the confirmation: %q", d.Calls())
	}
	status, body = post(t, c, page, url.Values{"csrf": {token}, "request": {"apr-1"}, "verb": {"approve"}, "confirm": {"yes"}})
	if status != 200 || !strings.Contains(body, "Approved. Nova will run &lt;b&gt;it&lt;/b&gt; now.") {
		t.Fatalf("confirmed approve: %d\n%s", status, body)
	}
	if got := d.Calls(); len(got) != 1 || got[0] != "U0ALICE approve apr-1" {
		t.Fatalf("decisions %q", got)
	}
	// The outcome shows once.
	if b := get(t, c, page, 200); strings.Contains(b, "Approved. Nova will run") {
		t.Error("the outcome notice shows again on reload")
	}
}

func TestDecisionsRefused(t *testing.T) {
	rg, d := newDecideRig(t)
	page := rg.srv.URL + "/incidents/Q1/suggestions/s1"

	bob := rg.browser()
	rg.signIn(bob, "U0BOB")
	body := get(t, bob, page, 200)
	if strings.Contains(body, `id="approve"`) || strings.Contains(body, `id="deny"`) || !strings.Contains(body, "not among the approvers") {
		t.Fatalf("a non-approver sees buttons:\n%s", body)
	}
	token := csrfField.FindStringSubmatch(body)[1]
	if status, _ := post(t, bob, page, url.Values{"csrf": {token}, "request": {"apr-1"}, "verb": {"approve"}, "confirm": {"yes"}}); status != 403 {
		t.Errorf("forged approve by a non-approver: %d, want 403", status)
	}

	alice := rg.browser()
	rg.signIn(alice, "U0ALICE")
	if status, _ := post(t, alice, page, url.Values{"request": {"apr-1"}, "verb": {"deny"}}); status != 403 {
		t.Errorf("deny without a CSRF token: %d, want 403", status)
	}
	if status, _ := post(t, alice, page, url.Values{"csrf": {token}, "request": {"apr-1"}, "verb": {"deny"}}); status != 403 {
		t.Errorf("deny with another session's CSRF token: %d, want 403", status)
	}
	aliceToken := csrfField.FindStringSubmatch(get(t, alice, page, 200))[1]
	if status, _ := post(t, alice, page, url.Values{"csrf": {aliceToken}, "request": {"apr-1"}, "verb": {"apply"}}); status != 400 {
		t.Errorf("apply on a destructive request: %d, want 400", status)
	}
	if status, _ := post(t, alice, page, url.Values{"csrf": {aliceToken}, "request": {"apr-other"}, "verb": {"deny"}}); status != 409 {
		t.Errorf("deny naming another request: %d, want 409", status)
	}
	if status, _ := post(t, rg.browser(), page, url.Values{"csrf": {aliceToken}, "request": {"apr-1"}, "verb": {"deny"}}); status != 401 {
		t.Errorf("deny without a session: %d, want 401", status)
	}
	rg.advance(13 * time.Hour)
	if status, _ := post(t, alice, page, url.Values{"csrf": {aliceToken}, "request": {"apr-1"}, "verb": {"deny"}}); status != 401 {
		t.Errorf("deny with an expired session: %d, want 401", status)
	}
	rg.advance(-13 * time.Hour)
	// A form posted from another site, even with the right token.
	for _, h := range []map[string]string{{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}} {
		req, _ := http.NewRequest(http.MethodPost, page, strings.NewReader(url.Values{"csrf": {aliceToken}, "request": {"apr-1"}, "verb": {"deny"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := alice.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("deny posted with %v: %d, want 403", h, resp.StatusCode)
		}
	}
	if got := d.Calls(); len(got) != 0 {
		t.Fatalf("refused posts decided: %q", got)
	}
	// The same post from Nova's own page goes through.
	req, _ := http.NewRequest(http.MethodPost, page, strings.NewReader(url.Values{"csrf": {aliceToken}, "request": {"apr-1"}, "verb": {"deny"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", rg.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := alice.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(d.Calls()) != 1 {
		t.Fatalf("same-origin deny: %d, decisions %q", resp.StatusCode, d.Calls())
	}
}
