package main

import (
	"fmt"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// channelStorm triggers many incidents at once on one service whose
// incidents all go to one Slack channel, at PagerDuty's real rate limit and
// Slack's real per-channel posting rate (about 1/s), and measures how many
// get their PagerDuty note within 60 s: Slack's lane must not hold the
// notes back. It also reports how the channel's backlog reached Slack (one
// message each, or a storm summary) and how long until every incident was
// visible there.
func (b *bench) channelStorm() {
	const bench = "storm on one channel"
	o := b.opts
	b.section("5. storm on one channel: incidents at once on one service and one Slack channel")
	backend := b.backendFor("one-channel storm")
	services := actionServices(1)
	r, err := b.newRig(backend, services, pdemu.Options{}) // PagerDuty's 960/min
	if err != nil {
		b.fail(bench, err)
		return
	}
	defer r.close()
	r.pd.SetLatency(o.latency)
	svc := services[0]
	b.logf("%d incidents created back to back on one action-mode service (auto_ack off), all posted to channel %s;", o.channelStormCount, svc.Channel)
	b.logf("emulator at PagerDuty's 960 requests/min with %s per call; Slack at about 1 post/s per channel (burst 3); store %s.",
		o.latency, r.describe())
	r.pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: svc.ID, Summary: fmt.Sprintf("Deploy %s v4.1.0 (connection pool settings)", svc.Name),
		Source: "argo-cd", Timestamp: time.Now().Add(-10 * time.Minute)})
	r.pd.ResetRequests()

	incidents := make([]*stormIncident, 0, o.channelStormCount)
	numbers := map[string]int{}
	first := time.Now()
	for i := range o.channelStormCount {
		t0 := time.Now()
		inc := r.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: svc.ID, Urgency: "high",
			Title: fmt.Sprintf("%s: upstream connect error rate above 2%%", svc.Name),
			Alerts: []pdemu.AlertSpec{{Summary: fmt.Sprintf("%s: 503 upstream connect error (pool exhausted) on pod %s-%d", svc.Name, svc.Name, i),
				Source: "prometheus", Severity: "critical"}}})
		incidents = append(incidents, &stormIncident{id: inc.ID, urgency: "high", triggered: t0})
		numbers[inc.ID] = inc.Number
	}
	b.logf("Triggered %d incidents in %s; waiting for notes (up to %s)…", len(incidents), secs(time.Since(first)), o.stormWait)
	b.waitStormNotes(r, incidents, first.Add(o.stormWait))

	// Slack: every incident posted on its own or listed in a storm summary.
	var inSlack time.Duration = -1
	deadline := first.Add(o.stormWait)
	var own, summaries, listed int
	for time.Now().Before(deadline) && b.ctx.Err() == nil {
		own, summaries, listed = slackCoverage(r.sl.Messages(svc.Channel), incidents, numbers)
		if own+listed >= len(incidents) {
			inSlack = time.Since(first)
			break
		}
		b.sleep(250 * time.Millisecond)
	}
	b.sleep(3 * time.Second) // a duplicate note would show by now
	within, missed, doubled := 0, 0, 0
	var lat []time.Duration
	for _, inc := range incidents {
		inc.notes = len(r.novaNotes(inc.id))
		if inc.notes > 1 {
			doubled++
		}
		if inc.noted.IsZero() {
			missed++
			continue
		}
		d := inc.noted.Sub(inc.triggered)
		lat = append(lat, d)
		if d <= stormWithin {
			within++
		}
	}
	l := summarise(lat)
	n := len(incidents)
	b.logf("\nNoted within 60 s: %d of %d (%s); p50 %s, p90 %s, p99 %s, max %s; %d without a note, %d with more than one.",
		within, n, pct(within, n), secs(l.p50), secs(l.p90), secs(l.p99), secs(l.max), missed, doubled)
	b.logf("PagerDuty: %d requests, peak %d in any 60 s window, %d answered 429.", len(r.pd.Requests()), peakPerMinute(r.pd.Requests()), r.pd.RateLimited())
	slackFig := fmt.Sprintf("%d own messages + %d storm summary listing %d; Slack answered %d 429s", own, summaries, listed, r.sl.RateLimited())
	if inSlack >= 0 {
		slackFig += fmt.Sprintf("; every incident in Slack %s after the first trigger", secs(inSlack))
	} else {
		slackFig += fmt.Sprintf("; %d incidents not in Slack after %s", n-own-listed, o.stormWait)
	}
	b.logf("Slack channel %s: %s.", svc.Channel, slackFig)

	complete := n == o.channelStormCount
	b.summary.add("one-channel storm noted ≤ 60 s", fmt.Sprintf("%s (%d of %d; p50 %s, p99 %s)", pct(within, n), within, n, secs(l.p50), secs(l.p99)),
		fmt.Sprintf("≥ %.0f%%", stormTargetShare*100), met(complete && float64(within) >= stormTargetShare*float64(n)))
	b.summary.add("one-channel storm in Slack", slackFig, "every incident, none twice", met(inSlack >= 0 && own+listed == n))
	b.summary.add("one-channel storm notes lost / doubled", fmt.Sprintf("%d / %d", missed, doubled), "0 / 0", met(complete && missed == 0 && doubled == 0))
}

// slackCoverage counts incidents with their own message in a channel, the
// storm summaries, and the incidents those summaries list.
func slackCoverage(msgs []slackemu.Message, incidents []*stormIncident, numbers map[string]int) (own, summaries, listed int) {
	ownIDs := map[string]bool{}
	var stormMsgs []slackemu.Message
	for _, m := range msgs {
		if m.ThreadTS != "" && m.ThreadTS != m.TS || m.Metadata == nil {
			continue
		}
		if id, ok := m.Metadata.EventPayload["incident_id"].(string); ok {
			ownIDs[id] = true
		}
		if m.Metadata.EventPayload["storm_id"] != nil {
			stormMsgs = append(stormMsgs, m)
		}
	}
	for _, inc := range incidents {
		if ownIDs[inc.id] {
			own++
			continue
		}
		for _, s := range stormMsgs {
			if s.Contains(fmt.Sprintf("|#%d>", numbers[inc.id])) || s.Contains(fmt.Sprintf("• #%d ", numbers[inc.id])) {
				listed++
				break
			}
		}
	}
	return own, len(stormMsgs), listed
}
