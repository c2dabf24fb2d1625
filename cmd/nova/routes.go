package main

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/slack"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/web"
)

// routes lists every HTTP route Nova serves on its main listener, in one
// place (opsRoutes below is the separate metrics listener, when configured).
func routes(rt *runtime, app *bot.App, st store.Store, sl *slack.Handler, pages *web.Pages, reg *prometheus.Registry, limiter *web.AuthLimiter, log logrus.FieldLogger) (http.Handler, error) {
	webhooks, err := pagerduty.NewWebhookHandler(pagerduty.WebhookConfig{
		Secrets: rt.webhookSecrets, Sink: webhookSink{app: app, tr: rt.tracing, seen: newSightings(st, rt.now, log)}, Log: log, Registerer: reg,
		OnRefused: func(env, reason, remote string) { app.AuditRefusedRequest("pagerduty", "webhook "+env, reason, remote) },
	})
	if err != nil {
		return nil, err
	}
	read := func(h http.Handler) http.Handler { return web.RequireKey(rt.apiKeys, web.ScopeRead, limiter, log, h) }
	admin := func(h http.Handler) http.Handler { return web.RequireKey(rt.apiKeys, web.ScopeAdmin, limiter, log, h) }

	r := mux.NewRouter()
	r.Use(instrumentRoutes(reg), rt.tracing.routes())
	// PagerDuty V3 webhooks, one subscription URL per environment.
	r.Handle("/webhooks/pagerduty/{environment}", webhooks).Methods(http.MethodPost)
	// Slack: slash commands and interactivity (buttons).
	r.Handle("/slack/commands", sl.Commands()).Methods(http.MethodPost)
	r.Handle("/slack/interactions", sl.Interactions()).Methods(http.MethodPost)
	// Nova's API.
	// A browser following the "Full result" link of a note (no API key,
	// Accept: text/html) is sent to the incident's page instead.
	r.Handle("/api/v1/incidents/{id}", web.BrowserRedirect(rt.incidentPage, read(web.IncidentHandler(app)))).Methods(http.MethodGet)
	r.Handle("/api/v1/incidents/{id}/postmortem", read(web.PostmortemHandler(app))).Methods(http.MethodGet)
	r.Handle("/api/v1/audit", admin(web.AuditHandler(st))).Methods(http.MethodGet)
	r.Handle("/api/v1/review", read(web.ReviewHandler(reviewSource{rt: rt, st: st}))).Methods(http.MethodGet)
	// Operations. /metrics moves to metrics.listen when that is set.
	r.Handle("/healthz", web.Health()).Methods(http.MethodGet)
	r.Handle("/readyz", web.Ready(st, diskCheck(rt.config())...)).Methods(http.MethodGet)
	if rt.config().Metrics.Listen == "" {
		r.Handle("/metrics", metricsHandler(rt, reg, limiter, log)).Methods(http.MethodGet)
	}
	// The web pages, for people signed in with Slack (web.oidc).
	pages.Register(r)
	notFound(r)
	return r, nil
}

// opsRoutes are the routes of the metrics listener (metrics.listen).
func opsRoutes(rt *runtime, st store.Store, reg *prometheus.Registry, limiter *web.AuthLimiter, log logrus.FieldLogger) http.Handler {
	r := mux.NewRouter()
	r.Handle("/healthz", web.Health()).Methods(http.MethodGet)
	r.Handle("/readyz", web.Ready(st, diskCheck(rt.config())...)).Methods(http.MethodGet)
	r.Handle("/metrics", metricsHandler(rt, reg, limiter, log)).Methods(http.MethodGet)
	notFound(r)
	return r
}

// metricsHandler serves Prometheus metrics, behind metrics.bearer_token
// when one is configured (read per request, so a reload rotates it).
func metricsHandler(rt *runtime, reg *prometheus.Registry, limiter *web.AuthLimiter, log logrus.FieldLogger) http.Handler {
	token := func() string { return rt.config().Metrics.BearerToken.Value() }
	return web.RequireBearer(token, limiter, log, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}

func notFound(r *mux.Router) {
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		web.WriteJSON(w, http.StatusNotFound, web.ErrorBody{Error: "no such endpoint", Code: "not_found"})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		web.WriteJSON(w, http.StatusMethodNotAllowed, web.ErrorBody{Error: "method not allowed", Code: "invalid"})
	})
}
