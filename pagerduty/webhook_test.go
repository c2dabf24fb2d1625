package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/novasre/nova"
	"github.com/novasre/nova/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

var testWebhookNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testWebhookSecrets: prod is mid-rotation, "nosecret" is configured without one.
func testWebhookSecrets(env string) ([]string, bool) {
	switch env {
	case "prod":
		return []string{"new-secret", "old-secret"}, true
	case "staging":
		return []string{"staging-secret"}, true
	case "nosecret":
		return nil, true
	}
	return nil, false
}

// recordingWebhookSink records what reaches it and answers as configured.
type recordingWebhookSink struct {
	mu     sync.Mutex
	events []nova.Event
	disp   Disposition
	err    error
}

func (s *recordingWebhookSink) Accept(ctx context.Context, ev nova.Event) (Disposition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, ev)
	if s.err != nil {
		return "", s.err
	}
	if s.disp == "" {
		return DispositionAccepted, nil
	}
	return s.disp, nil
}

func (s *recordingWebhookSink) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// webhookTestRig is a handler behind the real route, with its registry and log.
type webhookTestRig struct {
	router http.Handler
	sink   *recordingWebhookSink
	reg    *prometheus.Registry
	logs   *bytes.Buffer
}

func newWebhookTestRig(t *testing.T, sink *recordingWebhookSink, maxBody int64) *webhookTestRig {
	t.Helper()
	logs := &bytes.Buffer{}
	logger := logrus.New()
	logger.SetOutput(logs)
	logger.SetFormatter(&logrus.JSONFormatter{})
	logger.SetLevel(logrus.DebugLevel)
	reg := prometheus.NewRegistry()
	h, err := NewWebhookHandler(WebhookConfig{
		Secrets: testWebhookSecrets, Sink: sink, MaxBodyBytes: maxBody,
		Log: logger, Registerer: reg, Now: func() time.Time { return testWebhookNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	r.Handle("/webhooks/pagerduty/{environment}", h).Methods(http.MethodPost)
	return &webhookTestRig{router: r, sink: sink, reg: reg, logs: logs}
}

// deliver posts body to env with the given headers (nil values are omitted).
func (rig *webhookTestRig) deliver(env string, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty/"+env, bytes.NewReader(body))
	req.RemoteAddr = "192.0.2.10:4321"
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	rig.router.ServeHTTP(rec, req)
	return rec
}

// counter returns nova_webhook_deliveries_total{environment,result}.
func (rig *webhookTestRig) counter(t *testing.T, env, result string) float64 {
	t.Helper()
	families, err := rig.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "nova_webhook_deliveries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["environment"] == env && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// histogramCount returns the number of observations of nova_webhook_duration_seconds.
func (rig *webhookTestRig) histogramCount(t *testing.T) uint64 {
	t.Helper()
	families, err := rig.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "nova_webhook_duration_seconds" {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}

func signedWebhookHeaders(body []byte, secrets ...string) map[string]string {
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = signWebhook(body, s)
	}
	return map[string]string{
		WebhookSignatureHeader: strings.Join(sigs, ","),
		WebhookIDHeader:        "0c7b3c1e-9d8a-4e55-a1d2-7f0e6b2a9c11",
		"Content-Type":         "application/json",
	}
}

func TestWebhookHandlerRefusals(t *testing.T) {
	body := readWebhookFixture(t, "go-pagerduty_webhookv3_test_body.json")
	without := func(h map[string]string, key string) map[string]string { delete(h, key); return h }
	with := func(h map[string]string, key, v string) map[string]string { h[key] = v; return h }
	notJSON := []byte(`{"event":{"id":"E1","event_type":"incident.triggered"}} trailing`)
	noID := []byte(`{"event":{"event_type":"incident.triggered"}}`)
	big := bytes.Repeat([]byte(" "), 4097)
	tests := []struct {
		name     string
		env      string
		body     []byte
		headers  map[string]string
		chunked  bool // hide Content-Length so the limit is hit while reading
		status   int
		code     string
		envLabel string
		result   string
	}{
		{"unknown environment", "nope", body, signedWebhookHeaders(body, "new-secret"), false, 404, nova.ENOTFOUND, "unknown", "unknown_environment"},
		{"too large by Content-Length", "prod", big, signedWebhookHeaders(big, "new-secret"), false, 413, nova.ETOOLARGE, "prod", "too_large"},
		{"too large while reading", "prod", big, signedWebhookHeaders(big, "new-secret"), true, 413, nova.ETOOLARGE, "prod", "too_large"},
		{"missing signature header", "prod", body, without(signedWebhookHeaders(body, "new-secret"), WebhookSignatureHeader), false, 400, nova.EINVALID, "prod", "bad_signature"},
		{"missing webhook id", "prod", body, without(signedWebhookHeaders(body, "new-secret"), WebhookIDHeader), false, 400, nova.EINVALID, "prod", "malformed"},
		{"webhook id with spaces", "prod", body, with(signedWebhookHeaders(body, "new-secret"), WebhookIDHeader, "a b"), false, 400, nova.EINVALID, "prod", "malformed"},
		{"webhook id too long", "prod", body, with(signedWebhookHeaders(body, "new-secret"), WebhookIDHeader, strings.Repeat("a", 129)), false, 400, nova.EINVALID, "prod", "malformed"},
		{"malformed signature header", "prod", body, with(signedWebhookHeaders(body, "new-secret"), WebhookSignatureHeader, "sha256=abc"), false, 400, nova.EINVALID, "prod", "bad_signature"},
		{"bad signature", "prod", body, signedWebhookHeaders(body, "wrong-secret"), false, 401, nova.EUNAUTHORIZED, "prod", "bad_signature"},
		{"signed with another environment's secret", "prod", body, signedWebhookHeaders(body, "staging-secret"), false, 401, nova.EUNAUTHORIZED, "prod", "bad_signature"},
		{"environment without secrets", "nosecret", body, signedWebhookHeaders(body, ""), false, 401, nova.EUNAUTHORIZED, "nosecret", "bad_signature"},
		{"signed but not JSON", "prod", notJSON, signedWebhookHeaders(notJSON, "new-secret"), false, 400, nova.EINVALID, "prod", "malformed"},
		{"signed but no event.id", "prod", noID, signedWebhookHeaders(noID, "new-secret"), false, 400, nova.EINVALID, "prod", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newWebhookTestRig(t, &recordingWebhookSink{}, 4096)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty/"+tt.env, bytes.NewReader(tt.body))
			if tt.chunked {
				req = httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty/"+tt.env, io.MultiReader(bytes.NewReader(tt.body)))
				req.ContentLength = -1
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			rig.router.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			var eb web.ErrorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Code != tt.code || eb.Error == "" {
				t.Errorf("error body %q (%v), want code %q", rec.Body, err, tt.code)
			}
			if n := rig.sink.calls(); n != 0 {
				t.Errorf("sink called %d times for a refused delivery", n)
			}
			if got := rig.counter(t, tt.envLabel, tt.result); got != 1 {
				t.Errorf("deliveries_total{environment=%q,result=%q} = %v, want 1", tt.envLabel, tt.result, got)
			}
			if rig.histogramCount(t) != 1 {
				t.Errorf("duration histogram not observed")
			}
			if !strings.Contains(rig.logs.String(), `"result":"`+tt.result+`"`) {
				t.Errorf("refusal not logged with result %q: %s", tt.result, rig.logs)
			}
		})
	}
}

func TestWebhookHandlerUnknownEnvironmentLabel(t *testing.T) {
	rig := newWebhookTestRig(t, &recordingWebhookSink{}, 0)
	for _, env := range []string{"a", "b", "c"} {
		rig.deliver(env, []byte("{}"), nil)
	}
	if got := rig.counter(t, "unknown", "unknown_environment"); got != 3 {
		t.Errorf("unknown environments counted %v times under \"unknown\", want 3", got)
	}
	if got := rig.counter(t, "a", "unknown_environment"); got != 0 {
		t.Errorf("client-chosen environment became a label")
	}
}

func TestWebhookHandlerDelivers(t *testing.T) {
	body := readWebhookFixture(t, "go-pagerduty_webhookv3_test_body.json")
	rig := newWebhookTestRig(t, &recordingWebhookSink{}, 0)
	rec := rig.deliver("prod", body, signedWebhookHeaders(body, "new-secret"))
	if rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), `"accepted"`) {
		t.Fatalf("got %d %s, want 202 accepted", rec.Code, rec.Body)
	}
	if rig.sink.calls() != 1 {
		t.Fatalf("sink called %d times, want 1", rig.sink.calls())
	}
	want, err := DecodeEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	want.Environment, want.WebhookID, want.ReceivedAt = "prod", "0c7b3c1e-9d8a-4e55-a1d2-7f0e6b2a9c11", testWebhookNow
	got := rig.sink.events[0]
	if got.ID != want.ID || got.Environment != want.Environment || got.WebhookID != want.WebhookID ||
		!got.ReceivedAt.Equal(want.ReceivedAt) || got.IncidentID != "PGR0VU2" || got.Incident == nil ||
		got.Incident.Title != "A little bump in the road" {
		t.Errorf("sink got %+v\nwant %+v", got, want)
	}
	if c := rig.counter(t, "prod", "accepted"); c != 1 {
		t.Errorf("accepted counted %v times", c)
	}
	if rig.logs.Len() != 0 {
		t.Errorf("accepted delivery logged: %s", rig.logs)
	}
}

func TestWebhookHandlerSignatures(t *testing.T) {
	body := readWebhookFixture(t, "webhook_v3_incident.priority_updated.envelope.json")
	tests := []struct {
		name    string
		secrets []string
	}{
		{"new secret", []string{"new-secret"}},
		{"old secret during rotation", []string{"old-secret"}},
		{"both signatures in one header", []string{"old-secret", "new-secret"}},
		{"unknown signature first", []string{"someone-else", "old-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newWebhookTestRig(t, &recordingWebhookSink{}, 0)
			if rec := rig.deliver("prod", body, signedWebhookHeaders(body, tt.secrets...)); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d %s, want 202", rec.Code, rec.Body)
			}
			if rig.sink.calls() != 1 {
				t.Errorf("sink called %d times", rig.sink.calls())
			}
		})
	}
}

func TestWebhookHandlerSinkAnswers(t *testing.T) {
	body := readWebhookFixture(t, "webhook_v3_service.updated.envelope.json")
	tests := []struct {
		name   string
		sink   *recordingWebhookSink
		status int
		result string
	}{
		{"duplicate", &recordingWebhookSink{disp: DispositionDuplicate}, 202, "duplicate"},
		{"ignored type", &recordingWebhookSink{disp: DispositionIgnoredType}, 202, "ignored_type"},
		{"ignored service", &recordingWebhookSink{disp: DispositionIgnoredService}, 202, "ignored_service"},
		{"unknown disposition still 2xx", &recordingWebhookSink{disp: "bogus"}, 202, "accepted"},
		{"store down: PagerDuty must retry", &recordingWebhookSink{err: nova.WrapError(nova.EUNAVAILABLE, errors.New("dial tcp: refused"), "inbox unavailable")}, 503, "unavailable"},
		{"wrapped unavailable", &recordingWebhookSink{err: errors.Join(errors.New("ctx"), nova.Errorf(nova.EUNAVAILABLE, "inbox unavailable"))}, 503, "unavailable"},
		{"unexpected error", &recordingWebhookSink{err: errors.New("boom")}, 500, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newWebhookTestRig(t, tt.sink, 0)
			rec := rig.deliver("staging", body, signedWebhookHeaders(body, "staging-secret"))
			if rec.Code != tt.status {
				t.Fatalf("status %d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			if got := rig.counter(t, "staging", tt.result); got != 1 {
				t.Errorf("deliveries_total{result=%q} = %v, want 1", tt.result, got)
			}
			if tt.status >= 500 && strings.Contains(rec.Body.String(), "dial tcp") {
				t.Errorf("internal cause leaked to the client: %s", rec.Body)
			}
		})
	}
}

func TestWebhookHandlerPingReachesSink(t *testing.T) {
	body := []byte(`{"event":{"id":"01PING","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-03-01T11:59:59Z",` +
		`"agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}`)
	rig := newWebhookTestRig(t, &recordingWebhookSink{disp: DispositionIgnoredType}, 0)
	if rec := rig.deliver("prod", body, signedWebhookHeaders(body, "new-secret")); rec.Code != http.StatusAccepted {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if rig.sink.calls() != 1 || rig.sink.events[0].Type != nova.EventPing {
		t.Errorf("ping did not reach the sink: %+v", rig.sink.events)
	}
}

// TestWebhookHandlerLogsNoSecrets runs refusals and acceptances and checks
// that no secret, signature or body content reaches the log.
func TestWebhookHandlerLogsNoSecrets(t *testing.T) {
	body := readWebhookFixture(t, "go-pagerduty_webhookv3_test_body.json")
	garbled := append(append([]byte(nil), body...), []byte("BODYMARKER")...)
	rig := newWebhookTestRig(t, &recordingWebhookSink{}, 0)
	good := signedWebhookHeaders(body, "new-secret")
	bad := signedWebhookHeaders(body, "attacker-secret")
	rig.deliver("prod", body, good)
	rig.deliver("prod", body, bad)
	rig.deliver("prod", garbled, signedWebhookHeaders(garbled, "old-secret"))
	rig.sink.err = nova.WrapError(nova.EUNAVAILABLE, errors.New("connection refused"), "inbox unavailable")
	rig.deliver("prod", body, good)
	rig.deliver("nosecret", body, signedWebhookHeaders(body, "x"))

	logs := rig.logs.String()
	if strings.Count(logs, "\n") != 4 {
		t.Errorf("want 4 log lines (one per refusal), got:\n%s", logs)
	}
	for _, forbidden := range []string{
		"new-secret", "old-secret", "staging-secret", "attacker-secret",
		strings.TrimPrefix(good[WebhookSignatureHeader], "v1="),
		strings.TrimPrefix(bad[WebhookSignatureHeader], "v1="),
		"BODYMARKER", "A little bump in the road", "Tenex Engineer",
	} {
		if strings.Contains(logs, forbidden) {
			t.Errorf("log contains %q:\n%s", forbidden, logs)
		}
	}
	for _, want := range []string{`"webhook_id":"0c7b3c1e-9d8a-4e55-a1d2-7f0e6b2a9c11"`, `"remote":"192.0.2.10:4321"`,
		`"result":"bad_signature"`, `"result":"malformed"`, `"result":"unavailable"`,
		`"event_id":"01BWDWL3NYY7LUFPZCC28QUCMK"`, `"incident_id":"PGR0VU2"`, `"environment":"prod"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestNewWebhookHandlerValidates(t *testing.T) {
	sink := &recordingWebhookSink{}
	tests := []struct {
		name string
		cfg  WebhookConfig
	}{
		{"no sink", WebhookConfig{Secrets: testWebhookSecrets}},
		{"no secrets", WebhookConfig{Sink: sink}},
		{"negative limit", WebhookConfig{Secrets: testWebhookSecrets, Sink: sink, MaxBodyBytes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewWebhookHandler(tt.cfg); !nova.IsCode(err, nova.EINVALID) {
				t.Errorf("got %v, want %s", err, nova.EINVALID)
			}
		})
	}
	// Two handlers on one registry share the collectors instead of failing.
	reg := prometheus.NewRegistry()
	for i := 0; i < 2; i++ {
		if _, err := NewWebhookHandler(WebhookConfig{Secrets: testWebhookSecrets, Sink: sink, Registerer: reg}); err != nil {
			t.Fatalf("handler %d: %v", i, err)
		}
	}
}
