package executor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova"
)

const testSecret = "test-secret-0123456789abcdef"

// tick is a clock that moves one second per reading, so that every attempt
// gets its own timestamp.
func tick() func() time.Time {
	var n atomic.Int64
	base := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Second) }
}

var testRun = Run{
	RequestID: "act-1", IdempotencyKey: "idem-act-1", Action: "restart", Title: "Restart checkout pods",
	Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
	Params: map[string]string{"namespace": "checkout"}, ApprovedBy: []string{"UALICE", "UBOB"},
}

// newWebhook points a fast-retrying webhook at url.
func newWebhook(t *testing.T, url string, clock func() time.Time, edit func(*WebhookConfig)) *Webhook {
	t.Helper()
	cfg := WebhookConfig{URL: url, Secret: testSecret, Timeout: 2 * time.Second, Backoff: time.Millisecond, Now: clock}
	if edit != nil {
		edit(&cfg)
	}
	w, err := NewWebhook(cfg)
	if err != nil {
		t.Fatalf("NewWebhook: %v", err)
	}
	return w
}

func TestRunSuccess(t *testing.T) {
	clock := tick()
	rc, srv := newReceiver(t, clock, answer(202, `{"job":"https://rundeck.example.com/execution/42"}`))
	res, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), testRun)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := Result{Status: 202, Body: `{"job":"https://rundeck.example.com/execution/42"}`, Attempts: 1}
	if res != want {
		t.Errorf("Result = %+v, want %+v", res, want)
	}
	reqs := rc.requests()
	if len(reqs) != 1 || !reqs[0].verified {
		t.Fatalf("receiver saw %d requests, verified=%v", len(reqs), len(reqs) == 1 && reqs[0].verified)
	}
	h := reqs[0].header
	if h.Get("Content-Type") != "application/json" || h.Get("Idempotency-Key") != "idem-act-1" {
		t.Errorf("headers = %v", h)
	}
	wantPayload := map[string]any{
		"version": 1.0, "request_id": "act-1", "idempotency_key": "idem-act-1", "action": "restart",
		"title": "Restart checkout pods", "environment": "prod", "service_id": "PCHECKOUT", "incident_id": "Q1",
		"params": map[string]any{"namespace": "checkout"}, "approved_by": []any{"UALICE", "UBOB"},
	}
	if !reflect.DeepEqual(reqs[0].payload, wantPayload) {
		t.Errorf("payload = %v\nwant %v", reqs[0].payload, wantPayload)
	}
}

func TestRunEmptyParamsAreAnObject(t *testing.T) {
	clock := tick()
	rc, srv := newReceiver(t, clock, answer(200, "ok"))
	r := testRun
	r.Params, r.ApprovedBy = nil, nil
	if _, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	body := string(rc.requests()[0].body)
	if !strings.Contains(body, `"params":{}`) || !strings.Contains(body, `"approved_by":[]`) {
		t.Errorf("body = %s, want params {} and approved_by []", body)
	}
}

func TestRunRetriesServerErrorsWithTheSameKeyAndBody(t *testing.T) {
	clock := tick()
	rc, srv := newReceiver(t, clock, answer(503, "busy"), answer(500, "oops"), answer(200, "done"))
	res, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), testRun)
	if err != nil || res.Status != 200 || res.Body != "done" || res.Attempts != 3 {
		t.Fatalf("Run = %+v, %v; want 200 done after 3 attempts", res, err)
	}
	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver saw %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if !r.verified {
			t.Errorf("attempt %d failed verification", i+1)
		}
		if got := r.header.Get("Idempotency-Key"); got != "idem-act-1" {
			t.Errorf("attempt %d Idempotency-Key = %q", i+1, got)
		}
		if string(r.body) != string(reqs[0].body) {
			t.Errorf("attempt %d body differs:\n%s\n%s", i+1, r.body, reqs[0].body)
		}
		if i > 0 && (r.header.Get(HeaderTimestamp) == reqs[i-1].header.Get(HeaderTimestamp) ||
			r.header.Get(HeaderSignature) == reqs[i-1].header.Get(HeaderSignature)) {
			t.Errorf("attempt %d reused the previous timestamp or signature", i+1)
		}
	}
}

func TestRunRetriesTooManyRequests(t *testing.T) {
	clock := tick()
	_, srv := newReceiver(t, clock, answer(429, "slow down"), answer(200, "ok"))
	res, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), testRun)
	if err != nil || res.Attempts != 2 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
}

func TestRunGivesUpAfterMaxAttempts(t *testing.T) {
	clock := tick()
	rc, srv := newReceiver(t, clock, answer(502, "bad gateway"))
	res, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), testRun)
	if !nova.IsCode(err, nova.EUNAVAILABLE) || !strings.Contains(nova.ErrorMessage(err), "502 Bad Gateway") {
		t.Fatalf("err = %v, want EUNAVAILABLE naming the status", err)
	}
	if res.Attempts != DefaultMaxAttempts || len(rc.requests()) != DefaultMaxAttempts || res.Status != 502 || res.Body != "bad gateway" {
		t.Errorf("Result = %+v after %d requests", res, len(rc.requests()))
	}
}

func TestRunDoesNotRetryClientErrors(t *testing.T) {
	tests := []struct {
		status int
		code   string
		msg    string
	}{
		{400, nova.EINVALID, "rejected the request with 400 Bad Request; it was not retried"},
		{404, nova.EINVALID, "404 Not Found"},
		{409, nova.EINVALID, "409 Conflict"},
		{422, nova.EINVALID, "422 Unprocessable Entity"},
		{401, nova.EUNAUTHORIZED, "check that both sides use the same secret"},
		{403, nova.EUNAUTHORIZED, "403 Forbidden"},
		{302, nova.EINVALID, "does not follow redirects"},
		{308, nova.EINVALID, "does not follow redirects"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			clock := tick()
			var redirected atomic.Bool
			rc, srv := newReceiver(t, clock, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					redirected.Store(true)
				}
				w.Header().Set("Location", "/elsewhere")
				answer(tt.status, "unknown action restart")(w, r)
			})
			res, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), testRun)
			if !nova.IsCode(err, tt.code) || !strings.Contains(nova.ErrorMessage(err), tt.msg) {
				t.Fatalf("err = %v, want %s containing %q", err, tt.code, tt.msg)
			}
			if res.Attempts != 1 || len(rc.requests()) != 1 || redirected.Load() {
				t.Errorf("Result = %+v, %d requests, redirected=%v; want one attempt", res, len(rc.requests()), redirected.Load())
			}
			if res.Status != tt.status || res.Body != "unknown action restart" {
				t.Errorf("Result = %+v", res)
			}
		})
	}
}

// slow answers only when the client gives up (or after 5s, to never hang).
// It reads the body first: only then does net/http notice the client
// hanging up and cancel the request's context.
func slow(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

func TestRunTimeoutThenSuccess(t *testing.T) {
	clock := tick()
	rc, srv := newReceiver(t, clock, slow, answer(200, "ok"))
	w := newWebhook(t, srv.URL, clock, func(c *WebhookConfig) { c.Timeout = 100 * time.Millisecond })
	res, err := w.Run(context.Background(), testRun)
	if err != nil || res.Attempts != 2 || res.Status != 200 {
		t.Fatalf("Run = %+v, %v; want success on the second attempt", res, err)
	}
	reqs := rc.requests()
	if len(reqs) != 2 || reqs[0].header.Get("Idempotency-Key") != reqs[1].header.Get("Idempotency-Key") ||
		string(reqs[0].body) != string(reqs[1].body) {
		t.Errorf("the retry after a timeout must carry the same key and body")
	}
}

func TestRunTimeoutEveryAttempt(t *testing.T) {
	clock := tick()
	_, srv := newReceiver(t, clock, slow)
	w := newWebhook(t, srv.URL, clock, func(c *WebhookConfig) { c.Timeout = 50 * time.Millisecond; c.MaxAttempts = 2 })
	start := time.Now()
	res, err := w.Run(context.Background(), testRun)
	if !nova.IsCode(err, nova.EUNAVAILABLE) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want EUNAVAILABLE wrapping a deadline", err)
	}
	if !strings.Contains(nova.ErrorMessage(err), "did not answer within 50ms; the action may have started anyway") {
		t.Errorf("message = %q", nova.ErrorMessage(err))
	}
	if res.Attempts != 2 || res.Status != 0 {
		t.Errorf("Result = %+v", res)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %s: the per-attempt timeout was not applied", time.Since(start))
	}
}

func TestRunStopsWhenTheCallerGivesUp(t *testing.T) {
	clock := tick()
	_, srv := newReceiver(t, clock, answer(500, "down"))
	w := newWebhook(t, srv.URL, clock, func(c *WebhookConfig) { c.Backoff = 10 * time.Second })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := w.Run(ctx, testRun)
	if !nova.IsCode(err, nova.EUNAVAILABLE) || !errors.Is(err, context.DeadlineExceeded) || res.Attempts != 1 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("Run kept waiting %s after the context ended", time.Since(start))
	}
}

func TestRunRejectsIncompleteRuns(t *testing.T) {
	w := newWebhook(t, "https://automation.example.com/nova", tick(), nil)
	for _, edit := range []func(*Run){
		func(r *Run) { r.RequestID = "" },
		func(r *Run) { r.IdempotencyKey = " " },
		func(r *Run) { r.Action = "" },
		func(r *Run) { r.IdempotencyKey = "a\r\nX-Evil: 1" },
	} {
		r := testRun
		edit(&r)
		if _, err := w.Run(context.Background(), r); !nova.IsCode(err, nova.EINVALID) {
			t.Errorf("Run(%+v) = %v, want EINVALID", r, err)
		}
	}
}

func TestRunTruncatesLongAnswers(t *testing.T) {
	clock := tick()
	long := strings.Repeat("ü", MaxResultBody) // two bytes each
	_, srv := newReceiver(t, clock, answer(200, long))
	res, err := newWebhook(t, srv.URL, clock, nil).Run(context.Background(), testRun)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body) > MaxResultBody || !res.Truncated || !strings.HasPrefix(long, res.Body) {
		t.Errorf("Body is %d bytes, Truncated=%v; want at most %d bytes of the answer, cut on a rune", len(res.Body), res.Truncated, MaxResultBody)
	}
	if s := res.String(); !strings.HasPrefix(s, "HTTP 200 after 1 attempt(s): ü") || !strings.HasSuffix(s, "…") {
		t.Errorf("String() = %.40q…", s)
	}
}

// Red-team item 3: a Retry-After longer than what is left of the run's
// time limit ends the run at once with the receiver's answer, instead of
// sleeping past the limit (where another replica may take the run over).
func TestRedTeam3_RetryAfterNeverWaitsPastTheRunsDeadline(t *testing.T) {
	clock := tick()
	busy := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "maintenance")
	}
	rc, srv := newReceiver(t, clock, busy, answer(200, "ok"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := newWebhook(t, srv.URL, clock, nil).Run(ctx, testRun)
	if ctx.Err() != nil {
		t.Fatalf("Run waited until the run's deadline passed (%v)", err)
	}
	msg := nova.ErrorMessage(err)
	if !nova.IsCode(err, nova.EUNAVAILABLE) || !strings.Contains(msg, "503 Service Unavailable") || !strings.Contains(msg, "time limit") {
		t.Fatalf("err = %v; want EUNAVAILABLE naming the 503 and the time limit", err)
	}
	if res.Attempts != 1 || len(rc.requests()) != 1 || res.Body != "maintenance" {
		t.Errorf("Result = %+v after %d requests; want the one answered attempt", res, len(rc.requests()))
	}
}
