package deploy

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func promtoolBin(t *testing.T) string {
	return tool(t, "promtool", "go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0")
}

// The alert rules load, and their unit tests (each alert fires on the
// series that should fire it) pass.
func TestPrometheusRules(t *testing.T) {
	promtool := promtoolBin(t)
	for _, args := range [][]string{
		{"check", "rules", "prometheus/nova-rules.yaml"},
		{"test", "rules", "prometheus/nova-rules.test.yaml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// promtool is not lenient: a broken expression fails the check.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(bad, []byte("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(nova_dead_letters_total[5m]\n"), 0o644)
	if out, err := exec.Command(promtool, "check", "rules", bad).CombinedOutput(); err == nil {
		t.Errorf("promtool accepted a broken rule:\n%s", out)
	}
}

var metricName = regexp.MustCompile(`\bnova_[a-z0-9_]+`)

// definedMetrics are the metric names Nova's code defines.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	defined := map[string]bool{}
	lit := regexp.MustCompile(`"(nova_[a-z0-9_]+)"`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			defined[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return defined
}

// referenced lists the metrics an expression uses, without the _bucket,
// _sum and _count suffixes of histograms.
func referenced(expr string, defined map[string]bool) []string {
	var out []string
	for _, n := range metricName.FindAllString(expr, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base := strings.TrimSuffix(n, suffix); base != n && defined[base] {
				n = base
			}
		}
		out = append(out, n)
	}
	return out
}

// Every metric the dashboard and the rules use is one Nova defines, and the
// dashboard covers what operators need to see.
func TestDashboardAndRulesUseRealMetrics(t *testing.T) {
	defined := definedMetrics(t)
	if !defined["nova_inbox_depth"] || !defined["nova_build_info"] {
		t.Fatalf("metric definitions not found: %v", defined)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	b, err := os.ReadFile("grafana/nova.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana/nova.json: %v", err)
	}
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, n := range referenced(tg.Expr, defined) {
				used[n] = true
				if !defined[n] {
					t.Errorf("panel %q uses %s, which Nova does not define", p.Title, n)
				}
			}
		}
	}
	for _, want := range []string{
		"nova_webhook_deliveries_total", "nova_inbox_depth", "nova_time_to_hypothesis_seconds", "nova_acks_total",
		"nova_pagerduty_rate_limit_wait_seconds", "nova_slack_api_rate_limited_total", "nova_approvals_total",
		"nova_dead_letters_total", "nova_credential_created_timestamp_seconds", "nova_http_request_duration_seconds",
	} {
		if !used[want] {
			t.Errorf("the dashboard shows no %s", want)
		}
	}

	var rules struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	b, err = os.ReadFile("prometheus/nova-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			for _, n := range referenced(r.Expr, defined) {
				if !defined[n] {
					t.Errorf("alert %s uses %s, which Nova does not define", r.Alert, n)
				}
			}
		}
	}
	sort.Strings(alerts)
	for _, want := range []string{"NovaCredentialDue", "NovaDeadLetters", "NovaInboxGrowing", "NovaPagerDutyRateLimited",
		"NovaSlackRateLimited", "NovaTimeToHypothesisSlow", "NovaWebhookRefusals"} {
		if i := sort.SearchStrings(alerts, want); i == len(alerts) || alerts[i] != want {
			t.Errorf("no alert %s", want)
		}
	}
}
