package triage

import (
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// TestLanguageNeutralSignatures checks that error families are recognised
// by their tokens whatever runtime printed them and whatever language the
// alert around them is written in.
func TestLanguageNeutralSignatures(t *testing.T) {
	tests := []struct {
		summary string
		details map[string]string
		want    nova.Category
	}{
		{"orders: calls failing", map[string]string{"exception": "javax.net.ssl.SSLHandshakeException: PKIX path validation failed"}, nova.CategoryCertificate},
		{"notify: webhooks failing", map[string]string{"error": "Error: certificate has expired", "code": "CERT_HAS_EXPIRED"}, nova.CategoryCertificate},
		{"hooks: deliveries failing", map[string]string{"error": "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED]"}, nova.CategoryCertificate},
		{"api: sign-in failing", map[string]string{"exception": "AuthenticationException: The remote certificate is invalid according to the validation procedure"}, nova.CategoryCertificate},
		{"Zertifikat abgelaufen für api.intern", nil, nova.CategoryCertificate},
		{"外部APIへの接続で証明書エラー", nil, nova.CategoryCertificate},
		{"push: accept errors", map[string]string{"log": "http: Accept error: accept tcp [::]:8080: accept4: too many open files"}, nova.CategoryResource},
		{"worker crashed", map[string]string{"error": "OSError: [Errno 24] Too many open files", "errno": "EMFILE"}, nova.CategoryResource},
		{"orders-db: 磁盘空间不足", nil, nova.CategoryResource},
		{"Speichermangel im Container", map[string]string{"reason": "OOMKilled", "exit_code": "137"}, nova.CategoryResource},
		{"Tiempo de espera agotado al llamar al servicio de pagos", nil, nova.CategoryDependency},
		{"ledger: lookups failing", map[string]string{"exception": "java.net.UnknownHostException: ledger-db.internal"}, nova.CategoryInfrastructure},
		{"orders: inserts failing", map[string]string{"error": `pq: column "discount_code" does not exist`}, nova.CategoryData},
		{"auth: logins failing", map[string]string{"error": "KRB_AP_ERR_SKEW: clock skew too great"}, nova.CategoryInfrastructure},
	}
	for _, tt := range tests {
		in := Input{Incident: incidentOn(tt.summary), Alerts: []nova.Alert{alertAt("A1", tt.summary, tt.details)}, Service: checkoutService()}
		res := Analyze(in, Options{AbstainBelow: -1}, now0)
		if top := res.Top(); top == nil || top.Category != tt.want {
			t.Errorf("%q %v: top = %s, want %s", tt.summary, tt.details, describeTop(res), tt.want)
		}
	}
}

// TestDetailsContradictTitles: a title's word is not evidence when the
// alert's own details say otherwise.
func TestDetailsContradictTitles(t *testing.T) {
	disk := Input{Incident: incidentOn("orders-db: disk full?"), Service: checkoutService(),
		Alerts: []nova.Alert{alertAt("A1", "orders-db: disk full? inserts failing", map[string]string{"disk_used_pct": "41", "error": "ERROR 1114 (HY000): The table 'orders' is full"})}}
	res := Analyze(disk, Options{AbstainBelow: -1}, now0)
	for _, h := range res.Hypotheses {
		for _, e := range h.Evidence {
			if e.ID == "disk" {
				t.Errorf("disk signature kept although disk_used_pct is 41: %+v", h)
			}
		}
	}
	if top := res.Top(); top == nil || top.Category != nova.CategoryResource {
		t.Errorf("top = %s, want resource (a per-table limit)", describeTop(res))
	}
	tls := Input{Incident: incidentOn("cluster-dns: cannot reach the API server"), Service: checkoutService(),
		Alerts: []nova.Alert{alertAt("A1", "cluster-dns: cannot reach the API server", map[string]string{"error": "net/http: TLS handshake timeout"})}}
	for _, h := range Analyze(tls, Options{AbstainBelow: -1}, now0).Hypotheses {
		if h.Category == nova.CategoryCertificate {
			t.Errorf("'TLS handshake timeout' read as a certificate problem: %+v", h)
		}
	}
}

func TestReadMetrics(t *testing.T) {
	tests := []struct {
		name    string
		alert   nova.Alert
		topic   string
		state   int
		limit   float64
		anyWant bool
	}{
		{"value against threshold", alertAt("A", "CPU exhaustion", map[string]string{"cpu_used_pct": "99.7", "threshold": "90"}), "cpu", 1, 90, true},
		{"bytes against limit", alertAt("A", "catalog restarts", map[string]string{"container_memory_working_set_bytes": "1015000000", "memory_limit_bytes": "1073741824"}), "memory", 1, 1073741824, true},
		{"percentage well below", alertAt("A", "orders-db", map[string]string{"disk_used_pct": "61"}), "storage", -1, 0, true},
		{"rate against baseline", alertAt("A", "gateway", map[string]string{"requests_per_s": "1500000", "baseline_per_s": "180000"}), "traffic", 1, -180000, true},
		{"multiple of last week", alertAt("A", "web-api", map[string]string{"new_connections_per_s": "3.1x last Monday"}), "traffic", 1, 0, true},
		{"CloudWatch reason", alertAt("A", "unhealthy", map[string]string{"AlarmName": "payapi-cpu-high", "NewStateReason": "Threshold Crossed: 1 datapoint [97.5 (02/07/19 13:40:00)] was greater than or equal to the threshold (80.0)"}), "cpu", 1, 80, true},
		{"versions are not numbers", alertAt("A", "fx", map[string]string{"openssl": "1.0.2k"}), "", 0, 0, false},
		{"key in Japanese", alertAt("A", "決済API", map[string]string{"メモリ使用率": "97%"}), "memory", 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := readMetrics(&tt.alert)
			if !tt.anyWant {
				if len(ms) != 0 {
					t.Fatalf("metrics = %+v, want none", ms)
				}
				return
			}
			for _, m := range ms {
				if m.topic == tt.topic {
					if m.state != tt.state || m.limit != tt.limit {
						t.Errorf("%s: state %d limit %v, want %d %v", m.key, m.state, m.limit, tt.state, tt.limit)
					}
					return
				}
			}
			t.Errorf("no %s metric in %+v", tt.topic, ms)
		})
	}
}

// TestScopeCountsAgainstAGlobalDeploy: errors confined to one zone while
// the others are healthy point at that zone, not at a deploy that went to
// every zone a few minutes earlier, and the note says why not the deploy.
func TestScopeCountsAgainstAGlobalDeploy(t *testing.T) {
	in := Input{Incident: incidentOn("checkout: error rate 18%"), Service: checkoutService(),
		Alerts: []nova.Alert{alertAt("A1", "checkout: error rate 18%", map[string]string{
			"errors.use1-az4": "4120", "errors.use1-az1": "12", "errors.use1-az2": "9"})},
		Changes: []nova.ChangeEvent{changeOn("C1", "Deploy checkout 7.3.0", svcCheckout, 5*time.Minute)}}
	res := Analyze(in, Options{AbstainBelow: -1}, now0)
	top := res.Top()
	if top == nil || top.Category != nova.CategoryInfrastructure || !strings.Contains(top.Summary, "use1-az4") {
		t.Fatalf("top = %s, want infrastructure in use1-az4", describeTop(res))
	}
	if !citesRuledOut(top, "C1", "confined to use1-az4") {
		t.Errorf("the note does not say why not the deploy: %+v", top.Evidence)
	}
	// The same breakdown after a change to that very zone blames the change.
	in.Changes = []nova.ChangeEvent{changeOn("C2", "Drain and rebuild use1-az4 hosts with the new kernel", svcCheckout, 20*time.Minute)}
	if res := Analyze(in, Options{AbstainBelow: -1}, now0); res.Top() == nil || res.Top().Category != nova.CategoryChange {
		t.Errorf("zone-specific change: top = %s, want change", describeTop(res))
	}
}

// TestOnsetDiscountsLaterChanges: a change made after the symptoms began
// cannot have caused them, however close to the trigger it is.
func TestOnsetDiscountsLaterChanges(t *testing.T) {
	onset := trigger0.Add(-7 * time.Minute).UTC().Format("15:04")
	in := Input{Incident: incidentOn("checkout: login failures 70%"), Service: checkoutService(),
		Alerts: []nova.Alert{alertAt("A1", "checkout: login failures 70%", map[string]string{"first_seen": onset, "idp": "login.example-idp.com"})},
		Changes: []nova.ChangeEvent{
			changeOn("FLAG", "checkout: login flow flag new-callback on", svcCheckout, 2*time.Minute),
			changeOn("OLD", "Deploy payments 4.2.0", svcPayments, 50*time.Minute),
		}}
	ranked := RankChanges(in, Options{}, now0)
	for _, sc := range ranked {
		if sc.Change.ID == "FLAG" && (!sc.AfterOnset || !strings.Contains(sc.Against, "began at "+onset)) {
			t.Errorf("flag change after the onset: %+v", sc)
		}
	}
	res := Analyze(in, Options{AbstainBelow: -1}, now0)
	if top := res.Top(); top == nil || top.Category == nova.CategoryChange {
		t.Fatalf("top = %s, want anything but the later flag change", describeTop(res))
	}
	if !citesRuledOut(res.Top(), "FLAG", "began at "+onset) {
		t.Errorf("the note does not say why not the flag change: %+v", res.Top().Evidence)
	}
}

// TestOutsideDependenciesCompeteWithADeploy: each form of evidence that an
// outside provider is failing beats a same-service deploy minutes earlier
// that explains nothing.
func TestOutsideDependenciesCompeteWithADeploy(t *testing.T) {
	deploy := changeOn("C1", "Deploy checkout 7.3.0", svcCheckout, 3*time.Minute)
	tests := []struct {
		name    string
		alerts  []nova.Alert
		related []nova.RelatedIncident
		conc    []nova.Incident
		depends []string
		want    nova.Category
	}{
		{"status page", []nova.Alert{
			alertAt("A1", "checkout: payments failing", nil),
			{ID: "A2", Summary: "Stripe Status: API - elevated error rates", Source: "statuspage", Severity: "warning", CreatedAt: trigger0,
				Details: map[string]string{"provider": "Stripe", "status": "partial_outage"}}}, nil, nil, nil, nova.CategoryDependency},
		{"failing upstream host", []nova.Alert{alertAt("A1", "checkout: charges failing", map[string]string{
			"upstream_host": "api.stripe.com", "upstream_status": "500", "other_upstreams": "ok"})}, nil, nil, nil, nova.CategoryDependency},
		{"errors by upstream host", []nova.Alert{alertAt("A1", "checkout: upstream errors", map[string]string{
			"errors_5xx.api.stripe.com": "812", "errors_5xx.ledger.internal": "3"})}, nil, nil, nil, nova.CategoryDependency},
		{"status page alert from an aggregator", []nova.Alert{
			alertAt("A1", "checkout: payments failing", nil),
			{ID: "A2", Summary: "Stripe API is experiencing issues: elevated error rates", Source: "statusgator", Severity: "warning", CreatedAt: trigger0}},
			nil, nil, nil, nova.CategoryDependency},
		{"CDN in front of a healthy origin", []nova.Alert{alertAt("A1", "checkout: edge 5xx 78%", map[string]string{
			"edge_5xx_pct": "78", "origin_5xx_pct": "0.2", "server": "cloudflare"})}, nil, nil, nil, nova.CategoryDependency},
		{"cloud health event about a zone", []nova.Alert{
			alertAt("A1", "checkout: instances failing health checks", nil),
			{ID: "A2", Summary: "AWS Health: EC2 instance impairment in a single Availability Zone", Source: "aws.health", CreatedAt: trigger0,
				Details: map[string]string{"eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE", "availabilityZone": "use1-az4"}}}, nil, nil, nil, nova.CategoryInfrastructure},
		{"related incident on a dependency", []nova.Alert{alertAt("A1", "checkout: 5xx 60%", nil)},
			[]nova.RelatedIncident{{ID: "QDEP", Title: "payments: database unavailable", CreatedAt: trigger0.Add(-4 * time.Minute),
				Service: nova.Ref{ID: svcPayments}, Relationship: "service_dependency"}}, nil, nil, nova.CategoryDependency},
		{"concurrent incident on a declared dependency", []nova.Alert{alertAt("A1", "checkout: 5xx 60%", nil)}, nil,
			[]nova.Incident{{ID: "QDEP", Title: "ledger: writes failing", CreatedAt: trigger0.Add(-3 * time.Minute), Service: nova.Ref{ID: svcBilling}}},
			[]string{svcBilling}, nova.CategoryDependency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Incident: incidentOn(tt.alerts[0].Summary), Alerts: tt.alerts, Changes: []nova.ChangeEvent{deploy},
				Related: tt.related, Concurrent: tt.conc, Service: checkoutService()}
			in.Service.DependsOn = tt.depends
			res := Analyze(in, Options{AbstainBelow: -1}, now0)
			if top := res.Top(); top == nil || top.Category != tt.want {
				t.Fatalf("top = %s, want %s", describeTop(res), tt.want)
			}
		})
	}
}

// TestStormDoesNotLendWeightToTheOwnDeploy: a storm of incidents on other
// services is one shared cause; a deploy of this service minutes earlier is
// not shared and gains nothing from it.
func TestStormDoesNotLendWeightToTheOwnDeploy(t *testing.T) {
	in := stormInput(5, 5, "HTTP 503 from upstream")
	in.Changes = []nova.ChangeEvent{changeOn("OWN", "Deploy checkout 7.3.0", svcCheckout, 4*time.Minute)}
	res := Analyze(in, Options{AbstainBelow: -1}, now0)
	if top := res.Top(); top == nil || top.Category == nova.CategoryChange {
		t.Fatalf("top = %s, want the storm's shared cause", describeTop(res))
	}
	for _, h := range res.Hypotheses {
		if h.Category != nova.CategoryChange {
			continue
		}
		for _, e := range h.Evidence {
			if e.Kind == nova.EvidenceRelatedIncident {
				t.Errorf("the own deploy cites the storm as support: %+v", e)
			}
		}
	}
}

// TestTimingAloneIsNeverConfident: a change of this service right before
// generic symptoms (5xx, latency, timeouts) is a lead, not a conclusion.
func TestTimingAloneIsNeverConfident(t *testing.T) {
	for _, summary := range []string{"checkout: 5xx error rate above 5%", "checkout: p99 latency above 2s", "checkout: upstream timeouts", "Pingdom: checkout is DOWN"} {
		for _, before := range []time.Duration{time.Minute, 4 * time.Minute, 10 * time.Minute} {
			in := Input{Incident: incidentOn(summary), Alerts: []nova.Alert{alertAt("A1", summary, nil)}, Service: checkoutService(),
				Changes: []nova.ChangeEvent{changeOn("C1", "Deploy checkout 7.3.0 (new footer)", svcCheckout, before)}}
			in.Changes[0].CorrelationReason = "intelligent"
			res := Analyze(in, Options{}, now0)
			if top := res.Top(); top != nil && top.Confidence >= ConfidentAt {
				t.Errorf("%q, deploy %s before: %s", summary, before, describeTop(res))
			}
		}
	}
}

// TestDelayedEffectChanges: a change older than the change window is
// considered when it explains the symptoms (a certificate rotated the day
// before), and not when it does not.
func TestDelayedEffectChanges(t *testing.T) {
	in := Input{Incident: incidentOn("checkout: TLS failures"), Service: checkoutService(),
		Alerts: []nova.Alert{alertAt("A1", "checkout: TLS failures", map[string]string{"error": "x509: certificate signed by unknown authority"})},
		Changes: []nova.ChangeEvent{
			changeOn("CERT", "Rotate checkout TLS certificate and CA bundle", svcCheckout, 30*time.Hour),
			changeOn("OLD", "Deploy checkout 7.1.0 (new footer)", svcCheckout, 30*time.Hour),
		}}
	ranked := RankChanges(in, Options{}, now0)
	if len(ranked) != 1 || ranked[0].Change.ID != "CERT" {
		t.Fatalf("ranked = %v, want only the certificate change", ids(ranked))
	}
	if res := Analyze(in, Options{AbstainBelow: -1}, now0); res.Top() == nil || res.Top().Category != nova.CategoryChange {
		t.Errorf("top = %s, want the certificate change", describeTop(res))
	}
}

// TestNothingButSymptomsAbstains: no specific evidence at all (a generic
// symptom, an unrelated change) makes triage abstain.
func TestNothingButSymptomsAbstains(t *testing.T) {
	in := Input{Incident: incidentOn("checkout: p95 latency above 1.5s"), Service: checkoutService(),
		Alerts:  []nova.Alert{alertAt("A1", "checkout: p95 latency above 1.5s", map[string]string{"p95_ms": "1900"})},
		Changes: []nova.ChangeEvent{changeOn("C1", "checkout: A/B test express-pay ramp to 20%", svcCheckout, 31*time.Minute)}}
	if res := Analyze(in, Options{}, now0); !res.Abstained {
		t.Errorf("did not abstain: %s", describeTop(res))
	}
}

func citesRuledOut(h *nova.Hypothesis, id, phrase string) bool {
	if h == nil {
		return false
	}
	for _, e := range h.Evidence {
		if e.Kind == nova.EvidenceRuledOut && e.ID == id && strings.Contains(e.Summary, phrase) {
			return true
		}
	}
	return false
}

func confidenceOf(res nova.TriageResult, c nova.Category) float64 {
	for _, h := range res.Hypotheses {
		if h.Category == c {
			return h.Confidence
		}
	}
	return 0
}
