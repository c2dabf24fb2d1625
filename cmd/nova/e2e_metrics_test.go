package main

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
	"time"
)

// /metrics names the build, gives each credential's issue date as a
// timestamp (no -1 sentinel anywhere), and times requests by route
// template and status code.
func TestMetricsBuildCredentialsAndRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	inc := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%")
	h.eventually(10*time.Second, "the note", func() bool { return len(h.novaNotes(inc)) == 1 })
	h.settle()
	httpGet(t, in.url+"/api/v1/incidents/"+inc, h.readKey)
	_, body := httpGet(t, in.url+"/metrics", "")

	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "nova_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		samples[line[:i]] = v
		if v < 0 {
			t.Errorf("negative sample (a sentinel?): %s", line)
		}
	}
	find := func(prefix string, parts ...string) (string, float64) {
		for k, v := range samples {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			all := true
			for _, p := range parts {
				all = all && strings.Contains(k, p)
			}
			if all {
				return k, v
			}
		}
		return "", 0
	}
	if k, v := find("nova_build_info{", `goversion="go`, `version="`); k == "" || v != 1 {
		t.Errorf("nova_build_info: %q %v", k, v)
	}
	issued := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Unix()
	if k, v := find("nova_credential_created_timestamp_seconds{", `name="pagerduty.token"`, `environment="prod"`); k == "" || int64(v) != issued {
		t.Errorf("pagerduty token created: %q %v, want %d", k, v, issued)
	}
	if k, v := find("nova_credential_undated{", `name="pagerduty.webhook_secrets[0]"`); k == "" || v != 1 {
		t.Errorf("undated webhook secret: %q %v", k, v)
	}
	if k, _ := find("nova_credential_created_timestamp_seconds{", `webhook_secrets`); k != "" {
		t.Errorf("an undated credential has a timestamp series: %s", k)
	}
	if k, v := find("nova_http_request_duration_seconds_count{", `route="/webhooks/pagerduty/{environment}"`, `method="POST"`, `code="202"`); k == "" || v < 1 {
		t.Errorf("webhook route not timed: %q %v", k, v)
	}
	if k, v := find("nova_http_request_duration_seconds_count{", `route="/api/v1/incidents/{id}"`, `code="200"`); k == "" || v != 1 {
		t.Errorf("API route not timed by template: %q %v", k, v)
	}
	if k, _ := find("nova_http_request_duration_seconds_count{", inc); k != "" {
		t.Errorf("an incident id reached a label: %s", k)
	}
	if _, v := find("nova_store_up"); v != 1 {
		t.Errorf("nova_store_up = %v", v)
	}
	if k, _ := find("nova_pagerduty_rate_limit_wait_seconds_count{", `environment="prod"`, `kind="write"`); k == "" {
		t.Error("no PagerDuty rate-limit wait observed for the note")
	}
}
