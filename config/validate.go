package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
)

var (
	envNamePattern     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	serviceIDPattern   = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)
	serviceNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	slackUserPattern   = regexp.MustCompile(`^[UWS][A-Z0-9]{2,}$`)
	slackChanPattern   = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	actionNamePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	auditKeyIDPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// dependencyPattern accepts service names, PagerDuty ids and host names.
	dependencyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)
)

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = nova.DefaultListen
	}
	if c.Tier == "" {
		c.Tier = string(nova.TierStandard)
	}
	if c.Store.Backend == "" {
		c.Store.Backend = "bolt"
	}
	if c.Store.Backend == "bolt" && c.Store.Path == "" {
		c.Store.Path = "nova.db"
	}
	if c.Store.Prefix == "" {
		c.Store.Prefix = "nova"
	}
	if c.Store.MinFreeDisk == 0 {
		c.Store.MinFreeDisk = nova.DefaultMinFreeDisk
	}
	c.HTTP.applyDefaults()
	c.Web.applyDefaults()
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Workers.Count == 0 {
		c.Workers.Count = nova.DefaultWorkers
	}
	if c.Workers.Visibility.Duration == 0 {
		c.Workers.Visibility.Duration = nova.DefaultVisibility
	}
	if c.Workers.DedupTTL.Duration == 0 {
		c.Workers.DedupTTL.Duration = nova.DefaultDedupTTL
	}
	if c.Workers.MaxAttempts == 0 {
		c.Workers.MaxAttempts = nova.DefaultMaxAttempts
	}
	for _, e := range c.Environments {
		if e == nil {
			continue
		}
		if e.PagerDuty.APIURL == "" {
			e.PagerDuty.APIURL = nova.DefaultPagerDutyURL
		}
		if e.PagerDuty.RatePerMinute == 0 {
			e.PagerDuty.RatePerMinute = nova.DefaultRatePerMinute
		}
		if e.PagerDuty.Token.Created.IsZero() {
			e.PagerDuty.Token.Created = e.PagerDuty.TokenCreated
		}
		if e.Slack.APIURL == "" {
			e.Slack.APIURL = nova.DefaultSlackURL
		}
		if e.Approvals.RequiredApprovals == 0 {
			e.Approvals.RequiredApprovals = nova.DefaultRequiredApprovals
		}
		if e.Approvals.ExpiresAfter.Duration == 0 {
			e.Approvals.ExpiresAfter.Duration = nova.DefaultApprovalExpiry
		}
	}
	for i := range c.Services {
		s := &c.Services[i]
		if s.Mode == "" {
			s.Mode = string(nova.ModeOff)
		}
		if s.WatchDays == nil {
			d := nova.DefaultWatchDays
			s.WatchDays = &d
		}
	}
	for i := range c.Actions {
		if c.Actions[i].Executor.Timeout.Duration == 0 {
			c.Actions[i].Executor.Timeout.Duration = nova.DefaultActionTimeout
		}
	}
	if c.Triage.Budget.Duration == 0 {
		c.Triage.Budget.Duration = nova.DefaultTriageBudget
	}
	if c.Triage.LLM.Timeout.Duration == 0 {
		c.Triage.LLM.Timeout.Duration = nova.DefaultLLMTimeout
	}
	c.applyReviewDefaults()
	for i := range c.APIKeys {
		if c.APIKeys[i].Key.Created.IsZero() {
			c.APIKeys[i].Key.Created = c.APIKeys[i].Created
		}
	}
}

func (h *HTTPConfig) applyDefaults() {
	if h.MaxHeaderBytes == 0 {
		h.MaxHeaderBytes = nova.DefaultMaxHeaderBytes
	}
	if h.ReadHeaderTimeout.Duration == 0 {
		h.ReadHeaderTimeout.Duration = nova.DefaultReadHeaderTimeout
	}
	if h.IdleTimeout.Duration == 0 {
		h.IdleTimeout.Duration = nova.DefaultIdleTimeout
	}
	if h.MaxConnections == 0 {
		h.MaxConnections = nova.DefaultMaxConnections
	}
	if h.ReservedConnections == 0 {
		h.ReservedConnections = nova.DefaultReservedConnections
	}
	if h.MaxAuthFailuresPerMinute == 0 {
		h.MaxAuthFailuresPerMinute = nova.DefaultMaxAuthFailuresPerMinute
	}
}

// problems collects validation messages, each starting with a field path.
type problems []string

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, field+": "+fmt.Sprintf(format, args...))
}

func (c *Config) validate() []string {
	var p problems
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p.add("listen", "%q is not host:port (e.g. \":8080\")", c.Listen)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			p.add("public_url", "%q is not an absolute http(s) URL", c.PublicURL)
		}
	}
	tier := nova.Tier(c.Tier)
	if tier != nova.TierStandard && tier != nova.TierEnterprise {
		p.add("tier", "%q is not standard or enterprise", c.Tier)
	}
	c.validateStore(&p)
	if c.Workers.Count < 1 || c.Workers.Count > 256 {
		p.add("workers.count", "must be between 1 and 256")
	}
	if c.Workers.Visibility.Duration < time.Second {
		p.add("workers.visibility_timeout", "must be at least 1s")
	}
	c.validateHTTP(&p)
	c.validateWeb(&p)
	c.validateAPIKeys(&p)
	if len(c.Environments) == 0 {
		p.add("environments", "at least one environment is required")
	}
	if len(c.Environments) > 1 && !tier.Allows(nova.FeatureMultipleEnvs) {
		p.add("environments", "%d environments configured, but %s", len(c.Environments), nova.ErrorMessage(tier.RequireFeature(nova.FeatureMultipleEnvs)))
	}
	for name, e := range c.Environments {
		c.validateEnvironment(&p, name, e)
	}
	c.validateGlobalAdmins(&p)
	c.validateAudit(&p)
	c.validateServices(&p)
	c.validateActions(&p)
	c.validateReview(&p)
	if c.Triage.AbstainBelow < 0 || c.Triage.AbstainBelow >= 1 {
		p.add("triage.abstain_below", "must be in [0, 1)")
	}
	if l := c.Triage.LLM; l.Enabled() {
		if !isHTTPURL(l.BaseURL) {
			p.add("triage.llm.base_url", "%q is not an http(s) URL", l.BaseURL)
		}
		if l.Model == "" {
			p.add("triage.llm.model", "required when base_url is set")
		}
	}
	return p
}

func (c *Config) validateHTTP(p *problems) {
	h := c.HTTP
	if h.MaxHeaderBytes < 4<<10 || h.MaxHeaderBytes > 1<<20 {
		p.add("http.max_header_bytes", "must be between 4KiB and 1MiB")
	}
	if h.ReadHeaderTimeout.Duration < 100*time.Millisecond || h.ReadHeaderTimeout.Duration > time.Minute {
		p.add("http.read_header_timeout", "must be between 100ms and 1m")
	}
	if h.IdleTimeout.Duration < time.Second || h.IdleTimeout.Duration > time.Hour {
		p.add("http.idle_timeout", "must be between 1s and 1h")
	}
	if h.MaxConnections < 1 || h.MaxConnections > 1<<20 {
		p.add("http.max_connections", "must be between 1 and 1048576")
	}
	if h.ReservedConnections < 1 || h.ReservedConnections > 1024 {
		p.add("http.reserved_connections", "must be between 1 and 1024 (health checks need at least one)")
	}
	if h.MaxAuthFailuresPerMinute < 1 || h.MaxAuthFailuresPerMinute > 10000 {
		p.add("http.max_auth_failures_per_minute", "must be between 1 and 10000")
	}
	if m := c.Metrics.Listen; m != "" {
		if _, port, err := net.SplitHostPort(m); err != nil {
			p.add("metrics.listen", "%q is not host:port (e.g. \"127.0.0.1:9100\")", m)
		} else if m == c.Listen && port != "0" {
			p.add("metrics.listen", "must differ from listen")
		}
	}
	if t := c.Metrics.BearerToken.Value(); t != "" && len(t) < 16 {
		p.add("metrics.bearer_token", "must be at least 16 characters")
	}
	if c.Store.MinFreeDisk < 0 {
		p.add("store.min_free_disk", "must not be negative")
	}
}

func (c *Config) validateStore(p *problems) {
	switch c.Store.Backend {
	case "bolt":
		if c.Store.Path == "" {
			p.add("store.path", "required for the bolt backend")
		}
	case "redis":
		if c.Store.URL.IsZero() && len(c.Store.Addrs) == 0 {
			p.add("store.url", "required for the redis backend (or store.addrs)")
		}
		if v := c.Store.URL.Value(); v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") && !strings.HasPrefix(v, "unix://") {
			p.add("store.url", "must start with redis://, rediss:// or unix://")
		}
	default:
		p.add("store.backend", "%q is not bolt or redis", c.Store.Backend)
	}
}

func (c *Config) validateAPIKeys(p *problems) {
	seen := map[string]bool{}
	for i, k := range c.APIKeys {
		f := fmt.Sprintf("api_keys[%d]", i)
		if k.Name == "" {
			p.add(f+".name", "required")
		} else if seen[k.Name] {
			p.add(f+".name", "%q is used twice", k.Name)
		}
		seen[k.Name] = true
		if len(k.Key.Value()) < 16 {
			p.add(f+".key", "must be at least 16 characters")
		}
		if k.Scope != "read" && k.Scope != "admin" {
			p.add(f+".scope", "%q is not read or admin", k.Scope)
		}
	}
}

func (c *Config) validateEnvironment(p *problems, name string, e *Environment) {
	f := "environments." + name
	if !envNamePattern.MatchString(name) {
		p.add(f, "environment names are lower-case letters, digits and dashes")
	}
	if e == nil {
		p.add(f, "is empty")
		return
	}
	pd := e.PagerDuty
	if !isHTTPURL(pd.APIURL) {
		p.add(f+".pagerduty.api_url", "%q is not an http(s) URL", pd.APIURL)
	}
	if pd.Token.IsZero() {
		p.add(f+".pagerduty.token", "required")
	}
	if _, err := mail.ParseAddress(pd.From); err != nil || !strings.Contains(pd.From, "@") {
		p.add(f+".pagerduty.from", "must be the bot user's email address")
	}
	if len(pd.WebhookSecrets) == 0 {
		p.add(f+".pagerduty.webhook_secrets", "at least one secret is required")
	}
	for i, s := range pd.WebhookSecrets {
		if s.IsZero() {
			p.add(fmt.Sprintf("%s.pagerduty.webhook_secrets[%d]", f, i), "is empty")
		}
	}
	if pd.RatePerMinute < 1 || pd.RatePerMinute > 960 {
		p.add(f+".pagerduty.rate_per_minute", "must be between 1 and 960 (PagerDuty's limit per key)")
	}
	s := e.Slack
	if s.Enabled() || !s.SigningSecret.IsZero() {
		if !strings.HasSuffix(s.APIURL, "/") || !isHTTPURL(s.APIURL) {
			p.add(f+".slack.api_url", "%q must be an http(s) URL ending with /", s.APIURL)
		}
		if s.SigningSecret.IsZero() {
			p.add(f+".slack.signing_secret", "required when slack.bot_token is set")
		}
		if s.BotToken.IsZero() {
			p.add(f+".slack.bot_token", "required when slack.signing_secret is set")
		}
		if s.SocketMode && s.AppToken.IsZero() {
			p.add(f+".slack.app_token", "required for socket_mode (an xapp- token)")
		}
	}
	for i, a := range s.Admins {
		if !slackUserPattern.MatchString(a) {
			p.add(fmt.Sprintf("%s.slack.admins[%d]", f, i), "%q is not a Slack user or user-group id", a)
		}
	}
	ap := e.Approvals
	for i, a := range ap.Approvers {
		if !slackUserPattern.MatchString(a) {
			p.add(fmt.Sprintf("%s.approvals.approvers[%d]", f, i), "%q is not a Slack user or user-group id", a)
		}
	}
	if ap.RequiredApprovals < 1 || ap.RequiredApprovals > 5 {
		p.add(f+".approvals.required_approvals", "must be between 1 and 5")
	}
	switch {
	case ap.ExpiresAfter.Duration < time.Minute:
		p.add(f+".approvals.expires_after", "must be at least 1m")
	case ap.ExpiresAfter.Duration > approvals.MaxExpiresAfter:
		p.add(f+".approvals.expires_after", "%s is longer than the maximum of %s: an approval given for what an incident looked like a day ago no longer fits it",
			ap.ExpiresAfter.Duration, approvals.MaxExpiresAfter)
	}
}

func (c *Config) validateGlobalAdmins(p *problems) {
	slackApps := 0
	for _, e := range c.Environments {
		if e != nil && e.Slack.Enabled() {
			slackApps++
		}
	}
	for i, a := range c.GlobalAdmins {
		f := fmt.Sprintf("global_admins[%d]", i)
		switch {
		case !slackUserPattern.MatchString(a):
			p.add(f, "%q is not a Slack user or user-group id", a)
		case slackApps == 0:
			p.add(f, "no environment has a Slack app (slack.bot_token), so no one can use Slack commands")
		}
	}
}

// validateAudit checks the audit keys without ever quoting them.
func (c *Config) validateAudit(p *problems) {
	a := c.Audit
	ids := map[string]string{}
	values := map[string]string{}
	check := func(f, id string, key Secret) {
		if key.IsZero() {
			p.add(f+".key", "required")
			return
		}
		if n := len(key.Value()); n < nova.MinAuditKeyLen {
			p.add(f+".key", "is %d bytes; an audit key must be at least %d (e.g. `openssl rand -hex 32` into a file, then ${file:PATH})", n, nova.MinAuditKeyLen)
		}
		if id != "" && !auditKeyIDPattern.MatchString(id) {
			p.add(f+".id", "%q: key ids are letters, digits, dots, dashes and underscores (at most 64)", id)
		}
		id = auditKeyID(id, key)
		if other, dup := ids[id]; dup {
			p.add(f, "key id %s is also used by %s; every audit key needs its own id", id, other)
		}
		ids[id] = f
		if other, dup := values[key.Value()]; dup {
			p.add(f+".key", "is the same key as %s", other)
		}
		values[key.Value()] = f
	}
	if !a.Key.IsZero() || a.KeyID != "" {
		if a.KeyID != "" && !auditKeyIDPattern.MatchString(a.KeyID) {
			p.add("audit.key_id", "%q: key ids are letters, digits, dots, dashes and underscores (at most 64)", a.KeyID)
			a.KeyID = ""
		}
		check("audit", a.KeyID, a.Key)
	}
	if len(a.PreviousKeys) > 0 && a.Key.IsZero() {
		p.add("audit.previous_keys", "set audit.key too: previous keys only verify, new entries need a current key")
	}
	for i, k := range a.PreviousKeys {
		check(fmt.Sprintf("audit.previous_keys[%d]", i), k.ID, k.Key)
	}
}

func (c *Config) validateServices(p *problems) {
	ids, names := map[string]bool{}, map[string]bool{}
	for i, s := range c.Services {
		f := fmt.Sprintf("services[%d]", i)
		if !serviceIDPattern.MatchString(s.ID) {
			p.add(f+".id", "%q is not a PagerDuty service id", s.ID)
		} else if ids[s.ID] {
			p.add(f+".id", "%s is declared twice", s.ID)
		}
		ids[s.ID] = true
		if !serviceNamePattern.MatchString(s.Name) {
			p.add(f+".name", "%q: names are lower-case letters, digits, dots, dashes", s.Name)
		} else if names[s.Name] {
			p.add(f+".name", "%s is declared twice", s.Name)
		}
		names[s.Name] = true
		env, ok := c.Environments[s.Environment]
		if !ok {
			p.add(f+".environment", "%q is not a configured environment", s.Environment)
		}
		if _, err := nova.ParseMode(s.Mode); err != nil {
			p.add(f+".mode", "%q is not off, read-only or action", s.Mode)
		}
		if s.SlackChannel != "" && !slackChanPattern.MatchString(s.SlackChannel) {
			p.add(f+".slack_channel", "%q is not a Slack channel id (C…)", s.SlackChannel)
		}
		if s.SlackChannel != "" && ok && env != nil && !env.Slack.Enabled() {
			p.add(f+".slack_channel", "environment %s has no slack.bot_token", s.Environment)
		}
		if *s.WatchDays < 0 || *s.WatchDays > 365 {
			p.add(f+".watch_days", "must be between 0 and 365")
		}
		if s.AutoAck && !nova.Tier(c.Tier).Allows(nova.FeatureAck) {
			p.add(f+".auto_ack", "%s", nova.ErrorMessage(nova.Tier(c.Tier).RequireFeature(nova.FeatureAck)))
		}
		seenDep := map[string]bool{}
		for j, d := range s.DependsOn {
			df := fmt.Sprintf("%s.depends_on[%d]", f, j)
			switch {
			case !dependencyPattern.MatchString(d):
				p.add(df, "%q is not a service name, PagerDuty service id or host name", d)
			case seenDep[strings.ToLower(d)]:
				p.add(df, "%s is listed twice", d)
			case d == s.ID || d == s.Name:
				p.add(df, "a service cannot depend on itself")
			}
			seenDep[strings.ToLower(d)] = true
		}
		for j, r := range s.Runbooks {
			rf := fmt.Sprintf("%s.runbooks[%d]", f, j)
			if r.Title == "" {
				p.add(rf+".title", "required")
			}
			if !isHTTPURL(r.URL) {
				p.add(rf+".url", "%q is not an http(s) URL", r.URL)
			}
			if _, err := regexp.Compile(r.Match); err != nil {
				p.add(rf+".match", "not a regular expression: %v", err)
			}
		}
	}
}

func (c *Config) validateActions(p *problems) {
	seen := map[string]bool{}
	services := map[string]bool{}
	for _, s := range c.Services {
		services[s.ID] = true
	}
	for i, a := range c.Actions {
		f := fmt.Sprintf("actions[%d]", i)
		if !actionNamePattern.MatchString(a.Name) {
			p.add(f+".name", "%q: names are lower-case letters, digits, dots, dashes", a.Name)
		} else if seen[a.Name] {
			p.add(f+".name", "%s is declared twice", a.Name)
		}
		seen[a.Name] = true
		if a.Title == "" {
			p.add(f+".title", "required")
		}
		if a.Destructive && a.AutoRun {
			p.add(f+".auto_run", "a destructive action never runs without approval")
		}
		for j, cat := range a.Addresses {
			if !validCategory(cat) {
				p.add(fmt.Sprintf("%s.addresses[%d]", f, j), "%q is not a cause category", cat)
			}
		}
		if _, err := regexp.Compile(a.Match); err != nil {
			p.add(f+".match", "not a regular expression: %v", err)
		}
		if len(a.Services) == 0 {
			p.add(f+".services", "list the service ids the action applies to")
		}
		for j, s := range a.Services {
			if !services[s] {
				p.add(fmt.Sprintf("%s.services[%d]", f, j), "%q is not a declared service", s)
			}
		}
		if !nova.Tier(c.Tier).Allows(nova.FeatureActions) {
			p.add(f, "%s", nova.ErrorMessage(nova.Tier(c.Tier).RequireFeature(nova.FeatureActions)))
		}
		ex := a.Executor
		if ex.Type != "webhook" {
			p.add(f+".executor.type", "%q is not a known executor (webhook)", ex.Type)
		}
		if u, err := url.Parse(ex.URL); err != nil || u.Host == "" || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))) {
			p.add(f+".executor.url", "must be an https URL (http only for loopback)")
		}
		if ex.Secret.IsZero() {
			p.add(f+".executor.secret", "required: receivers verify Nova's signature with it")
		}
	}
}

func validCategory(s string) bool {
	for _, c := range nova.Categories {
		if string(c) == s {
			return true
		}
	}
	return false
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
