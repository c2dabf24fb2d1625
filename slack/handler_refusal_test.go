package slack

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova/slack/slackemu"
)

func TestRefusedRequestsNeverReachApp(t *testing.T) {
	r := newRig(t, nil)
	req, err := r.emu.SlashCommandRequest(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "pause")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		req    *slackemu.SignedRequest
		status int
		want   string
	}{
		{"forged", req.Forged(), http.StatusUnauthorized, "bad Slack signature"},
		{"stale", req.Stale(), http.StatusUnauthorized, "stale Slack request timestamp"},
		{"unsigned", req.Unsigned(), http.StatusBadRequest, "missing Slack signature headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body, err := tt.req.Send()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
		})
	}
	if n, _ := r.app.calls(); n != 0 {
		t.Fatalf("App was called %d times for refused requests", n)
	}
	if n := r.counter(t, "command", "unauthorized"); n != 2 {
		t.Fatalf("requests_total{command,unauthorized} = %v", n)
	}

	t.Run("replay", func(t *testing.T) {
		if resp, _, _ := req.Send(); resp.StatusCode != http.StatusOK {
			t.Fatalf("first send: %d", resp.StatusCode)
		}
		resp, body, _ := req.Send()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "replayed request") {
			t.Fatalf("replay: status %d body %s", resp.StatusCode, body)
		}
		if n, _ := r.app.calls(); n != 1 {
			t.Fatalf("App called %d times, want 1", n)
		}
	})
}

func TestEnvironmentsAreTheSecretsThatMatched(t *testing.T) {
	var secrets atomic.Value
	secrets.Store(map[string]string{"staging": "staging-secret", "prod": prodSecret})
	r := newRig(t, func(c *HandlerConfig) {
		c.Secrets = func() map[string]string { return secrets.Load().(map[string]string) }
	})
	send := func(secret string) (int, []string) {
		resp, _, err := r.emu.SlashCommand(r.commands, secret, "U0ALICE", "C0INCIDENT", "status")
		if err != nil {
			t.Fatal(err)
		}
		r.app.mu.Lock()
		defer r.app.mu.Unlock()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, nil
		}
		return resp.StatusCode, r.app.commands[len(r.app.commands)-1].Environments
	}
	if _, envs := send("staging-secret"); !slices.Equal(envs, []string{"staging"}) {
		t.Fatalf("envs = %v", envs)
	}
	// A shared app: both environments use one secret.
	secrets.Store(map[string]string{"staging": prodSecret, "prod": prodSecret})
	if _, envs := send(prodSecret); !slices.Equal(envs, []string{"prod", "staging"}) {
		t.Fatalf("envs = %v", envs)
	}
	// Rotation takes effect on the next request, without a restart.
	secrets.Store(map[string]string{"prod": "rotated-secret"})
	if status, _ := send(prodSecret); status != http.StatusUnauthorized {
		t.Fatalf("old secret after rotation: %d", status)
	}
	if status, _ := send("rotated-secret"); status != http.StatusOK {
		t.Fatalf("new secret after rotation: %d", status)
	}
}

func TestOversizedBodyIsRefused(t *testing.T) {
	r := newRig(t, func(c *HandlerConfig) { c.MaxBodyBytes = 1024 })
	resp, body, _ := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", strings.Repeat("x", 2048))
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "over 1024 bytes") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
}

// signedPost sends body signed with secret, as a hand-made Slack request.
func signedPost(t *testing.T, target, secret, body string) (*http.Response, []byte) {
	t.Helper()
	ts := time.Now().Unix()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp, answer
}

func TestSSLCheckAndIgnoredPayloads(t *testing.T) {
	r := newRig(t, nil)
	if resp, body := signedPost(t, r.commands, prodSecret, "ssl_check=1&token=abc"); resp.StatusCode != 200 || len(body) != 0 {
		t.Fatalf("ssl_check: %d %q", resp.StatusCode, body)
	}
	closed := url.Values{"payload": {`{"type":"view_closed","user":{"id":"U0ALICE"}}`}}.Encode()
	if resp, _ := signedPost(t, r.clicks, prodSecret, closed); resp.StatusCode != 200 {
		t.Fatalf("view_closed: %d", resp.StatusCode)
	}
	if resp, _ := signedPost(t, r.clicks, prodSecret, "payload=%7Bnot+json"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed payload: %d", resp.StatusCode)
	}
	if c, i := r.app.calls(); c+i != 0 {
		t.Fatalf("App called %d+%d times", c, i)
	}
	if n := r.counter(t, "command", "ssl_check") + r.counter(t, "interaction", "ignored"); n != 2 {
		t.Fatalf("ssl_check+ignored = %v", n)
	}
}

func TestReplayGuardDownTellsTheUser(t *testing.T) {
	r := newRig(t, nil)
	r.guard.err = errors.New("redis: connection refused")
	resp, body, _ := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "status")
	if resp.StatusCode != http.StatusOK || !strings.Contains(decodeReply(t, body).Text, "store is unavailable") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if n, _ := r.app.calls(); n != 0 {
		t.Fatal("App called although replay protection was unavailable")
	}
}

func TestOnlyPOST(t *testing.T) {
	r := newRig(t, nil)
	resp, err := http.Get(r.commands)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

func TestNewHandlerValidates(t *testing.T) {
	ok := HandlerConfig{Secrets: func() map[string]string { return nil }, App: &fakeApp{}, Replay: &memoryGuard{}, Responder: &Client{}}
	for name, mutate := range map[string]func(*HandlerConfig){
		"secrets":   func(c *HandlerConfig) { c.Secrets = nil },
		"app":       func(c *HandlerConfig) { c.App = nil },
		"replay":    func(c *HandlerConfig) { c.Replay = nil },
		"responder": func(c *HandlerConfig) { c.Responder = nil },
		"ack 3s":    func(c *HandlerConfig) { c.AckTimeout = 3 * time.Second },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := NewHandler(cfg); err == nil {
			t.Errorf("%s: NewHandler accepted a bad config", name)
		}
	}
	h, err := NewHandler(ok)
	if err != nil || h.cfg.AckTimeout != DefaultAckTimeout || h.cfg.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Fatalf("defaults: %v %+v", err, h)
	}
}
