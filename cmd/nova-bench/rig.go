package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/novasre/nova/internal/e2e"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// slackUser is the person who types commands and clicks in the Slack load
// (seeded by the installation).
const slackUser = "U0ALICE"

// rig is one Nova installation under test: the PagerDuty and Slack
// emulators in this process (an e2e.Installation with a generated
// configuration), and Nova running as its own process with its webhooks
// subscribed.
type rig struct {
	b        *bench
	inst     *e2e.Installation
	services []benchService
	pd       *pdemu.Emulator
	sl       *slackemu.Emulator
	nova     *e2e.Process
	closed   bool
}

// newRig starts the emulators and Nova on backend ("bolt" or "redis") with
// services, and subscribes Nova to the emulator's webhooks. pdOpts shapes
// the PagerDuty emulator (rate limit); the caller sets latency afterwards.
func (b *bench) newRig(backend string, services []benchService, pdOpts pdemu.Options) (*rig, error) {
	bin, err := b.novaBinary()
	if err != nil {
		return nil, err
	}
	// Drops and refusals would be logged per request; the bench reports
	// counts instead. Slack's per-channel posting rate is kept at its real
	// shape (about 1/s with a burst of 3): the storm spreads incidents over
	// several channels as a real installation would.
	pdOpts.Logf = func(string, ...any) {}
	o := benchOptions(backend, services, pdOpts)
	if backend == "redis" {
		o.RedisURL, o.Prefix = b.opts.redisURL, "bench-"+e2e.RandHex(6)
	}
	dir, err := os.MkdirTemp(b.tmp, "nova-")
	if err != nil {
		return nil, err
	}
	inst, err := e2e.NewInstallation(o, dir)
	if err != nil {
		return nil, err
	}
	r := &rig{b: b, inst: inst, services: services, pd: inst.PD, sl: inst.SL}
	if r.nova, err = b.startChild("nova", bin, []string{"serve", "--config", inst.CfgPath}, e2e.ListeningMsg); err != nil {
		r.close()
		return nil, err
	}
	inst.Subscribe(r.nova.URL)
	b.deferCleanup(r.close)
	return r, nil
}

// webhookSecret and signingSecret are the installation's credentials.
func (r *rig) webhookSecret() string { return r.inst.Env[benchEnv].Webhook[0] }
func (r *rig) signingSecret() string { return r.inst.Env[benchEnv].Signing }

// webhookURL is Nova's PagerDuty webhook endpoint for the environment.
func (r *rig) webhookURL() string { return r.nova.URL + "/webhooks/pagerduty/" + benchEnv }

// close stops Nova, then the emulators, then deletes the installation's
// Redis keys (idempotent).
func (r *rig) close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.nova != nil {
		r.nova.Stop()
	}
	r.inst.Close()
	if o := r.inst.Opts; o.Backend == "redis" && o.Prefix != "" {
		if err := deleteRedisPrefix(o.RedisURL, o.Prefix); err != nil {
			r.b.logf("warning: could not delete Redis keys of %s: %v", o.Prefix, err)
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

// metric reads one metric from Nova's /metrics, or -1.
func (r *rig) metric(name string) float64 {
	if v, ok := e2e.Metric(r.nova.URL, name); ok {
		return v
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
	if o := r.inst.Opts; o.Backend == "redis" {
		return fmt.Sprintf("redis (%s, prefix %s)", redactURL(o.RedisURL), o.Prefix)
	}
	return "bolt (" + r.inst.Dir + "/nova.db)"
}
