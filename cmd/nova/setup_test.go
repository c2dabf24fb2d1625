package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novasre/nova"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/pagerduty/pdemu"
)

// `nova setup pagerduty` against the emulator creates one subscription with
// exactly the handled event types, prints a secret that verifies the
// deliveries that follow, and a second run finds it and creates none. The
// admin token never shows in the output.
func TestSetupPagerDutyCreatesThenFinds(t *testing.T) {
	pd := pdemu.New(pdemu.Options{Logf: t.Logf})
	pdURL := pd.Start()
	t.Cleanup(pd.Close)
	const adminTok, novaTok = "pd-admin-token-9f8e7d", "pd-nova-token-1a2b3c"
	pd.AddToken(adminTok, "prod")
	pd.AddToken(novaTok, "prod")
	pd.AddService("prod", pdemu.Service{ID: "PCHECKOUT", Name: "checkout"})
	pd.AddUser("prod", "PBOT", "nova-bot@example.com", "Nova")

	var mu sync.Mutex
	var bodies, sigs []string
	novaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, sigs = append(bodies, string(b)), append(sigs, r.Header.Get("X-PagerDuty-Signature"))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(novaSrv.Close)

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nova.yaml")
	writeFile(t, cfgPath, `public_url: "`+novaSrv.URL+`"
environments:
  prod:
    pagerduty:
      api_url: "`+pdURL+`"
      token: "${PD_TOKEN_PROD}"
      from: nova-bot@example.com
      webhook_secrets: ["${PD_WEBHOOK_SECRET_PROD}"]
`)
	t.Setenv("NOVA_PAGERDUTY_ADMIN_TOKEN", adminTok)
	code, out, errOut := runSplit(t, "setup", "pagerduty", "--config", cfgPath, "--environment", "prod")
	if code != 0 || !strings.Contains(out, "Created webhook subscription") {
		t.Fatalf("first run: %d\n%s%s", code, out, errOut)
	}
	secret := regexp.MustCompile(`(?m)^([0-9a-f]{64})$`).FindString(out)
	if secret == "" {
		t.Fatalf("no signing secret printed:\n%s", out)
	}
	if strings.Contains(out+errOut, adminTok) {
		t.Fatal("the admin token was printed")
	}
	subs := restSubscriptions(t, pd, adminTok)
	if len(subs) != 1 {
		t.Fatalf("%d subscriptions after the first run", len(subs))
	}
	var want []string
	for _, et := range nova.HandledEventTypes {
		want = append(want, string(et))
	}
	s := subs[0]
	if !slices.Equal(s.Events, want) || s.Filter.Type != "account_reference" || s.DeliveryMethod.URL != novaSrv.URL+"/webhooks/pagerduty/prod" || !s.Active {
		t.Fatalf("subscription = %+v", s)
	}

	// The printed secret verifies what PagerDuty now delivers.
	pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout down"})
	if !pd.WaitIdle(5 * time.Second) {
		t.Fatal("webhook not delivered")
	}
	mu.Lock()
	if len(bodies) != 1 || pagerduty.VerifySignature([]byte(bodies[0]), sigs[0], []string{secret}) != nil {
		t.Errorf("%d deliveries; the printed secret does not verify the first", len(bodies))
	}
	mu.Unlock()

	// Second run, token on standard input: found, nothing created.
	t.Setenv("NOVA_PAGERDUTY_ADMIN_TOKEN", "")
	setupStdin = strings.NewReader(adminTok + "\n")
	defer func() { setupStdin = os.Stdin }()
	code, out, errOut = runSplit(t, "setup", "pagerduty", "--config", cfgPath, "--environment", "prod")
	if code != 0 || !strings.Contains(out, "Found webhook subscription "+s.ID) || strings.Contains(out, secret) {
		t.Fatalf("second run: %d\n%s%s", code, out, errOut)
	}
	if n := len(restSubscriptions(t, pd, adminTok)); n != 1 {
		t.Fatalf("%d subscriptions after the second run", n)
	}

	// A service scope names an unknown service: PagerDuty's refusal is shown.
	t.Setenv("NOVA_PAGERDUTY_ADMIN_TOKEN", adminTok)
	code, out, errOut = runSplit(t, "setup", "pagerduty", "--config", cfgPath, "--environment", "prod", "--scope", "service", "--scope-id", "PNOPE")
	if code != 1 || !strings.Contains(errOut, `no service \"PNOPE\"`) && !strings.Contains(errOut, `no service "PNOPE"`) {
		t.Fatalf("unknown service: %d\n%s%s", code, out, errOut)
	}
	// No token at all.
	t.Setenv("NOVA_PAGERDUTY_ADMIN_TOKEN", "")
	setupStdin = strings.NewReader("")
	if code, _, errOut := runSplit(t, "setup", "pagerduty", "--config", cfgPath, "--environment", "prod"); code != 1 || !strings.Contains(errOut, "no PagerDuty admin token") {
		t.Fatalf("no token: %d %s", code, errOut)
	}
	for _, r := range pd.Requests() {
		if r.Method != http.MethodGet && r.Token == novaTok[len(novaTok)-4:] {
			t.Errorf("setup wrote with Nova's own token: %s %s", r.Method, r.Path)
		}
	}
	if u := pd.Unexpected(); len(u) > 0 {
		t.Errorf("the emulator saw requests it does not model: %+v", u)
	}
}

func restSubscriptions(t *testing.T, pd *pdemu.Emulator, token string) []pagerduty.WebhookSubscription {
	t.Helper()
	a, err := pagerduty.NewAdmin(pd.URL(), token, nil)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := a.ListWebhookSubscriptions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// `nova setup slack` prints the manifest with the public URL filled in, or
// the Socket Mode variant without request URLs.
func TestSetupSlackManifest(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nova.yaml")
	writeFile(t, cfgPath, `public_url: "https://nova.prod.example.org/"
environments:
  prod:
    pagerduty: {token: "${PD}", from: bot@example.com, webhook_secrets: ["${WH}"]}
`)
	type manifest struct {
		Features struct {
			SlashCommands []map[string]any `yaml:"slash_commands"`
		} `yaml:"features"`
		Settings struct {
			Interactivity map[string]any `yaml:"interactivity"`
			SocketMode    bool           `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
		OAuth struct {
			Scopes       struct{ Bot []string } `yaml:"scopes"`
			RedirectURLs []string               `yaml:"redirect_urls"`
		} `yaml:"oauth_config"`
	}
	code, out, errOut := runSplit(t, "setup", "slack", "--config", cfgPath)
	var m manifest
	if code != 0 || yaml.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("setup slack: %d %s%s", code, out, errOut)
	}
	if m.Features.SlashCommands[0]["url"] != "https://nova.prod.example.org/slack/commands" ||
		m.Settings.Interactivity["request_url"] != "https://nova.prod.example.org/slack/interactions" ||
		strings.Contains(out, "nova.example.com") || len(m.OAuth.Scopes.Bot) == 0 ||
		len(m.OAuth.RedirectURLs) != 1 || m.OAuth.RedirectURLs[0] != "https://nova.prod.example.org/auth/slack/callback" {
		t.Fatalf("manifest:\n%s", out)
	}
	code, out, _ = runSplit(t, "setup", "slack", "--socket-mode")
	m = manifest{}
	if code != 0 || yaml.Unmarshal([]byte(out), &m) != nil || !m.Settings.SocketMode ||
		m.Features.SlashCommands[0]["url"] != nil || m.Settings.Interactivity["request_url"] != nil || m.Settings.Interactivity["is_enabled"] != true ||
		m.OAuth.RedirectURLs != nil {
		t.Fatalf("socket mode manifest: %d\n%s", code, out)
	}
	if code, _, errOut := runSplit(t, "setup", "slack", "--url", "http://nova.example.org"); code != 1 || !strings.Contains(errOut, "https") {
		t.Fatalf("http URL: %d %s", code, errOut)
	}
}
