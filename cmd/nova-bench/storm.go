package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// Storm targets (the issue's).
const (
	stormWithin      = 60 * time.Second
	stormTargetShare = 0.90
	slackTargetP99   = 300 * time.Millisecond
)

// stormIncident is one incident of the storm.
type stormIncident struct {
	id        string
	urgency   string
	triggered time.Time
	noted     time.Time // first Nova note's created_at
	notes     int       // Nova notes at the end
}

// storm triggers many incidents within a minute at PagerDuty's real rate
// limit with latency, and measures how many get their note within 60 s,
// by urgency, that none is lost or doubled, the 429s, and how fast Nova
// answers Slack meanwhile.
func (b *bench) storm() {
	const bench = "storm"
	o := b.opts
	b.section("4. storm: incidents within a minute, at PagerDuty's rate limit")
	backend := b.backendFor("storm")
	services := actionServices(o.stormServices)
	r, err := b.newRig(backend, services, pdemu.Options{}) // the emulator's default is PagerDuty's 960/min
	if err != nil {
		b.fail(bench, err)
		return
	}
	defer r.close()
	r.pd.SetLatency(o.latency)
	duration := time.Duration(o.stormCount) * o.stormEvery
	b.logf("%d incidents, one every %s (%s), alternating high and low urgency, over %d action-mode services (auto_ack off);",
		o.stormCount, o.stormEvery, duration, len(services))
	b.logf("emulator at PagerDuty's 960 requests/min per key with %s per call; Nova's rate_per_minute %d; store %s.",
		o.latency, r.inst.Opts.RatePerMinute, r.describe())
	b.logf("Meanwhile %d Slack requests/s: signed `/nova status <service>` commands and feedback-button clicks.", o.slackPerSec)
	b.logf("Time to note is measured from the bench's clock just before each incident is created to the note's created_at.")

	now := time.Now()
	for _, s := range services {
		r.pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: s.ID, Summary: fmt.Sprintf("Deploy %s v4.1.0 (connection pool settings)", s.Name),
			Source: "argo-cd", Timestamp: now.Add(-10 * time.Minute)})
	}
	r.pd.ResetRequests()

	stopSlack := make(chan struct{})
	slackDone := make(chan slackResult, 1)
	go func() { slackDone <- r.slackLoad(o.slackPerSec, duration, stopSlack) }()

	incidents := make([]*stormIncident, 0, o.stormCount)
	first := time.Now()
	for i := range o.stormCount {
		if i > 0 && !b.sleep(time.Until(first.Add(time.Duration(i)*o.stormEvery))) {
			break
		}
		svc := services[i%len(services)]
		urgency := "high"
		if i%2 == 1 {
			urgency = "low"
		}
		t0 := time.Now()
		inc := r.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: svc.ID, Urgency: urgency,
			Title: fmt.Sprintf("%s: upstream connect error rate above 2%%", svc.Name),
			Alerts: []pdemu.AlertSpec{{Summary: fmt.Sprintf("%s: 503 upstream connect error (pool exhausted) on pod %s-%d", svc.Name, svc.Name, i),
				Source: "prometheus", Severity: map[string]string{"high": "critical", "low": "warning"}[urgency]}}})
		incidents = append(incidents, &stormIncident{id: inc.ID, urgency: urgency, triggered: t0})
	}
	triggerPhase := time.Since(first)
	close(stopSlack)
	sl := <-slackDone
	b.logf("Triggered %d incidents in %s; waiting for notes (up to %s after the first trigger)…", len(incidents), secs(triggerPhase), o.stormWait)
	b.waitStormNotes(r, incidents, first.Add(o.stormWait))
	// Duplicates would come from a retry or a redelivery after the first
	// note; give them a moment to show before counting.
	b.sleep(3 * time.Second)
	for _, inc := range incidents {
		inc.notes = len(r.novaNotes(inc.id))
	}
	b.stormReport(r, incidents, sl)
}

// waitStormNotes polls the emulator until every incident has a Nova note
// or the deadline passes, printing progress every 15 s.
func (b *bench) waitStormNotes(r *rig, incidents []*stormIncident, deadline time.Time) {
	lastReport := time.Now()
	for time.Now().Before(deadline) && b.ctx.Err() == nil {
		pending := 0
		for _, inc := range incidents {
			if inc.noted.IsZero() {
				if ts := r.novaNotes(inc.id); len(ts) > 0 {
					inc.noted = ts[0]
				}
			}
			if inc.noted.IsZero() {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Since(lastReport) >= 15*time.Second {
			b.logf("  %d of %d noted, %d answered 429 so far", len(incidents)-pending, len(incidents), r.pd.RateLimited())
			lastReport = time.Now()
		}
		b.sleep(250 * time.Millisecond)
	}
}

// stormReport prints the storm's figures and adds its summary rows.
func (b *bench) stormReport(r *rig, incidents []*stormIncident, sl slackResult) {
	type group struct {
		name              string
		n, within, missed int
		lat               []time.Duration
	}
	groups := map[string]*group{"all": {name: "all"}, "high": {name: "high urgency"}, "low": {name: "low urgency"}}
	doubled := 0
	for _, inc := range incidents {
		for _, g := range []*group{groups["all"], groups[inc.urgency]} {
			g.n++
			if inc.noted.IsZero() {
				g.missed++
				continue
			}
			d := inc.noted.Sub(inc.triggered)
			g.lat = append(g.lat, d)
			if d <= stormWithin {
				g.within++
			}
		}
		if inc.notes > 1 {
			doubled++
		}
	}
	var rows [][]string
	for _, k := range []string{"all", "high", "low"} {
		g := groups[k]
		l := summarise(g.lat)
		rows = append(rows, []string{g.name, fmt.Sprint(g.n), fmt.Sprintf("%d (%s)", g.within, pct(g.within, g.n)),
			secs(l.p50), secs(l.p90), secs(l.p99), secs(l.max), fmt.Sprint(g.missed)})
	}
	fmt.Fprintln(b.out)
	table(b.out, []string{"incidents", "n", "noted ≤ 60 s", "p50", "p90", "p99", "max", "no note"}, rows)

	reqs := r.pd.Requests()
	limited := r.pd.RateLimited()
	peak := peakPerMinute(reqs)
	b.logf("\nPagerDuty: %d requests during the storm, peak %d in any 60 s window (limit 960), %d answered 429.", len(reqs), peak, limited)
	b.logf("Slack Web API (Nova's posts, 1/s per channel with a burst of 3, as Slack): %d answered 429.", r.sl.RateLimited())
	b.logf("Notes: %d incidents without a Nova note, %d with more than one.", groups["all"].missed, doubled)
	b.logf("Slack during the storm: %d commands + %d clicks, p50 %s, p99 %s, max %s, %d not 200 (%d transport errors).",
		sl.commands, sl.clicks, ms(sl.lat.p50), ms(sl.lat.p99), ms(sl.lat.max), sl.non200, sl.errors)
	if sl.firstError != "" {
		b.logf("Slack: first transport error: %s", sl.firstError)
	}

	all, high, low := groups["all"], groups["high"], groups["low"]
	lh, ll := summarise(high.lat), summarise(low.lat)
	complete := len(incidents) == b.opts.stormCount
	b.summary.add("storm noted ≤ 60 s", fmt.Sprintf("%s (%d of %d)", pct(all.within, all.n), all.within, all.n),
		fmt.Sprintf("≥ %.0f%%", stormTargetShare*100), met(complete && float64(all.within) >= stormTargetShare*float64(all.n)))
	b.summary.add("storm high vs low urgency", fmt.Sprintf("high %s ≤ 60 s (p50 %s, p99 %s); low %s (p50 %s, p99 %s)",
		pct(high.within, high.n), secs(lh.p50), secs(lh.p99), pct(low.within, low.n), secs(ll.p50), secs(ll.p99)),
		"high does better", met(high.within*low.n >= low.within*high.n && lh.p50 <= ll.p50 && high.n > 0))
	b.summary.add("storm lost notes", fmt.Sprintf("%d without a note after %s", all.missed, b.opts.stormWait), "0", met(complete && all.missed == 0))
	b.summary.add("storm double notes", fmt.Sprintf("%d incidents with more than one Nova note", doubled), "0", met(doubled == 0))
	b.summary.add("storm PagerDuty 429s", fmt.Sprintf("%d (of %d requests; peak %d/min)", limited, len(reqs), peak), "", verdictNone)
	b.summary.add("storm Slack answer time", fmt.Sprintf("p50 %s, p99 %s, max %s (%d requests, %d not 200)",
		ms(sl.lat.p50), ms(sl.lat.p99), ms(sl.lat.max), sl.lat.n, sl.non200),
		"p99 ≤ "+ms(slackTargetP99), met(sl.lat.n > 0 && sl.non200 == 0 && sl.lat.p99 <= slackTargetP99))
}

// peakPerMinute is the largest number of requests in any 60 s window.
func peakPerMinute(reqs []pdemu.Request) int {
	at := make([]time.Time, 0, len(reqs))
	for _, q := range reqs {
		if !strings.HasPrefix(q.Path, "/_") {
			at = append(at, q.At)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	peak, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= time.Minute {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
