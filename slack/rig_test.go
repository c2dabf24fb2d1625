package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/novasre/nova"
	"github.com/novasre/nova/slack/slackemu"
)

const prodSecret = "prod-signing-secret"

// fakeApp records what it was asked and answers with the configured funcs.
type fakeApp struct {
	mu           sync.Mutex
	commands     []nova.CommandRequest
	interactions []nova.Interaction
	onCommand    func(context.Context, nova.CommandRequest) (nova.Reply, error)
	onInteract   func(context.Context, nova.Interaction) (nova.Reply, error)
}

func (a *fakeApp) Command(ctx context.Context, req nova.CommandRequest) (nova.Reply, error) {
	a.mu.Lock()
	a.commands = append(a.commands, req)
	f := a.onCommand
	a.mu.Unlock()
	if f == nil {
		return nova.Reply{Message: nova.Message{Text: "you said " + nova.Escape(req.Text)}}, nil
	}
	return f(ctx, req)
}

func (a *fakeApp) Interact(ctx context.Context, in nova.Interaction) (nova.Reply, error) {
	a.mu.Lock()
	a.interactions = append(a.interactions, in)
	f := a.onInteract
	a.mu.Unlock()
	if f == nil {
		return nova.Reply{Message: nova.Message{Text: "thanks"}}, nil
	}
	return f(ctx, in)
}

func (a *fakeApp) calls() (int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.commands), len(a.interactions)
}

// rig is Nova's Slack endpoints wired to a fake App, in front of an emulator.
type rig struct {
	emu      *slackemu.Emulator
	client   *Client
	handler  *Handler
	app      *fakeApp
	guard    *memoryGuard
	reg      *prometheus.Registry
	logs     *logtest.Hook
	commands string
	clicks   string
}

func newRig(t *testing.T, mutate func(*HandlerConfig)) *rig {
	t.Helper()
	r := &rig{emu: startEmulator(t, slackemu.Options{}), app: &fakeApp{}, guard: &memoryGuard{}, reg: prometheus.NewRegistry()}
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	r.logs = hook
	var err error
	r.client, err = NewClient(ClientConfig{APIURL: r.emu.APIURL(), BotToken: r.emu.BotToken, Log: log, PerChannelInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := HandlerConfig{
		Secrets: func() map[string]string { return map[string]string{"prod": prodSecret} },
		App:     r.app, Replay: r.guard, Responder: r.client, Log: log, Registerer: r.reg,
		AckTimeout: 300 * time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	r.handler, err = NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/slack/commands", r.handler.Commands())
	mux.Handle("/slack/interactions", r.handler.Interactions())
	srv := httptest.NewServer(mux)
	r.commands, r.clicks = srv.URL+"/slack/commands", srv.URL+"/slack/interactions"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.handler.Wait(ctx); err != nil {
			t.Errorf("late replies still running: %v", err)
		}
		srv.Close()
		for _, e := range hook.AllEntries() {
			if containsAny(e.Message+" "+strings.Join(fieldValues(e.Data), " "), prodSecret, r.emu.BotToken()) {
				t.Errorf("log line leaks a secret: %s", e.Message)
			}
		}
	})
	return r
}

func fieldValues(d logrus.Fields) []string {
	var out []string
	for _, v := range d {
		if err, ok := v.(error); ok {
			out = append(out, err.Error())
		} else if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

type replyJSON struct {
	ResponseType    string            `json:"response_type"`
	ReplaceOriginal bool              `json:"replace_original"`
	Text            string            `json:"text"`
	Blocks          []json.RawMessage `json:"blocks"`
}

func decodeReply(t *testing.T, body []byte) replyJSON {
	t.Helper()
	var r replyJSON
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	return r
}

// counter reads nova_slack_requests_total{kind,result}.
func (r *rig) counter(t *testing.T, kind, result string) float64 {
	t.Helper()
	families, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "nova_slack_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
