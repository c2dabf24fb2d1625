package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/deploy"
	"github.com/novasre/nova/pagerduty"
)

const setupPagerDutyDetail = `Finds the V3 webhook subscription that sends the environment's incident events to
<public_url>/webhooks/pagerduty/<environment> with the chosen scope, or creates it with exactly the
event types Nova handles. A new subscription's signing secret is printed once: put it in
environments.<environment>.pagerduty.webhook_secrets and reload Nova (SIGHUP).

The admin API key (a full-access account key, or a user key of a Manager or Admin) is read from
$NOVA_PAGERDUTY_ADMIN_TOKEN, else from standard input. It is used for this run only: never
written to disk, the configuration or the output. Nova's own key stays read-and-note only.

The configuration is read offline (secrets need not be set): only public_url and the
environment's pagerduty.api_url are used.`

// setupStdin is where the admin token is read from; tests replace it.
var setupStdin io.Reader = os.Stdin

func cmdSetupPagerDuty(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("setup pagerduty")
	path := configFlag(fs)
	env := fs.String("environment", "", "the environment to subscribe (required)")
	scope := fs.String("scope", "account", "account (every service), team or service")
	scopeID := fs.String("scope-id", "", "the team or service id, for --scope team|service")
	target := fs.String("url", "", "the webhook URL; default <public_url>/webhooks/pagerduty/<environment>")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	scopeType := map[string]string{"account": pagerduty.ScopeAccount, "team": pagerduty.ScopeTeam, "service": pagerduty.ScopeService}[*scope]
	switch {
	case *env == "":
		return usageError{"--environment is required"}
	case scopeType == "":
		return usageError{fmt.Sprintf("--scope %q: use account, team or service", *scope)}
	case *scope == "account" && *scopeID != "":
		return usageError{"--scope-id is for --scope team or service"}
	case *scope != "account" && *scopeID == "":
		return usageError{fmt.Sprintf("--scope %s needs --scope-id (the PagerDuty %s id)", *scope, *scope)}
	}
	cfg, err := config.LoadWith(*path, config.Options{Offline: true})
	if err != nil {
		return err
	}
	e, ok := cfg.Environments[*env]
	if !ok {
		return fmt.Errorf("environment %q is not in %s (it has %s)", *env, *path, strings.Join(cfg.EnvironmentNames(), ", "))
	}
	hookURL := *target
	if hookURL == "" {
		if cfg.PublicURL == "" {
			return fmt.Errorf("%s sets no public_url: set it, or give --url", *path)
		}
		hookURL = strings.TrimRight(cfg.PublicURL, "/") + "/webhooks/pagerduty/" + *env
	}
	if err := checkPublicURL(hookURL); err != nil {
		return err
	}
	token, err := adminToken(stderr)
	if err != nil {
		return err
	}
	admin, err := pagerduty.NewAdmin(e.PagerDuty.APIURL, token, nil)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	events := make([]string, 0, len(nova.HandledEventTypes))
	for _, et := range nova.HandledEventTypes {
		events = append(events, string(et))
	}
	subs, err := admin.ListWebhookSubscriptions(ctx)
	if err != nil {
		return fmt.Errorf("list webhook subscriptions: %w", err)
	}
	for _, s := range subs {
		if s.DeliveryMethod.URL == hookURL && (s.Filter.Type != scopeType || s.Filter.ID != *scopeID) {
			fmt.Fprintf(stdout, "Note: subscription %s (%s %s) also sends to %s; an incident in both scopes reaches Nova twice, and Nova drops the second by its event id.\n",
				s.ID, s.Filter.Type, s.Filter.ID, hookURL)
		}
	}
	for _, s := range subs {
		if s.DeliveryMethod.URL != hookURL || s.Filter.Type != scopeType || s.Filter.ID != *scopeID {
			continue
		}
		fmt.Fprintf(stdout, "Found webhook subscription %s for %s (%s), nothing created.\n", s.ID, hookURL, describeScope(*scope, *scopeID))
		problems := 0
		if !s.Active {
			problems++
			fmt.Fprintln(stdout, "  problem: it is not active: enable it in PagerDuty (Integrations → Generic Webhooks (v3)).")
		}
		if s.DeliveryMethod.TemporarilyDisabled {
			problems++
			fmt.Fprintln(stdout, "  problem: PagerDuty disabled it after dropped deliveries: check Nova answers at that URL, then re-enable it (POST /webhook_subscriptions/{id}/enable).")
		}
		var missing []string
		for _, ev := range events {
			if !slices.Contains(s.Events, ev) {
				missing = append(missing, ev)
			}
		}
		if len(missing) > 0 {
			problems++
			fmt.Fprintf(stdout, "  problem: it lacks events Nova handles: %s. Add them in PagerDuty, or delete it and run this again.\n", strings.Join(missing, ", "))
		}
		fmt.Fprintln(stdout, "  Its signing secret was shown only when it was created; if it is lost, delete the subscription and run this again.")
		if problems > 0 {
			return exitError(exitFailure)
		}
		return nil
	}
	sub, err := admin.CreateWebhookSubscription(ctx, pagerduty.NewWebhookSubscription{
		URL: hookURL, Description: "Nova (" + *env + ")", Events: events, ScopeType: scopeType, ScopeID: *scopeID,
	})
	if err != nil {
		return fmt.Errorf("create webhook subscription: %w", err)
	}
	fmt.Fprintf(stdout, "Created webhook subscription %s for %s (%s) with events:\n  %s\n",
		sub.ID, hookURL, describeScope(*scope, *scopeID), strings.Join(events, ", "))
	if sub.DeliveryMethod.Secret == "" {
		fmt.Fprintln(stdout, "PagerDuty returned no signing secret: delete the subscription and run this again.")
		return exitError(exitFailure)
	}
	fmt.Fprintf(stdout, "\nSigning secret (shown once; PagerDuty will not show it again):\n%s\n\n", sub.DeliveryMethod.Secret)
	fmt.Fprintf(stdout, "Add it to environments.%s.pagerduty.webhook_secrets (as a ${VAR} or ${file:...} reference,\n"+
		"e.g. in the Helm chart's Secret), keep any older secret until PagerDuty switched, then reload Nova (SIGHUP).\n", *env)
	return nil
}

func describeScope(scope, id string) string {
	if scope == "account" {
		return "account scope: every service"
	}
	return scope + " " + id
}

// checkPublicURL refuses a webhook URL PagerDuty could not deliver to.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return fmt.Errorf("%s: PagerDuty and Slack need an https URL", s)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// adminToken reads the admin token from the environment or standard input.
func adminToken(stderr io.Writer) (string, error) {
	if t := strings.TrimSpace(os.Getenv("NOVA_PAGERDUTY_ADMIN_TOKEN")); t != "" {
		return t, nil
	}
	if f, ok := setupStdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(stderr, "PagerDuty admin API key (not echoed, not stored): ")
		t, err := readSecretLine(f)
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(t), nonEmptyToken(t)
	}
	line, err := bufio.NewReader(setupStdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the admin token from standard input: %w", err)
	}
	return strings.TrimSpace(line), nonEmptyToken(line)
}

func nonEmptyToken(t string) error {
	if strings.TrimSpace(t) == "" {
		return errors.New("no PagerDuty admin token: set NOVA_PAGERDUTY_ADMIN_TOKEN or pass it on standard input")
	}
	return nil
}

const setupSlackDetail = `Prints Nova's Slack app manifest (deploy/slack-app-manifest.yaml) with the slash command and
interactivity URLs pointing at --url, default the configuration's public_url. With --socket-mode
it prints the Socket Mode variant instead: no request URLs; give Nova an app-level token
(xapp-…, scope connections:write) as slack.app_token and set slack.socket_mode: true.
Paste the output at Slack → Your apps → Create New App → From an app manifest, install the app,
then put its bot token and signing secret in the configuration.`

func cmdSetupSlack(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("setup slack")
	path := configFlag(fs)
	base := fs.String("url", "", "Nova's public base URL; default public_url from the configuration")
	socket := fs.Bool("socket-mode", false, "print the Socket Mode variant (no public URL needed)")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	if *socket {
		out, err := socketModeManifest(deploy.SlackAppManifest)
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	public := *base
	if public == "" {
		cfg, err := config.LoadWith(*path, config.Options{Offline: true})
		if err != nil {
			return fmt.Errorf("%w (or give --url)", err)
		}
		if cfg.PublicURL == "" {
			return fmt.Errorf("%s sets no public_url: set it, or give --url", *path)
		}
		public = cfg.PublicURL
	}
	public = strings.TrimRight(public, "/")
	if err := checkPublicURL(public); err != nil {
		return err
	}
	out := bytes.ReplaceAll(deploy.SlackAppManifest, []byte(deploy.ManifestPlaceholderURL), []byte(public))
	out = bytes.Replace(out, []byte("replace nova.example.com with your Nova's public\n# host, install it,"),
		[]byte("install it\n# (request URLs point at "+public+"),"), 1)
	_, err := stdout.Write(out)
	return err
}

// socketModeManifest turns the manifest into its Socket Mode variant: no
// request URLs, socket_mode_enabled true.
func socketModeManifest(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("embedded manifest: %w", err)
	}
	root := doc.Content[0]
	root.FootComment = ""
	for _, cmd := range mappingValue(mappingValue(root, "features"), "slash_commands").Content {
		deleteKey(cmd, "url")
	}
	// Sign in with Slack's callback needs Nova's public URL, which a Socket
	// Mode Nova may not have: added by hand with web.oidc.
	deleteKey(mappingValue(root, "oauth_config"), "redirect_urls")
	settings := mappingValue(root, "settings")
	deleteKey(mappingValue(settings, "interactivity"), "request_url")
	if v := mappingValue(settings, "socket_mode_enabled"); v != nil {
		v.Value = "true"
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	if m == nil || m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
