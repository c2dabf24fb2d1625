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

// routes lists every HTTP route Nova serves, in one place.
func routes(rt *runtime, app *bot.App, st store.Store, sl *slack.Handler, reg *prometheus.Registry, log logrus.FieldLogger) (http.Handler, error) {
	webhooks, err := pagerduty.NewWebhookHandler(pagerduty.WebhookConfig{
		Secrets: rt.webhookSecrets, Sink: webhookSink{app: app, tr: rt.tracing}, Log: log, Registerer: reg,
		OnRefused: func(env, reason, remote string) { app.AuditRefusedRequest("pagerduty", "webhook "+env, reason, remote) },
	})
	if err != nil {
		return nil, err
	}
	read := func(h http.Handler) http.Handler { return web.RequireKey(rt.apiKeys, web.ScopeRead, log, h) }
	admin := func(h http.Handler) http.Handler { return web.RequireKey(rt.apiKeys, web.ScopeAdmin, log, h) }

	r := mux.NewRouter()
	r.Use(instrumentRoutes(reg), rt.tracing.routes())
	// PagerDuty V3 webhooks, one subscription URL per environment.
	r.Handle("/webhooks/pagerduty/{environment}", webhooks).Methods(http.MethodPost)
	// Slack: slash commands and interactivity (buttons).
	r.Handle("/slack/commands", sl.Commands()).Methods(http.MethodPost)
	r.Handle("/slack/interactions", sl.Interactions()).Methods(http.MethodPost)
	// Nova's API.
	r.Handle("/api/v1/incidents/{id}", read(web.IncidentHandler(app))).Methods(http.MethodGet)
	r.Handle("/api/v1/audit", admin(web.AuditHandler(st))).Methods(http.MethodGet)
	// Operations.
	r.Handle("/healthz", web.Health()).Methods(http.MethodGet)
	r.Handle("/readyz", web.Ready(st)).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})).Methods(http.MethodGet)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		web.WriteJSON(w, http.StatusNotFound, web.ErrorBody{Error: "no such endpoint", Code: "not_found"})
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		web.WriteJSON(w, http.StatusMethodNotAllowed, web.ErrorBody{Error: "method not allowed", Code: "invalid"})
	})
	return r, nil
}
