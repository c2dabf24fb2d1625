package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// pagerDutyRetryWindow is how long PagerDuty retries a webhook delivery.
const pagerDutyRetryWindow = 48 * time.Hour

// Warnings lists settings that are valid one by one but cannot work
// together as written: Nova runs with them, and they will bite in the first
// incident that needs them. Each starts with the field to change.
func (c *Config) Warnings() []string {
	var w problems
	// A worker's hold on an event is cut at 90% of the visibility timeout.
	if lease := c.Workers.Visibility.Duration * 9 / 10; c.Triage.Budget.Duration >= lease {
		w.add("triage.budget", "%s is longer than the %s a worker may spend on an event (90%% of workers.visibility_timeout %s): evidence gathering is always cut short; raise visibility_timeout above %s",
			c.Triage.Budget.Duration, lease, c.Workers.Visibility.Duration, (c.Triage.Budget.Duration*10/9 + time.Second).Round(time.Second))
	}
	if c.Workers.DedupTTL.Duration < pagerDutyRetryWindow {
		w.add("workers.dedup_ttl", "%s is shorter than PagerDuty's %s retry window: a late retry of a delivery is processed twice",
			c.Workers.DedupTTL.Duration, pagerDutyRetryWindow)
	}
	destructive := map[string][]string{} // environment -> destructive actions on its services
	envOf := map[string]string{}
	for _, s := range c.Services {
		envOf[s.ID] = s.Environment
	}
	for _, a := range c.Actions {
		if !a.Destructive {
			continue
		}
		seen := map[string]bool{}
		for _, id := range a.Services {
			if env := envOf[id]; env != "" && !seen[env] {
				seen[env] = true
				destructive[env] = append(destructive[env], a.Name)
			}
		}
	}
	for _, name := range c.EnvironmentNames() {
		e := c.Environments[name]
		if e == nil {
			continue
		}
		f := "environments." + name + ".approvals"
		ap := e.Approvals
		users, groups := 0, 0
		distinct := map[string]bool{}
		for _, a := range ap.Approvers {
			if distinct[a] {
				continue
			}
			distinct[a] = true
			if strings.HasPrefix(a, "S") {
				groups++
			} else {
				users++
			}
		}
		if acts := destructive[name]; len(acts) > 0 && len(ap.Approvers) == 0 {
			w.add(f+".approvers", "none named, but destructive actions (%s) apply to services of %s: every request would expire unapproved",
				strings.Join(acts, ", "), name)
		}
		if len(ap.Approvers) > 0 && groups == 0 && users < ap.RequiredApprovals {
			w.add(f+".required_approvals", "%d different people must approve, but only %d approver(s) are named and no user group: every destructive request would expire unapproved",
				ap.RequiredApprovals, users)
		}
	}
	// Approval requests are posted in the incident's Slack thread.
	channel := map[string]string{}
	for _, s := range c.Services {
		channel[s.ID] = s.SlackChannel
	}
	for i, a := range c.Actions {
		if !a.Destructive {
			continue
		}
		for j, id := range a.Services {
			if ch, ok := channel[id]; ok && ch == "" {
				w.add(fmt.Sprintf("actions[%d].services[%d]", i, j), "service %s has no slack_channel: approval requests are asked for in the incident's Slack thread, so %s could never run there", id, a.Name)
			}
		}
	}
	// Session cookies are Secure only behind https.
	if c.Web.Enabled() && strings.HasPrefix(c.PublicURL, "http://") {
		if u, err := url.Parse(c.PublicURL); err == nil && !isLoopback(u.Hostname()) {
			w.add("public_url", "is http while web.oidc is set: session cookies cannot be marked Secure and travel in clear text; serve Nova behind https")
		}
	}
	return w
}
