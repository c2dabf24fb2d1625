package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/store"
)

const doctorDetail = `Checks, online, everything the configuration names, one line each (PASS, WARN or FAIL) with
the fix for each problem:
  PagerDuty: the token is accepted, the from user exists (and is bot_user_id), every declared
             service exists for that token, a webhook subscription for the environment's URL
             exists, is active and carries every event type Nova handles, and the token can
             read service dependencies (warns when not: triage then uses depends_on only)
  Slack:     auth.test, the bot is in every declared channel, every admin and approver resolves
             (users, user groups), the Socket Mode app token
  store:     Redis answers and persists (warns without AOF); the bolt directory is writable
  actions:   every executor URL answers
  clocks:    within Slack's 5-minute signature window of Slack's and PagerDuty's
Exit 1 when a check fails; warnings alone exit 0. Run it with the real secrets, where Nova runs.`

// doctor runs the checks and prints one line per result.
type doctor struct {
	out     io.Writer
	timeout time.Duration
	fails   int
	warns   int
	// skews are the clock differences seen in Date headers, by service.
	skews map[string]time.Duration
	// globalChecked is set once global_admins were checked (with the first
	// environment's Slack app).
	globalChecked bool
}

func (d *doctor) pass(what, detail string) { fmt.Fprintf(d.out, "PASS  %s: %s\n", what, detail) }

func (d *doctor) warn(what, detail, fix string) {
	d.warns++
	fmt.Fprintf(d.out, "WARN  %s: %s\n", what, detail)
	if fix != "" {
		fmt.Fprintf(d.out, "      fix: %s\n", fix)
	}
}

func (d *doctor) fail(what, detail, fix string) {
	d.fails++
	fmt.Fprintf(d.out, "FAIL  %s: %s\n", what, detail)
	if fix != "" {
		fmt.Fprintf(d.out, "      fix: %s\n", fix)
	}
}

// noteDate records how far this machine's clock is from a server's.
func (d *doctor) noteDate(service string, h http.Header) {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		if _, seen := d.skews[service]; !seen {
			d.skews[service] = time.Since(t).Round(time.Second)
		}
	}
}

func cmdDoctor(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("doctor")
	path := configFlag(fs)
	only := fs.String("environment", "", "check only this environment")
	timeout := fs.Duration("timeout", 10*time.Second, "bound for each check")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	d := &doctor{out: stdout, timeout: *timeout, skews: map[string]time.Duration{}}

	cfg, err := config.Load(*path)
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			d.fail("config "+*path, fmt.Sprintf("%d problem(s)", len(ve.Problems)), "run nova config validate --config "+*path)
			for _, p := range ve.Problems {
				fmt.Fprintf(stdout, "      %s\n", p)
			}
			return exitError(exitFailure)
		}
		return err
	}
	d.pass("config "+*path, fmt.Sprintf("valid: %d environment(s), %d service(s), %d action(s)", len(cfg.Environments), len(cfg.Services), len(cfg.Actions)))
	for _, w := range cfg.Warnings() {
		d.warn("config", w, "")
	}
	envs := cfg.EnvironmentNames()
	if *only != "" {
		if _, ok := cfg.Environments[*only]; !ok {
			return usageError{fmt.Sprintf("--environment %q is not configured (have %s)", *only, strings.Join(envs, ", "))}
		}
		envs = []string{*only}
	}
	d.checkStore(ctx, cfg)
	for _, env := range envs {
		d.checkPagerDuty(ctx, cfg, env)
		d.checkSlack(ctx, cfg, env)
	}
	d.checkExecutors(ctx, cfg, envs)
	d.checkClocks()
	fmt.Fprintf(stdout, "\n%d failed, %d warning(s)\n", d.fails, d.warns)
	if d.fails > 0 {
		return exitError(exitFailure)
	}
	return nil
}

func (d *doctor) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, d.timeout)
}

func (d *doctor) checkPagerDuty(parent context.Context, cfg *config.Config, env string) {
	e := cfg.Environments[env]
	what := "pagerduty " + env
	admin, err := pagerduty.NewAdmin(e.PagerDuty.APIURL, e.PagerDuty.Token.Value(), d.client("pagerduty"))
	if err != nil {
		d.fail(what, err.Error(), "fix environments."+env+".pagerduty in the configuration")
		return
	}
	ctx, cancel := d.ctx(parent)
	defer cancel()
	u, found, err := admin.FindUserByEmail(ctx, e.PagerDuty.From)
	switch {
	case nova.IsCode(err, nova.EUNAUTHORIZED):
		d.fail(what+" token", "PagerDuty refuses it (401)", "the key was disabled or belongs to another account or region (EU accounts need api_url https://api.eu.pagerduty.com): create a key and update environments."+env+".pagerduty.token")
		return
	case err != nil:
		d.fail(what+" token", err.Error(), "check environments."+env+".pagerduty.api_url and that PagerDuty can be reached from here")
		return
	}
	d.pass(what+" token", "accepted by "+e.PagerDuty.APIURL)
	switch {
	case !found:
		d.fail(what+" from", fmt.Sprintf("no user %s in this account", e.PagerDuty.From),
			"create Nova's bot user with that email, or set environments."+env+".pagerduty.from to its email (writes need a valid From)")
	case e.PagerDuty.BotUserID != "" && e.PagerDuty.BotUserID != u.ID:
		d.fail(what+" bot_user_id", fmt.Sprintf("%s is %s, but bot_user_id says %s", e.PagerDuty.From, u.ID, e.PagerDuty.BotUserID),
			"set environments."+env+".pagerduty.bot_user_id: "+u.ID+" (or remove it: Nova learns it)")
	default:
		d.pass(what+" from", fmt.Sprintf("%s is user %s (%s)", e.PagerDuty.From, u.ID, u.Name))
	}
	var declared, existing []string
	for i, s := range cfg.Services {
		if s.Environment != env {
			continue
		}
		declared = append(declared, s.ID)
		ctx, cancel := d.ctx(parent)
		name, err := admin.ServiceName(ctx, s.ID)
		cancel()
		field := fmt.Sprintf("services[%d].id", i)
		switch {
		case nova.IsCode(err, nova.ENOTFOUND):
			d.fail(fmt.Sprintf("%s service %s (%s)", what, s.ID, field), "not found with this environment's token",
				"check the id (the end of the service's URL in PagerDuty), and that the service is in this environment's account")
		case err != nil:
			d.fail(fmt.Sprintf("%s service %s (%s)", what, s.ID, field), err.Error(), "")
		default:
			d.pass(fmt.Sprintf("%s service %s", what, s.ID), fmt.Sprintf("exists (%q)", name))
			existing = append(existing, s.ID)
		}
	}
	if len(existing) > 0 {
		d.checkDependencies(parent, cfg, env, existing[0])
	}
	d.checkSubscription(parent, cfg, env, admin, declared)
}

// checkDependencies reads the service dependencies of one declared
// service with the environment's token, through the scoped client, as
// triage does (GET /service_dependencies/technical_services/{id}, which
// needs services.read). Without that access triage still works, from the
// config's depends_on alone: a warning, not a failure.
func (d *doctor) checkDependencies(parent context.Context, cfg *config.Config, env, serviceID string) {
	e := cfg.Environments[env]
	what := "pagerduty " + env + " service dependencies"
	c, err := pagerduty.NewClient(pagerduty.ClientConfig{
		Environment: env,
		APIURL:      e.PagerDuty.APIURL,
		Token:       e.PagerDuty.Token.Value,
		From:        e.PagerDuty.From,
		// One request: nothing to pace, and no retries beyond the bound.
		Limiter:    unpacedLimiter{},
		Timeout:    d.timeout,
		MaxElapsed: d.timeout,
		HTTPClient: d.client("pagerduty"),
		Log:        quietLogger(),
	})
	if err != nil {
		d.warn(what, "not checked: "+nova.ErrorMessage(err), "")
		return
	}
	ctx, cancel := d.ctx(parent)
	defer cancel()
	refs, err := c.SupportingServices(ctx, serviceID)
	switch {
	case nova.IsCode(err, nova.EFORBIDDEN):
		d.warn(what, "the key cannot read service dependencies (services.read); triage will use depends_on from the config only",
			"use a key for environments."+env+".pagerduty.token that may read services (services.read; 402 means the account's plan lacks service dependencies), or keep each service's depends_on in the config")
	case err != nil:
		d.warn(what, "not checked: "+nova.ErrorMessage(err), "")
	default:
		d.pass(what, fmt.Sprintf("the key reads them (service %s depends on %d technical service(s) in PagerDuty)", serviceID, len(refs)))
	}
}

// unpacedLimiter lets every request go: the doctor makes one at a time.
type unpacedLimiter struct{}

func (unpacedLimiter) Take(context.Context, string, store.Rate, int) (time.Duration, error) {
	return 0, nil
}

func (d *doctor) checkSubscription(parent context.Context, cfg *config.Config, env string, admin *pagerduty.Admin, declared []string) {
	what := "pagerduty " + env + " webhook subscription"
	if cfg.PublicURL == "" {
		d.warn(what, "not checked: public_url is not set, so the subscription's URL is unknown", "set public_url")
		return
	}
	want := strings.TrimRight(cfg.PublicURL, "/") + "/webhooks/pagerduty/" + env
	ctx, cancel := d.ctx(parent)
	defer cancel()
	subs, err := admin.ListWebhookSubscriptions(ctx)
	if nova.IsCode(err, nova.EFORBIDDEN) {
		d.warn(what, "not checked: this token may not read webhook subscriptions", "check in PagerDuty (Integrations → Generic Webhooks (v3)) that one points at "+want)
		return
	}
	if err != nil {
		d.fail(what, err.Error(), "")
		return
	}
	var handled []string
	for _, et := range nova.HandledEventTypes {
		handled = append(handled, string(et))
	}
	covered := map[string]bool{}
	var matches []pagerduty.WebhookSubscription
	for _, s := range subs {
		if s.DeliveryMethod.URL == want {
			matches = append(matches, s)
		}
	}
	if len(matches) == 0 {
		d.fail(what, "none sends events to "+want, fmt.Sprintf("nova setup pagerduty --config FILE --environment %s", env))
		return
	}
	for _, s := range matches {
		id := what + " " + s.ID
		var missing []string
		for _, ev := range handled {
			if !slices.Contains(s.Events, ev) {
				missing = append(missing, ev)
			}
		}
		switch {
		case !s.Active:
			d.fail(id, "inactive", "enable it in PagerDuty (Integrations → Generic Webhooks (v3))")
		case s.DeliveryMethod.TemporarilyDisabled:
			d.fail(id, "disabled by PagerDuty after dropped deliveries", "make sure Nova answers at "+want+", then re-enable the subscription")
		case len(missing) > 0:
			d.fail(id, "lacks events Nova handles: "+strings.Join(missing, ", "), "delete it and run nova setup pagerduty --environment "+env)
		default:
			d.pass(id, fmt.Sprintf("active, %s, every handled event type", s.Filter.Type))
		}
		switch s.Filter.Type {
		case pagerduty.ScopeService:
			covered[s.Filter.ID] = true
		default:
			for _, id := range declared {
				covered[id] = true // account scope; a team's services are not listed here
			}
		}
	}
	for _, id := range declared {
		if !covered[id] {
			d.warn(what, "no subscription to "+want+" covers service "+id,
				fmt.Sprintf("nova setup pagerduty --environment %s --scope service --scope-id %s (or use the account scope)", env, id))
		}
	}
}

func (d *doctor) checkStore(parent context.Context, cfg *config.Config) {
	switch cfg.Store.Backend {
	case "redis":
		client, err := doctorRedis(cfg)
		if err != nil {
			d.fail("store redis", err.Error(), "fix store.url / store.addrs")
			return
		}
		defer client.Close()
		ctx, cancel := d.ctx(parent)
		defer cancel()
		if err := client.Ping(ctx).Err(); err != nil {
			d.fail("store redis", "does not answer: "+redactRedisError(err, cfg), "check store.url and that Redis runs and accepts these credentials")
			return
		}
		d.pass("store redis", "answers PING")
		res, err := client.ConfigGet(ctx, "appendonly").Result()
		switch {
		case err != nil:
			d.warn("store redis persistence", "cannot read appendonly (CONFIG is often disabled on managed Redis)", "make sure AOF (appendonly yes) or replication is on: an event answered 202 lives only in Redis")
		case res["appendonly"] != "yes":
			d.warn("store redis persistence", "appendonly is "+orDash(res["appendonly"]), "CONFIG SET appendonly yes (and in redis.conf): without AOF a Redis crash loses events Nova already acknowledged to PagerDuty")
		default:
			d.pass("store redis persistence", "appendonly yes")
		}
	default:
		dir := filepath.Dir(cfg.Store.Path)
		f, err := os.CreateTemp(dir, ".nova-doctor-*")
		if err != nil {
			d.fail("store bolt", fmt.Sprintf("cannot write in %s: %v", dir, errors.Unwrap(err)), "create the directory and give Nova's user write access")
			return
		}
		f.Close()
		os.Remove(f.Name())
		d.pass("store bolt", cfg.Store.Path+" (directory writable; one replica only)")
	}
}

func doctorRedis(cfg *config.Config) (goredis.UniversalClient, error) {
	u := cfg.Store.URL.Value()
	if len(cfg.Store.Addrs) == 0 {
		o, err := goredis.ParseURL(u)
		if err != nil {
			return nil, errors.New("store.url is not a Redis URL")
		}
		return goredis.NewClient(o), nil
	}
	uo := &goredis.UniversalOptions{Addrs: cfg.Store.Addrs, MasterName: cfg.Store.MasterName}
	if u != "" {
		o, err := goredis.ParseURL(u)
		if err != nil {
			return nil, errors.New("store.url is not a Redis URL")
		}
		uo.Username, uo.Password, uo.DB, uo.TLSConfig = o.Username, o.Password, o.DB, o.TLSConfig
	}
	return goredis.NewUniversalClient(uo), nil
}

// redactRedisError keeps the store URL (it may hold a password) out of messages.
func redactRedisError(err error, cfg *config.Config) string {
	msg := err.Error()
	for _, s := range cfg.AllSecrets() {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

func (d *doctor) checkExecutors(parent context.Context, cfg *config.Config, envs []string) {
	inEnv := map[string]bool{}
	for _, s := range cfg.Services {
		if slices.Contains(envs, s.Environment) {
			inEnv[s.ID] = true
		}
	}
	for i, a := range cfg.Actions {
		if !slices.ContainsFunc(a.Services, func(id string) bool { return inEnv[id] }) {
			continue
		}
		what := fmt.Sprintf("action %s executor (actions[%d].executor.url)", a.Name, i)
		// Connect (and for https complete the TLS handshake, verifying the
		// certificate) without sending a request: the receiver would rightly
		// refuse and log an unsigned one.
		detail, err := reachable(parent, a.Executor.URL, d.timeout)
		if err != nil {
			d.fail(what, err.Error(), "check the URL, that the receiver runs and, for https, its certificate (docs/action-webhooks.md)")
			continue
		}
		d.pass(what, detail)
	}
}

// reachable dials the URL's host and, for https, completes a verified TLS
// handshake.
func reachable(ctx context.Context, raw string, timeout time.Duration) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", errors.New("not a URL")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if u.Scheme == "https" {
		conn, err := (&tls.Dialer{Config: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", fmt.Errorf("no TLS connection to %s: %v", addr, err)
		}
		conn.Close()
		return "accepts TLS connections on " + addr + " (certificate valid)", nil
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("no connection to %s: %v", addr, errors.Unwrap(err))
	}
	conn.Close()
	return "accepts connections on " + addr, nil
}

func (d *doctor) checkClocks() {
	for _, service := range []string{"slack", "pagerduty"} {
		skew, ok := d.skews[service]
		if !ok {
			continue
		}
		abs := skew
		if abs < 0 {
			abs = -abs
		}
		switch {
		case service == "slack" && abs >= 5*time.Minute:
			d.fail("clock", fmt.Sprintf("this machine is %s off Slack's clock", skew),
				"run NTP (chrony, systemd-timesyncd): Slack's requests carry a timestamp and Nova refuses those more than 5 minutes off")
		case abs >= 30*time.Second:
			d.warn("clock", fmt.Sprintf("this machine is %s off %s's clock", skew, service), "run NTP (chrony, systemd-timesyncd)")
		default:
			d.pass("clock", fmt.Sprintf("within %s of %s's", max(abs, time.Second), service))
		}
	}
}

// client returns an HTTP client that notes the Date header of service's
// answers, for the clock check.
func (d *doctor) client(service string) *http.Client {
	return &http.Client{Timeout: d.timeout, Transport: &dateRecorder{base: http.DefaultTransport, d: d, service: service}}
}

type dateRecorder struct {
	base    http.RoundTripper
	d       *doctor
	service string
}

func (r *dateRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		r.d.noteDate(r.service, resp.Header)
	}
	return resp, err
}

func urlErrorCause(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap().Error()
	}
	return err.Error()
}
