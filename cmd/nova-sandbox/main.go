// Command nova-sandbox runs Nova locally against PagerDuty and Slack
// emulators (`make run`): it starts the emulators and an automation
// receiver in this process, writes a configuration, runs `nova serve` as a
// child process, sends a signed sample incident through the real HTTP path
// and says where to look. The emulators live here, never in the nova binary.
//
//	nova-sandbox [--nova bin/nova] [--listen 127.0.0.1:8080] [--dir .nova-sandbox] [--once]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/novasre/nova/executor"
	"github.com/novasre/nova/internal/e2e"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/slack/slackemu"
)

// sandbox names and ids: one environment, two services, a few people.
const (
	sandboxEnv      = "sandbox"
	sandboxCheckout = "PCHECKOUT"
	sandboxPayments = "PPAYMENTS"
	sandboxBotUser  = "PNOVABOT"
	sandboxBotEmail = "nova-bot@sandbox.example.com"
	sandboxAdmin    = "U0ALICE"
	sandboxOnCall   = "U0BOB"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "nova-sandbox: %v\n", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nova-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("nova", "", "the nova binary to run (default: nova beside this program, else on PATH)")
	listen := fs.String("listen", "127.0.0.1:8080", "address for Nova (a free port is used if taken)")
	dir := fs.String("dir", ".nova-sandbox", "directory for the sandbox's config, store and logs")
	once := fs.Bool("once", false, "exit after the sample incident was handled (for scripts)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	novaBin, err := findNova(*bin)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(*dir, "nova.db")) // every run starts clean
	s := secrets{PD: "pd-" + e2e.RandHex(10), Webhook: e2e.RandHex(16), Signing: e2e.RandHex(16), APIKey: "sandbox-" + e2e.RandHex(12), Action: e2e.RandHex(16),
		OIDC: e2e.RandHex(16), Session: e2e.RandHex(24)}

	pd := pdemu.New(pdemu.Options{})
	pdURL := pd.Start()
	defer pd.Close()
	pd.AddToken(s.PD, sandboxEnv)
	pd.AddService(sandboxEnv, pdemu.Service{ID: sandboxCheckout, Name: "checkout"})
	pd.AddService(sandboxEnv, pdemu.Service{ID: sandboxPayments, Name: "payments"})
	// Recorded in PagerDuty, not in the config: an open payments incident
	// makes a dependency hypothesis for a checkout one.
	pd.AddServiceDependency(sandboxCheckout, sandboxPayments)
	pd.AddUser(sandboxEnv, sandboxBotUser, sandboxBotEmail, "Nova")
	pd.AddUser(sandboxEnv, "PALICE", "alice@sandbox.example.com", "Alice")

	addr, err := freeAddr(*listen, stderr)
	if err != nil {
		return err
	}
	novaURL := "http://" + addr
	sl := slackemu.New(slackemu.Options{BotToken: "xoxb-sandbox", Nova: &slackemu.NovaEndpoints{
		CommandsURL: novaURL + "/slack/commands", InteractionsURL: novaURL + "/slack/interactions", SigningSecret: s.Signing,
	}})
	slURL, err := sl.Start()
	if err != nil {
		return err
	}
	defer sl.Close()
	sl.AddChannel("C0CHECKOUT", "checkout-incidents")
	sl.AddChannel("C0PAYMENTS", "payments-incidents")
	sl.AddUser(sandboxAdmin, "alice")
	sl.AddUser(sandboxOnCall, "bob")
	// Sign in with Slack for the web pages, against the emulated workspace.
	sl.AddOIDCClient(slackemu.OIDCClient{ID: sandboxOIDCClient, Secret: s.OIDC, RedirectURIs: []string{novaURL + "/auth/slack/callback"}})

	receiver, runs, err := actionReceiver(s.Action, stdout)
	if err != nil {
		return err
	}
	defer receiver.Close()

	cfgPath := filepath.Join(*dir, "nova.yaml")
	if err := os.WriteFile(cfgPath, []byte(config(s, addr, novaURL, pdURL, sl.APIURL(), receiver.URL, filepath.Join(*dir, "nova.db"))+
		webConfig(s, sl.Issuer())), 0o600); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(*dir, "nova.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	pd.Subscribe(sandboxEnv, novaURL+"/webhooks/pagerduty/"+sandboxEnv, []string{s.Webhook})

	nova, err := e2e.Start(ctx, "nova", novaBin, []string{"serve", "--config", cfgPath}, logFile, e2e.ListeningMsg, 30*time.Second)
	if err != nil {
		return fmt.Errorf("%w (see %s)", err, logFile.Name())
	}
	defer nova.Stop()

	fmt.Fprintf(stdout, "Nova sandbox: Nova on %s, PagerDuty emulator on %s, Slack emulator on %s\n", nova.URL, pdURL, slURL)
	inc := sampleIncident(pd)
	fmt.Fprintf(stdout, "Triggered incident %s on checkout (action mode); PagerDuty sent it to Nova as a signed webhook…\n", inc)
	start := time.Now()
	note := waitForNote(ctx, pd, inc, 60*time.Second)
	if note == "" {
		fmt.Fprintf(stdout, "No hypothesis note after 60 s; see %s\n", logFile.Name())
	} else {
		fmt.Fprintf(stdout, "Hypothesis posted to the PagerDuty timeline in %.1f s:\n\n%s\n\n", time.Since(start).Seconds(), indent(note))
	}
	shadow := shadowIncident(pd)
	fmt.Fprintf(stdout, "Triggered incident %s on payments (read-only: Slack only, nothing written to PagerDuty).\n\n", shadow)
	printWhereToLook(stdout, novaURL, pdURL, slURL, s.APIKey, inc, cfgPath, logFile.Name())
	if *once {
		return nil
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case <-nova.Done():
		return fmt.Errorf("nova stopped; see %s", logFile.Name())
	case <-runs:
		select {
		case <-ctx.Done():
		case <-nova.Done():
		}
	}
	return nil
}

// findNova locates the nova binary: as given, else beside this program,
// else on PATH.
func findNova(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "nova")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("nova")
	if err != nil {
		return "", errors.New("no nova binary beside nova-sandbox or on PATH: build it (make build) or pass --nova")
	}
	return p, nil
}

// freeAddr returns addr if it is free, else a free loopback port.
func freeAddr(addr string, stderr io.Writer) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %s is taken (%v); using a free port\n", addr, err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	free := ln.Addr().String()
	return free, ln.Close()
}

type secrets struct{ PD, Webhook, Signing, APIKey, Action, OIDC, Session string }

// sandboxOIDCClient is the sandbox app's Sign in with Slack client id.
const sandboxOIDCClient = "1000.2000"

// webConfig turns on the web pages, signing in through the Slack
// emulator (its OpenID Connect endpoints), the way a real workspace does.
func webConfig(s secrets, issuer string) string {
	return fmt.Sprintf(`web:
  oidc: { issuer: %q, client_id: %q, client_secret: %q, team_id: T0SLACKEMU }
  session_key: %q
`, issuer, sandboxOIDCClient, s.OIDC, s.Session)
}

func config(s secrets, listen, novaURL, pdURL, slackURL, actionURL, dbPath string) string {
	return fmt.Sprintf(`# Generated by nova-sandbox: local emulators stand in for PagerDuty and Slack.
listen: %q
public_url: %q
tier: enterprise
store: { backend: bolt, path: %q }
log: { level: info, format: json }
api_keys:
  - { name: sandbox, key: %q, scope: admin, created: %s }
environments:
  %s:
    pagerduty:
      api_url: %q
      token: %q
      token_created: %s
      from: %q
      webhook_secrets: [%q]
    slack:
      api_url: %q
      bot_token: "xoxb-sandbox"
      signing_secret: %q
      admins: [%q]
    approvals: { approvers: [%q, %q], required_approvals: 1, expires_after: 30m }
services:
  - id: %s
    name: checkout
    environment: %s
    mode: action
    slack_channel: C0CHECKOUT
    auto_ack: true
    runbooks:
      - { title: "Checkout error-rate runbook", url: "https://wiki.example.com/runbooks/checkout-errors", match: "(?i)5xx|error rate" }
  - { id: %s, name: payments, environment: %s, mode: read-only, slack_channel: C0PAYMENTS }
actions:
  - name: rollback-checkout
    title: "Roll back checkout to the previous release"
    destructive: true
    addresses: [change]
    services: [%s]
    params: { service: "{{.Service}}", incident: "{{.Incident}}" }
    executor: { type: webhook, url: %q, secret: %q, timeout: 10s }
`, listen, novaURL, dbPath, s.APIKey, time.Now().Format("2006-01-02"), sandboxEnv, pdURL, s.PD, time.Now().Format("2006-01-02"),
		sandboxBotEmail, s.Webhook, slackURL, s.Signing, sandboxAdmin, sandboxAdmin, sandboxOnCall,
		sandboxCheckout, sandboxEnv, sandboxPayments, sandboxEnv, sandboxCheckout, actionURL, s.Action)
}

// sampleIncident seeds evidence (a suspicious deploy, a distractor, a
// similar past incident) and triggers an incident on checkout.
func sampleIncident(pd *pdemu.Emulator) string {
	now := time.Now()
	pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: sandboxPayments, Summary: "payments: rotate log bucket lifecycle policy",
		Source: "terraform", Timestamp: now.Add(-3 * time.Hour)})
	deploy := pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: sandboxCheckout, Summary: "Deploy checkout v2.3.1 (payment retry config)",
		Source: "argo-cd", Timestamp: now.Add(-12 * time.Minute),
		Details: map[string]any{"image": "checkout:v2.3.1", "changed": "config/payment-retries.yaml"}})
	inc := pd.CreateIncident(pdemu.IncidentSpec{ServiceID: sandboxCheckout, Title: "checkout-api: 5xx error rate above 5%",
		Alerts: []pdemu.AlertSpec{{Summary: "HTTP 5xx error rate 7.2% on checkout-api (threshold 5%)", Source: "prometheus",
			Details: map[string]any{"alertname": "CheckoutHighErrorRate", "service": "checkout-api", "status_code": "503",
				"top_error": "payment authorization abandoned after 0 retries (retry budget 0)"}}}})
	pd.CorrelateChange(inc.ID, deploy, "most_recent")
	pd.AddPastIncident(inc.ID, pdemu.PastIncidentSpec{Title: "checkout-api: 5xx error rate above 5%", CreatedAt: now.Add(-20 * 24 * time.Hour),
		Score: 61.5, ResolvedBy: "PALICE", ResolutionNotes: []string{"Rolled back checkout to v2.2.9; error rate back to normal."}})
	return inc.ID
}

func shadowIncident(pd *pdemu.Emulator) string {
	inc := pd.CreateIncident(pdemu.IncidentSpec{ServiceID: sandboxPayments, Title: "payments-db: replication lag above 30s",
		Alerts: []pdemu.AlertSpec{{Summary: "Replication lag 42s on payments-db replica 2", Source: "datadog", Severity: "warning"}}})
	return inc.ID
}

func waitForNote(ctx context.Context, pd *pdemu.Emulator, incident string, within time.Duration) string {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		for _, n := range pd.Notes(incident) {
			if strings.Contains(n.Content, "audit nova-") {
				return n.Content
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

func printWhereToLook(w io.Writer, novaURL, pdURL, slURL, apiKey, inc, cfgPath, logPath string) {
	page := novaURL + "/incidents/" + inc
	fmt.Fprintf(w, `Where to look:
  Web page of the incident:  %s
    (signs you in to the emulated Slack as alice, then to Nova with Sign in with Slack)
  Nova's record and triage:  curl -s -H 'Authorization: Bearer %s' %s/api/v1/incidents/%s
  PagerDuty timeline:        %s/_pdemu/incidents   (requests Nova made: %s/_pdemu/requests)
  Slack messages:            %s/_slackemu/messages
  Metrics:                   %s/metrics
  Audit log:                 curl -s -H 'Authorization: Bearer %s' %s/api/v1/audit
  Config and logs:           %s, %s
Try Slack commands and buttons (alice is an admin and approver):
  curl -s %s/_slackemu/command -d user=%s -d channel=C0CHECKOUT -d 'text=status checkout'
  curl -s %s/_slackemu/command -d user=%s -d channel=C0PAYMENTS -d 'text=mode payments action'
  curl -s %s/_slackemu/click -d user=%s -d channel=C0CHECKOUT -d ts=<ts of the approval message> -d action_id=approve
`, slURL+"/_slackemu/signin?user="+sandboxAdmin+"&next="+url.QueryEscape(page), apiKey, novaURL, inc, pdURL, pdURL, slURL, novaURL, apiKey, novaURL, cfgPath, logPath,
		slURL, sandboxAdmin, slURL, sandboxAdmin, slURL, sandboxAdmin)
}

// actionReceiver stands in for the customer's automation: it verifies
// Nova's signature and reports each run.
func actionReceiver(secret string, out io.Writer) (*e2e.Server, <-chan struct{}, error) {
	runs := make(chan struct{}, 16)
	srv, err := e2e.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := executor.VerifySignature(secret, r.Header, body, time.Now(), executor.DefaultTolerance); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(out, "\n[automation] received signed action run (Idempotency-Key %s): %s\n", r.Header.Get(executor.HeaderIdempotencyKey), body)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"status":"rolled back (sandbox: nothing really ran)"}`))
		select {
		case runs <- struct{}{}:
		default:
		}
	}))
	return srv, runs, err
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n    ")
}
