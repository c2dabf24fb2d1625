package slackemu

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// authorize runs the browser half for user and returns the code.
func authorizeCode(t *testing.T, e *Emulator, user, verifier string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := c.Get(e.SignInURL(user)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("signin: %v %v", resp, err)
	}
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"1.2"}, "scope": {"openid profile"}, "redirect_uri": {"https://nova.test/cb"},
		"state": {"st"}, "nonce": {"n1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	resp, err := c.Get(e.Issuer() + "/openid/connect/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" || !strings.HasPrefix(loc.String(), "https://nova.test/cb?") {
		t.Fatalf("authorize: %d %s", resp.StatusCode, loc)
	}
	return loc.Query().Get("code")
}

func tokenCall(t *testing.T, e *Emulator, form url.Values) map[string]any {
	t.Helper()
	resp, err := http.PostForm(e.APIURL()+"openid.connect.token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out
}

func TestSignInWithSlackEndpoints(t *testing.T) {
	e := New(Options{})
	if _, err := e.Start(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.AddUser("U0ALICE", "alice")
	e.AddOIDCClient(OIDCClient{ID: "1.2", Secret: "s3cret", RedirectURIs: []string{"https://nova.test/cb"}})

	// Discovery names the emulator as the issuer and Slack's endpoint paths.
	resp, err := http.Get(e.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["issuer"] != e.Issuer() || disc["token_endpoint"] != e.Issuer()+"/api/openid.connect.token" ||
		disc["authorization_endpoint"] != e.Issuer()+"/openid/connect/authorize" || disc["jwks_uri"] != e.Issuer()+"/openid/connect/keys" {
		t.Fatalf("discovery %v", disc)
	}

	good := func(code string) url.Values {
		return url.Values{"client_id": {"1.2"}, "client_secret": {"s3cret"}, "code": {code}, "redirect_uri": {"https://nova.test/cb"},
			"grant_type": {"authorization_code"}, "code_verifier": {"verifier-0123456789-0123456789-0123456789"}}
	}
	for _, c := range []struct {
		name, want string
		change     func(url.Values)
	}{
		{"wrong secret", "bad_client_secret", func(v url.Values) { v.Set("client_secret", "nope") }},
		{"unknown client", "invalid_client_id", func(v url.Values) { v.Set("client_id", "9.9") }},
		{"another redirect_uri", "bad_redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://evil.test/cb") }},
		{"wrong PKCE verifier", "invalid_code_verifier", func(v url.Values) { v.Set("code_verifier", "other") }},
		{"unknown code", "invalid_code", func(v url.Values) { v.Set("code", "made-up") }},
	} {
		code := authorizeCode(t, e, "U0ALICE", "verifier-0123456789-0123456789-0123456789")
		form := good(code)
		c.change(form)
		if got := tokenCall(t, e, form); got["ok"] != false || got["error"] != c.want {
			t.Errorf("%s: %v, want %s", c.name, got, c.want)
		}
	}
	code := authorizeCode(t, e, "U0ALICE", "verifier-0123456789-0123456789-0123456789")
	got := tokenCall(t, e, good(code))
	if got["ok"] != true || got["id_token"] == nil || got["access_token"] == nil {
		t.Fatalf("token: %v", got)
	}
	parts := strings.Split(got["id_token"].(string), ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	for _, want := range []string{`"sub":"U0ALICE"`, `"https://slack.com/team_id":"T0SLACKEMU"`, `"nonce":"n1"`, `"aud":"1.2"`} {
		if !strings.Contains(string(claims), want) {
			t.Errorf("id_token claims %s lack %s", claims, want)
		}
	}
	if again := tokenCall(t, e, good(code)); again["error"] != "code_already_used" {
		t.Errorf("code reused: %v", again)
	}
	// userInfo with the access token.
	req, _ := http.NewRequest(http.MethodGet, e.APIURL()+"openid.connect.userInfo", nil)
	req.Header.Set("Authorization", "Bearer "+got["access_token"].(string))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info["ok"] != true || info["sub"] != "U0ALICE" || info["https://slack.com/team_id"] != "T0SLACKEMU" {
		t.Fatalf("userInfo %v", info)
	}
	if len(e.Unexpected()) != 0 {
		t.Fatalf("unexpected: %v", e.Unexpected())
	}
}
