package config

import (
	"math"
	"time"
)

// RotationDays is the age after which a credential is reported as due.
const RotationDays = 90

// Credential describes one configured credential without its value.
type Credential struct {
	Environment string `json:"environment,omitempty"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	// Created is zero when the configuration gives no date.
	Created time.Time `json:"created,omitempty"`
	// AgeDays is nil when Created is unknown.
	AgeDays *int `json:"age_days,omitempty"`
	// Status is ok, due (older than RotationDays) or unknown (no date).
	Status string `json:"status"`
}

// Credentials lists every configured credential with its age at now.
func (c *Config) Credentials(now time.Time) []Credential {
	var out []Credential
	add := func(env, kind, name string, s Secret) {
		if s.IsZero() {
			return
		}
		cr := Credential{Environment: env, Kind: kind, Name: name, Created: s.Created.Time, Status: "unknown"}
		if !s.Created.IsZero() {
			age := int(math.Floor(now.Sub(s.Created.Time).Hours() / 24))
			cr.AgeDays = &age
			cr.Status = "ok"
			if age > RotationDays {
				cr.Status = "due"
			}
		}
		out = append(out, cr)
	}
	for _, name := range c.EnvironmentNames() {
		e := c.Environments[name]
		add(name, "pagerduty_token", "pagerduty.token", e.PagerDuty.Token)
		for i, s := range e.PagerDuty.WebhookSecrets {
			add(name, "pagerduty_webhook_secret", "pagerduty.webhook_secrets["+itoa(i)+"]", s)
		}
		add(name, "slack_bot_token", "slack.bot_token", e.Slack.BotToken)
		add(name, "slack_signing_secret", "slack.signing_secret", e.Slack.SigningSecret)
		add(name, "slack_app_token", "slack.app_token", e.Slack.AppToken)
	}
	for _, k := range c.APIKeys {
		add("", "api_key", k.Name, k.Key)
	}
	for _, a := range c.Actions {
		add("", "action_secret", a.Name, a.Executor.Secret)
	}
	if !c.Audit.Key.IsZero() {
		add("", "audit_key", "audit.key ("+auditKeyID(c.Audit.KeyID, c.Audit.Key)+")", c.Audit.Key)
	}
	for i, k := range c.Audit.PreviousKeys {
		add("", "audit_key_previous", "audit.previous_keys["+itoa(i)+"] ("+auditKeyID(k.ID, k.Key)+")", k.Key)
	}
	add("", "metrics_bearer_token", "metrics.bearer_token", c.Metrics.BearerToken)
	return out
}
