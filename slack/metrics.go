package slack

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova/internal/metric"
)

// Request kinds and results, the labels of nova_slack_requests_total.
const (
	kindCommand     = "command"
	kindInteraction = "interaction"

	resultOK           = "ok"           // answered in time with App's reply
	resultAppError     = "app_error"    // App refused or failed; the user saw why
	resultLate         = "late"         // acked at the deadline; the reply follows on response_url
	resultAccepted     = "accepted"     // click acked; the reply follows on response_url
	resultIgnored      = "ignored"      // verified, but nothing Nova handles (e.g. a modal event)
	resultSSLCheck     = "ssl_check"    // Slack's certificate probe
	resultUnauthorized = "unauthorized" // no secret matched, or stale timestamp
	resultInvalid      = "invalid"      // missing headers or malformed body
	resultTooLarge     = "too_large"    // body over MaxBodyBytes
	resultReplayed     = "replayed"     // a signature seen before
	resultUnavailable  = "unavailable"  // the replay guard could not answer
	resultMethod       = "method_not_allowed"
)

// handlerMetrics is shared by the HTTP handler and Socket Mode, so a
// dashboard reads the same series whichever transport a deployment uses.
type handlerMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	late     *prometheus.CounterVec
}

func newHandlerMetrics(reg prometheus.Registerer) *handlerMetrics {
	return &handlerMetrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_slack_requests_total",
			Help: "Slack slash commands and interactions received, by kind and result.",
		}, []string{"kind", "result"})),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "nova_slack_ack_seconds",
			Help: "Time from receiving a Slack request to acknowledging it; Slack gives up at 3 s.",
			// Dense around the 3 s limit, where it matters.
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5},
		}, []string{"kind"})),
		late: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_slack_late_replies_total",
			Help: "Replies delivered through response_url after the acknowledgement, by result.",
		}, []string{"result"})),
	}
}

// clientMetrics counts Web API calls.
type clientMetrics struct {
	calls       *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

func newClientMetrics(reg prometheus.Registerer) *clientMetrics {
	return &clientMetrics{
		calls: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_slack_api_calls_total",
			Help: "Slack Web API calls, by method and Nova error code (ok on success).",
		}, []string{"method", "result"})),
		rateLimited: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nova_slack_api_rate_limited_total",
			Help: "Slack answers of HTTP 429, each followed by a wait of Retry-After and a retry.",
		}, []string{"method"})),
	}
}

// register registers c, or returns the collector already registered under
// the same name so that several handlers or clients can share one registry.
// A nil Registerer leaves metrics unexported; a registry that refuses c (a
// different metric under the same name) leaves c unexported too.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	shared, _ := metric.Register(reg, c)
	return shared
}
