package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// Users seeded into both emulators.
const (
	botUserID = "PNOVABOT"
	slackUser = "U0ALICE"
)

// rig is one Nova installation under test: the PagerDuty and Slack
// emulators in this process, a generated configuration, and Nova running as
// its own process with its webhooks subscribed.
type rig struct {
	b    *bench
	inst installation
	pd   *pdemu.Emulator
	sl   *slackemu.Emulator
	nova *child
	// subscription is the emulator's webhook subscription to Nova.
	subscription string
	closed       bool
}

// newRig starts the emulators and Nova on backend ("bolt" or "redis") with
// services, and subscribes Nova to the emulator's webhooks. pdOpts shapes
// the PagerDuty emulator (rate limit); the caller sets latency afterwards.
func (b *bench) newRig(backend string, services []benchService, pdOpts pdemu.Options) (*rig, error) {
	bin, err := b.novaBinary()
	if err != nil {
		return nil, err
	}
	r := &rig{b: b, inst: newInstallation(backend, services)}
	// Drops and refusals would be logged per request; the bench reports
	// counts instead.
	pdOpts.Logf = func(string, ...any) {}
	r.pd = pdemu.New(pdOpts)
	r.inst.PDURL = r.pd.Start()
	r.pd.AddToken(r.inst.PDToken, benchEnv)
	r.pd.AddUser(benchEnv, botUserID, r.inst.BotEmail, "Nova")
	r.pd.AddUser(benchEnv, "PALICE1", "alice@bench.example.com", "Alice Example")
	// Slack's per-channel posting rate is kept at its real shape (about 1/s
	// with a burst of 3): the storm spreads incidents over several channels
	// as a real installation would.
	r.sl = slackemu.New(slackemu.Options{BotToken: "xoxb-bench"})
	if _, err := r.sl.Start(); err != nil {
		r.pd.Close()
		return nil, err
	}
	r.inst.SlackURL = r.sl.APIURL()
	r.sl.AddUser(slackUser, "alice")
	r.sl.AddUser("U0BOB", "bob")
	for _, s := range services {
		r.pd.AddService(benchEnv, pdemu.Service{ID: s.ID, Name: s.Name})
		r.sl.AddChannel(s.Channel, s.Name+"-incidents")
	}
	switch backend {
	case "redis":
		r.inst.RedisURL, r.inst.Prefix = b.opts.redisURL, "bench-"+randHex(6)
	default:
		r.inst.BoltPath = filepath.Join(b.tmp, "nova-"+randHex(4)+".db")
	}
	cfgPath := filepath.Join(b.tmp, "nova-"+randHex(4)+".yaml")
	if err := os.WriteFile(cfgPath, []byte(r.inst.yaml()), 0o600); err != nil {
		r.close()
		return nil, err
	}
	if r.nova, err = b.startChild("nova", bin, []string{"serve", "--config", cfgPath}, "nova listening"); err != nil {
		r.close()
		return nil, err
	}
	r.subscription = r.pd.Subscribe(benchEnv, r.webhookURL(), []string{r.inst.WebhookSecret})
	b.deferCleanup(r.close)
	return r, nil
}

// webhookURL is Nova's PagerDuty webhook endpoint for the environment.
func (r *rig) webhookURL() string { return r.nova.url + "/webhooks/pagerduty/" + benchEnv }

// close stops Nova, then the emulators, then deletes the installation's
// Redis keys (idempotent).
func (r *rig) close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.nova != nil {
		r.nova.stop()
	}
	r.pd.Close()
	_ = r.sl.Close()
	if r.inst.Backend == "redis" && r.inst.Prefix != "" {
		if err := deleteRedisPrefix(r.inst.RedisURL, r.inst.Prefix); err != nil {
			r.b.logf("warning: could not delete Redis keys of %s: %v", r.inst.Prefix, err)
		}
	}
}

// novaNotes returns the notes Nova wrote on an incident: its notes carry
// an audit id ("audit nova-…"), people's do not.
func (r *rig) novaNotes(incidentID string) []time.Time {
	var out []time.Time
	for _, n := range r.pd.Notes(incidentID) {
		if strings.Contains(n.Content, "audit nova-") {
			out = append(out, n.CreatedAt)
		}
	}
	return out
}

// metric reads one unlabelled metric from Nova's /metrics, or -1.
func (r *rig) metric(name string) float64 {
	resp, err := http.Get(r.nova.url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// waitInboxDrained waits up to limit for Nova's inbox to empty and says how
// long that took, or -1 when it did not.
func (r *rig) waitInboxDrained(limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		if r.metric("nova_inbox_depth") == 0 {
			return time.Since(start)
		}
		if !r.b.sleep(100 * time.Millisecond) {
			break
		}
	}
	return -1
}

// describe names the installation's store for the report.
func (r *rig) describe() string {
	if r.inst.Backend == "redis" {
		return fmt.Sprintf("redis (%s, prefix %s)", redactURL(r.inst.RedisURL), r.inst.Prefix)
	}
	return "bolt (" + r.inst.BoltPath + ")"
}
