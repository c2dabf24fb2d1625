package e2e

import (
	"fmt"

	"os"
	"path/filepath"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// Service declares one service of an installation.
type Service struct {
	ID, Name, Env, Mode, Channel string
	AutoAck                      bool
	WatchDays                    int
}

// Options shape an installation; the zero value is one prod environment
// (enterprise tier, bolt store) with an action-mode service that auto-acks
// and a read-only one, and a destructive rollback action.
type Options struct {
	Backend  string // bolt (default) or redis
	RedisURL string
	// Prefix is the Redis key prefix; instances sharing it share state.
	Prefix            string
	Tier              string
	Envs              []string
	Services          []Service
	RequiredApprovals int
	Approvers         []string
	Admins            []string
	ExpiresAfter      string
	Visibility        string
	Workers           int
	RatePerMinute     int
	// LogLevel is Nova's log level (debug by default; JSON either way).
	LogLevel string
	// PublicURL is Nova's public_url.
	PublicURL string
	// ExtraActions is YAML appended to the actions list.
	ExtraActions string
	// NoActions leaves the catalog empty.
	NoActions bool
	// PD configures the PagerDuty emulator.
	PD pdemu.Options
	// Triage is YAML for the triage section's body (indented two spaces).
	Triage string

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
	// MetricsListen serves metrics.listen on a loopback port.
	MetricsListen bool
	// Web turns on the web pages, with Sign in with Slack against the
	// Slack emulator (client WebClientID, its callback under PublicURL,
	// which must then be Nova's own URL for a browser to come back).
	Web bool
	// Spans, when set, receives the spans of instances run in the test's
	// process (tracing on).
	Spans sdktrace.SpanExporter
	// CredentialsCreated (YYYY-MM-DD) replaces 2026-10-01 as the created
	// date of the PagerDuty tokens and the API keys.
	CredentialsCreated string
	// WebhookCreated gives webhook secrets a created date, by secret.
	WebhookCreated map[string]string
}

// Defaults fills in what o leaves unset.
func (o *Options) Defaults() {
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
		o.Services = []Service{
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
	if o.LogLevel == "" {
		o.LogLevel = "debug"
	}
	if o.PublicURL == "" {
		o.PublicURL = "https://nova.test"
	}
}

// Sign in with Slack in an installation with Options.Web: the app's client
// (registered in the Slack emulator), the emulated workspace and the key
// that signs Nova's session cookies.
const (
	WebClientID     = "1111.2222"
	WebClientSecret = "oidc-e2e-client-secret-9f8e7d"
	WebTeamID       = "T0SLACKEMU"
	WebSessionKey   = "e2e-session-key-0123456789-0123456789-abcdef"
)

// EnvSecrets are one environment's credentials in an installation.
type EnvSecrets struct {
	PDToken  string
	Webhook  []string
	Signing  string
	BotEmail string
	BotUser  string
}

// Installation is a whole Nova installation but Nova itself: PagerDuty and
// Slack emulators that refuse anything they do not model, seeded with the
// environments, services, channels and people of Options; an automation
// receiver for actions; fresh credentials; and the configuration file that
// ties them together. Nova runs on it in the caller's process (cmd/nova's
// tests) or as a child process (Start).
type Installation struct {
	Opts         Options
	Dir          string
	CfgPath      string
	PD           *pdemu.Emulator
	PDURL        string
	SL           *slackemu.Emulator
	Env          map[string]EnvSecrets
	ReadKey      string
	AdminKey     string
	ActionSecret string
	Receiver     *Receiver
}

// NewInstallation starts the emulators and the receiver in dir and writes
// the configuration. Close stops them.
func NewInstallation(o Options, dir string) (*Installation, error) {
	o.Defaults()
	in := &Installation{Opts: o, Dir: dir, CfgPath: filepath.Join(dir, "nova.yaml"), Env: map[string]EnvSecrets{},
		ReadKey: "read-" + RandHex(12), AdminKey: "admin-" + RandHex(12), ActionSecret: "act-" + RandHex(12)}
	in.PD = pdemu.New(o.PD)
	in.PDURL = in.PD.Start()
	in.SL = slackemu.New(slackemu.Options{BotToken: "xoxb-e2e"})
	if _, err := in.SL.Start(); err != nil {
		in.PD.Close()
		return nil, err
	}
	for _, id := range []string{"U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0MALLORY"} {
		in.SL.AddUser(id, strings.ToLower(id[2:]))
	}
	in.SL.AddGroup("S0ONCALL", "U0DAVE")
	in.SL.AddGroup("S0ADMINS", "U0CAROL")
	if o.Web {
		in.SL.AddOIDCClient(slackemu.OIDCClient{ID: WebClientID, Secret: WebClientSecret,
			RedirectURIs: []string{strings.TrimRight(o.PublicURL, "/") + "/auth/slack/callback"}})
	}
	var err error
	if in.Receiver, err = NewReceiver(in.ActionSecret); err != nil {
		in.Close()
		return nil, err
	}
	for _, env := range o.Envs {
		s := EnvSecrets{PDToken: "pd-" + env + "-" + RandHex(8), Webhook: []string{"wh-" + env + "-" + RandHex(8)},
			Signing: "sign-" + env + "-" + RandHex(8), BotEmail: "nova-bot-" + env + "@example.com", BotUser: "PBOT" + strings.ToUpper(env)}
		in.Env[env] = s
		in.PD.AddToken(s.PDToken, env)
		in.PD.AddUser(env, s.BotUser, s.BotEmail, "Nova")
		in.PD.AddUser(env, "PALICE"+strings.ToUpper(env), "alice-"+env+"@example.com", "Alice")
	}
	for _, s := range o.Services {
		in.PD.AddService(s.Env, pdemu.Service{ID: s.ID, Name: s.Name})
		in.SL.AddChannel(s.Channel, s.Name+"-incidents")
	}
	if err := in.WriteConfig(); err != nil {
		in.Close()
		return nil, err
	}
	return in, nil
}

// Close stops the emulators and the receiver.
func (in *Installation) Close() {
	if in.Receiver != nil {
		in.Receiver.Close()
	}
	in.PD.Close()
	_ = in.SL.Close()
}

// Subscribe points every environment's webhooks at Nova's base URL.
func (in *Installation) Subscribe(novaURL string) {
	for _, env := range in.Opts.Envs {
		in.PD.Subscribe(env, novaURL+"/webhooks/pagerduty/"+env, in.Env[env].Webhook)
	}
}

// WriteConfig (re)writes the configuration file from the installation.
func (in *Installation) WriteConfig() error {
	y, err := in.ConfigYAML()
	if err != nil {
		return err
	}
	return os.WriteFile(in.CfgPath, []byte(y), 0o600)
}

// ConfigYAML renders the installation's configuration file.
func (in *Installation) ConfigYAML() (string, error) {
	o := in.Opts
	var b strings.Builder
	fmt.Fprintf(&b, "listen: \"127.0.0.1:0\"\npublic_url: %q\ntier: %s\n", o.PublicURL, o.Tier)
	if o.Backend == "redis" {
		fmt.Fprintf(&b, "store: { backend: redis, url: %q, prefix: %q%s }\n", o.RedisURL, o.Prefix, o.StoreExtra)
	} else {
		fmt.Fprintf(&b, "store: { backend: bolt, path: %q%s }\n", in.Dir+"/nova.db", o.StoreExtra)
	}
	if o.MetricsListen {
		b.WriteString("metrics: { listen: \"127.0.0.1:0\" }\n")
	}
	if o.Web {
		path := in.Dir + "/oidc-client-secret"
		if err := os.WriteFile(path, []byte(WebClientSecret+"\n"), 0o600); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "web:\n  oidc: { issuer: %q, client_id: %q, client_secret: \"${file:%s}\", team_id: %s }\n  session_key: %q\n",
			in.SL.Issuer(), WebClientID, path, WebTeamID, WebSessionKey)
	}
	b.WriteString(o.ExtraYAML)
	fmt.Fprintf(&b, "log: { level: %s, format: json }\nworkers: { count: %d, visibility_timeout: %s }\n", o.LogLevel, o.Workers, o.Visibility)
	created := "2026-10-01"
	if o.CredentialsCreated != "" {
		created = o.CredentialsCreated
	}
	fmt.Fprintf(&b, "api_keys:\n  - { name: dashboards, key: %q, scope: read, created: %s }\n  - { name: auditors, key: %q, scope: admin, created: %s }\n", in.ReadKey, created, in.AdminKey, created)
	b.WriteString("environments:\n")
	for _, env := range o.Envs {
		s := in.Env[env]
		fmt.Fprintf(&b, "  %s:\n    pagerduty:\n      api_url: %q\n      token: %q\n      token_created: %s\n      from: %q\n      rate_per_minute: %d\n      webhook_secrets: [%s]\n",
			env, in.PDURL, s.PDToken, created, s.BotEmail, o.RatePerMinute, webhookSecrets(s.Webhook, o.WebhookCreated))
		admins := o.Admins
		if a, ok := o.EnvAdmins[env]; ok {
			admins = a
		}
		fmt.Fprintf(&b, "    slack:\n      api_url: %q\n      bot_token: \"xoxb-e2e\"\n      signing_secret: %q\n      admins: [%s]\n",
			in.SL.APIURL(), s.Signing, QuoteList(admins))
		fmt.Fprintf(&b, "    approvals: { approvers: [%s], required_approvals: %d, expires_after: %s }\n",
			QuoteList(o.Approvers), o.RequiredApprovals, o.ExpiresAfter)
	}
	if len(o.GlobalAdmins) > 0 {
		fmt.Fprintf(&b, "global_admins: [%s]\n", QuoteList(o.GlobalAdmins))
	}
	if o.AuditKey != "" {
		path := in.Dir + "/audit.key"
		if err := os.WriteFile(path, []byte(o.AuditKey), 0o600); err != nil {
			return "", err
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
		fmt.Fprintf(&b, "      params: { service: \"{{.Service}}\" }, executor: { type: webhook, url: %q, secret: %q, timeout: 5s } }\n", in.Receiver.URL, in.ActionSecret)
		b.WriteString(o.ExtraActions)
	}
	return b.String(), nil
}

// webhookSecrets renders webhook secrets as a YAML flow list's items, with
// their created date where one is given.
func webhookSecrets(secrets []string, created map[string]string) string {
	items := make([]string, len(secrets))
	for i, w := range secrets {
		items[i] = fmt.Sprintf("%q", w)
		if d, ok := created[w]; ok {
			items[i] = fmt.Sprintf("{ secret: %q, created: %s }", w, d)
		}
	}
	return strings.Join(items, ", ")
}

// QuoteList renders ids as a YAML flow list's items.
func QuoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return strings.Join(q, ", ")
}
