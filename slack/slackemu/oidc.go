package slackemu

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Sign in with Slack, as Slack serves it (OpenID Connect): discovery, the
// authorize page, openid.connect.token, openid.connect.userInfo and the
// signing keys. The emulator's base URL is the issuer. Who the browser is
// signed in to Slack as is a cookie set by GET /_slackemu/signin?user=U…,
// standing in for a Slack web session; /openid/connect/authorize with no
// such cookie answers 401, as Slack would show its own sign-in page.

// OIDCClient is an app's Sign in with Slack credentials.
type OIDCClient struct {
	ID, Secret string
	// RedirectURIs the app registered; empty accepts any http(s) URI.
	RedirectURIs []string
}

// emuSessionCookie names the emulated Slack web session.
const emuSessionCookie = "slackemu_session"

// oidcState is the emulator's OpenID Connect state, under e.mu.
type oidcState struct {
	key     *rsa.PrivateKey
	kid     string
	clients map[string]OIDCClient
	codes   map[string]*authCode
	tokens  map[string]string // access token -> user id
	// teams maps a user to another workspace (default: the emulator's).
	teams map[string]string
}

type authCode struct {
	client, redirect, nonce, challenge, method, user string
	expires                                          time.Time
	used                                             bool
}

// AddOIDCClient registers an app allowed to use Sign in with Slack.
func (e *Emulator) AddOIDCClient(c OIDCClient) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.oidcInit()
	e.oidc.clients[c.ID] = c
}

// SetUserTeam makes user a member of another workspace: the id_token names
// team instead of the emulator's own.
func (e *Emulator) SetUserTeam(user, team string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.oidcInit()
	e.oidc.teams[user] = team
}

// Issuer is the OpenID Connect issuer to configure in the relying party.
func (e *Emulator) Issuer() string { return e.base }

// SignInURL is where a browser signs in to the emulated Slack as user
// (add &next=URL to be sent there afterwards).
func (e *Emulator) SignInURL(user string) string {
	return e.base + "/_slackemu/signin?user=" + url.QueryEscape(user)
}

func (e *Emulator) oidcInit() {
	if e.oidc.key != nil {
		return
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("slackemu: generate the id_token signing key: " + err.Error())
	}
	e.oidc = oidcState{key: key, kid: "slackemu-" + randomToken(6), clients: map[string]OIDCClient{},
		codes: map[string]*authCode{}, tokens: map[string]string{}, teams: map[string]string{}}
}

func (e *Emulator) oidcRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", e.serveDiscovery)
	mux.HandleFunc("GET /openid/connect/authorize", e.serveAuthorize)
	mux.HandleFunc("GET /openid/connect/keys", e.serveKeys)
	mux.HandleFunc("GET /_slackemu/signin", e.serveEmuSignIn)
	// Browsers shown the sign-in pages ask for the icon; Slack has one.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

func (e *Emulator) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                e.base,
		"authorization_endpoint":                e.base + "/openid/connect/authorize",
		"token_endpoint":                        e.base + "/api/openid.connect.token",
		"userinfo_endpoint":                     e.base + "/api/openid.connect.userInfo",
		"jwks_uri":                              e.base + "/openid/connect/keys",
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"form_post"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "auth_time", "iss"},
		"claims_parameter_supported":            false,
		"request_parameter_supported":           false,
		"request_uri_parameter_supported":       true,
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
	})
}

func (e *Emulator) serveKeys(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	e.oidcInit()
	pub, kid := e.oidc.key.PublicKey, e.oidc.kid
	e.mu.Unlock()
	b64 := base64.RawURLEncoding.EncodeToString
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// serveEmuSignIn stands in for signing in to Slack in the browser.
func (e *Emulator) serveEmuSignIn(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	e.mu.Lock()
	_, known := e.users[user]
	e.mu.Unlock()
	if !known {
		http.Error(w, "no such user in the emulated workspace", http.StatusNotFound)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: emuSessionCookie, Value: user, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	// next: where the browser goes once signed in (the sandbox's links).
	if next, err := url.Parse(r.URL.Query().Get("next")); err == nil && (next.Scheme == "http" || next.Scheme == "https") && next.Host != "" {
		http.Redirect(w, r, next.String(), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "signed in to the emulated Slack workspace as %s\n", user)
}

// serveAuthorize is Slack's consent step: with a Slack web session it
// redirects back with a code at once (as after the person clicked Allow).
func (e *Emulator) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.oidcInit()
	client, ok := e.oidc.clients[q.Get("client_id")]
	if !ok {
		e.oidcPage(w, http.StatusBadRequest, "invalid_client_id")
		return
	}
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") || ru.Host == "" ||
		(len(client.RedirectURIs) > 0 && !slices.Contains(client.RedirectURIs, redirect)) {
		e.oidcPage(w, http.StatusBadRequest, "bad_redirect_uri")
		return
	}
	back := func(params url.Values) {
		if s := q.Get("state"); s != "" {
			params.Set("state", s)
		}
		u := *ru
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	scopes := strings.Fields(q.Get("scope"))
	if q.Get("response_type") != "code" {
		back(url.Values{"error": {"unsupported_response_type"}})
		return
	}
	if !slices.Contains(scopes, "openid") {
		back(url.Values{"error": {"invalid_scope"}})
		return
	}
	method := q.Get("code_challenge_method")
	if q.Get("code_challenge") != "" && method != "S256" && method != "plain" && method != "" {
		back(url.Values{"error": {"invalid_request"}})
		return
	}
	c, err := r.Cookie(emuSessionCookie)
	if err != nil || e.users[c.Value] == "" {
		e.oidcPage(w, http.StatusUnauthorized, "not signed in to Slack: open "+e.base+"/_slackemu/signin?user=U… first")
		return
	}
	code := "slackemu-code-" + randomToken(16)
	e.oidc.codes[code] = &authCode{client: client.ID, redirect: redirect, nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), method: method, user: c.Value, expires: e.opts.Now().Add(10 * time.Minute)}
	back(url.Values{"code": {code}})
}

func (e *Emulator) oidcPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>Slack</title><p>%s</p>\n", html.EscapeString(msg))
}

// openIDToken is openid.connect.token: client credentials (post or basic),
// the code, its redirect_uri and PKCE verifier; it answers the access
// token and a signed id_token.
func (e *Emulator) openIDToken(r *http.Request) apiResult {
	p, _, err := readParams(r)
	if err != nil {
		return fail("invalid_form_data")
	}
	id, secret := p["client_id"], p["client_secret"]
	if u, pw, ok := r.BasicAuth(); ok {
		id, secret = u, pw
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.oidcInit()
	client, known := e.oidc.clients[id]
	if !known {
		return fail("invalid_client_id")
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
		return fail("bad_client_secret")
	}
	if gt := p["grant_type"]; gt != "" && gt != "authorization_code" {
		return fail("invalid_grant_type")
	}
	c, found := e.oidc.codes[p["code"]]
	if !found || c.client != id || e.opts.Now().After(c.expires) {
		return fail("invalid_code")
	}
	if c.used {
		return fail("code_already_used")
	}
	if p["redirect_uri"] != c.redirect {
		return fail("bad_redirect_uri")
	}
	if c.challenge != "" {
		v := p["code_verifier"]
		want := v
		if c.method == "S256" {
			sum := sha256.Sum256([]byte(v))
			want = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if v == "" || subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
			return fail("invalid_code_verifier")
		}
	}
	c.used = true
	access := "xoxp-slackemu-" + randomToken(16)
	e.oidc.tokens[access] = c.user
	now := e.opts.Now()
	claims := e.userClaims(c.user)
	claims["iss"], claims["aud"], claims["sub"] = e.base, id, c.user
	claims["iat"], claims["exp"], claims["auth_time"] = now.Unix(), now.Add(time.Hour).Unix(), now.Unix()
	if c.nonce != "" {
		claims["nonce"] = c.nonce
	}
	idToken, err := e.signJWT(claims)
	if err != nil {
		return apiResult{status: http.StatusInternalServerError, body: apiError("internal_error")}
	}
	return ok(map[string]any{"access_token": access, "token_type": "Bearer", "id_token": idToken, "expires_in": 3600})
}

// openIDUserInfo is openid.connect.userInfo, with the access token the
// token exchange handed out.
func (e *Emulator) openIDUserInfo(r *http.Request) apiResult {
	_, token, err := readParams(r)
	if err != nil {
		return fail("invalid_form_data")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.oidcInit()
	if token == "" {
		return fail("not_authed")
	}
	user, found := e.oidc.tokens[token]
	if !found {
		return fail("invalid_auth")
	}
	claims := e.userClaims(user)
	claims["sub"] = user
	return ok(claims)
}

// userClaims are Slack's claims about a user; e.mu held.
func (e *Emulator) userClaims(user string) map[string]any {
	team := e.opts.TeamID
	if t, ok := e.oidc.teams[user]; ok {
		team = t
	}
	name := e.users[user]
	return map[string]any{
		"https://slack.com/user_id": user, "https://slack.com/team_id": team,
		"https://slack.com/team_name": "Slack emulator", "https://slack.com/team_domain": "slackemu",
		"email": name + "@example.com", "email_verified": true, "name": name, "given_name": name,
	}
}

// signJWT signs claims as a compact RS256 JWT; e.mu held.
func (e *Emulator) signJWT(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": e.oidc.kid})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	signing := b64(header) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, e.oidc.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
