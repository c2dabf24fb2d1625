package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/internal/e2e"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// harness is a whole Nova installation in one test (an e2e.Installation:
// PagerDuty and Slack emulators that fail on anything they do not model,
// an automation receiver for actions) and one or more Nova instances
// running the real wiring (serve) on loopback ports. Tests may change
// opts, env and the API keys, then writeConfig.
type harness struct {
	t            *testing.T
	inst         *e2e.Installation
	opts         harnessOptions
	dir          string
	cfgPath      string
	pd           *pdemu.Emulator
	pdURL        string
	sl           *slackemu.Emulator
	env          map[string]envSecrets
	readKey      string
	adminKey     string
	actionSecret string
	receiver     *e2e.Receiver
	clock        *testClock
	instances    []*instance
	// webLn is, with harnessOptions.Web, the first instance's listener,
	// bound before the configuration so that public_url can name it.
	webLn net.Listener
}

// harnessOptions shape a test installation (see e2e.Options).
type harnessOptions = e2e.Options

// serviceSpec declares one service of a test installation.
type serviceSpec = e2e.Service

// envSecrets are one environment's credentials in a test installation.
type envSecrets = e2e.EnvSecrets

// instance is one running Nova.
type instance struct {
	url    string
	cancel context.CancelFunc
	done   chan error
	logs   *lockedBuffer
	reload chan os.Signal
	// metricsURL is the metrics listener's base URL (MetricsListen).
	metricsURL string
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	if o.Backend == "redis" {
		o.RedisURL, o.Prefix = testRedis(t, o.RedisURL, o.Prefix)
	}
	o.PD.Logf = t.Logf
	var webLn net.Listener
	if o.Web {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		webLn, o.PublicURL = ln, "http://"+ln.Addr().String()
	}
	inst, err := e2e.NewInstallation(o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inst.Close)
	inst.Receiver.OnBadSignature(func(err error) { t.Errorf("automation received a badly signed run: %v", err) })
	h := &harness{t: t, inst: inst, opts: inst.Opts, dir: inst.Dir, cfgPath: inst.CfgPath, pd: inst.PD, pdURL: inst.PDURL, sl: inst.SL,
		env: inst.Env, readKey: inst.ReadKey, adminKey: inst.AdminKey, actionSecret: inst.ActionSecret, receiver: inst.Receiver,
		clock: &testClock{}, webLn: webLn}
	t.Cleanup(h.checkHygiene)
	return h
}

// configYAML renders the configuration from the harness's current state.
func (h *harness) configYAML() string {
	h.t.Helper()
	h.inst.Opts, h.inst.Env, h.inst.ReadKey, h.inst.AdminKey = h.opts, h.env, h.readKey, h.adminKey
	y, err := h.inst.ConfigYAML()
	if err != nil {
		h.t.Fatal(err)
	}
	return y
}

// writeConfig (re)writes the configuration file from the harness state.
func (h *harness) writeConfig() {
	h.t.Helper()
	if err := os.WriteFile(h.cfgPath, []byte(h.configYAML()), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// start runs a Nova instance in this process and subscribes the emulator's
// webhooks to the first one.
func (h *harness) start() *instance {
	h.t.Helper()
	cfg, err := config.Load(h.cfgPath)
	if err != nil {
		h.t.Fatalf("config: %v\n%s", err, h.configYAML())
	}
	ln := h.webLn
	if ln != nil {
		h.webLn = nil
	} else if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{url: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1),
		logs: &lockedBuffer{}, reload: make(chan os.Signal, 1)}
	ready := make(chan struct{})
	o := serveOptions{Config: cfg, ConfigPath: h.cfgPath, Log: in.logs, Listener: ln,
		Reload: in.reload, Now: h.clock.Now, Ready: func(string) { close(ready) }, SpanExporter: h.opts.Spans}
	if h.opts.MetricsListen {
		if o.MetricsListener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			h.t.Fatal(err)
		}
		in.metricsURL = "http://" + o.MetricsListener.Addr().String()
	}
	go func() {
		in.done <- serve(ctx, o)
	}()
	select {
	case <-ready:
	case err := <-in.done:
		h.t.Fatalf("nova did not start: %v\n%s", err, in.logs.String())
	case <-time.After(10 * time.Second):
		h.t.Fatal("nova did not start within 10 s")
	}
	if len(h.instances) == 0 {
		h.inst.Subscribe(in.url)
	}
	h.instances = append(h.instances, in)
	h.t.Cleanup(func() { h.stop(in) })
	return in
}

// stop shuts an instance down gracefully (idempotent).
func (h *harness) stop(in *instance) {
	if in.cancel == nil {
		return
	}
	in.cancel()
	in.cancel = nil
	select {
	case err := <-in.done:
		if err != nil {
			h.t.Errorf("nova stopped with an error: %v", err)
		}
	case <-time.After(40 * time.Second):
		h.t.Error("nova did not shut down within 40 s")
	}
}

// checkHygiene fails the test if an emulator saw a request it does not
// model, a credential crossed environments, or a secret reached a log,
// a PagerDuty request, a Slack message or the metrics.
func (h *harness) checkHygiene() {
	t := h.t
	for _, r := range h.pd.Unexpected() {
		t.Errorf("PagerDuty emulator refused an unmodelled request: %s %s (%s)", r.Method, r.Path, r.Unexpected)
	}
	for _, r := range h.pd.CrossEnvironment() {
		t.Errorf("credential crossed environments: %s %s with a %s key touched %s", r.Method, r.Path, r.Environment, r.CrossEnvironment)
	}
	for _, u := range h.sl.Unexpected() {
		t.Errorf("Slack emulator refused an unmodelled request: %s", u)
	}
	cfg, err := config.Load(h.cfgPath)
	if err != nil {
		return
	}
	var seen strings.Builder
	for _, in := range h.instances {
		seen.WriteString(in.logs.String())
		if in.cancel != nil {
			if _, body := httpGet(t, in.url+"/metrics", ""); body != "" {
				seen.WriteString(body)
			}
		}
	}
	for _, r := range h.pd.Requests() {
		seen.WriteString(r.Body + r.Path + r.Query)
	}
	for _, s := range h.opts.Services {
		for _, m := range h.sl.Messages(s.Channel) {
			seen.WriteString(m.Text + string(m.Blocks))
		}
	}
	all := seen.String()
	for _, secret := range cfg.AllSecrets() {
		if strings.Contains(all, secret) {
			t.Errorf("a configured secret (%d chars, starting %q) appears in logs, requests, messages or metrics", len(secret), secret[:4])
		}
	}
}

// trigger creates an incident in PagerDuty, which delivers the signed
// incident.triggered webhook to Nova.
func (h *harness) trigger(serviceID, title string, alerts ...pdemu.AlertSpec) string {
	if len(alerts) == 0 {
		alerts = []pdemu.AlertSpec{{Summary: title, Source: "prometheus"}}
	}
	return h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: serviceID, Title: title, Alerts: alerts}).ID
}

// novaNotes returns the notes Nova wrote on an incident.
func (h *harness) novaNotes(incident string) []nova.Note {
	var out []nova.Note
	for _, n := range h.pd.Notes(incident) {
		if strings.Contains(n.Content, "audit nova-") {
			out = append(out, n)
		}
	}
	return out
}

// eventually waits for cond, failing with what after timeout.
func (h *harness) eventually(timeout time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits for the emulator's webhooks and Nova's inbox to drain.
func (h *harness) settle() {
	h.t.Helper()
	h.pd.WaitIdle(10 * time.Second)
	h.eventually(20*time.Second, "Nova's inbox to drain", func() bool {
		return metricValue(h.t, h.instances[0].url, "nova_inbox_depth") == 0
	})
	time.Sleep(200 * time.Millisecond) // let the last worker finish its writes
}

// messages returns the Slack messages of a channel.
func (h *harness) messages(channel string) []slackemu.Message { return h.sl.Messages(channel) }

// slash sends a signed /nova command as user, the way Slack does, and
// returns the reply text (inline or delivered later via response_url).
func (h *harness) slash(in *instance, env, user, channel, text string) string {
	h.t.Helper()
	resp, body, err := h.sl.SlashCommand(in.url+"/slack/commands", h.env[env].Signing, user, channel, text)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("/nova %s answered %d: %s", text, resp.StatusCode, body)
	}
	return string(body)
}

// click presses a button of a posted message as user and waits for the
// reply Nova sends to the click's response_url.
func (h *harness) click(in *instance, env, user string, msg slackemu.Message, actionID string) string {
	h.t.Helper()
	before := len(h.sl.Responses())
	resp, body, err := h.sl.Click(in.url+"/slack/interactions", h.env[env].Signing, user, msg, actionID)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("click %s answered %d: %s", actionID, resp.StatusCode, body)
	}
	var reply string
	defer func() {
		if h.t.Failed() {
			h.t.Logf("slack logs: %s", grepLines(in.logs.String(), "slack", "click", "respond"))
		}
	}()
	h.eventually(10*time.Second, "the reply to a click", func() bool {
		rs := h.sl.Responses()
		if len(rs) <= before {
			return false
		}
		reply = rs[len(rs)-1].Text
		return true
	})
	return reply
}

// lockedBuffer collects log output from concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testClock is real time plus an offset tests can advance.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }
