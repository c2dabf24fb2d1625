package config

import (
	"slices"
	"sort"

	"github.com/novasre/nova"
)

// DomainServices returns the declared services as domain values.
func (c *Config) DomainServices() []nova.Service {
	out := make([]nova.Service, 0, len(c.Services))
	idByName := map[string]string{}
	for _, s := range c.Services {
		idByName[s.Name] = s.ID
	}
	for _, s := range c.Services {
		mode, _ := nova.ParseMode(s.Mode)
		ds := nova.Service{
			ID: s.ID, Name: s.Name, Environment: s.Environment, SlackChannel: s.SlackChannel,
			DeclaredMode: mode, WatchDays: *s.WatchDays, AutoAck: s.AutoAck, Related: s.Related,
		}
		// A dependency named after a declared service also carries its
		// PagerDuty id: incidents and changes arrive with ids, not names.
		for _, d := range s.DependsOn {
			ds.DependsOn = append(ds.DependsOn, d)
			if id, ok := idByName[d]; ok && !slices.Contains(s.DependsOn, id) {
				ds.DependsOn = append(ds.DependsOn, id)
			}
		}
		for _, r := range s.Runbooks {
			ds.Runbooks = append(ds.Runbooks, nova.Runbook{Title: r.Title, URL: r.URL, Match: r.Match})
		}
		out = append(out, ds)
	}
	return out
}

// DomainActions returns the action catalog as domain values (without
// executor secrets, which stay in the configuration).
func (c *Config) DomainActions() []nova.Action {
	out := make([]nova.Action, 0, len(c.Actions))
	for _, a := range c.Actions {
		da := nova.Action{
			Name: a.Name, Title: a.Title, Description: a.Description, Destructive: a.Destructive,
			AutoRun: a.AutoRun, Match: a.Match, Services: a.Services, Params: a.Params,
		}
		for _, cat := range a.Addresses {
			da.Addresses = append(da.Addresses, nova.Category(cat))
		}
		out = append(out, da)
	}
	return out
}

// EnvironmentNames returns the configured environments in sorted order.
func (c *Config) EnvironmentNames() []string {
	names := make([]string, 0, len(c.Environments))
	for n := range c.Environments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AllSecrets returns every secret value in the configuration, for tests and
// log scrubbing that must prove none leaks.
func (c *Config) AllSecrets() []string {
	var out []string
	add := func(s Secret) {
		if !s.IsZero() {
			out = append(out, s.Value())
		}
	}
	add(c.Store.URL)
	for _, k := range c.APIKeys {
		add(k.Key)
	}
	for _, e := range c.Environments {
		add(e.PagerDuty.Token)
		for _, s := range e.PagerDuty.WebhookSecrets {
			add(s)
		}
		add(e.Slack.BotToken)
		add(e.Slack.SigningSecret)
		add(e.Slack.AppToken)
	}
	for _, a := range c.Actions {
		add(a.Executor.Secret)
	}
	add(c.Triage.LLM.APIKey)
	add(c.Audit.Key)
	for _, k := range c.Audit.PreviousKeys {
		add(k.Key)
	}
	add(c.Metrics.BearerToken)
	add(c.Web.OIDC.ClientSecret)
	add(c.Web.SessionKey)
	return out
}
