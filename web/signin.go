package web

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/novasre/nova"
)

// DefaultIssuer is Slack's OpenID Connect issuer.
const DefaultIssuer = "https://slack.com"

// Sign-in routes.
const (
	LoginPath    = "/auth/login"
	CallbackPath = "/auth/slack/callback"
	LogoutPath   = "/auth/logout"
)

// SignInConfig is Sign in with Slack's current configuration; it is read
// per request, so a reload rotates the client secret and session key.
type SignInConfig struct {
	// Issuer is the OpenID Connect issuer (DefaultIssuer); discovery, keys
	// and the token endpoint are read from it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// TeamID is the Slack workspace whose members may sign in.
	TeamID string
	// RedirectURL is public_url + CallbackPath, registered with the app.
	RedirectURL string
	SessionKey  []byte
	SessionTTL  time.Duration
	// Secure marks cookies Secure (public_url is https).
	Secure bool
}

// Enabled reports whether sign-in is configured.
func (c SignInConfig) Enabled() bool {
	return c.ClientID != "" && c.ClientSecret != "" && c.TeamID != "" && len(c.SessionKey) >= MinSessionKeyBytes && c.RedirectURL != ""
}

// slackClaims are the id_token claims Nova reads.
type slackClaims struct {
	UserID string `json:"https://slack.com/user_id"`
	TeamID string `json:"https://slack.com/team_id"`
	Name   string `json:"name"`
}

// providers caches OpenID Connect discovery per issuer; a failed discovery
// is not cached, so the next sign-in tries again.
type providers struct {
	client *http.Client
	mu     sync.Mutex
	byURL  map[string]*oidc.Provider
}

func newProviders(c *http.Client) *providers {
	return &providers{client: c, byURL: map[string]*oidc.Provider{}}
}

func (p *providers) get(ctx context.Context, issuer string) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr, ok := p.byURL[issuer]; ok {
		return pr, nil
	}
	// The provider keeps this context to fetch signing keys later: it must
	// outlive the request; the client's timeout bounds each fetch.
	pr, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), p.client), issuer)
	if err != nil {
		return nil, nova.WrapError(nova.EUNAVAILABLE, err, "Slack's sign-in service (%s) could not be reached", issuer)
	}
	p.byURL[issuer] = pr
	return pr, nil
}

func (pg *Pages) oauthConfig(cfg SignInConfig, pr *oidc.Provider) *oauth2.Config {
	ep := pr.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams // client_secret_post; Slack answers errors with 200, which defeats auto-detection
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: ep,
		RedirectURL: cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// login starts Sign in with Slack: state, nonce and PKCE verifier go into
// a short-lived signed cookie, and the browser to Slack's authorize page.
func (pg *Pages) login(w http.ResponseWriter, r *http.Request) {
	cfg := pg.cfg.SignIn()
	if !cfg.Enabled() {
		pg.errorPage(w, r, nil, nova.Errorf(nova.EUNAVAILABLE, "Sign in with Slack is not configured (web.oidc in Nova's configuration)"))
		return
	}
	pr, err := pg.providers.get(r.Context(), cfg.Issuer)
	if err != nil {
		pg.log.WithError(err).Warn("Sign in with Slack: discovery failed")
		pg.errorPage(w, r, nil, err)
		return
	}
	st := signInState{State: randomString(24), Nonce: randomString(24), Verifier: oauth2.GenerateVerifier(),
		Next: localPath(r.URL.Query().Get("next")), Expires: pg.now().Add(signInTTL).Unix()}
	sealed, err := newSigner(cfg.SessionKey, "signin").seal(st)
	if err != nil {
		pg.errorPage(w, r, nil, nova.WrapError(nova.EINTERNAL, err, "could not start the sign-in"))
		return
	}
	setCookie(w, cfg, signInCookie, sealed, signInTTL)
	u := pg.oauthConfig(cfg, pr).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// callback finishes the sign-in: it checks the state, exchanges the code
// (with the PKCE verifier), verifies the id_token's signature, issuer,
// audience, expiry and nonce, and the workspace, then sets the session.
func (pg *Pages) callback(w http.ResponseWriter, r *http.Request) {
	cfg := pg.cfg.SignIn()
	if !cfg.Enabled() {
		pg.errorPage(w, r, nil, nova.Errorf(nova.EUNAVAILABLE, "Sign in with Slack is not configured (web.oidc in Nova's configuration)"))
		return
	}
	refuse := func(reason string, err error) {
		entry := pg.log.WithField("client", ClientAddress(r)).WithField("reason", reason)
		if err != nil {
			entry = entry.WithError(err)
		}
		entry.Warn("Sign in with Slack refused")
		if pg.cfg.OnRefused != nil {
			pg.cfg.OnRefused("sign-in", reason, ClientAddress(r))
		}
		pg.errorPage(w, r, nil, nova.Errorf(nova.EUNAUTHORIZED, "Sign-in failed: %s. Try again from the start.", reason))
	}
	var st signInState
	c, err := r.Cookie(signInCookie)
	if err != nil || !newSigner(cfg.SessionKey, "signin").open(c.Value, &st) || pg.now().Unix() >= st.Expires {
		refuse("the sign-in expired or was started in another browser", nil)
		return
	}
	clearCookie(w, cfg, signInCookie)
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		refuse("the state does not match", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		refuse("Slack answered "+truncateForError(e), nil)
		return
	}
	code := q.Get("code")
	if code == "" {
		refuse("Slack sent no code", nil)
		return
	}
	pr, err := pg.providers.get(r.Context(), cfg.Issuer)
	if err != nil {
		pg.errorPage(w, r, nil, err)
		return
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), pg.providers.client), 15*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, pg.providers.client)
	tok, err := pg.oauthConfig(cfg, pr).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		refuse("Slack did not accept the code", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse("Slack sent no id_token", nil)
		return
	}
	idt, err := pr.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: pg.now}).Verify(ctx, raw)
	if err != nil {
		refuse("the id_token did not verify", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		refuse("the nonce does not match", nil)
		return
	}
	var claims slackClaims
	if err := idt.Claims(&claims); err != nil {
		refuse("the id_token's claims are unreadable", err)
		return
	}
	if claims.TeamID != cfg.TeamID {
		refuse("that Slack account is in another workspace", nil)
		return
	}
	if claims.UserID == "" || claims.UserID != idt.Subject || !slackUserID.MatchString(claims.UserID) {
		refuse("the id_token names no Slack user", nil)
		return
	}
	s := Session{UserID: claims.UserID, Name: truncateName(claims.Name), TeamID: claims.TeamID, CSRF: randomString(24),
		Expires: pg.now().Add(cfg.SessionTTL).Unix()}
	sealed, err := newSigner(cfg.SessionKey, "session").seal(s)
	if err != nil {
		pg.errorPage(w, r, nil, nova.WrapError(nova.EINTERNAL, err, "could not start the session"))
		return
	}
	setCookie(w, cfg, sessionCookie, sealed, cfg.SessionTTL)
	pg.log.WithField("user", s.UserID).Info("signed in with Slack")
	http.Redirect(w, r, st.Next, http.StatusSeeOther)
}

// logout ends the session in this browser.
func (pg *Pages) logout(w http.ResponseWriter, r *http.Request) {
	cfg := pg.cfg.SignIn()
	s, ok := sessionFrom(r, cfg, pg.now())
	if ok && !validCSRF(r, s, cfg) {
		pg.errorPage(w, r, &s, nova.Errorf(nova.EFORBIDDEN, "the form expired; reload the page and try again"))
		return
	}
	clearCookie(w, cfg, sessionCookie)
	http.Redirect(w, r, "/signed-out", http.StatusSeeOther)
}

// loginURL is where a browser without a session goes to see path.
func loginURL(path string) string {
	return LoginPath + "?next=" + url.QueryEscape(localPath(path))
}

func truncateName(s string) string {
	r := []rune(s)
	if len(r) > 80 {
		return string(r[:80])
	}
	return s
}
