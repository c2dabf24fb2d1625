package main

import (
	"fmt"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// Ingress targets (the issue's): on Redis, the production store.
const (
	ingressTargetRate = 3000.0
	ingressTargetP99  = 20 * time.Millisecond
)

// ingressService is the enabled service the acknowledgements are for.
var ingressService = benchService{ID: "PCHECKOUT", Name: "checkout", Channel: "C0CHECKOUT", Mode: "action"}

// ingressRun is one target's outcome.
type ingressRun struct {
	name    string
	res     loadResult
	drained string
	skipped string
}

// ingress measures signed-webhook ingress on bolt and Redis beside the
// baseline server, with the same load against each.
func (b *bench) ingress() {
	o := b.opts
	b.section("1. ingress: signed PagerDuty webhooks")
	b.logf("Load per target: %d unmeasured then %d measured deliveries from %d concurrent keep-alive clients; each delivery a",
		o.warmup, o.deliveries, o.clients)
	b.logf("distinct X-Webhook-Id and event id, signed (v1 HMAC-SHA256), a ~%d-byte incident.acknowledged envelope for an",
		len(ackEnvelope("01BENCHX", "QX", ingressService.ID, ingressService.Name, 1, time.Now())))
	b.logf("action-mode service. Nova verifies, decodes, checks the service and stores it in the inbox before its 202;")
	b.logf("the baseline (same net/http + gorilla/mux route, separate process) only reads the body and answers 202.")
	b.logf("Nova's workers drain the inbox during the load (each ack is for an incident Nova never saw: a no-op).")

	var runs []ingressRun
	base := b.ingressTarget("baseline", "")
	runs = append(runs, base)
	runs = append(runs, b.ingressTarget("nova bolt", "bolt"))
	if err := b.redisReachable(); err != nil {
		b.logf("nova redis: %s (%v)", redisSkipped, err)
		runs = append(runs, ingressRun{name: "nova redis", skipped: redisSkipped})
	} else {
		runs = append(runs, b.ingressTarget("nova redis", "redis"))
	}

	var rows [][]string
	for _, r := range runs {
		if r.skipped != "" {
			rows = append(rows, []string{r.name, r.skipped, "", "", "", "", "", "", ""})
			continue
		}
		stored := fmt.Sprintf("%d/%d", r.res.accepted, r.res.sent)
		if r.name == base.name {
			stored = "n/a (no store)"
		}
		rows = append(rows, []string{r.name, fmt.Sprintf("%.0f/s", r.res.perSecond()), ms(r.res.lat.p50), ms(r.res.lat.p99),
			ms(r.res.lat.max), fmt.Sprint(r.res.non202), stored,
			ratio(r.res.perSecond(), base.res.perSecond()), r.drained})
	}
	fmt.Fprintln(b.out)
	table(b.out, []string{"target", "deliveries/s", "p50", "p99", "max", "non-202", "stored", "rate vs baseline", "inbox drained"}, rows)
	b.logf("\nTargets (Redis, the production store): ≥ %.0f deliveries/s with p99 < %s, every delivery answered 202.",
		ingressTargetRate, ms(ingressTargetP99))
	for _, r := range runs {
		if r.res.firstError != "" {
			b.logf("%s: first transport error: %s", r.name, r.res.firstError)
		}
	}
	b.ingressSummary(runs, base)
}

// ingressTarget runs the load against one target: the baseline when
// backend is "", otherwise Nova on that backend.
func (b *bench) ingressTarget(name, backend string) ingressRun {
	run := ingressRun{name: name, drained: "n/a"}
	var url, secret string
	var r *rig
	if backend == "" {
		c, err := b.startBaseline()
		if err != nil {
			b.logf("%s: %v", name, err)
			run.skipped = "could not run: " + firstLine(err.Error())
			return run
		}
		defer c.Stop()
		url, secret = c.URL+"/webhooks/pagerduty/"+benchEnv, "baseline-ignores-signatures"
	} else {
		var err error
		if r, err = b.newRig(backend, []benchService{ingressService}, pdemu.Options{}); err != nil {
			b.logf("%s: %v", name, err)
			run.skipped = "could not run: " + firstLine(err.Error())
			return run
		}
		defer r.close()
		url, secret = r.webhookURL(), r.webhookSecret()
		b.logf("%s: Nova on %s, store %s", name, r.nova.URL, r.describe())
	}
	tag := fmt.Sprintf("%X", time.Now().UnixNano()&0xFFFFF)
	warm := ackDeliveries(b.opts.warmup, tag+"W", secret, ingressService.ID, ingressService.Name)
	measured := ackDeliveries(b.opts.deliveries, tag+"M", secret, ingressService.ID, ingressService.Name)
	if len(warm) > 0 {
		sendLoad(b.ctx, url, warm, b.opts.clients, b.opts.ingressLimit)
	}
	run.res = sendLoad(b.ctx, url, measured, b.opts.clients, b.opts.ingressLimit)
	b.logf("%s: %d sent in %s: %.0f/s, p50 %s, p99 %s, max %s, %d non-202",
		name, run.res.sent, secs(run.res.elapsed), run.res.perSecond(), ms(run.res.lat.p50), ms(run.res.lat.p99),
		ms(run.res.lat.max), run.res.non202)
	if r != nil {
		if d := r.waitInboxDrained(60 * time.Second); d >= 0 {
			run.drained = "+" + secs(d)
		} else {
			run.drained = fmt.Sprintf("not in 60 s (depth %.0f)", r.metric("nova_inbox_depth"))
		}
	}
	return run
}

// ingressSummary adds the ingress rows to the summary.
func (b *bench) ingressSummary(runs []ingressRun, base ingressRun) {
	for _, r := range runs {
		bench := "ingress " + r.name
		switch {
		case r.skipped != "" && r.skipped == redisSkipped:
			b.summary.add(bench, r.skipped, fmt.Sprintf("≥ %.0f/s, p99 < %s", ingressTargetRate, ms(ingressTargetP99)), verdictSkipped)
			continue
		case r.skipped != "":
			b.summary.add(bench, r.skipped, "", verdictError)
			continue
		}
		fig := fmt.Sprintf("%.0f deliveries/s, p50 %s, p99 %s, max %s", r.res.perSecond(), ms(r.res.lat.p50), ms(r.res.lat.p99), ms(r.res.lat.max))
		if r.name != base.name {
			fig += fmt.Sprintf(" (%s baseline rate, %s baseline p99)", ratio(r.res.perSecond(), base.res.perSecond()),
				ratio(float64(r.res.lat.p99), float64(base.res.lat.p99)))
		}
		incomplete := r.res.sent < b.opts.deliveries
		switch r.name {
		case "nova redis":
			b.summary.add(bench+" rate", fmt.Sprintf("%.0f deliveries/s (%s baseline)", r.res.perSecond(), ratio(r.res.perSecond(), base.res.perSecond())),
				fmt.Sprintf("≥ %.0f/s", ingressTargetRate), met(r.res.perSecond() >= ingressTargetRate && !incomplete))
			b.summary.add(bench+" p99", fmt.Sprintf("p99 %s (p50 %s, max %s; %s baseline p99)", ms(r.res.lat.p99), ms(r.res.lat.p50), ms(r.res.lat.max),
				ratio(float64(r.res.lat.p99), float64(base.res.lat.p99))),
				"< "+ms(ingressTargetP99), met(r.res.lat.p99 < ingressTargetP99 && !incomplete))
		default:
			b.summary.add(bench, fig, "", verdictNone)
		}
		if r.name != base.name {
			b.summary.add(bench+" non-202", fmt.Sprintf("%d of %d (%d stored)", r.res.non202, r.res.sent, r.res.accepted),
				"0", met(r.res.non202 == 0 && !incomplete))
		}
	}
}
