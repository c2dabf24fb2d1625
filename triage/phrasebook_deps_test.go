package triage

import (
	"testing"
	"time"

	"github.com/novasre/nova"
)

// TestOutsideProviderBeatsCoincidentDeploy: an outside provider failing,
// told the ways alerts tell it (a client error naming the provider's host,
// status codes by upstream host, a cloud SDK's error without any host, a
// status-page alert), wins over an unrelated deploy of the service five
// minutes earlier.
func TestOutsideProviderBeatsCoincidentDeploy(t *testing.T) {
	deploy := nova.ChangeEvent{ID: "C1", Summary: "Deploy checkout v2.31.0 (copy changes on the cart page)",
		Timestamp: now0.Add(-6 * time.Minute), Services: []nova.Ref{{ID: "PSVC", Summary: "checkout"}}}
	failing := func(d map[string]string) []nova.Alert {
		return []nova.Alert{{ID: "A1", Summary: "checkout: error rate above 5%", Details: d, CreatedAt: now0.Add(-time.Minute)}}
	}
	tests := []struct {
		name   string
		alerts []nova.Alert
	}{
		{"Go client timeout to a payment API", failing(map[string]string{
			"error": `Post "https://api.stripe.com/v1/payment_intents": dial tcp 54.187.216.72:443: i/o timeout`, "count": "412"})},
		{"Envoy upstream host with 503s", failing(map[string]string{
			"upstream_host": "api.braintreegateway.com", "response_code": "503", "upstream_rq_5xx": "1200"})},
		{"errors by upstream host", failing(map[string]string{"errors_by_upstream": "api.twilio.com: 980, internal-sms: 0", "status_codes": "502: 980"})},
		{"AWS SDK error without a host", failing(map[string]string{
			"error":  "botocore.exceptions.ClientError: An error occurred (ServiceUnavailable) when calling the PutObject operation (reached max retries: 4): Service Unavailable",
			"bucket": "invoices-prod"})},
		{"Google API 503 naming the API host", failing(map[string]string{
			"error": "googleapi: Error 503: The service is currently unavailable., backendError", "api": "bigquery.googleapis.com"})},
		{"a request to an unlisted outside host that does not resolve", failing(map[string]string{
			"error": `Post "https://metrics-prod-eu-west-2.telemetry-vendor.net/api/push": dial tcp: lookup metrics-prod-eu-west-2.telemetry-vendor.net: no such host`})},
		{"status page alert", append(failing(map[string]string{"error_rate": "7.2%"}),
			nova.Alert{ID: "A2", Summary: "Stripe - Degraded performance: elevated API error rates", Source: "statuspage.io", CreatedAt: now0.Add(-2 * time.Minute)})},
	}
	for _, tt := range tests {
		in := Input{
			Incident: nova.Incident{ID: "Q1", Title: "checkout: error rate above 5%", CreatedAt: now0.Add(-time.Minute), Service: nova.Ref{ID: "PSVC", Summary: "checkout"}},
			Service:  nova.Service{ID: "PSVC", Name: "checkout"},
			Alerts:   tt.alerts,
			Changes:  []nova.ChangeEvent{deploy},
		}
		res := Analyze(in, Options{}, now0)
		if top := res.Top(); top == nil || res.Abstained || top.Category != nova.CategoryDependency {
			t.Errorf("%s: top = %s, want dependency", tt.name, describeTop(res))
		}
	}
}

// TestRenewingAnotherCertificateDoesNotExpireThisOne: a certificate renewed
// on another service shares the topic "certificate" with an expired one,
// but renewing it did not let this one expire.
func TestRenewingAnotherCertificateDoesNotExpireThisOne(t *testing.T) {
	in := Input{
		Incident: nova.Incident{ID: "Q1", Title: "etcd: replication lag", CreatedAt: now0.Add(-time.Minute), Service: nova.Ref{ID: "PETCD", Summary: "conftool-etcd"}},
		Service:  nova.Service{ID: "PETCD", Name: "conftool-etcd"},
		Alerts: []nova.Alert{{ID: "A1", Summary: "etcdmirror: urllib3 SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1123)",
			CreatedAt: now0.Add(-2 * time.Minute)}},
		Changes: []nova.ChangeEvent{{ID: "C1", Summary: "cdn-edge: renewed the unified TLS certificate (scheduled rotation)", Timestamp: now0.Add(-100 * time.Minute),
			Services: []nova.Ref{{ID: "PCDN", Summary: "cdn-edge"}}}},
	}
	res := Analyze(in, Options{}, now0)
	if top := res.Top(); top == nil || top.Category != nova.CategoryCertificate {
		t.Errorf("top = %s, want certificate", describeTop(res))
	}
}
