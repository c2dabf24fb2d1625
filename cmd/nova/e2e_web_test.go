package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The harness's Sign in with Slack client (see harnessOptions.Web).
const (
	webClientID     = "1111.2222"
	webClientSecret = "oidc-e2e-client-secret-9f8e7d"
	webSessionKey   = "e2e-session-key-0123456789-0123456789-abcdef"
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
