package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/bot/backtest"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/web"
)

const backtestDetail = `Lists the service's resolved incidents (newest first, within --since, at most --limit) and triages
each one as of its trigger time: alerts created up to 10 s after the trigger, changes strictly before
it, past incidents resolved before it, notes and log entries up to it, nothing later. It runs live
triage's evidence gathering, budget, options and calibration (without the language model), then
reads what actually happened (resolution, notes, who acknowledged and when, changes a note names) and
gives an automatic verdict only when the record decides it, else "undecided".
It only reads PagerDuty (GET requests through the scoped client, at the lowest priority of the
credential's shared rate limit, so live incidents go first) and writes nothing there or to Slack.
Each incident's replay is cached in the store for 90 days, so a rerun (or a run resumed after
Ctrl-C) costs only the incident list. Progress goes to stderr, the report to stdout.
On the bolt store, stop Nova first (the file is locked); on Redis the backtest runs beside Nova and
shares its rate limit. Exit 1 when some incidents could not be replayed or the run was stopped.`

// backtestVersion changes when the replay itself changes in a way that
// makes cached rows stale.
const backtestVersion = "1"

func cmdBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backtest")
	path := configFlag(fs)
	service := fs.String("service", "", "the service to replay: its PagerDuty id or its name in the configuration (required)")
	since := fs.String("since", "90d", "how far back to list resolved incidents: 90d, 36h, ... (at most 180d)")
	limit := fs.Int("limit", backtest.DefaultLimit, fmt.Sprintf("at most this many incidents, newest first (1..%d)", backtest.MaxLimit))
	format := fs.String("format", "md", "md (Markdown) or json")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	if strings.TrimSpace(*service) == "" {
		return usageError{"--service is required"}
	}
	window, err := parseDays(*since)
	if err != nil || window < time.Hour || window > backtest.MaxSince {
		return usageError{fmt.Sprintf("--since %q: want a duration between 1h and 180d, such as 90d or 36h", *since)}
	}
	if *limit < 1 || *limit > backtest.MaxLimit {
		return usageError{fmt.Sprintf("--limit %d: want 1..%d", *limit, backtest.MaxLimit)}
	}
	if *format != "md" && *format != "json" {
		return usageError{fmt.Sprintf("unknown --format %q: use md or json", *format)}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	svc, err := findService(cfg, *service)
	if err != nil {
		return err
	}
	log := quietLogger()
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		if cfg.Store.Backend != "redis" {
			return fmt.Errorf("%w\n(a backtest shares Nova's store for its cache and rate limit: stop Nova, or run both on Redis)", err)
		}
		return err
	}
	defer st.Close()
	rt := newRuntime(cfg, st, log, prometheus.NewRegistry())
	rt.onRefused = func(string, string, string) {} // nothing but reads is ever attempted
	runner, err := newBacktestRunner(rt, st, svc, func(p backtest.Progress) {
		left := ""
		if p.Left > 0 {
			left = fmt.Sprintf(", about %s left", p.Left.Round(time.Second))
		}
		fmt.Fprintf(stderr, "backtest %s: %d/%d incidents, %d PagerDuty requests, %d from the cache%s\n",
			svc.ID, p.Done, p.Total, p.Calls, p.Cached, left)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "backtest %s: listing resolved incidents of the last %s (at most %d)\n", svc.ID, *since, *limit)
	rep, err := runner.Run(ctx, backtest.Options{Service: svc, Since: window, Limit: *limit})
	if err != nil {
		return err
	}
	if *format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteMarkdown(stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case rep.Partial:
		fmt.Fprintf(stderr, "backtest %s: stopped after %d incidents; run it again to resume\n", svc.ID, len(rep.Rows))
		return exitError(exitFailure)
	case rep.Totals.Failed > 0:
		fmt.Fprintf(stderr, "backtest %s: %d incidents could not be replayed (see the report); a rerun retries only those\n", svc.ID, rep.Totals.Failed)
		return exitError(exitFailure)
	}
	return nil
}

// newBacktestRunner builds the runner of a backtest of svc: the
// environment's scoped client at background priority, the store's cache,
// and live triage's engine with the current settings.
func newBacktestRunner(rt *runtime, st store.Records, svc nova.Service, progress func(backtest.Progress)) (*backtest.Runner, error) {
	client, err := rt.PagerDuty(svc.Environment)
	if err != nil {
		return nil, err
	}
	pd, ok := client.(*pagerduty.Client)
	if !ok {
		return nil, fmt.Errorf("environment %s: unexpected PagerDuty client %T", svc.Environment, client)
	}
	set := rt.settings.Load()
	page := ""
	if cfg := rt.config(); cfg.Web.Enabled() && cfg.PublicURL != "" {
		page = strings.TrimRight(cfg.PublicURL, "/") + web.BacktestPath(svc.ID)
	}
	return backtest.New(backtest.Config{
		PageURL:     page,
		PagerDuty:   backgroundReader{pd},
		Engine:      backtest.Live(rt.settings.Load, rt.log),
		Store:       st,
		Fingerprint: triageFingerprint(set, svc),
		Progress:    progress,
	})
}

// slackBacktest runs `/nova backtest <service>` backtests with the
// defaults (--since 90d --limit 200), in the serving process.
func slackBacktest(rt *runtime, st store.Records) bot.BacktestFunc {
	return func(ctx context.Context, svc nova.Service) (backtest.Report, error) {
		r, err := newBacktestRunner(rt, st, svc, nil)
		if err != nil {
			return backtest.Report{}, err
		}
		return r.Run(ctx, backtest.Options{Service: svc})
	}
}

// findService finds a declared service by id or name.
func findService(cfg *config.Config, s string) (nova.Service, error) {
	s = strings.TrimSpace(s)
	var names []string
	for _, svc := range cfg.DomainServices() {
		if svc.ID == s || strings.EqualFold(svc.Name, s) {
			return svc, nil
		}
		names = append(names, svc.Name+" ("+svc.ID+")")
	}
	sort.Strings(names)
	return nova.Service{}, usageError{fmt.Sprintf("--service %q is not a declared service; declared: %s", s, strings.Join(names, ", "))}
}

// parseDays reads a Go duration, or a whole number of days ("90d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// triageFingerprint identifies what the replay of svc depends on in the
// configuration: triage options, budget, the service (runbooks, related
// services) and its actions. Cached rows made under another are made again.
func triageFingerprint(set *bot.Settings, svc nova.Service) string {
	b, _ := json.Marshal(struct {
		Version string
		Triage  any
		Budget  time.Duration
		Service nova.Service
		Actions any
	}{backtestVersion, set.Triage, set.TriageBudget, svc, set.ActionsFor(svc.ID)})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

// backgroundReader reads PagerDuty at the lowest priority of the
// credential's rate limit: live triage, notes and acknowledgements first.
type backgroundReader struct{ c *pagerduty.Client }

func (r backgroundReader) GetIncident(ctx context.Context, id string) (nova.Incident, error) {
	return r.c.GetIncident(pagerduty.Background(ctx), id)
}

func (r backgroundReader) ListIncidents(ctx context.Context, f nova.IncidentFilter) ([]nova.Incident, error) {
	return r.c.ListIncidents(pagerduty.Background(ctx), f)
}

func (r backgroundReader) ListAlerts(ctx context.Context, id string) ([]nova.Alert, error) {
	return r.c.ListAlerts(pagerduty.Background(ctx), id)
}

func (r backgroundReader) ListNotes(ctx context.Context, id string) ([]nova.Note, error) {
	return r.c.ListNotes(pagerduty.Background(ctx), id)
}

func (r backgroundReader) ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error) {
	return r.c.ListLogEntries(pagerduty.Background(ctx), id)
}

func (r backgroundReader) RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error) {
	return r.c.RelatedChangeEvents(pagerduty.Background(ctx), id)
}

func (r backgroundReader) ServiceChangeEvents(ctx context.Context, id string, since, until time.Time) ([]nova.ChangeEvent, error) {
	return r.c.ServiceChangeEvents(pagerduty.Background(ctx), id, since, until)
}

func (r backgroundReader) PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error) {
	return r.c.PastIncidents(pagerduty.Background(ctx), id, limit)
}

func (r backgroundReader) RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error) {
	return r.c.RelatedIncidents(pagerduty.Background(ctx), id)
}

func (r backgroundReader) OutlierIncident(ctx context.Context, id string) (nova.Outlier, error) {
	return r.c.OutlierIncident(pagerduty.Background(ctx), id)
}
