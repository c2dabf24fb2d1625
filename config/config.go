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
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b, os.LookupEnv)
}

// Parse expands ${VAR} and ${file:PATH} references with lookup, decodes
// strictly (unknown fields are errors), applies defaults and validates.
// The error lists every problem, each naming its field.
func Parse(b []byte, lookup Lookup) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("config is not valid YAML: %v", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("config is empty")
	}
	var problems []string
	expandNode(&root, "", lookup, &problems)
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	dec := yaml.NewDecoder(&out)
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	c.applyDefaults()
	problems = append(problems, c.validate()...)
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
