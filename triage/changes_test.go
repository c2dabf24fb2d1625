package triage

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// TestRankChanges checks that the culprit ranks first among distractors, by
// timing, relation to the service, PagerDuty's correlation and what the
// change touched.
func TestRankChanges(t *testing.T) {
	tests := []struct {
		name    string
		alerts  []nova.Alert
		changes []nova.ChangeEvent
		want    string // id ranked first
		absent  []string
	}{
		{
			name:   "recent beats old, all else equal",
			alerts: []nova.Alert{alertAt("A1", "checkout 5xx spike", nil)},
			changes: []nova.ChangeEvent{
				changeOn("old", "Deploy checkout v2.3.0", svcCheckout, 3*time.Hour),
				changeOn("new", "Deploy checkout v2.3.1", svcCheckout, 12*time.Minute),
			},
			want: "new",
		},
		{
			name:   "changes after the trigger cannot be the cause",
			alerts: []nova.Alert{alertAt("A1", "checkout 5xx spike", nil)},
			changes: []nova.ChangeEvent{
				changeOn("before", "Deploy checkout v2.3.1", svcCheckout, 40*time.Minute),
				changeOn("after", "Deploy checkout v2.3.2", svcCheckout, -3*time.Minute),
			},
			want:   "before",
			absent: []string{"after"},
		},
		{
			name:   "outside the window is not considered",
			alerts: []nova.Alert{alertAt("A1", "checkout 5xx spike", nil)},
			changes: []nova.ChangeEvent{
				changeOn("ancient", "Deploy checkout v2.2.0", svcCheckout, 9*time.Hour),
				changeOn("recent", "Deploy billing 1.0", svcBilling, time.Hour),
			},
			want:   "recent",
			absent: []string{"ancient"},
		},
		{
			name:   "same service beats unrelated service at the same time",
			alerts: []nova.Alert{alertAt("A1", "checkout 5xx spike", nil)},
			changes: []nova.ChangeEvent{
				changeOn("other", "Deploy billing 4.1.0", svcBilling, 10*time.Minute),
				changeOn("own", "Deploy checkout 2.3.1", svcCheckout, 10*time.Minute),
			},
			want: "own",
		},
		{
			name:   "related service beats unrelated service",
			alerts: []nova.Alert{alertAt("A1", "checkout 5xx spike", nil)},
			changes: []nova.ChangeEvent{
				changeOn("other", "Deploy billing 4.1.0", svcBilling, 10*time.Minute),
				changeOn("dep", "Deploy payments 7.0.0", svcPayments, 15*time.Minute),
			},
			want: "dep",
		},
		{
			name:   "what the change touched beats recency: the most recent change is not the culprit",
			alerts: []nova.Alert{alertAt("A1", "checkout: dial tcp: lookup payments.internal: no such host", map[string]string{"resolver": "coredns"})},
			changes: []nova.ChangeEvent{
				changeOn("deploy", "Deploy ledger worker v7.1.0 (new invoice layout)", svcPayments, 6*time.Minute),
				changeOn("dns", "CoreDNS config: change upstream resolvers", "", 35*time.Minute),
			},
			want: "dns",
		},
		{
			name:   "a docs-only change right before is a weak suspect",
			alerts: []nova.Alert{alertAt("A1", "checkout latency p99 above 2s", nil)},
			changes: []nova.ChangeEvent{
				changeOn("docs", "Update README and docs for checkout", svcCheckout, 2*time.Minute),
				changeOn("cfg", "checkout config: raise worker pool size", svcCheckout, 25*time.Minute),
			},
			want: "cfg",
		},
		{
			name:   "PagerDuty's intelligent correlation breaks a tie",
			alerts: []nova.Alert{alertAt("A1", "checkout 5xx spike", nil)},
			changes: func() []nova.ChangeEvent {
				a := changeOn("plain", "Deploy billing 4.1.0", svcBilling, 10*time.Minute)
				b := changeOn("smart", "Deploy ledger 1.2.0", svcBilling, 10*time.Minute)
				b.CorrelationReason = "intelligent"
				return []nova.ChangeEvent{a, b}
			}(),
			want: "smart",
		},
		{
			name:   "a change in unrelated service that touched the failing thing",
			alerts: []nova.Alert{alertAt("A1", "x509: certificate is valid for api.example.org, not shop.example.org", nil)},
			changes: []nova.ChangeEvent{
				changeOn("cert", "terraform apply: rotate shop.example.org certificate", svcBilling, 20*time.Minute),
				changeOn("own", "Deploy checkout 2.3.1", svcCheckout, 50*time.Minute),
			},
			want: "cert",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Incident: incidentOn(tt.alerts[0].Summary), Alerts: tt.alerts, Changes: tt.changes, Service: checkoutService()}
			ranked := RankChanges(in, Options{}, now0)
			if len(ranked) == 0 || ranked[0].Change.ID != tt.want {
				t.Fatalf("first = %v, want %s", ids(ranked), tt.want)
			}
			for _, id := range tt.absent {
				for _, sc := range ranked {
					if sc.Change.ID == id {
						t.Errorf("%s ranked, want it left out", id)
					}
				}
			}
		})
	}
}

func ids(ranked []ScoredChange) []string {
	var out []string
	for _, sc := range ranked {
		out = append(out, sc.Change.ID)
	}
	return out
}

func TestRankChangesDeduplicates(t *testing.T) {
	a := changeOn("C1", "Deploy checkout 2.3.1", svcCheckout, 10*time.Minute)
	b := a
	b.CorrelationReason = "intelligent"
	in := Input{Incident: incidentOn("checkout 5xx"), Changes: []nova.ChangeEvent{a, b}, Service: checkoutService()}
	ranked := RankChanges(in, Options{}, now0)
	if len(ranked) != 1 || ranked[0].Change.CorrelationReason != "intelligent" {
		t.Fatalf("got %d changes (%+v), want one keeping the correlation reason", len(ranked), ranked)
	}
}

func TestChangeHeadline(t *testing.T) {
	in := Input{
		Incident: incidentOn("checkout: 5xx error rate above 5%"),
		Alerts:   []nova.Alert{alertAt("A1", "checkout: 5xx error rate above 5%", nil)},
		Changes:  []nova.ChangeEvent{changeOn("C1", "checkout v2.3.1", svcCheckout, 12*time.Minute)},
		Service:  checkoutService(),
	}
	in.Changes[0].Source = "github-deploy"
	res := Analyze(in, Options{}, now0)
	top := res.Top()
	want := "Likely caused by deploy 'checkout v2.3.1' 12 min before the incident (same service)"
	if top == nil || top.Category != nova.CategoryChange || top.Summary != want {
		t.Fatalf("top = %v, want change %q", describeTop(res), want)
	}
	if top.Evidence[0].Kind != nova.EvidenceChange || top.Evidence[0].ID != "C1" || !top.Evidence[0].At.Equal(in.Changes[0].Timestamp) {
		t.Errorf("first evidence = %+v, want the change", top.Evidence[0])
	}
}

func TestChangeExplainsMatchingSymptom(t *testing.T) {
	// An x509 error alone says "certificate"; the same error right after a
	// certificate change says "that change".
	alerts := []nova.Alert{alertAt("A1", "x509: certificate signed by unknown authority", nil)}
	alone := Analyze(Input{Incident: incidentOn(alerts[0].Summary), Alerts: alerts, Service: checkoutService()}, Options{}, now0)
	if top := alone.Top(); top == nil || top.Category != nova.CategoryCertificate {
		t.Fatalf("without a change: %v, want certificate", describeTop(alone))
	}
	in := Input{Incident: incidentOn(alerts[0].Summary), Alerts: alerts, Service: checkoutService(),
		Changes: []nova.ChangeEvent{changeOn("C1", "Rotate checkout TLS certificate (new CA bundle)", svcCheckout, 9*time.Minute)}}
	res := Analyze(in, Options{}, now0)
	if top := res.Top(); top == nil || top.Category != nova.CategoryChange {
		t.Fatalf("with a certificate change: %v, want change", describeTop(res))
	}
	if !strings.Contains(res.Hypotheses[0].Summary, "Rotate checkout TLS certificate") {
		t.Errorf("headline does not name the change: %q", res.Hypotheses[0].Summary)
	}
}

func TestUnrelatedChangeDoesNotOverrideStrongSymptom(t *testing.T) {
	alerts := []nova.Alert{alertAt("A1", "KubeNodeNotReady: worker-7 NotReady", map[string]string{"condition": "kubelet stopped posting node status"})}
	in := Input{Incident: incidentOn(alerts[0].Summary), Alerts: alerts, Service: checkoutService(),
		Changes: []nova.ChangeEvent{changeOn("C1", "Deploy billing 4.1.0", svcBilling, 8*time.Minute)}}
	res := Analyze(in, Options{}, now0)
	if top := res.Top(); top == nil || top.Category != nova.CategoryInfrastructure {
		t.Fatalf("top = %v, want infrastructure", describeTop(res))
	}
}

// TestEmptyingChangeExplainsRequestsGoingNowhere: a workload scaled to zero
// or deleted, in this service or one it calls, explains requests that find
// nothing to serve them, and is named for what it did; the same change is
// no explanation for an unrelated symptom.
func TestEmptyingChangeExplainsRequestsGoingNowhere(t *testing.T) {
	for _, tt := range []struct {
		name, summary, service, alert, noun string
		explains                            bool
	}{
		{"scaled to zero, no requests", "Deployment/checkout: replicas 3 -> 0", svcCheckout, "NoRequestsReceived: checkout", "scale-down", true},
		{"dependency deleted, connection refused", "Service/payments deleted", svcPayments,
			"checkout: charge failed: dial tcp 10.0.3.4:8080: connect: connection refused", "removal", true},
		{"scaled to zero, disk full", "Deployment/checkout: replicas 3 -> 0", svcCheckout, "checkout: disk usage 97% on /var/lib/data", "scale-down", false},
		{"scaled up, no requests", "HPA/checkout: maxReplicas 3 -> 5", svcCheckout, "NoRequestsReceived: checkout", "change", false},
	} {
		in := Input{
			Incident: incidentOn(tt.alert),
			Alerts:   []nova.Alert{alertAt("A1", tt.alert, nil)},
			Changes: []nova.ChangeEvent{changeOn("C1", tt.summary, tt.service, 20*time.Minute),
				changeOn("C2", "Deploy checkout 2.4.1 (copy changes)", svcCheckout, 6*time.Minute)},
			Service: checkoutService(),
		}
		ranked := RankChanges(in, Options{}, now0)
		var c1 *ScoredChange
		for i := range ranked {
			if ranked[i].Change.ID == "C1" {
				c1 = &ranked[i]
			}
		}
		if c1 == nil {
			t.Fatalf("%s: C1 not ranked", tt.name)
		}
		if got := c1.Explain >= minExplain; got != tt.explains {
			t.Errorf("%s: explain %.2f, want explaining=%v", tt.name, c1.Explain, tt.explains)
		}
		if tt.explains && ranked[0].Change.ID != "C1" {
			t.Errorf("%s: %q ranked first, want the emptying change", tt.name, ranked[0].Change.Summary)
		}
		if got := changeNoun(c1.Change); got != tt.noun {
			t.Errorf("%s: noun %q, want %q", tt.name, got, tt.noun)
		}
	}
}

// TestFaultFlagExplainsTheFailureItNames: a flag switched on whose name says
// what it breaks is the explanation, ahead of a fresher deploy that shares
// nothing with the symptoms; switched off, or named for a feature, it is not.
func TestFaultFlagExplainsTheFailureItNames(t *testing.T) {
	for _, tt := range []struct {
		flag  string
		fault bool
	}{
		{"flagd: paymentUnreachable on", true},
		{"flagd: feature flag checkoutFailure set to 100%", true},
		{"LaunchDarkly: checkout-kill-switch enabled", true},
		{"flagd: paymentUnreachable off", false},
		{"flagd: newCheckoutButton on", false},
		{"Deploy checkout 2.4.0 (error page copy)", false},
	} {
		if got := isFaultFlag(nova.ChangeEvent{Summary: tt.flag}); got != tt.fault {
			t.Errorf("isFaultFlag(%q) = %v, want %v", tt.flag, got, tt.fault)
		}
	}
	in := Input{
		Incident: incidentOn("checkout: order requests failing"),
		Alerts:   []nova.Alert{alertAt("A1", "checkout: order requests failing", map[string]string{"error_rate": "31%"})},
		Changes: []nova.ChangeEvent{changeOn("flag", "flagd: checkoutUnreachable on", svcCheckout, 15*time.Minute),
			changeOn("deploy", "checkout: bump grpc-js 1.9 -> 1.10", svcCheckout, 5*time.Minute)},
		Service: checkoutService(),
	}
	ranked := RankChanges(in, Options{}, now0)
	if len(ranked) == 0 || ranked[0].Change.ID != "flag" {
		t.Fatalf("ranked %+v, want the fault flag first", ranked)
	}
	if res := Analyze(in, Options{}, now0); res.Abstained || firstCitedChange(res) != "flag" {
		t.Errorf("result %s, want an answer citing the flag", describeTop(res))
	}
}

// TestChangesThatExplainByWhatTheyTouched: a load-balancer change explains
// a redirect loop, a failed helm/flux release explains workloads missing
// from the cluster, and a Service selector rewrite explains "no healthy
// upstream", ahead of a fresher deploy of the service that touched none of
// it; the evidence says what the change touched.
func TestChangesThatExplainByWhatTheyTouched(t *testing.T) {
	for _, tt := range []struct {
		name, alert, culprit, service string
		details                       map[string]string
		age                           time.Duration
		touches                       string
	}{
		{"redirect loop", "checkout: login failing, HTTP 307 redirects spiking on the SSO callback",
			"Switch load balancers to route requests to Traefik v2", svcPayments, map[string]string{"status": "307"}, 70 * time.Minute, "ingress"},
		{"workloads missing", "fluentd DaemonSet missing from cluster: no log shipping pods running",
			"platform pipeline run failed: flux helm release re-applied", svcPayments, map[string]string{"running": "0"}, 40 * time.Minute, "release"},
		{"selector rewritten", "HighRequestErrorRate: frontend -> checkout 503",
			"Service/checkout: selector updated", svcCheckout, map[string]string{"error": "no healthy upstream"}, 20 * time.Minute, ""},
	} {
		in := Input{
			Incident: incidentOn(tt.alert),
			Alerts:   []nova.Alert{alertAt("A1", tt.alert, tt.details)},
			Changes: []nova.ChangeEvent{changeOn("culprit", tt.culprit, tt.service, tt.age),
				changeOn("fresh", "Deploy checkout 2.4.1 (copy changes)", svcCheckout, 8*time.Minute)},
			Service: checkoutService(),
		}
		ranked := RankChanges(in, Options{}, now0)
		if len(ranked) == 0 || ranked[0].Change.ID != "culprit" {
			t.Errorf("%s: ranked %q first, want %q", tt.name, ranked[0].Change.Summary, tt.culprit)
			continue
		}
		if tt.touches != "" && !strings.Contains(changeEvidence(ranked[0]).Summary, "touches "+tt.touches) {
			t.Errorf("%s: evidence %q does not say it touches %s", tt.name, changeEvidence(ranked[0]).Summary, tt.touches)
		}
	}
}

// TestInertChangesAreNotTheCause: a change that says it has not taken
// effect (approved for a later reboot, not yet in rotation, shipped
// disabled, a dry run) is no timing suspect, and the note says why.
func TestInertChangesAreNotTheCause(t *testing.T) {
	for _, summary := range []string{
		"Windows hosts: monthly cumulative update ring 1 approved (reboot at 22:00 local)",
		"orders-db: add read replica in eu-west-1c (not yet in rotation)",
		"checkout: new savings endpoint (disabled)",
		"terraform plan (dry run) for checkout VPC",
	} {
		in := Input{
			Incident: incidentOn("checkout: 30% of hosts stopped reporting"),
			Alerts:   []nova.Alert{alertAt("A1", "checkout: 30% of hosts stopped reporting", map[string]string{"hosts_not_reporting_pct": "30"})},
			Changes:  []nova.ChangeEvent{changeOn("C1", summary, svcCheckout, 10*time.Minute)},
			Service:  checkoutService(),
		}
		ranked := RankChanges(in, Options{}, now0)
		if len(ranked) != 1 || ranked[0].Score >= 0.2 || !strings.Contains(ranked[0].Against, "not taken effect") {
			t.Errorf("%q: ranked %+v, want a low score and the reason against it", summary, ranked)
		}
	}
	if kindFactor(nova.ChangeEvent{Summary: "Deploy checkout 2.4.0 (scheduled maintenance fixes)"}) != 1 {
		t.Errorf("a deploy mentioning 'scheduled' is not inert")
	}
}

// TestEmptyingAndDetachingWords keeps the two patterns to what they mean: a
// workload gone or cut off from its traffic, not any removal or any API
// endpoint.
func TestEmptyingAndDetachingWords(t *testing.T) {
	for _, tt := range []struct {
		summary string
		want    bool
	}{
		{"Deployment/accounting: replicas 1 -> 0", true},
		{"Service/product-catalog deleted", true},
		{"statefulset orders-db scaled to zero", true},
		{"deleted the deployment checkout-canary", true},
		{"Service/details: selector updated", true},
		{"Service/checkout: ports changed 8080 -> 8081", true},
		{"Deployment/frontend: annotation team=notify removed", false},
		{"mobile-backend: new savings pots endpoint behind flag", false},
		{"HPA/recommendation: maxReplicas 3 -> 5", false},
		{"removed service mesh retries from checkout", false},
	} {
		if got := emptying.MatchString(tt.summary) || detaching.MatchString(tt.summary); got != tt.want {
			t.Errorf("%q: emptying or detaching = %v, want %v", tt.summary, got, tt.want)
		}
	}
}
