package main

import (
	"os"
	"strings"
	"testing"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/pagerduty/pdemu"
)

// `nova doctor` passes against correctly set-up emulators, and names each
// problem (a wrong service id, the bot outside a channel, an unknown
// approver, an unreachable executor, a revoked token) with its fix.
func TestDoctorPassesThenNamesEachProblem(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	prod := h.env["prod"]
	admin, err := pagerduty.NewAdmin(h.pdURL, prod.PDToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, et := range nova.HandledEventTypes {
		events = append(events, string(et))
	}
	if _, err := admin.CreateWebhookSubscription(t.Context(), pagerduty.NewWebhookSubscription{
		URL: "https://nova.test/webhooks/pagerduty/prod", Events: events, ScopeType: pagerduty.ScopeAccount,
	}); err != nil {
		t.Fatal(err)
	}

	doctor := func() (int, string) {
		t.Helper()
		code, out, errOut := runSplit(t, "doctor", "--config", h.cfgPath)
		cfg, err := config.Load(h.cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cfg.AllSecrets() {
			if strings.Contains(out+errOut, s) {
				t.Fatalf("doctor printed a secret (%d chars)", len(s))
			}
		}
		return code, out + errOut
	}
	code, out := doctor()
	t.Logf("doctor:\n%s", out)
	if code != 0 || strings.Contains(out, "FAIL") {
		t.Fatalf("doctor on a good setup: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"PASS  pagerduty prod token: accepted",
		"PASS  pagerduty prod from: " + prod.BotEmail + " is user " + prod.BotUser,
		"PASS  pagerduty prod service PCHECKOUT: exists",
		"PASS  pagerduty prod service PPAYMENTS: exists",
		"PASS  pagerduty prod service dependencies: the key reads them (service PCHECKOUT depends on 0 technical service(s) in PagerDuty)",
		"PASS  pagerduty prod webhook subscription P",
		"PASS  slack prod auth.test",
		"PASS  slack prod channel C0CHECKOUT: the bot is a member",
		"PASS  slack prod environments.prod.approvals.approvers[3] S0ONCALL: user group with 1 member(s)",
		"PASS  slack prod environments.prod.slack.admins[0] U0ALICE: user alice",
		"PASS  action rollback executor (actions[0].executor.url): accepts connections on",
		"PASS  store bolt",
		"PASS  clock: within",
		"0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("output:\n%s", out)
	}

	// Break four things at once: each is named with its field and a fix.
	cfgText, _ := os.ReadFile(h.cfgPath)
	broken := strings.ReplaceAll(string(cfgText), "PPAYMENTS", "PNOSUCH")
	broken = strings.Replace(broken, `"U0CAROL"`, `"U0NOBODY"`, 1)
	broken = strings.Replace(broken, h.receiver.URL, "http://127.0.0.1:1/hooks/rollback", 1)
	writeFile(t, h.cfgPath, broken)
	h.sl.SetBotMember("C0CHECKOUT", false)
	code, out = doctor()
	for _, want := range []string{
		"FAIL  pagerduty prod service PNOSUCH (services[1].id): not found with this environment's token",
		"FAIL  slack prod channel C0CHECKOUT (services[0].slack_channel): the bot is not in the channel\n      fix: invite it",
		"FAIL  slack prod environments.prod.approvals.approvers[2] U0NOBODY: does not exist in this workspace",
		"FAIL  action rollback executor (actions[0].executor.url): no connection to 127.0.0.1:1",
		"PASS  pagerduty prod service PCHECKOUT: exists",
		"4 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit %d with failures, want 1", code)
	}
	if t.Failed() {
		t.Fatalf("output:\n%s", out)
	}

	// Revoked credentials.
	writeFile(t, h.cfgPath, string(cfgText))
	h.sl.SetBotMember("C0CHECKOUT", true)
	h.pd.RevokeToken(prod.PDToken)
	h.sl.RevokeBotToken("xoxb-e2e")
	code, out = doctor()
	if code != 1 || !strings.Contains(out, "FAIL  pagerduty prod token: PagerDuty refuses it (401)") ||
		!strings.Contains(out, "FAIL  slack prod auth.test: invalid_auth") {
		t.Fatalf("revoked tokens: exit %d\n%s", code, out)
	}
}

func TestDoctorChecksRedisPersistence(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis"})
	code, out, _ := runSplit(t, "doctor", "--config", h.cfgPath, "--environment", "prod")
	if !strings.Contains(out, "PASS  store redis: answers PING") || !strings.Contains(out, "store redis persistence") {
		t.Fatalf("doctor on redis: %d\n%s", code, out)
	}
	// The Redis URL (which may carry a password) never shows.
	if strings.Contains(out, h.opts.RedisURL) && strings.Contains(h.opts.RedisURL, "@") {
		t.Fatal("doctor printed the Redis URL's credentials")
	}
}

// A key that may not read service dependencies (403, or 402 on a plan
// without them) is a warning, not a failure: triage falls back to the
// config's depends_on. The check reads one declared service's dependencies
// with the environment's key, and never prints the key.
func TestDoctorWarnsWhenTheKeyCannotReadServiceDependencies(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.pd.AddService("prod", pdemu.Service{ID: "PDBPRIM", Name: "orders-db"})
	h.pd.AddServiceDependency("PCHECKOUT", "PDBPRIM")
	doctor := func() (int, string) {
		t.Helper()
		code, out, errOut := runSplit(t, "doctor", "--config", h.cfgPath)
		cfg, err := config.Load(h.cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range cfg.AllSecrets() {
			if strings.Contains(out+errOut, s) {
				t.Fatalf("doctor printed a secret (%d chars)", len(s))
			}
		}
		return code, out + errOut
	}
	_, out := doctor()
	if !strings.Contains(out, "PASS  pagerduty prod service dependencies: the key reads them (service PCHECKOUT depends on 1 technical service(s) in PagerDuty)") {
		t.Fatalf("doctor with dependencies readable:\n%s", out)
	}
	before := len(h.pd.Requests())
	h.pd.WithoutServiceDependencies("prod")
	code, out := doctor()
	want := "WARN  pagerduty prod service dependencies: the key cannot read service dependencies (services.read); triage will use depends_on from the config only\n" +
		"      fix: use a key for environments.prod.pagerduty.token that may read services"
	if !strings.Contains(out, want) {
		t.Errorf("doctor output lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "FAIL  pagerduty prod service dependencies") {
		t.Errorf("a key without services.read fails the doctor:\n%s", out)
	}
	// One read, of one declared service, not retried after the 403.
	var reads []string
	for _, r := range h.pd.Requests()[before:] {
		if strings.HasPrefix(r.Path, "/service_dependencies/") {
			reads = append(reads, r.Method+" "+r.Path)
		}
	}
	if len(reads) != 1 || reads[0] != "GET /service_dependencies/technical_services/PCHECKOUT" {
		t.Errorf("dependency reads: %v, want one GET of PCHECKOUT's", reads)
	}
	_ = code // other checks (no webhook subscription here) may fail; this one must not
}
