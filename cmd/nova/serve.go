package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/llm"
	"github.com/novasre/nova/slack"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/web"
)

// shutdownGrace bounds graceful shutdown: HTTP requests in flight, then
// events being processed.
const shutdownGrace = 30 * time.Second

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve")
	path := configFlag(fs)
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return serve(ctx, serveOptions{
		Config: cfg, ConfigPath: *path, Log: stderr, Reload: hup,
	})
}

// serveOptions are the inputs of serve; tests set Listener and Ready.
type serveOptions struct {
	Config     *config.Config
	ConfigPath string
	Log        io.Writer
	// Reload triggers a configuration reload from ConfigPath (SIGHUP).
	Reload <-chan os.Signal
	// Listener, when set, is used instead of listening on Config.Listen.
	Listener net.Listener
	// Ready receives the server's address once it accepts requests.
	Ready func(addr string)
	// MetricsListener, when set, is used instead of listening on
	// Config.Metrics.Listen (which must be set for it to be served).
	MetricsListener net.Listener
	// MetricsReady receives the metrics listener's address, when there is one.
	MetricsReady func(addr string)
	// Now is the application's clock; tests move it to cross watching
	// periods and expiries. Nil means time.Now.
	Now func() time.Time
	// SpanExporter, when set, receives every span (tests); otherwise
	// spans go to tracing.otlp_endpoint, if configured.
	SpanExporter sdktrace.SpanExporter
}

// serve runs Nova until ctx ends, then shuts down gracefully: it stops
// accepting requests, lets in-flight ones finish, lets workers finish the
// events they hold, and closes the store.
func serve(ctx context.Context, o serveOptions) error {
	cfg := o.Config
	log, scrub := newLogger(o.Log, cfg)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := useAuditKey(ctx, cfg, st, log); err != nil {
		return err
	}

	tr, err := startTracing(ctx, cfg, o.SpanExporter)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.shutdown(flushCtx); err != nil {
			log.WithError(err).Warn("could not flush the last spans")
		}
	}()
	rt := newRuntime(cfg, st, log, reg)
	rt.tracing = tr
	rt.now = o.Now
	var app *bot.App
	rt.onRefused = func(env, method, path string) {
		if app != nil {
			app.AuditRefusedCall(env, method, path)
		}
	}
	summariser, err := newSummariser(cfg)
	if err != nil {
		return err
	}
	app, err = bot.New(bot.Config{
		Store: st, Settings: rt.settings.Load, Envs: rt, Summariser: summariser,
		Log: log, Registerer: reg, Now: o.Now,
		Workers: cfg.Workers.Count, Visibility: cfg.Workers.Visibility.Duration,
		DedupTTL: cfg.Workers.DedupTTL.Duration, MaxAttempts: cfg.Workers.MaxAttempts,
		Tracer: tr.botTracer(), Reviewer: reviewSource{rt: rt, st: st},
		Backtest: slackBacktest(rt, st),
	})
	if err != nil {
		return err
	}
	if err := app.SeedServices(ctx); err != nil {
		return fmt.Errorf("seed service states: %w", err)
	}
	registerOpsMetrics(reg, rt)

	slackHandler, err := newSlackHandler(rt, app, st, log, reg)
	if err != nil {
		return err
	}
	limiter := &web.AuthLimiter{PerMinute: cfg.HTTP.MaxAuthFailuresPerMinute, Now: o.Now,
		OnThrottle: func(client string, failures int) {
			app.AuditRefusedRequest("api", "authentication", fmt.Sprintf(
				"%d failed authentication attempts; further attempts answered 429 until the rate falls under %d a minute",
				failures, cfg.HTTP.MaxAuthFailuresPerMinute), client)
		}}
	pages, err := newPages(rt, app, st, o.Now)
	if err != nil {
		return err
	}
	router, err := routes(rt, app, st, slackHandler, pages, reg, limiter, log)
	if err != nil {
		return err
	}
	lm := newListenerMetrics(reg)
	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
		}
	}
	ln = newLimitListener(ln, "main", cfg.HTTP.MaxConnections, cfg.HTTP.ReservedConnections, lm)
	srv := newHTTPServer("main", router, cfg.HTTP, lm)
	var opsSrv *http.Server
	var opsLn net.Listener
	if cfg.Metrics.Listen != "" {
		opsLn = o.MetricsListener
		if opsLn == nil {
			if opsLn, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
				_ = ln.Close()
				return fmt.Errorf("listen on metrics.listen %s: %w", cfg.Metrics.Listen, err)
			}
		}
		opsLn = newLimitListener(opsLn, "metrics", opsMaxConnections, opsReserved, lm)
		opsSrv = newHTTPServer("metrics", opsRoutes(rt, st, reg, limiter, log), cfg.HTTP, lm)
	} else if cfg.Metrics.BearerToken.IsZero() {
		log.Info("/metrics is served without authentication on the main listener; set metrics.listen or metrics.bearer_token to protect it")
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	workersDone := make(chan error, 1)
	go func() { workersDone <- app.Run(workCtx) }()
	socketDone := startSocketMode(workCtx, rt, app, log)
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	if opsSrv != nil {
		go func() {
			if err := opsSrv.Serve(opsLn); !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("metrics listener: %w", err)
			}
		}()
		log.WithField("addr", opsLn.Addr().String()).Info("metrics, health and readiness served on metrics.listen")
		if o.MetricsReady != nil {
			o.MetricsReady(opsLn.Addr().String())
		}
	}
	log.WithField("addr", ln.Addr().String()).WithField("store", cfg.Store.Backend).
		WithField("environments", cfg.EnvironmentNames()).
		WithField("max_connections", cfg.HTTP.MaxConnections).Info("nova listening")
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	for {
		select {
		case err := <-serveErr:
			stopWork()
			<-workersDone
			return fmt.Errorf("http server: %w", err)
		case <-o.Reload:
			reload(ctx, o.ConfigPath, rt, app, log, scrub)
			continue
		case <-ctx.Done():
		}
		break
	}
	log.Info("shutting down: finishing in-flight requests and events")
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.WithError(err).Warn("HTTP shutdown did not finish in time")
	}
	if opsSrv != nil {
		_ = opsSrv.Shutdown(shutCtx)
	}
	if err := slackHandler.Wait(shutCtx); err != nil {
		log.WithError(err).Warn("late Slack replies did not finish in time")
	}
	stopWork()
	select {
	case <-workersDone:
	case <-shutCtx.Done():
		log.Warn("workers did not finish in time; unfinished events will be redelivered")
	}
	<-socketDone
	log.Info("stopped")
	return nil
}

// reload re-reads the configuration; a bad file is logged and ignored, so a
// typo never takes Nova down.
func reload(ctx context.Context, path string, rt *runtime, app *bot.App, log logrus.FieldLogger, scrub *scrubbingFormatter) {
	cfg, err := config.Load(path)
	if err != nil {
		log.WithError(err).Error("configuration reload failed; keeping the running configuration")
		return
	}
	old := rt.config()
	if cfg.Store.Backend != old.Store.Backend || cfg.Store.Path != old.Store.Path ||
		cfg.Store.URL.Value() != old.Store.URL.Value() || cfg.Listen != old.Listen {
		log.Warn("store and listen settings change only on restart")
	}
	if cfg.HTTP != old.HTTP || cfg.Metrics.Listen != old.Metrics.Listen {
		log.Warn("http limits and metrics.listen change only on restart")
	}
	scrub.setSecrets(append(cfg.AllSecrets(), old.AllSecrets()...))
	rt.swap(cfg)
	if err := useAuditKey(ctx, cfg, rt.store, log); err != nil {
		log.WithError(err).Error("audit key reload incomplete; reload again once the store answers")
	}
	if err := app.SeedServices(ctx); err != nil {
		log.WithError(err).Warn("could not seed new services after reload")
	}
	log.WithField("environments", cfg.EnvironmentNames()).WithField("services", len(cfg.Services)).Info("configuration reloaded")
}

// openStore opens the configured backend.
// openConfigStore loads the configuration at path and opens its store for
// an offline command (audit, review, postmortem); the caller closes it. On
// bolt, Nova must be stopped first: one process holds the file.
func openConfigStore(ctx context.Context, path string) (*config.Config, store.Store, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(ctx, cfg, quietLogger())
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

func openStore(ctx context.Context, cfg *config.Config, log logrus.FieldLogger) (store.Store, error) {
	switch cfg.Store.Backend {
	case "redis":
		return openRedis(ctx, cfg, log)
	default:
		return openBolt(cfg)
	}
}

func newSummariser(cfg *config.Config) (bot.Summariser, error) {
	l := cfg.Triage.LLM
	if !l.Enabled() {
		return nil, nil
	}
	s, err := llm.New(llm.Config{BaseURL: l.BaseURL, Model: l.Model, APIKey: l.APIKey.Value(), Timeout: l.Timeout.Duration}, nil)
	if err != nil {
		return nil, fmt.Errorf("triage.llm: %w", err)
	}
	return s, nil
}

func newSlackHandler(rt *runtime, app *bot.App, st store.Store, log logrus.FieldLogger, reg prometheus.Registerer) (*slack.Handler, error) {
	return slack.NewHandler(slack.HandlerConfig{
		Secrets: rt.slackSecrets, App: app, Replay: replayGuard{st}, Responder: responder{rt},
		Log: log, Registerer: reg,
		OnRefused: func(kind, reason, remote string) { app.AuditRefusedRequest("slack", kind, reason, remote) },
	})
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
