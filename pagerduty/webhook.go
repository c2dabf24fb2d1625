package pagerduty

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/web"
)

// WebhookIDHeader carries PagerDuty's id of one webhook; it is repeated on
// every delivery attempt, which makes it the deduplication key.
const WebhookIDHeader = "X-Webhook-Id"

// DefaultWebhookMaxBodyBytes is the body limit when WebhookConfig leaves it
// zero. PagerDuty drops events above 256 KB, so 1 MiB refuses no genuine one.
const DefaultWebhookMaxBodyBytes = 1 << 20

// Disposition is what the sink did with an accepted delivery.
type Disposition string

// Dispositions. All of them are answered 202: PagerDuty must never see a 4xx
// for an event Nova merely does not care about (three in a row disable the
// subscription for a day).
const (
	DispositionAccepted       Disposition = "accepted"        // stored in the inbox
	DispositionDuplicate      Disposition = "duplicate"       // seen before (same webhook or event id)
	DispositionIgnoredType    Disposition = "ignored_type"    // an event type Nova does not act on
	DispositionIgnoredService Disposition = "ignored_service" // a service not enabled in Nova
)

// WebhookSink receives every verified, decoded delivery. It must persist the
// event before returning DispositionAccepted (the handler answers 2xx right
// after), and return an EUNAVAILABLE error when it cannot, so that PagerDuty
// retries. The handler passes every event, pagey.ping included, so that the
// decision of what to keep lives in one place: the sink.
type WebhookSink interface {
	Accept(ctx context.Context, ev nova.Event) (Disposition, error)
}

// WebhookConfig configures NewWebhookHandler.
type WebhookConfig struct {
	// Secrets returns the webhook secrets of an environment (several during a
	// rotation), and false when the environment is unknown. It is called on
	// every delivery, so a rotated secret is picked up without a restart.
	Secrets func(environment string) ([]string, bool)
	// Sink receives the decoded events. Required.
	Sink WebhookSink
	// MaxBodyBytes bounds the body; 0 means DefaultWebhookMaxBodyBytes.
	MaxBodyBytes int64
	// Log receives one entry per refused delivery; nil means logrus's standard logger.
	Log logrus.FieldLogger
	// Registerer receives the handler's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Now stamps ReceivedAt; nil means time.Now.
	Now func() time.Time
	// OnRefused, when set, is told of each delivery refused for a bad
	// signature or an unknown environment, so the refusal can be audited.
	// It must not block.
	OnRefused func(environment, reason, remote string)
}

// Values of the result label of nova_webhook_deliveries_total. The four
// dispositions are results too, under their own names.
const (
	webhookResultAccepted     = string(DispositionAccepted)
	webhookResultBadSignature = "bad_signature"
	webhookResultMalformed    = "malformed"
	webhookResultTooLarge     = "too_large"
	webhookResultUnknownEnv   = "unknown_environment"
	webhookResultUnavailable  = "unavailable"
	webhookResultError        = "error"
)

// webhookUnknownEnvLabel replaces an unknown environment in metric labels, so
// that whatever a client puts in the URL cannot grow the label set.
const webhookUnknownEnvLabel = "unknown"

// webhookPooledBufferMax is the largest body buffer returned to the pool;
// a rare huge body should not stay pinned in memory.
const webhookPooledBufferMax = 64 << 10

// webhookAcceptedBodies are the precomputed 202 answers, one per disposition,
// so the hot path encodes nothing.
var webhookAcceptedBodies = map[Disposition][]byte{
	DispositionAccepted:       []byte(`{"result":"accepted"}` + "\n"),
	DispositionDuplicate:      []byte(`{"result":"duplicate"}` + "\n"),
	DispositionIgnoredType:    []byte(`{"result":"ignored_type"}` + "\n"),
	DispositionIgnoredService: []byte(`{"result":"ignored_service"}` + "\n"),
}

// WebhookHandler serves POST /webhooks/pagerduty/{environment}: it verifies,
// decodes and hands PagerDuty V3 deliveries to a WebhookSink.
type WebhookHandler struct {
	secrets    func(string) ([]string, bool)
	sink       WebhookSink
	maxBody    int64
	log        logrus.FieldLogger
	now        func() time.Time
	deliveries *prometheus.CounterVec
	duration   prometheus.Histogram
	bodies     sync.Pool
	onRefused  func(environment, reason, remote string)
}

// NewWebhookHandler validates cfg and returns the handler. Its metrics are
// nova_webhook_deliveries_total{environment,result} and
// nova_webhook_duration_seconds; when Registerer already holds them (a second
// handler in the same process) the existing collectors are shared.
func NewWebhookHandler(cfg WebhookConfig) (*WebhookHandler, error) {
	switch {
	case cfg.Secrets == nil:
		return nil, nova.Errorf(nova.EINVALID, "pagerduty webhook handler: Secrets is required")
	case cfg.Sink == nil:
		return nil, nova.Errorf(nova.EINVALID, "pagerduty webhook handler: Sink is required")
	case cfg.MaxBodyBytes < 0:
		return nil, nova.Errorf(nova.EINVALID, "pagerduty webhook handler: MaxBodyBytes must not be negative")
	}
	h := &WebhookHandler{
		secrets:   cfg.Secrets,
		sink:      cfg.Sink,
		maxBody:   cfg.MaxBodyBytes,
		log:       cfg.Log,
		now:       cfg.Now,
		bodies:    sync.Pool{New: func() any { return new(bytes.Buffer) }},
		onRefused: cfg.OnRefused,
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultWebhookMaxBodyBytes
	}
	if h.log == nil {
		h.log = logrus.StandardLogger()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_webhook_deliveries_total",
		Help: "PagerDuty webhook deliveries by environment and result.",
	}, []string{"environment", "result"})
	h.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "nova_webhook_duration_seconds",
		Help: "Time to answer a PagerDuty webhook delivery, store included.",
		// PagerDuty gives up after 5 s; the target is well under 20 ms.
		Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
	})
	if cfg.Registerer != nil {
		var err error
		if h.deliveries, err = metric.Register(cfg.Registerer, h.deliveries); err != nil {
			return nil, fmt.Errorf("register pagerduty webhook metrics: %w", err)
		}
		if h.duration, err = metric.Register(cfg.Registerer, h.duration); err != nil {
			return nil, fmt.Errorf("register pagerduty webhook metrics: %w", err)
		}
	}
	return h, nil
}

// webhookDelivery is what is known about one delivery, for metrics and logs.
type webhookDelivery struct {
	envLabel   string // metric label: a known environment or "unknown"
	env        string // as requested, for logs
	webhookID  string // set only once it passed validation
	eventID    string
	incidentID string
	remote     string
}

// ServeHTTP handles one delivery. The route restricts the method to POST.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Duration uses the monotonic clock, not cfg.Now, which tests may freeze.
	start := time.Now()
	d := webhookDelivery{envLabel: webhookUnknownEnvLabel, remote: r.RemoteAddr}
	result := h.serve(w, r, &d)
	h.deliveries.WithLabelValues(d.envLabel, result).Inc()
	h.duration.Observe(time.Since(start).Seconds())
}

// serve answers the delivery and returns its result label. The checks run in
// a fixed order (environment, size, headers, signature, JSON), so a refusal
// always names the first problem, and nothing reaches the sink unless every
// check passed.
func (h *WebhookHandler) serve(w http.ResponseWriter, r *http.Request, d *webhookDelivery) string {
	d.env = mux.Vars(r)["environment"]
	secrets, known := h.secrets(d.env)
	if d.env == "" || !known {
		return h.refuse(w, d, webhookResultUnknownEnv, nova.Errorf(nova.ENOTFOUND,
			"unknown PagerDuty environment: check the environment in the webhook subscription URL"))
	}
	d.envLabel = d.env

	buf := h.bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer h.releaseBody(buf)
	if err := h.readBody(w, r, buf); err != nil {
		result := webhookResultMalformed
		if nova.IsCode(err, nova.ETOOLARGE) {
			result = webhookResultTooLarge
		}
		return h.refuse(w, d, result, err)
	}
	body := buf.Bytes()

	sigHeader := r.Header.Get(WebhookSignatureHeader)
	if sigHeader == "" {
		return h.refuse(w, d, webhookResultBadSignature, nova.Errorf(nova.EINVALID,
			"missing %s header", WebhookSignatureHeader))
	}
	webhookID := r.Header.Get(WebhookIDHeader)
	if webhookID == "" {
		return h.refuse(w, d, webhookResultMalformed, nova.Errorf(nova.EINVALID,
			"missing %s header", WebhookIDHeader))
	}
	if !validWebhookID(webhookID) {
		return h.refuse(w, d, webhookResultMalformed, nova.Errorf(nova.EINVALID,
			"malformed %s header: expected at most %d visible ASCII characters", WebhookIDHeader, webhookIDMaxLen))
	}
	d.webhookID = webhookID
	if err := VerifySignature(body, sigHeader, secrets); err != nil {
		return h.refuse(w, d, webhookResultBadSignature, err)
	}
	ev, err := DecodeEvent(body)
	if err != nil {
		return h.refuse(w, d, webhookResultMalformed, err)
	}
	d.eventID, d.incidentID = ev.ID, ev.IncidentID
	ev.Environment = d.env
	ev.WebhookID = webhookID
	ev.ReceivedAt = h.now()

	disp, err := h.sink.Accept(r.Context(), ev)
	if err != nil {
		result := webhookResultError
		if nova.IsCode(err, nova.EUNAVAILABLE) {
			result = webhookResultUnavailable
		}
		return h.refuse(w, d, result, err)
	}
	answer, ok := webhookAcceptedBodies[disp]
	if !ok {
		// A sink bug, not PagerDuty's fault: the event may well be stored, so
		// still answer 2xx, but make the bug visible.
		h.fields(d, webhookResultAccepted).Warnf("pagerduty webhook sink returned unknown disposition %q; answered as accepted", disp)
		disp, answer = DispositionAccepted, webhookAcceptedBodies[DispositionAccepted]
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(answer)
	return string(disp)
}

// readBody reads the whole body into buf, at most h.maxBody bytes.
func (h *WebhookHandler) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) error {
	if r.ContentLength > h.maxBody {
		return h.tooLarge()
	}
	if r.Body == nil {
		return nil
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return h.tooLarge()
	case err != nil:
		return nova.WrapError(nova.EINVALID, err, "could not read webhook body")
	}
	return nil
}

// tooLarge is the answer to a body over the limit.
func (h *WebhookHandler) tooLarge() error {
	return nova.Errorf(nova.ETOOLARGE, "webhook body is larger than %d bytes", h.maxBody)
}

// releaseBody returns buf to the pool unless it grew too large to keep.
func (h *WebhookHandler) releaseBody(buf *bytes.Buffer) {
	if buf.Cap() <= webhookPooledBufferMax {
		h.bodies.Put(buf)
	}
}

// refuse answers err through web.WriteError, logs the refusal and returns
// result. The log holds identifiers only: never the body, the signature
// header or a secret.
func (h *WebhookHandler) refuse(w http.ResponseWriter, d *webhookDelivery, result string, err error) string {
	web.WriteError(w, err)
	entry := h.fields(d, result)
	switch code := nova.ErrorCode(err); code {
	case nova.EUNAVAILABLE, nova.EINTERNAL:
		// Server-side failures: the cause (store, network) is for operators.
		entry.WithError(err).Error("pagerduty webhook not stored")
	default:
		// Client-side refusals: log Nova's own message, not the cause, which
		// for a JSON error may quote bytes of the body.
		entry.WithField("error", nova.ErrorMessage(err)).Warn("pagerduty webhook refused")
	}
	if h.onRefused != nil && (result == webhookResultBadSignature || result == webhookResultUnknownEnv) {
		h.onRefused(truncateForWebhookLog(d.env), nova.ErrorMessage(err), d.remote)
	}
	return result
}

// fields returns the log entry for a delivery.
func (h *WebhookHandler) fields(d *webhookDelivery, result string) *logrus.Entry {
	return h.log.WithFields(logrus.Fields{
		"environment": truncateForWebhookLog(d.env),
		"webhook_id":  d.webhookID,
		"event_id":    truncateForWebhookLog(d.eventID),
		"incident_id": truncateForWebhookLog(d.incidentID),
		"result":      result,
		"remote":      d.remote,
	})
}

// webhookIDMaxLen bounds X-Webhook-Id: PagerDuty sends UUIDs; the id becomes
// a store key and a log field, and the header is not covered by the signature.
const webhookIDMaxLen = 128

// validWebhookID reports whether id is 1..webhookIDMaxLen visible ASCII characters.
func validWebhookID(id string) bool {
	if len(id) == 0 || len(id) > webhookIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// truncateForWebhookLog shortens client-chosen strings (the environment in
// the URL) so that a hostile request cannot flood the log.
func truncateForWebhookLog(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
