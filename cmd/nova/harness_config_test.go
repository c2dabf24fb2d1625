package main

import (
	"fmt"
	"os"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// serviceSpec declares one service of a test installation.
type serviceSpec struct {
	ID, Name, Env, Mode, Channel string
	AutoAck                      bool
	WatchDays                    int
}

// harnessOptions shape a test installation; the zero value is one prod
// environment (enterprise tier, bolt store) with an action-mode service
// that auto-acks and a read-only one, and a destructive rollback action.
type harnessOptions struct {
	Backend  string // bolt (default) or redis
	RedisURL string
	// Prefix is the Redis key prefix; instances sharing it share state.
	Prefix            string
	Tier              string
	Envs              []string
	Services          []serviceSpec
	RequiredApprovals int
	Approvers         []string
	Admins            []string
	ExpiresAfter      string
	Visibility        string
	Workers           int
	RatePerMinute     int
	// ExtraActions is YAML appended to the actions list.
	ExtraActions string
	// NoActions leaves the catalog empty.
	NoActions bool
	// PD configures the PagerDuty emulator.
	PD pdemu.Options
	// Triage is YAML for the triage section's body (indented two spaces).
	Triage string
	// Spans, when set, receives the instances' spans (tracing on).
	Spans sdktrace.SpanExporter

	// EnvAdmins, when it names an environment, replaces Admins there.
	EnvAdmins map[string][]string
	// GlobalAdmins is the top-level global_admins list.
	GlobalAdmins []string
	// AuditKey, when set, keys the audit chain (audit.key, from a file).
	AuditKey string
	// StoreExtra is appended inside the store mapping (", key: value").
	StoreExtra string
	// ExtraYAML is appended at the top level (http:, metrics: sections).
	ExtraYAML string
	// MetricsListen serves metrics.listen on a loopback port (instance.metricsURL).
	MetricsListen bool
	// Web turns on the web pages with Sign in with Slack against the Slack
	// emulator; public_url is then the first instance's own loopback URL,
	// so the links Nova writes open in the test's browser.
	Web bool
}

func (o *harnessOptions) defaults() {
	if o.Backend == "" {
		o.Backend = "bolt"
	}
	if o.Tier == "" {
		o.Tier = "enterprise"
	}
	if len(o.Envs) == 0 {
		o.Envs = []string{"prod"}
	}
	if o.Services == nil {
		o.Services = []serviceSpec{
			{ID: "PCHECKOUT", Name: "checkout", Env: o.Envs[0], Mode: "action", Channel: "C0CHECKOUT", AutoAck: true},
			{ID: "PPAYMENTS", Name: "payments", Env: o.Envs[0], Mode: "read-only", Channel: "C0PAYMENTS"},
		}
	}
	if o.RequiredApprovals == 0 {
		o.RequiredApprovals = 1
	}
	if o.Approvers == nil {
		o.Approvers = []string{"U0ALICE", "U0BOB", "U0CAROL", "S0ONCALL"}
	}
	if o.Admins == nil {
		o.Admins = []string{"U0ALICE", "S0ADMINS"}
	}
	if o.ExpiresAfter == "" {
		o.ExpiresAfter = "30m"
	}
	if o.Visibility == "" {
		o.Visibility = "3s"
	}
	if o.Workers == 0 {
		o.Workers = 4
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = 900
	}
}

// envSecrets are one environment's credentials in a test installation.
type envSecrets struct {
	PDToken  string
	Webhook  []string
	Signing  string
	BotEmail string
	BotUser  string
}

// configYAML renders the installation's configuration file.
func (h *harness) configYAML() string {
	o := h.opts
	var b strings.Builder
	public := "https://nova.test"
	if h.publicURL != "" {
		public = h.publicURL
	}
	fmt.Fprintf(&b, "listen: \"127.0.0.1:0\"\npublic_url: %q\ntier: %s\n", public, o.Tier)
	if o.Web {
		path := h.dir + "/oidc-client-secret"
		if err := os.WriteFile(path, []byte(webClientSecret+"\n"), 0o600); err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&b, "web:\n  oidc: { issuer: %q, client_id: %q, client_secret: \"${file:%s}\", team_id: T0SLACKEMU }\n  session_key: %q\n",
			h.sl.Issuer(), webClientID, path, webSessionKey)
	}
	if o.Backend == "redis" {
		fmt.Fprintf(&b, "store: { backend: redis, url: %q, prefix: %q%s }\n", o.RedisURL, o.Prefix, o.StoreExtra)
	} else {
		fmt.Fprintf(&b, "store: { backend: bolt, path: %q%s }\n", h.dir+"/nova.db", o.StoreExtra)
	}
	if o.MetricsListen {
		b.WriteString("metrics: { listen: \"127.0.0.1:0\" }\n")
	}
	b.WriteString(o.ExtraYAML)
	fmt.Fprintf(&b, "log: { level: debug }\nworkers: { count: %d, visibility_timeout: %s }\n", o.Workers, o.Visibility)
	fmt.Fprintf(&b, "api_keys:\n  - { name: dashboards, key: %q, scope: read, created: 2026-10-01 }\n  - { name: auditors, key: %q, scope: admin, created: 2026-10-01 }\n", h.readKey, h.adminKey)
	b.WriteString("environments:\n")
	for _, env := range o.Envs {
		s := h.env[env]
		fmt.Fprintf(&b, "  %s:\n    pagerduty:\n      api_url: %q\n      token: %q\n      token_created: 2026-10-01\n      from: %q\n      rate_per_minute: %d\n      webhook_secrets: [",
			env, h.pdURL, s.PDToken, s.BotEmail, o.RatePerMinute)
		for i, w := range s.Webhook {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", w)
		}
		admins := o.Admins
		if a, ok := o.EnvAdmins[env]; ok {
			admins = a
		}
		fmt.Fprintf(&b, "]\n    slack:\n      api_url: %q\n      bot_token: \"xoxb-e2e\"\n      signing_secret: %q\n      admins: [%s]\n",
			h.sl.APIURL(), s.Signing, quoteList(admins))
		fmt.Fprintf(&b, "    approvals: { approvers: [%s], required_approvals: %d, expires_after: %s }\n",
			quoteList(o.Approvers), o.RequiredApprovals, o.ExpiresAfter)
	}
	if len(o.GlobalAdmins) > 0 {
		fmt.Fprintf(&b, "global_admins: [%s]\n", quoteList(o.GlobalAdmins))
	}
	if o.AuditKey != "" {
		path := h.dir + "/audit.key"
		if err := os.WriteFile(path, []byte(o.AuditKey), 0o600); err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&b, "audit: { key: \"${file:%s}\", key_id: e2e-1 }\n", path)
	}
	b.WriteString("services:\n")
	for _, s := range o.Services {
		fmt.Fprintf(&b, "  - { id: %s, name: %s, environment: %s, mode: %s, slack_channel: %s, auto_ack: %v, watch_days: %d,\n",
			s.ID, s.Name, s.Env, s.Mode, s.Channel, s.AutoAck, s.WatchDays)
		b.WriteString("      runbooks: [{ title: \"Error-rate runbook\", url: \"https://wiki.test/runbooks/errors\", match: \"(?i)5xx|error rate\" }] }\n")
	}
	if o.Triage != "" {
		b.WriteString("triage:\n" + o.Triage)
	}
	if !o.NoActions {
		b.WriteString("actions:\n")
		var ids []string
		for _, s := range o.Services {
			ids = append(ids, s.ID)
		}
		fmt.Fprintf(&b, "  - { name: rollback, title: \"Roll back to the previous release\", destructive: true, addresses: [change], services: [%s],\n", strings.Join(ids, ", "))
		fmt.Fprintf(&b, "      params: { service: \"{{.Service}}\" }, executor: { type: webhook, url: %q, secret: %q, timeout: 5s } }\n", h.receiver.url, h.actionSecret)
		b.WriteString(o.ExtraActions)
	}
	return b.String()
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
