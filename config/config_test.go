package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"gopkg.in/yaml.v3"
)

var exampleEnv = map[string]string{
	"NOVA_API_KEY_DASHBOARDS":   "dash-key-0123456789abcdef",
	"PD_TOKEN_PROD":             "pd-prod-token-AAAA",
	"PD_TOKEN_STAGING":          "pd-staging-token-BBBB",
	"PD_WEBHOOK_SECRET_PROD":    "whsec-prod",
	"PD_WEBHOOK_SECRET_STAGING": "whsec-staging",
	"SLACK_BOT_TOKEN":           "xoxb-test-token",
	"SLACK_SIGNING_SECRET":      "slack-signing",
	"ACTION_SECRET":             "action-secret",
}

func lookupFrom(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExampleConfigIsValid(t *testing.T) {
	b, err := os.ReadFile("../deploy/nova.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(b, lookupFrom(exampleEnv))
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if got := c.Environments["prod"].PagerDuty.Token.Value(); got != "pd-prod-token-AAAA" {
		t.Errorf("token not expanded: %q", got)
	}
	if got := c.Environments["prod"].Approvals.ExpiresAfter.Duration; got != 30*time.Minute {
		t.Errorf("expires_after = %v", got)
	}
	svc := c.DomainServices()[0]
	if svc.WatchDays != 14 || !svc.AutoAck || len(svc.Runbooks) != 1 {
		t.Errorf("service = %+v", svc)
	}
	if c.DomainServices()[1].WatchDays != nova.DefaultWatchDays {
		t.Errorf("default watch days not applied")
	}
	if c.Triage.Budget.Duration != 20*time.Second || c.Workers.DedupTTL.Duration != 72*time.Hour {
		t.Errorf("defaults: %+v %+v", c.Triage, c.Workers)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	b, _ := os.ReadFile("../deploy/nova.example.yaml")
	c, err := Parse(b, lookupFrom(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(c)
	ym, _ := yaml.Marshal(c)
	for _, out := range []string{string(js), string(ym), strings.ReplaceAll(sprint(c), " ", "")} {
		for _, s := range c.AllSecrets() {
			if strings.Contains(out, s) {
				t.Fatalf("secret %q printed", s)
			}
		}
	}
	if len(c.AllSecrets()) < 8 {
		t.Errorf("AllSecrets misses some: %d", len(c.AllSecrets()))
	}
}

func sprint(c *Config) string {
	b, _ := json.MarshalIndent(c, "", " ")
	return string(b)
}

func TestFileReferences(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	if err := os.WriteFile(p, []byte("from-file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := minimal(strings.Replace(baseEnv, `token: "tok-123"`, `token: "${file:`+p+`}"`, 1))
	c, err := Parse([]byte(doc), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Environments["prod"].PagerDuty.Token.Value(); got != "from-file-token" {
		t.Errorf("token = %q", got)
	}
}

const baseEnv = `
environments:
  prod:
    pagerduty:
      token: "tok-123"
      from: "bot@example.com"
      webhook_secrets: ["s1"]
`

func minimal(extra string) string { return "listen: \":0\"\n" + extra }

func TestValidationNamesTheField(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"missing env var", strings.Replace(baseEnv, `"tok-123"`, `"${NOPE_TOKEN}"`, 1), "environments.prod.pagerduty.token: environment variable NOPE_TOKEN is not set"},
		{"missing file", strings.Replace(baseEnv, `"tok-123"`, `"${file:/nonexistent/x}"`, 1), "environments.prod.pagerduty.token: cannot read secret file"},
		{"no token", strings.Replace(baseEnv, `token: "tok-123"`, ``, 1), "environments.prod.pagerduty.token: required"},
		{"bad from", strings.Replace(baseEnv, `bot@example.com`, `bot`, 1), "environments.prod.pagerduty.from"},
		{"no secrets", strings.Replace(baseEnv, `["s1"]`, `[]`, 1), "environments.prod.pagerduty.webhook_secrets"},
		{"rate over PD limit", baseEnv + "      rate_per_minute: 1000\n", "environments.prod.pagerduty.rate_per_minute"},
		{"bad backend", baseEnv + "store: {backend: mysql}\n", "store.backend"},
		{"redis without url", baseEnv + "store: {backend: redis}\n", "store.url"},
		{"bad tier", baseEnv + "tier: gold\n", "tier"},
		{"two envs on standard", baseEnv + "  staging:\n    pagerduty: {token: t, from: b@example.com, webhook_secrets: [x]}\n", "environments: 2 environments configured, but several environments needs the enterprise tier"},
		{"unknown env", baseEnv + "services:\n  - {id: PABC, name: a, environment: qa, mode: off}\n", "services[0].environment"},
		{"bad mode", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, mode: yolo}\n", "services[0].mode"},
		{"dup service", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod}\n  - {id: PABC, name: b, environment: prod}\n", "services[1].id: PABC is declared twice"},
		{"bad runbook regexp", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, runbooks: [{title: t, url: 'https://x', match: '(['}]}\n", "services[0].runbooks[0].match"},
		{"channel without slack", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, slack_channel: C123}\n", "services[0].slack_channel: environment prod has no slack.bot_token"},
		{"auto ack on standard", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, auto_ack: true}\n", "services[0].auto_ack: acknowledgement by Nova needs the enterprise tier"},
		{"unknown field", baseEnv + "lisen: x\n", "lisen: unknown field (line 9); did you mean listen?"},
		{"short api key", baseEnv + "api_keys: [{name: a, key: short, scope: read}]\n", "api_keys[0].key"},
		{"bad api scope", baseEnv + "api_keys: [{name: a, key: 0123456789abcdef0, scope: write}]\n", "api_keys[0].scope"},
		{"destructive auto run", baseEnv + "tier: enterprise\nservices: [{id: PABC, name: a, environment: prod}]\nactions:\n  - {name: r, title: R, destructive: true, auto_run: true, services: [PABC], executor: {type: webhook, url: 'https://x/y', secret: s}}\n", "actions[0].auto_run: a destructive action never runs without approval"},
		{"http executor", baseEnv + "tier: enterprise\nservices: [{id: PABC, name: a, environment: prod}]\nactions:\n  - {name: r, title: R, services: [PABC], executor: {type: webhook, url: 'http://example.com/y', secret: s}}\n", "actions[0].executor.url"},
		{"bad duration", baseEnv + "workers: {visibility_timeout: soon}\n", "is not a duration"},
		{"bad dependency", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, depends_on: ['https://x/y']}\n", "services[0].depends_on[0]"},
		{"dependency twice", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, depends_on: [stripe, Stripe]}\n", "services[0].depends_on[1]: Stripe is listed twice"},
		{"depends on itself", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, depends_on: [a]}\n", "services[0].depends_on[0]: a service cannot depend on itself"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal(tc.doc)), lookupFrom(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// Red-team item 2: an approval request may stay open at most 24 hours.
func TestRedTeam2_ApprovalExpiryIsBounded(t *testing.T) {
	doc := func(d string) string {
		return minimal(baseEnv + "    approvals: {approvers: [U0ALICE], expires_after: " + d + "}\n")
	}
	_, err := Parse([]byte(doc("25h")), lookupFrom(nil))
	if want := "environments.prod.approvals.expires_after: 25h0m0s is longer than the maximum of 24h0m0s"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("expires_after 25h: %v\nwant %q", err, want)
	}
	if _, err := Parse([]byte(doc("24h")), lookupFrom(nil)); err != nil {
		t.Fatalf("expires_after 24h: %v", err)
	}
}

// TestDependsOnCarriesIDs checks that a dependency named after a declared
// service reaches triage with that service's PagerDuty id too (incidents
// and changes name services by id), and outside providers as written.
func TestDependsOnCarriesIDs(t *testing.T) {
	doc := minimal(baseEnv + `services:
  - {id: PCHECK, name: checkout, environment: prod, depends_on: [payments, api.stripe.com]}
  - {id: PPAYS, name: payments, environment: prod}
`)
	c, err := Parse([]byte(doc), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.DomainServices()[0].DependsOn, ",")
	if got != "payments,PPAYS,api.stripe.com" {
		t.Errorf("depends_on = %s, want payments,PPAYS,api.stripe.com", got)
	}
}

func TestCredentialAges(t *testing.T) {
	doc := minimal(baseEnv + "      token_created: 2026-01-01\napi_keys: [{name: dash, key: 0123456789abcdef0, scope: read, created: 2026-11-01}]\n")
	c, err := Parse([]byte(doc), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	got := map[string]Credential{}
	for _, cr := range c.Credentials(now) {
		got[cr.Name] = cr
	}
	if cr := got["pagerduty.token"]; cr.Status != "due" || cr.AgeDays == nil || *cr.AgeDays != 331 {
		t.Errorf("token = %+v", cr)
	}
	if cr := got["dash"]; cr.Status != "ok" || cr.AgeDays == nil || *cr.AgeDays != 27 {
		t.Errorf("api key = %+v", cr)
	}
	if cr := got["pagerduty.webhook_secrets[0]"]; cr.Status != "unknown" || cr.AgeDays != nil {
		t.Errorf("secret without date = %+v", cr)
	}
	b, _ := json.Marshal(c.Credentials(now))
	if strings.Contains(string(b), "tok-123") {
		t.Fatal("credential listing holds a secret")
	}
}

func TestSecretWithCreatedMapping(t *testing.T) {
	doc := minimal(strings.Replace(baseEnv, `["s1"]`, `[{secret: s-old, created: 2026-01-02}, s-new]`, 1))
	c, err := Parse([]byte(doc), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	ws := c.Environments["prod"].PagerDuty.WebhookSecrets
	if ws[0].Value() != "s-old" || ws[0].Created.Format("2006-01-02") != "2026-01-02" || ws[1].Value() != "s-new" {
		t.Errorf("secrets = %v %v", ws[0].Value(), ws[1].Value())
	}
}

// TestRedTeam12_SecretTypeErrorHidesValue: a secret pasted where a list or a
// section belongs made yaml quote its first characters in the error.
func TestRedTeam12_SecretTypeErrorHidesValue(t *testing.T) {
	const secret = "whsec-Q7xTOPSECRET-0123456789"
	cases := []struct{ name, doc, field, want string }{
		{"secret instead of a list", strings.Replace(baseEnv, `["s1"]`, `"`+secret+`"`, 1),
			"environments.prod.pagerduty.webhook_secrets", "expected a list, found a string"},
		{"token instead of a section", baseEnv + "    slack: \"" + secret + "\"\n",
			"environments.prod.slack", "expected a mapping, found a string"},
		{"expanded secret in a number field", baseEnv + "workers: {count: \"${LEAKY}\"}\n",
			"workers.count", "expected an integer, found a string"},
		{"list where a secret belongs", strings.Replace(baseEnv, `"tok-123"`, `["`+secret+`"]`, 1),
			"environments.prod.pagerduty.token", "expected a string or a mapping {secret, created}, found a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal(tc.doc)), lookupFrom(map[string]string{"LEAKY": secret}))
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for n := 3; n <= len(secret); n++ {
				if strings.Contains(msg, secret[:n]) {
					t.Fatalf("the error quotes the first %d characters of the secret: %s", n, msg)
				}
			}
			if !strings.Contains(msg, tc.field+": "+tc.want) {
				t.Fatalf("error = %s\nwant it to name %s and say %q", msg, tc.field, tc.want)
			}
		})
	}
}
