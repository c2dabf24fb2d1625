package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browser is a person's browser: a cookie jar, following redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// get loads a page as a browser asks for it and returns the final status,
// URL and body.
func (b *browser) get(u string) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Request.URL.String(), string(body)
}

var fullResultLink = regexp.MustCompile(`Full result[^:]*: (\S+)`)

// A person opens the "Full result" link of Nova's PagerDuty note in a
// browser, signs in with (emulated) Slack and sees the incident page with
// the hypothesis and its evidence; machines keep getting JSON.
func TestWebIncidentPageFromTheNoteLink(t *testing.T) {
	h := newHarness(t, harnessOptions{Web: true})
	in := h.start()
	inc, _ := h.proposeRollback("v4.0.0-web")
	link := h.noteLink(inc)
	if !strings.HasPrefix(link, in.url+"/") {
		t.Fatalf("note link %q is not on Nova's public_url %s", link, in.url)
	}

	// Not signed in to Slack: the emulated Slack asks the person to sign in.
	b := newBrowser(t)
	if status, at, _ := b.get(link); status != http.StatusUnauthorized || !strings.HasPrefix(at, h.sl.Issuer()+"/openid/connect/authorize") {
		t.Fatalf("before signing in to Slack: %d at %s, want Slack's sign-in", status, at)
	}
	b.get(h.sl.SignInURL("U0BOB"))
	status, at, page := b.get(link)
	if status != 200 || at != in.url+"/incidents/"+inc {
		t.Fatalf("after signing in: %d at %s\n%s", status, at, page)
	}
	for _, want := range []string{"Hypothesis", "Deploy checkout v4.0.0-web", "HTTP 5xx error rate 9%", "Roll back to the previous release",
		"pending", "bob", "Open in PagerDuty"} {
		if !strings.Contains(page, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
	if status, _, page := b.get(in.url + "/"); status != 200 || !strings.Contains(page, "checkout") || !strings.Contains(page, "action") {
		t.Errorf("services page: %d\n%s", status, page)
	}
	if status, _, page := b.get(in.url + "/incidents?service=PCHECKOUT"); status != 200 || !strings.Contains(page, "/incidents/"+inc) {
		t.Errorf("incident list: %d\n%s", status, page)
	}

	// The audit page: the incident's entries, the chain checked, an export.
	if status, _, page := b.get(in.url + "/audit?incident=" + inc); status != 200 || !strings.Contains(page, "Chain intact") ||
		!strings.Contains(page, "pagerduty.note.hypothesis") || !strings.Contains(page, "unkeyed") {
		t.Errorf("audit page: %d\n%s", status, page)
	}
	if status, _, csv := b.get(in.url + "/audit?incident=" + inc + "&format=csv"); status != 200 || !strings.HasPrefix(csv, "seq,time,") || !strings.Contains(csv, inc) {
		t.Errorf("audit CSV: %d\n%s", status, csv)
	}

	// Machines: the same URL with an API key answers JSON; without one, 401 JSON.
	if code, body := httpGet(t, link, h.readKey); code != 200 || !strings.Contains(body, `"triage_status":"done"`) {
		t.Errorf("API with a key: %d %s", code, body)
	}
	if code, body := httpGet(t, link, ""); code != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
		t.Errorf("API without a key: %d %s", code, body)
	}
}

// noteLink returns the "Full result" link of Nova's note on an incident.
func (h *harness) noteLink(inc string) string {
	h.t.Helper()
	var link string
	h.eventually(10*time.Second, "the hypothesis note's link", func() bool {
		for _, n := range h.novaNotes(inc) {
			if m := fullResultLink.FindStringSubmatch(n.Content); m != nil {
				link = m[1]
				return true
			}
		}
		return false
	})
	return link
}

// post submits a form as the browser and returns the final status and body.
func (b *browser) post(u string, form url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var (
	csrfInput       = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	requestInput    = regexp.MustCompile(`name="request" value="([^"]+)"`)
	suggestionLinks = regexp.MustCompile(`href="(/incidents/[A-Z0-9]+/suggestions/[^"]+)"`)
)

// rollbackPage signs user in and opens the rollback suggestion's page.
func (h *harness) rollbackPage(in *instance, user, inc string) (*browser, string, string) {
	h.t.Helper()
	b := newBrowser(h.t)
	b.get(h.sl.SignInURL(user))
	_, _, page := b.get(in.url + "/incidents/" + inc)
	for _, m := range suggestionLinks.FindAllStringSubmatch(page, -1) {
		if _, _, p := b.get(in.url + m[1]); strings.Contains(p, "<code>rollback</code>") {
			return b, in.url + m[1], p
		}
	}
	h.t.Fatalf("no rollback suggestion on the page of %s:\n%s", inc, page)
	return nil, "", ""
}

// An approver approves a destructive action from its page: after the
// confirmation step the executor runs once, PagerDuty gets the status note
// and the Slack message is updated, exactly as with the Slack button. A
// non-approver sees no buttons and a forged POST changes nothing.
func TestWebApproveRunsTheActionOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{Web: true})
	in := h.start()
	inc, msg := h.proposeRollback("v6.0.0-web")

	mallory, page, body := h.rollbackPage(in, "U0MALLORY", inc)
	if strings.Contains(body, `id="approve"`) || strings.Contains(body, `id="deny"`) || !strings.Contains(body, "not among the approvers") {
		t.Fatalf("a non-approver's page:\n%s", body)
	}
	tok := csrfInput.FindStringSubmatch(body)[1]
	reqID := msg.Metadata.EventPayload["approval_id"].(string)
	if status, body := mallory.post(page, url.Values{"csrf": {tok}, "request": {reqID}, "verb": {"approve"}, "confirm": {"yes"}}); status != 403 {
		t.Fatalf("forged approve by a non-approver: %d\n%s", status, body)
	}

	alice, page, body := h.rollbackPage(in, "U0ALICE", inc)
	if !msg.Contains(page + "|Details on Nova>") {
		t.Errorf("the Slack approval request does not link its page %s:\n%s", page, msg.Blocks)
	}
	if !strings.Contains(body, `id="approve"`) || !strings.Contains(body, `id="deny"`) {
		t.Fatalf("an approver's page lacks the buttons:\n%s", body)
	}
	tok = csrfInput.FindStringSubmatch(body)[1]
	if got := requestInput.FindStringSubmatch(body); got == nil || got[1] != reqID {
		t.Fatalf("the page's request is %v, Slack's %s", got, reqID)
	}
	if status, _ := alice.post(page, url.Values{"request": {reqID}, "verb": {"approve"}, "confirm": {"yes"}}); status != 403 {
		t.Fatalf("approve without a CSRF token: %d", status)
	}
	status, body := alice.post(page, url.Values{"csrf": {tok}, "request": {reqID}, "verb": {"approve"}})
	if status != 200 || !strings.Contains(body, `id="confirm-approve"`) {
		t.Fatalf("approve without confirming: %d\n%s", status, body)
	}
	if n := len(h.receiver.Runs()); n != 0 {
		t.Fatalf("%d runs before the confirmation", n)
	}
	status, body = alice.post(page, url.Values{"csrf": {tok}, "request": {reqID}, "verb": {"approve"}, "confirm": {"yes"}})
	if status != 200 || !strings.Contains(body, "Approved.") {
		t.Fatalf("confirmed approve: %d\n%s", status, body)
	}
	h.eventually(15*time.Second, "the run's result in Slack", func() bool { return h.current(msg).Contains("Succeeded") })
	h.eventually(10*time.Second, "the status note", func() bool {
		for _, n := range h.novaNotes(inc) {
			if strings.Contains(n.Content, "catalog action rollback") && strings.Contains(n.Content, "Approved by: U0ALICE") {
				return true
			}
		}
		return false
	})
	// Submitted again (a double tap): refused by the compare-and-set, no second run.
	if status, _ := alice.post(page, url.Values{"csrf": {tok}, "request": {reqID}, "verb": {"approve"}, "confirm": {"yes"}}); status != 409 {
		t.Errorf("second approve: %d, want 409", status)
	}
	time.Sleep(500 * time.Millisecond)
	if runs := h.receiver.Runs(); len(runs) != 1 || !strings.Contains(runs[0].Body, `"approved_by":["U0ALICE"]`) {
		t.Fatalf("the automation received %d runs: %+v", len(runs), runs)
	}
	if _, _, p := alice.get(page); !strings.Contains(p, "succeeded") || strings.Contains(p, `id="approve"`) {
		t.Errorf("the finished request's page:\n%s", p)
	}
	// Resolved, the incident's page links the postmortem draft, shown and
	// downloadable as Markdown.
	if err := h.pd.Resolve(inc, "PALICEPROD"); err != nil {
		t.Fatal(err)
	}
	h.eventually(15*time.Second, "the postmortem draft", func() bool { _, ok := h.draftOf(in, inc); return ok })
	if _, _, p := alice.get(in.url + "/incidents/" + inc); !strings.Contains(p, "/incidents/"+inc+"/postmortem") {
		t.Errorf("the resolved incident's page does not link its postmortem:\n%s", p)
	}
	if status, _, p := alice.get(in.url + "/incidents/" + inc + "/postmortem"); status != 200 || !strings.Contains(p, "# Postmortem draft") || !strings.Contains(p, "Download Markdown") {
		t.Errorf("postmortem page: %d\n%s", status, p)
	}
	if status, _, md := alice.get(in.url + "/incidents/" + inc + "/postmortem?format=md"); status != 200 || !strings.HasPrefix(md, "# Postmortem draft") {
		t.Errorf("postmortem download: %d\n%s", status, md)
	}

	var approved, refused bool
	for _, e := range h.auditEntries(in) {
		approved = approved || e.Action == "approval.approve" && e.Actor == "slack:U0ALICE"
		refused = refused || e.Action == "click.approve" && e.Outcome == "refused" && strings.Contains(e.Actor, "U0MALLORY")
	}
	if !approved || !refused {
		t.Errorf("audit: approval recorded %v, forged approve refused %v", approved, refused)
	}
}
