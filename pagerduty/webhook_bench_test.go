package pagerduty

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/novasre/nova"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// discardWebhookSink accepts everything and stores nothing, so the benchmark
// measures the handler alone.
type discardWebhookSink struct{}

func (discardWebhookSink) Accept(context.Context, nova.Event) (Disposition, error) {
	return DispositionAccepted, nil
}

// BenchmarkWebhookHandler measures one signed fixture delivery through the
// handler (verify, decode, metrics), without the router or a store.
func BenchmarkWebhookHandler(b *testing.B) {
	body := readWebhookFixture(b, "go-pagerduty_webhookv3_test_body.json")
	headers := signedWebhookHeaders(body, "old-secret", "new-secret")
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	h, err := NewWebhookHandler(WebhookConfig{Secrets: testWebhookSecrets, Sink: discardWebhookSink{},
		Log: logger, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	req := mux.SetURLVars(httptest.NewRequest(http.MethodPost, "/webhooks/pagerduty/prod", nil),
		map[string]string{"environment": "prod"})
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	reader := bytes.NewReader(body)
	req.ContentLength = int64(len(body))
	w := &webhookBenchWriter{header: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		reader.Reset(body)
		req.Body = io.NopCloser(reader)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusAccepted {
			b.Fatalf("status %d", w.status)
		}
	}
}

// webhookBenchWriter is a ResponseWriter that keeps only the status, so
// the benchmark does not count httptest.ResponseRecorder's allocations.
type webhookBenchWriter struct {
	header http.Header
	status int
}

func (w *webhookBenchWriter) Header() http.Header         { return w.header }
func (w *webhookBenchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *webhookBenchWriter) WriteHeader(status int)      { w.status = status }

// TestWebhookHandlerConcurrent sends distinct deliveries in parallel: with
// pooled body buffers, each must still reach the sink as its own event.
func TestWebhookHandlerConcurrent(t *testing.T) {
	rig := newWebhookTestRig(t, &recordingWebhookSink{}, 0)
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := []byte(fmt.Sprintf(`{"event":{"id":"E%03d","event_type":"incident.triggered",`+
				`"data":{"type":"incident","id":"P%03d","title":"%s"}}}`, i, i, strings.Repeat("x", i*50)))
			if rec := rig.deliver("prod", body, signedWebhookHeaders(body, "new-secret")); rec.Code != http.StatusAccepted {
				t.Errorf("delivery %d: status %d %s", i, rec.Code, rec.Body)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ev := range rig.sink.events {
		i, err := strconv.Atoi(strings.TrimPrefix(ev.ID, "E"))
		if err != nil || ev.IncidentID != fmt.Sprintf("P%03d", i) || len(ev.Incident.Title) != 50*i {
			t.Errorf("event %s mixed with another delivery: incident %s, title length %d", ev.ID, ev.IncidentID, len(ev.Incident.Title))
		}
		seen[ev.ID] = true
	}
	if len(seen) != n {
		t.Errorf("sink saw %d distinct events, want %d", len(seen), n)
	}
}
