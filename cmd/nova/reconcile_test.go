package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestSetServiceModesKeepsTheRest(t *testing.T) {
	src := `# Nova
listen: ":8080"   # port
environments:
  prod:
    pagerduty: { token: "${PD_TOKEN}" }
services:
  - { id: PA, name: a, environment: prod, mode: read-only }   # A
  - id: PB
    name: b
    environment: prod
  - { id: PC, name: c, environment: prod, mode: action }
`
	out, err := setServiceModes([]byte(src), map[string]nova.Mode{"PA": nova.ModeAction, "PB": nova.ModeOff})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{"# Nova", "# port", `"${PD_TOKEN}"`, "{id: PA, name: a, environment: prod, mode: action}", "# A",
		"name: b\n    environment: prod\n    mode: off", "{id: PC, name: c, environment: prod, mode: action}"} {
		if !strings.Contains(got, want) {
			t.Errorf("result lacks %q:\n%s", want, got)
		}
	}
	if _, err := setServiceModes([]byte(src), map[string]nova.Mode{"PZ": nova.ModeOff}); err == nil || !strings.Contains(err.Error(), "PZ is not in the config") {
		t.Errorf("unknown service: %v", err)
	}
}

// --reconcile=store prints the config change, and with --apply writes it
// (keeping a backup) and audits it; after it the review finds no mode drift.
func TestReconcileStoreRecordsActualModes(t *testing.T) {
	h := newHarness(t, harnessOptions{CredentialsCreated: time.Now().UTC().Format("2006-01-02")})
	in := h.start()
	if r := h.slash(in, "prod", "U0ALICE", "C0CHECKOUT", "disable checkout"); !strings.Contains(r, "to *off* mode") {
		t.Fatalf("disable: %s", r)
	}
	h.stop(in)
	before, _ := os.ReadFile(h.cfgPath)
	code, out := run(t, "review", "--config", h.cfgPath, "--reconcile=store")
	if code != 0 || !strings.Contains(out, "  - id: PCHECKOUT   # checkout (prod): config says action; set to off by slack:U0ALICE") ||
		!strings.Contains(out, "    mode: off") || !strings.Contains(out, "Dry run") {
		t.Fatalf("dry run: %d %s", code, out)
	}
	if now, _ := os.ReadFile(h.cfgPath); string(now) != string(before) {
		t.Fatal("the dry run changed the config")
	}
	code, out = run(t, "review", "--config", h.cfgPath, "--reconcile=store", "--apply")
	if code != 0 || !strings.Contains(out, "Wrote "+h.cfgPath) {
		t.Fatalf("apply: %d %s", code, out)
	}
	if bak, _ := os.ReadFile(h.cfgPath + ".bak"); string(bak) != string(before) {
		t.Error("no backup of the old config")
	}
	code, out = run(t, "review", "--config", h.cfgPath, "--reconcile=store")
	if code != 0 || !strings.Contains(out, "Nothing to reconcile") {
		t.Fatalf("after apply: %d %s", code, out)
	}
	code, out = run(t, "audit", "export", "--config", h.cfgPath)
	if code != 0 || !strings.Contains(out, `"action":"config.reconcile"`) || !strings.Contains(out, `"actor":"cli:`) {
		t.Errorf("the reconcile is not audited: %s", out)
	}
	if code, out := run(t, "review", "--config", h.cfgPath, "--apply"); code != 2 || !strings.Contains(out, "--apply needs --reconcile") {
		t.Errorf("--apply alone: %d %s", code, out)
	}
}
