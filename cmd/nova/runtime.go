package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/executor"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/slack"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/triage"
	"github.com/novasre/nova/web"
)

// runtime holds the current configuration and the adapters built from it.
// A reload swaps the configuration; adapters read credentials through it on
// every request, so rotated secrets and tokens apply without a restart, and
// an adapter is rebuilt only when its non-secret settings change.
type runtime struct {
	current  atomic.Pointer[config.Config]
	settings atomic.Pointer[bot.Settings]
	store    store.Store
	log      logrus.FieldLogger
	reg      prometheus.Registerer
	http     *http.Client
	// onRefused audits calls refused by a client's allow-list.
	onRefused func(env, method, path string)
	// tracing, when set, traces the adapters' outgoing requests.
	tracing *tracing
	// now is the application's clock (tests move it); nil means time.Now.
	now func() time.Time

	mu        sync.Mutex
	pd        map[string]builtPD
	chat      map[string]builtChat
	executors map[string]builtExecutor
}

type builtPD struct {
	key    string
	client *pagerduty.Client
}

type builtChat struct {
	key    string
	client *slack.Client
}

type builtExecutor struct {
	key  string
	exec *executor.Webhook
}

func newRuntime(cfg *config.Config, st store.Store, log logrus.FieldLogger, reg prometheus.Registerer) *runtime {
	rt := &runtime{
		store: st, log: log, reg: reg,
		http:      &http.Client{Timeout: 60 * time.Second},
		pd:        map[string]builtPD{},
		chat:      map[string]builtChat{},
		executors: map[string]builtExecutor{},
	}
	rt.swap(cfg)
	return rt
}

// config returns the current configuration.
func (rt *runtime) config() *config.Config { return rt.current.Load() }

// swap installs a new configuration.
func (rt *runtime) swap(cfg *config.Config) {
	rt.current.Store(cfg)
	rt.settings.Store(settingsFrom(cfg))
}

// settingsFrom derives bot settings from a configuration.
func settingsFrom(cfg *config.Config) *bot.Settings {
	s := &bot.Settings{
		Tier:         nova.Tier(cfg.Tier),
		PublicURL:    cfg.PublicURL,
		Services:     map[string]nova.Service{},
		Environments: map[string]bot.EnvSettings{},
		GlobalAdmins: cfg.GlobalAdmins,
		Actions:      cfg.DomainActions(),
		TriageBudget: cfg.Triage.Budget.Duration,
		Triage:       triage.Options{AbstainBelow: cfg.Triage.AbstainBelow},
		Review:       settings.Review{Channel: cfg.Review.SlackChannel, Environment: cfg.ReviewEnvironment(), Every: cfg.Review.Every.Duration},
	}
	s.Promotion.MinFeedback, s.Promotion.MinPrecision = cfg.Promotion.Feedback()
	for _, svc := range cfg.DomainServices() {
		s.Services[svc.ID] = svc
	}
	for name, e := range cfg.Environments {
		s.Environments[name] = bot.EnvSettings{
			Admins: e.Slack.Admins, BotUserID: e.PagerDuty.BotUserID, Slack: e.Slack.Enabled(),
			Approvals: approvals.Policy{
				Approvers: e.Approvals.Approvers, RequiredApprovals: e.Approvals.RequiredApprovals,
				ExpiresAfter: e.Approvals.ExpiresAfter.Duration,
			},
		}
	}
	return s
}

// PagerDuty returns the scoped client of env, building it on first use.
func (rt *runtime) PagerDuty(env string) (bot.PagerDuty, error) {
	e, ok := rt.config().Environments[env]
	if !ok {
		return nil, nova.Errorf(nova.ENOTFOUND, "environment %s is not configured", env)
	}
	key := fmt.Sprintf("%s|%s|%d", e.PagerDuty.APIURL, e.PagerDuty.From, e.PagerDuty.RatePerMinute)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if b, ok := rt.pd[env]; ok && b.key == key {
		return b.client, nil
	}
	c, err := pagerduty.NewClient(pagerduty.ClientConfig{
		Environment:   env,
		APIURL:        e.PagerDuty.APIURL,
		Token:         func() string { return rt.pdToken(env) },
		From:          e.PagerDuty.From,
		Limiter:       rt.store,
		RatePerMinute: e.PagerDuty.RatePerMinute,
		OnRefused:     func(method, path string) { rt.onRefused(env, method, path) },
		HTTPClient:    rt.tracing.client("pagerduty", false, 0),
		Log:           rt.log.WithField("environment", env),
		Registerer:    rt.reg,
	})
	if err != nil {
		return nil, fmt.Errorf("pagerduty client for %s: %w", env, err)
	}
	rt.pd[env] = builtPD{key: key, client: c}
	return c, nil
}

func (rt *runtime) pdToken(env string) string {
	if e, ok := rt.config().Environments[env]; ok {
		return e.PagerDuty.Token.Value()
	}
	return ""
}

// Chat returns the Slack client of env, or ENOTFOUND without a Slack app.
func (rt *runtime) Chat(env string) (bot.Chat, error) {
	c, err := rt.slackClient(env)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (rt *runtime) slackClient(env string) (*slack.Client, error) {
	e, ok := rt.config().Environments[env]
	if !ok || !e.Slack.Enabled() {
		return nil, nova.Errorf(nova.ENOTFOUND, "environment %s has no Slack app configured", env)
	}
	key := e.Slack.APIURL
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if b, ok := rt.chat[env]; ok && b.key == key {
		return b.client, nil
	}
	c, err := slack.NewClient(slack.ClientConfig{
		APIURL: e.Slack.APIURL,
		BotToken: func() string {
			if e, ok := rt.config().Environments[env]; ok {
				return e.Slack.BotToken.Value()
			}
			return ""
		},
		Log:        rt.log.WithField("environment", env),
		Registerer: rt.reg,
		HTTPClient: rt.tracing.client("slack", false, 30*time.Second),
	})
	if err != nil {
		return nil, fmt.Errorf("slack client for %s: %w", env, err)
	}
	rt.chat[env] = builtChat{key: key, client: c}
	return c, nil
}

// Executor returns the executor of a catalog action.
func (rt *runtime) Executor(action string) (bot.Executor, error) {
	for _, a := range rt.config().Actions {
		if a.Name != action {
			continue
		}
		key := a.Executor.URL + "|" + a.Executor.Secret.Value() + "|" + a.Executor.Timeout.String()
		rt.mu.Lock()
		defer rt.mu.Unlock()
		if b, ok := rt.executors[action]; ok && b.key == key {
			return webhookExecutor{b.exec}, nil
		}
		w, err := executor.NewWebhook(executor.WebhookConfig{
			URL: a.Executor.URL, Secret: a.Executor.Secret.Value(), Timeout: a.Executor.Timeout.Duration,
			HTTPClient: rt.tracing.client("executor", true, 0),
		})
		if err != nil {
			return nil, err
		}
		rt.executors[action] = builtExecutor{key: key, exec: w}
		return webhookExecutor{w}, nil
	}
	return nil, nova.Errorf(nova.ENOTFOUND, "action %s is not in the catalog", action)
}

// webhookExecutor adapts the webhook executor to bot.Executor.
type webhookExecutor struct{ w *executor.Webhook }

func (e webhookExecutor) Run(ctx context.Context, r bot.Run) (string, error) {
	res, err := e.w.Run(ctx, r)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("HTTP %d after %d attempt(s): %s", res.Status, res.Attempts, res.Body), nil
}

// apiKeys returns the current API keys for web.RequireKey.
func (rt *runtime) apiKeys() []web.APIKey {
	cfg := rt.config()
	out := make([]web.APIKey, 0, len(cfg.APIKeys))
	for _, k := range cfg.APIKeys {
		out = append(out, web.APIKey{Name: k.Name, Key: k.Key.Value(), Scope: k.Scope})
	}
	return out
}

// webhookSecrets returns an environment's PagerDuty webhook secrets.
func (rt *runtime) webhookSecrets(env string) ([]string, bool) {
	e, ok := rt.config().Environments[env]
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(e.PagerDuty.WebhookSecrets))
	for _, s := range e.PagerDuty.WebhookSecrets {
		out = append(out, s.Value())
	}
	return out, true
}

// slackSecrets maps each environment with a Slack app to its signing secret.
func (rt *runtime) slackSecrets() map[string]string {
	out := map[string]string{}
	for name, e := range rt.config().Environments {
		if !e.Slack.SigningSecret.IsZero() {
			out[name] = e.Slack.SigningSecret.Value()
		}
	}
	return out
}
