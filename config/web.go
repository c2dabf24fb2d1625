package config

import (
	"net/url"
	"regexp"
	"time"
)

// Web page defaults.
const (
	DefaultOIDCIssuer = "https://slack.com"
	DefaultSessionTTL = 12 * time.Hour
	// MinSessionKeyBytes is the shortest web.session_key accepted.
	MinSessionKeyBytes = 32
)

// WebConfig turns on Nova's web pages and Sign in with Slack.
type WebConfig struct {
	OIDC OIDCConfig `yaml:"oidc"`
	// SessionKey signs session cookies (HMAC-SHA256); at least 32 bytes.
	// Changing it signs everyone out.
	SessionKey Secret `yaml:"session_key"`
	// SessionTTL is how long a sign-in lasts (default 12h).
	SessionTTL Duration `yaml:"session_ttl"`
}

// OIDCConfig is the Slack app's Sign in with Slack (OpenID Connect) client.
type OIDCConfig struct {
	// Issuer defaults to https://slack.com; discovery, keys and the token
	// endpoint are read from it.
	Issuer       string `yaml:"issuer"`
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// TeamID is the workspace (T…) whose members may sign in.
	TeamID string `yaml:"team_id"`
}

// Enabled reports whether the web pages are configured.
func (w WebConfig) Enabled() bool { return w.OIDC.ClientID != "" || !w.OIDC.ClientSecret.IsZero() }

func (w *WebConfig) applyDefaults() {
	if w.OIDC.Issuer == "" {
		w.OIDC.Issuer = DefaultOIDCIssuer
	}
	if w.SessionTTL.Duration == 0 {
		w.SessionTTL.Duration = DefaultSessionTTL
	}
}

var (
	slackTeamID   = regexp.MustCompile(`^[TE][A-Z0-9]{2,20}$`)
	slackClientID = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
)

func (c *Config) validateWeb(p *problems) {
	w := c.Web
	if !w.Enabled() {
		if !w.SessionKey.IsZero() {
			p.add("web.oidc", "web.session_key is set but web.oidc.client_id and client_secret are not")
		}
		return
	}
	if w.OIDC.ClientID == "" {
		p.add("web.oidc.client_id", "required (the Slack app's Client ID, from Basic Information)")
	} else if !slackClientID.MatchString(w.OIDC.ClientID) {
		p.add("web.oidc.client_id", "%q is not a Slack client id (digits.digits)", truncate(w.OIDC.ClientID, 40))
	}
	if w.OIDC.ClientSecret.IsZero() {
		p.add("web.oidc.client_secret", "required (the Slack app's Client Secret; use ${file:...})")
	}
	if !slackTeamID.MatchString(w.OIDC.TeamID) {
		p.add("web.oidc.team_id", "required: the workspace id (T…) whose members may sign in")
	}
	if u, err := url.Parse(w.OIDC.Issuer); err != nil || u.Host == "" || u.Path != "" && u.Path != "/" ||
		!(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		p.add("web.oidc.issuer", "%q is not an https URL (http only on loopback, for the emulator)", truncate(w.OIDC.Issuer, 80))
	}
	if len(w.SessionKey.Value()) < MinSessionKeyBytes {
		p.add("web.session_key", "required, at least %d bytes (e.g. openssl rand -base64 48)", MinSessionKeyBytes)
	}
	if w.SessionTTL.Duration < 5*time.Minute || w.SessionTTL.Duration > 30*24*time.Hour {
		p.add("web.session_ttl", "must be between 5m and 720h")
	}
	if c.PublicURL == "" {
		p.add("public_url", "required with web.oidc: Slack sends people back to public_url/auth/slack/callback")
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
