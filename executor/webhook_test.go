package executor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestNewWebhookValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     WebhookConfig
		wantErr string // "" means valid
	}{
		{"https", WebhookConfig{URL: "https://automation.example.com/nova"}, ""},
		{"http on 127.0.0.1", WebhookConfig{URL: "http://127.0.0.1:8080/nova"}, ""},
		{"http on ::1", WebhookConfig{URL: "http://[::1]:8080/nova"}, ""},
		{"http on localhost", WebhookConfig{URL: "http://localhost:8080/nova"}, ""},
		{"http elsewhere", WebhookConfig{URL: "http://automation.example.com/nova?token=s3cr3t"}, "must use https (plain http is only allowed on a loopback"},
		{"http on a private address", WebhookConfig{URL: "http://10.0.0.5/nova"}, "must use https"},
		{"ftp", WebhookConfig{URL: "ftp://automation.example.com/nova"}, "must use https"},
		{"relative", WebhookConfig{URL: "/nova"}, "not an absolute URL"},
		{"empty", WebhookConfig{URL: ""}, "not an absolute URL"},
		{"opaque", WebhookConfig{URL: "https:automation.example.com"}, "not an absolute URL"},
		{"short secret", WebhookConfig{URL: "https://a.example.com", Secret: "short"}, "at least 16 characters"},
		{"negative timeout", WebhookConfig{URL: "https://a.example.com", Timeout: -time.Second}, "timeout is negative"},
		{"too many attempts", WebhookConfig{URL: "https://a.example.com", MaxAttempts: 11}, "use 1 to 10"},
		{"negative attempts", WebhookConfig{URL: "https://a.example.com", MaxAttempts: -1}, "use 1 to 10"},
		{"negative backoff", WebhookConfig{URL: "https://a.example.com", Backoff: -1}, "backoff is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Secret == "" {
				tt.cfg.Secret = testSecret
			}
			w, err := NewWebhook(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || w == nil {
					t.Fatalf("NewWebhook = %v", err)
				}
				return
			}
			if !nova.IsCode(err, nova.EINVALID) || !strings.Contains(nova.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("NewWebhook = %v, want EINVALID containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), tt.cfg.Secret) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestNewWebhookDefaults(t *testing.T) {
	w, err := NewWebhook(WebhookConfig{URL: "https://a.example.com", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if w.timeout != DefaultTimeout || w.maxAttempts != DefaultMaxAttempts || w.backoff != DefaultBackoff || w.now == nil {
		t.Errorf("defaults: timeout %s, attempts %d, backoff %s", w.timeout, w.maxAttempts, w.backoff)
	}
}

func TestNewWebhookDoesNotChangeTheCallersClient(t *testing.T) {
	shared := &http.Client{Timeout: time.Minute}
	w, err := NewWebhook(WebhookConfig{URL: "https://a.example.com", Secret: testSecret, HTTPClient: shared})
	if err != nil {
		t.Fatal(err)
	}
	if shared.CheckRedirect != nil || w.client == shared || w.client.Timeout != time.Minute {
		t.Errorf("the caller's client was modified or not copied")
	}
}

func TestRedactURL(t *testing.T) {
	tests := map[string]string{
		"https://automation.example.com":                          "https://automation.example.com",
		"https://automation.example.com/":                         "https://automation.example.com",
		"https://automation.example.com/api/40/webhook/TOKEN#run": "https://automation.example.com/***",
		"https://user:pw@jenkins.example.com:8443/x?token=abc":    "https://***@jenkins.example.com:8443/***",
		"https://jenkins.example.com?token=abc":                   "https://jenkins.example.com/***",
	}
	for raw, want := range tests {
		w, err := NewWebhook(WebhookConfig{URL: raw, Secret: testSecret})
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if got := w.String(); got != "webhook "+want {
			t.Errorf("String() for %s = %q, want %q", raw, got, "webhook "+want)
		}
	}
}

// TestErrorsNeverLeakSecrets drives every failure path with a URL full of
// credentials and checks the error text, which ends up in logs and Slack.
func TestErrorsNeverLeakSecrets(t *testing.T) {
	secrets := []string{testSecret, "hunter2", "tok3n", "s3cr3t", "deploy-bot"}
	withCreds := func(base string) string {
		return strings.Replace(base, "http://", "http://deploy-bot:hunter2@", 1) + "/hooks/tok3n?token=s3cr3t"
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	cases := map[string]string{"connection refused": withCreds(closed.URL)}
	for name, h := range map[string]http.HandlerFunc{
		"400": answer(400, "no"), "401": answer(401, "no"), "302": answer(302, ""), "503": answer(503, "down"),
		"timeout": slow,
	} {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		cases[name] = withCreds(srv.URL)
	}
	for name, u := range cases {
		t.Run(name, func(t *testing.T) {
			w, err := NewWebhook(WebhookConfig{URL: u, Secret: testSecret, Timeout: 50 * time.Millisecond, MaxAttempts: 2, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.Run(context.Background(), testRun)
			if err == nil {
				t.Fatal("Run succeeded against a failing receiver")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) || strings.Contains(nova.ErrorMessage(err), s) {
					t.Errorf("error leaks %q: %v", s, err)
				}
			}
			if !strings.Contains(err.Error(), "http://***@127.0.0.1:") {
				t.Errorf("error does not name the redacted receiver: %v", err)
			}
		})
	}
}

func TestDelay(t *testing.T) {
	w := &Webhook{backoff: time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: maxDelay, 70: maxDelay} {
		for range 50 {
			if d := w.delay(n, 0); d < want/2 || d > want {
				t.Fatalf("delay(%d) = %s, want within [%s, %s]", n, d, want/2, want)
			}
		}
	}
	if d := w.delay(1, 20*time.Second); d != 20*time.Second {
		t.Errorf("a longer Retry-After must win: %s", d)
	}
	for v, want := range map[string]time.Duration{"3": 3 * time.Second, " 7 ": 7 * time.Second, "999": maxDelay, "0": 0, "-1": 0,
		"Wed, 21 Oct 2015 07:28:00 GMT": 0, "": 0} {
		if got := retryAfter(v); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}
