package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func webExample(t *testing.T, extra string) ([]byte, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("../deploy/nova.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range exampleEnv {
		env[k] = v
	}
	return append(b, []byte("\n"+extra)...), env
}

func TestWebConfig(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "oidc")
	if err := os.WriteFile(secretFile, []byte("oidc-client-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, env := webExample(t, `web:
  oidc:
    client_id: "1234.5678"
    client_secret: ${file:`+secretFile+`}
    team_id: T0ACME
  session_key: ${NOVA_SESSION_KEY}
`)
	env["NOVA_SESSION_KEY"] = "session-key-0123456789-0123456789-abcdef"
	c, err := Parse(b, lookupFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Web
	if !w.Enabled() || w.OIDC.Issuer != DefaultOIDCIssuer || w.SessionTTL.Duration != DefaultSessionTTL ||
		w.OIDC.ClientSecret.Value() != "oidc-client-secret-value" || w.OIDC.TeamID != "T0ACME" {
		t.Fatalf("web config %+v", w)
	}
	if s := sprint(c); strings.Contains(s, "oidc-client-secret-value") || strings.Contains(s, "session-key-0123") {
		t.Fatal("a web secret prints")
	}
	all := strings.Join(c.AllSecrets(), "\n")
	if !strings.Contains(all, "oidc-client-secret-value") || !strings.Contains(all, "session-key-0123") {
		t.Fatal("web secrets are not scrubbed from logs (AllSecrets)")
	}
}

func TestWebConfigValidation(t *testing.T) {
	b, env := webExample(t, `web:
  oidc:
    client_id: "not-an-id"
    client_secret: short-secret-value-xyz
    issuer: http://slack.example.com
  session_key: too-short-key-value
  session_ttl: 1m
`)
	_, err := Parse(b, lookupFrom(env))
	if err == nil {
		t.Fatal("invalid web config accepted")
	}
	for _, want := range []string{"web.oidc.client_id", "web.oidc.team_id", "web.oidc.issuer", "web.session_key", "web.session_ttl"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem names %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "short-secret-value") || strings.Contains(err.Error(), "too-short-key-value") {
		t.Fatalf("a web secret is in the error:\n%v", err)
	}
	// The emulator's loopback issuer is fine, and sessions may last a week.
	b, env = webExample(t, `web:
  oidc: {client_id: "1.2", client_secret: s3cret-value, team_id: T0X, issuer: "http://127.0.0.1:9999"}
  session_key: session-key-0123456789-0123456789-abcdef
  session_ttl: 168h
`)
	c, err := Parse(b, lookupFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Web.SessionTTL.Duration != 168*time.Hour {
		t.Fatalf("session_ttl %v", c.Web.SessionTTL)
	}
}

func TestWebOverHTTPIsAWarning(t *testing.T) {
	b, env := webExample(t, `web:
  oidc: {client_id: "1.2", client_secret: s3cret-value, team_id: T0X}
  session_key: session-key-0123456789-0123456789-abcdef
`)
	b = []byte(strings.Replace(string(b), `public_url: "https://nova.example.com"`, `public_url: "http://nova.example.com"`, 1))
	c, err := Parse(b, lookupFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	if ws := strings.Join(c.Warnings(), "\n"); !strings.Contains(ws, "public_url: is http while web.oidc is set") {
		t.Fatalf("warnings:\n%s", ws)
	}
}
