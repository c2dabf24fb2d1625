package e2e

import (
	"strings"
	"testing"

	"github.com/novasre/nova/config"
)

// The installation's configuration is one Nova accepts, for the tests'
// shape and for the bench's.
func TestInstallationConfigLoads(t *testing.T) {
	for _, o := range []Options{
		{},
		{Envs: []string{"prod", "staging"}, GlobalAdmins: []string{"U0BOB"}, AuditKey: strings.Repeat("k", 40), MetricsListen: true},
		{LogLevel: "info", Workers: 8, Visibility: "2m0s", NoActions: true, PublicURL: "https://nova.bench.example.com"},
	} {
		in, err := NewInstallation(o, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(in.CfgPath); err != nil {
			y, _ := in.ConfigYAML()
			t.Errorf("config of %+v: %v\n%s", o, err, y)
		}
		in.Close()
	}
}

func TestSignAndMetrics(t *testing.T) {
	if got := SignPagerDuty([]byte("{}"), "a", "b"); strings.Count(got, "v1=") != 2 || !strings.Contains(got, ",") {
		t.Errorf("signature %q", got)
	}
	body := "# HELP x\nnova_writes_total{result=\"ok\",target=\"a\"} 2\nnova_writes_total{result=\"failed\",target=\"a\"} 1\nnova_inbox_depth 0\n"
	if v, ok := sumMetric(strings.NewReader(body), "nova_writes_total"); !ok || v != 3 {
		t.Errorf("sum %v %v", v, ok)
	}
	if v, ok := sumMetric(strings.NewReader(body), "nova_writes_total", `result="ok"`); !ok || v != 2 {
		t.Errorf("filtered %v %v", v, ok)
	}
	if _, ok := sumMetric(strings.NewReader(body), "nova_missing"); ok {
		t.Error("a missing metric was found")
	}
}
