// Package config loads and validates Nova's YAML configuration: the declared
// intent (environments, services, actions) and the credentials Nova runs with.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/novasre/nova"
)

// Config is the whole configuration file.
type Config struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	// Tier is standard or enterprise.
	Tier         string                  `yaml:"tier"`
	Store        StoreConfig             `yaml:"store"`
	Log          LogConfig               `yaml:"log"`
	Workers      WorkersConfig           `yaml:"workers"`
	APIKeys      []APIKey                `yaml:"api_keys"`
	Environments map[string]*Environment `yaml:"environments"`
	Services     []ServiceConfig         `yaml:"services"`
	Actions      []ActionConfig          `yaml:"actions"`
	Triage       TriageConfig            `yaml:"triage"`
	Tracing      TracingConfig           `yaml:"tracing"`

	// GlobalAdmins are Slack user ids (U…/W…) or user-group ids (S…) who
	// may pause and resume Nova as a whole; an admin of every environment
	// may too.
	GlobalAdmins []string `yaml:"global_admins"`
	// Audit keys the audit chain.
	Audit AuditConfig `yaml:"audit"`
	// Promotion is the feedback bar for read-only → action.
	Promotion PromotionConfig `yaml:"promotion"`
	// Review schedules the rollout review.
	Review ReviewConfig `yaml:"review"`
	// HTTP and Metrics bound and protect the HTTP listeners.
	HTTP    HTTPConfig    `yaml:"http"`
	Metrics MetricsConfig `yaml:"metrics"`
	// Web turns on the web pages and Sign in with Slack.
	Web WebConfig `yaml:"web"`
}

// HTTPConfig bounds what clients can make Nova's HTTP listeners hold.
type HTTPConfig struct {
	// MaxHeaderBytes bounds a request's header block; larger ones get 431.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// ReadHeaderTimeout bounds how long a client may take to send headers.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// IdleTimeout closes keep-alive connections left idle this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxConnections caps the open connections of each listener.
	MaxConnections int `yaml:"max_connections"`
	// ReservedConnections are accepted beyond MaxConnections for health
	// checks only (/healthz, /readyz): everything else on them gets 503.
	ReservedConnections int `yaml:"reserved_connections"`
	// MaxAuthFailuresPerMinute is how many requests with a wrong API key
	// (or metrics token) one client address may send per minute, in a
	// burst of as many, before it gets 429 with Retry-After.
	MaxAuthFailuresPerMinute int `yaml:"max_auth_failures_per_minute"`
}

// MetricsConfig protects the Prometheus endpoint.
type MetricsConfig struct {
	// Listen, when set, serves /metrics (and /healthz, /readyz) on this
	// separate address, and no longer on the main listener.
	Listen string `yaml:"listen"`
	// BearerToken, when set, is required as "Authorization: Bearer <token>".
	BearerToken Secret `yaml:"bearer_token"`
}

// StoreConfig chooses the state backend.
type StoreConfig struct {
	// Backend is bolt (embedded, one process) or redis (several replicas).
	Backend string `yaml:"backend"`
	Path    string `yaml:"path"`
	URL     Secret `yaml:"url"`
	// Addrs lists Sentinel or Cluster nodes, instead of URL.
	Addrs      []string `yaml:"addrs"`
	MasterName string   `yaml:"master_name"`
	Prefix     string   `yaml:"prefix"`
	// MinFreeDisk is the free space below which /readyz reports not ready
	// (bolt: the filesystem holding path).
	MinFreeDisk ByteSize `yaml:"min_free_disk"`
}

// LogConfig sets logging.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"` // json or text
}

// WorkersConfig sizes the pool that drains the inbox.
type WorkersConfig struct {
	Count int `yaml:"count"`
	// Visibility is how long a claimed event stays hidden before another
	// worker may take it over from a crashed one.
	Visibility  Duration `yaml:"visibility_timeout"`
	DedupTTL    Duration `yaml:"dedup_ttl"`
	MaxAttempts int      `yaml:"max_attempts"`
}

// APIKey grants access to Nova's HTTP API.
type APIKey struct {
	Name    string `yaml:"name"`
	Key     Secret `yaml:"key"`
	Scope   string `yaml:"scope"` // read or admin
	Created Date   `yaml:"created"`
}

// AuditConfig keys the audit chain (HMAC-SHA256), so that whoever can write
// to the store cannot rewrite the log undetected. The key must live outside
// the store: ${file:/run/secrets/...} or ${VAR}.
type AuditConfig struct {
	// Key seals new entries; without it the chain is plain SHA-256.
	Key Secret `yaml:"key"`
	// KeyID names Key in the entries it seals (default: derived from it).
	KeyID string `yaml:"key_id"`
	// PreviousKeys verify entries sealed before a rotation.
	PreviousKeys []AuditKeyConfig `yaml:"previous_keys"`
}

// AuditKeyConfig is a retired audit key, kept to verify old entries.
type AuditKeyConfig struct {
	ID  string `yaml:"id"`
	Key Secret `yaml:"key"`
}

// AuditKeys returns the key new entries are sealed with (nil: the plain
// chain) and every configured key, current first, for verification.
// Call it on a validated configuration.
func (c *Config) AuditKeys() (*nova.AuditKey, []*nova.AuditKey) {
	var current *nova.AuditKey
	var all []*nova.AuditKey
	if !c.Audit.Key.IsZero() {
		if k, err := nova.NewAuditKey(auditKeyID(c.Audit.KeyID, c.Audit.Key), []byte(c.Audit.Key.Value())); err == nil {
			current = k
			all = append(all, k)
		}
	}
	for _, p := range c.Audit.PreviousKeys {
		if k, err := nova.NewAuditKey(auditKeyID(p.ID, p.Key), []byte(p.Key.Value())); err == nil {
			all = append(all, k)
		}
	}
	return current, all
}

func auditKeyID(id string, key Secret) string {
	if id != "" {
		return id
	}
	return nova.AuditKeyID([]byte(key.Value()))
}

// Environment holds one environment's credentials (prod, staging, ...).
type Environment struct {
	PagerDuty PagerDutyConfig `yaml:"pagerduty"`
	Slack     SlackConfig     `yaml:"slack"`
	Approvals ApprovalsConfig `yaml:"approvals"`
}

// PagerDutyConfig is one PagerDuty credential and its webhook secrets.
type PagerDutyConfig struct {
	APIURL       string `yaml:"api_url"`
	Token        Secret `yaml:"token"`
	TokenCreated Date   `yaml:"token_created"`
	// From is the bot user's email, sent as the From header on writes.
	From string `yaml:"from"`
	// BotUserID is the bot user's id; learned from Nova's first note if unset.
	BotUserID      string   `yaml:"bot_user_id"`
	WebhookSecrets []Secret `yaml:"webhook_secrets"`
	// RatePerMinute is this credential's budget, shared by all replicas.
	RatePerMinute int `yaml:"rate_per_minute"`
}

// SlackConfig is one Slack app's credentials.
type SlackConfig struct {
	APIURL        string `yaml:"api_url"`
	BotToken      Secret `yaml:"bot_token"`
	SigningSecret Secret `yaml:"signing_secret"`
	// Admins are user ids (U…/W…) or user-group ids (S…) who may change modes.
	Admins     []string `yaml:"admins"`
	SocketMode bool     `yaml:"socket_mode"`
	AppToken   Secret   `yaml:"app_token"`
}

// Enabled reports whether Slack is configured for the environment.
func (s SlackConfig) Enabled() bool { return !s.BotToken.IsZero() }

// ApprovalsConfig says who may approve actions in an environment.
type ApprovalsConfig struct {
	Approvers         []string `yaml:"approvers"`
	RequiredApprovals int      `yaml:"required_approvals"`
	ExpiresAfter      Duration `yaml:"expires_after"`
}

// ServiceConfig declares one PagerDuty service and its intended mode.
type ServiceConfig struct {
	ID           string          `yaml:"id"`
	Name         string          `yaml:"name"`
	Environment  string          `yaml:"environment"`
	Mode         string          `yaml:"mode"`
	SlackChannel string          `yaml:"slack_channel"`
	WatchDays    *int            `yaml:"watch_days"`
	AutoAck      bool            `yaml:"auto_ack"`
	Runbooks     []RunbookConfig `yaml:"runbooks"`
	Related      []string        `yaml:"related"`
	// DependsOn names what the service needs: declared services (by name
	// or PagerDuty id) and outside providers (by name or host, such as
	// "stripe" or "api.stripe.com"). Triage treats an incident on one of
	// them, or one of them failing in the alerts, as a cause of its own.
	DependsOn []string `yaml:"depends_on"`
}

// RunbookConfig links a runbook to alerts matching a regular expression.
type RunbookConfig struct {
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
	Match string `yaml:"match"`
}

// ActionConfig is one entry of the action catalog.
type ActionConfig struct {
	Name        string            `yaml:"name"`
	Title       string            `yaml:"title"`
	Description string            `yaml:"description"`
	Destructive bool              `yaml:"destructive"`
	AutoRun     bool              `yaml:"auto_run"`
	Addresses   []string          `yaml:"addresses"`
	Match       string            `yaml:"match"`
	Services    []string          `yaml:"services"`
	Params      map[string]string `yaml:"params"`
	Executor    ExecutorConfig    `yaml:"executor"`
}

// ExecutorConfig says how an action runs.
type ExecutorConfig struct {
	Type    string   `yaml:"type"` // webhook
	URL     string   `yaml:"url"`
	Secret  Secret   `yaml:"secret"`
	Timeout Duration `yaml:"timeout"`
}

// TriageConfig tunes triage.
type TriageConfig struct {
	// Budget bounds evidence gathering for one incident.
	Budget       Duration  `yaml:"budget"`
	AbstainBelow float64   `yaml:"abstain_below"`
	LLM          LLMConfig `yaml:"llm"`
}

// LLMConfig points at an optional OpenAI-compatible chat endpoint.
type LLMConfig struct {
	BaseURL string   `yaml:"base_url"`
	Model   string   `yaml:"model"`
	APIKey  Secret   `yaml:"api_key"`
	Timeout Duration `yaml:"timeout"`
}

// Enabled reports whether an LLM is configured.
func (l LLMConfig) Enabled() bool { return l.BaseURL != "" }

// Load reads, expands and validates the file at path.
func Load(path string) (*Config, error) {
	return LoadWith(path, Options{})
}

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseWith(b, os.LookupEnv, o)
}

// Options tune how a configuration is checked.
type Options struct {
	// Offline checks the structure only: ${VAR} references to unset
	// variables and unreadable ${file:...} references are allowed, and the
	// fields built from them are not judged. For checking a file in CI or
	// on a laptop without the production secrets.
	Offline bool
}

// Parse expands ${VAR} and ${file:PATH} references with lookup, decodes
// strictly (unknown fields are errors), applies defaults and validates.
// The error lists every problem, each naming its field.
func Parse(b []byte, lookup Lookup) (*Config, error) {
	return ParseWith(b, lookup, Options{})
}

// ParseWith is Parse with options.
func ParseWith(b []byte, lookup Lookup, o Options) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("config is not valid YAML: %v", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("config is empty")
	}
	x := &expander{lookup: lookup, offline: o.Offline}
	x.node(&root, "")
	problems := x.problems
	// Unknown fields and values of the wrong kind, by path and line.
	structural := checkFields(&root)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	doc := bytes.Clone(out.Bytes())
	dec := yaml.NewDecoder(&out)
	dec.KnownFields(len(structural) == 0)
	var c Config
	if err := dec.Decode(&c); err != nil && len(structural) == 0 {
		// Type errors would quote the value, which may be a secret: name
		// the field and the types instead.
		if decoded, ok := decodeProblems(err, doc); ok {
			return nil, &ValidationError{Problems: append(problems, decoded...)}
		}
		return nil, fmt.Errorf("config: %v", err)
	}
	c.applyDefaults()
	problems = append(problems, dropUnresolved(append(append(structural, c.validate()...), c.validateTracing()...), x.unresolved)...)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return &c, nil
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct{ Problems []string }

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	return "invalid config:\n  " + strings.Join(e.Problems, "\n  ")
}
