package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookie names. The session cookie is signed, not encrypted: it holds the
// Slack user id, display name, team, expiry and CSRF token, nothing secret
// beyond the CSRF token, which only this browser needs to know.
const (
	sessionCookie = "nova_session"
	// signInCookie carries state, nonce and PKCE verifier across the
	// round trip to Slack.
	signInCookie = "nova_signin"
	// signInTTL bounds the round trip to Slack.
	signInTTL = 10 * time.Minute
	// MinSessionKeyBytes is the shortest session_key accepted.
	MinSessionKeyBytes = 32
)

// Session is a signed-in person: their Slack user id in the configured
// workspace, so the admins and approvers in the configuration apply.
type Session struct {
	UserID  string `json:"u"`
	Name    string `json:"n,omitempty"`
	TeamID  string `json:"t"`
	CSRF    string `json:"c"`
	Expires int64  `json:"e"`
}

// signInState is what the browser carries to Slack and back.
type signInState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

// signer signs cookie values under a key derived from session_key for one
// purpose, so a value signed for one cookie is never valid for another.
type signer struct{ key []byte }

func newSigner(sessionKey []byte, purpose string) signer {
	m := hmac.New(sha256.New, sessionKey)
	m.Write([]byte("nova web cookie v1: " + purpose))
	return signer{key: m.Sum(nil)}
}

func (s signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// seal encodes v as payload.signature.
func (s signer) seal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload)), nil
}

// open verifies and decodes a sealed value.
func (s signer) open(value string, v any) bool {
	payload, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 4096 {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(payload)) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// randomString returns n random bytes, base64url encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionFrom returns the request's valid, unexpired session for team.
func sessionFrom(r *http.Request, cfg SignInConfig, now time.Time) (Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(cfg.SessionKey) < MinSessionKeyBytes {
		return Session{}, false
	}
	var s Session
	if !newSigner(cfg.SessionKey, "session").open(c.Value, &s) {
		return Session{}, false
	}
	if s.UserID == "" || s.CSRF == "" || now.Unix() >= s.Expires || s.TeamID != cfg.TeamID {
		return Session{}, false
	}
	return s, true
}

// validCSRF reports whether a form post is this session's own: it comes
// from Nova's origin, if the browser says where it comes from (Origin,
// Sec-Fetch-Site), and its csrf field matches the session's token.
func validCSRF(r *http.Request, s Session, cfg SignInConfig) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != origin(cfg.RedirectURL) {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

func setCookie(w http.ResponseWriter, cfg SignInConfig, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: cfg.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds())})
}

func clearCookie(w http.ResponseWriter, cfg SignInConfig, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: cfg.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// localPath returns p when it is a path on this site (so a sign-in cannot
// be made to end on another), else "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") || len(p) > 512 {
		return "/"
	}
	return p
}

// origin is the scheme://host[:port] of u.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	return p.Scheme + "://" + p.Host
}
