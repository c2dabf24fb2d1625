package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// The shipped example passes offline (no secrets at hand), and fails
// online without its variables, naming each one.
func TestExampleConfigPassesOffline(t *testing.T) {
	b, err := os.ReadFile("../deploy/nova.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseWith(b, lookupFrom(nil), Options{Offline: true})
	if err != nil {
		t.Fatalf("example config offline: %v", err)
	}
	if ws := c.Warnings(); len(ws) > 0 {
		t.Errorf("example config has warnings:\n%s", strings.Join(ws, "\n"))
	}
	_, err = Parse(b, lookupFrom(nil))
	if err == nil || !strings.Contains(err.Error(), "environments.prod.pagerduty.token: environment variable PD_TOKEN_PROD is not set") {
		t.Fatalf("online without variables: %v", err)
	}
}

func TestOfflineStillChecksStructure(t *testing.T) {
	doc := minimal(strings.Replace(baseEnv, `"tok-123"`, `"${PD_TOKEN}"`, 1) +
		"store: {backend: redis, url: \"${REDIS_URL}\"}\n" +
		"api_keys: [{name: a, key: \"${file:/nonexistent/key}\", scope: read}]\n" +
		"services:\n  - {id: PABC, name: a, environment: prod, mode: yolo}\n")
	_, err := ParseWith([]byte(doc), lookupFrom(nil), Options{Offline: true})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a ValidationError, got %v", err)
	}
	if len(ve.Problems) != 1 || !strings.HasPrefix(ve.Problems[0], "services[0].mode:") {
		t.Fatalf("offline problems = %q, want only services[0].mode", ve.Problems)
	}
}

func TestUnknownFieldsSuggestTheRightName(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"top level", baseEnv + "environmnts: {}\n", "environmnts: unknown field (line 9); did you mean environments?"},
		{"nested flow", baseEnv + "store: {backend: bolt, pth: x.db}\n", "store.pth: unknown field (line 9); did you mean path?"},
		{"in a list", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, slack_chanel: C123}\n", "services[0].slack_chanel: unknown field (line 10); did you mean slack_channel?"},
		{"transposed", baseEnv + "    slack: {bot_tokne: x}\n", "environments.prod.slack.bot_tokne: unknown field (line 9); did you mean bot_token?"},
		{"in a secret", strings.Replace(baseEnv, `["s1"]`, `[{secert: s1}]`, 1), "environments.prod.pagerduty.webhook_secrets[0].secert: unknown field (line 8); did you mean secret?"},
		{"nothing close", baseEnv + "store: {flavour: x}\n", "store.flavour: unknown field (line 9); known fields: addrs, backend, master_name,"},
		{"set twice", baseEnv + "tier: standard\ntier: enterprise\n", "tier: set twice (lines 9 and 10)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal(tc.doc)), lookupFrom(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestWrongKindsNameThePathNotGoTypes(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"int", baseEnv + "workers: {count: abc}\n", `workers.count: expected an integer, found a string (line 9)`},
		{"bool", baseEnv + "services:\n  - {id: PABC, name: a, environment: prod, auto_ack: sometimes}\n", `services[0].auto_ack: expected true or false, found a string (line 10)`},
		{"float", baseEnv + "triage: {abstain_below: high}\n", `triage.abstain_below: expected a number, found a string (line 9)`},
		{"list for mapping", baseEnv + "services: {id: PABC}\n", "services: expected a list, found a mapping (line 9)"},
		{"scalar for mapping", baseEnv + "store: bolt\n", `store: expected a mapping, found a string (line 9)`},
		{"duration", baseEnv + "workers: {visibility_timeout: soon}\n", "workers.visibility_timeout: soon is not a duration (use e.g. 30s, 15m, 2h) (line 9)"},
		{"date", baseEnv + "      token_created: yesterday\n", "environments.prod.pagerduty.token_created: yesterday is not a date (use YYYY-MM-DD) (line 9)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal(tc.doc)), lookupFrom(nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
			for _, goType := range []string{"config.", "into int", "into bool", "float64", "[]config", "abc", "sometimes", "high", "bolt"} {
				if strings.Contains(err.Error(), goType) {
					t.Errorf("error names a Go type (%s): %v", goType, err)
				}
			}
		})
	}
}

func TestWarningsForImpossibleSettings(t *testing.T) {
	const svc = "tier: enterprise\nservices: [{id: PABC, name: a, environment: prod, slack_channel: C123}, {id: PDEF, name: b, environment: prod}]\n" +
		"actions:\n  - {name: r, title: R, destructive: true, services: [PABC, PDEF], executor: {type: webhook, url: 'https://x/y', secret: s}}\n"
	const slack = "    slack: {bot_token: xoxb-1, signing_secret: s}\n"
	cases := []struct{ name, doc, want string }{
		{"two approvals one approver", baseEnv + slack + "    approvals: {approvers: [U01], required_approvals: 2}\n" + svc,
			"environments.prod.approvals.required_approvals: 2 different people must approve, but only 1 approver(s) are named and no user group"},
		{"same approver twice", baseEnv + slack + "    approvals: {approvers: [U01, U01], required_approvals: 2}\n" + svc,
			"only 1 approver(s) are named"},
		{"no approvers", baseEnv + slack + svc, "environments.prod.approvals.approvers: none named, but destructive actions (r) apply to services of prod"},
		{"budget over lease", baseEnv + "triage: {budget: 2m}\n", "triage.budget: 2m0s is longer than the 1m48s a worker may spend on an event"},
		{"short dedup", baseEnv + "workers: {dedup_ttl: 1h}\n", "workers.dedup_ttl: 1h0m0s is shorter than PagerDuty's 48h0m0s retry window"},
		{"destructive without channel", baseEnv + slack + "    approvals: {approvers: [U01]}\n" + svc, "actions[0].services[1]: service PDEF has no slack_channel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(minimal(tc.doc)), lookupFrom(nil))
			if err != nil {
				t.Fatal(err)
			}
			ws := strings.Join(c.Warnings(), "\n")
			if !strings.Contains(ws, tc.want) {
				t.Fatalf("warnings:\n%s\nwant one containing %q", ws, tc.want)
			}
		})
	}
	// A user group can hold any number of people: no warning.
	c, err := Parse([]byte(minimal(baseEnv+slack+"    approvals: {approvers: [S0SRE], required_approvals: 2}\n")), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if ws := c.Warnings(); len(ws) != 0 {
		t.Errorf("group approvers: unexpected warnings %q", ws)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"listen", "listen", 0}, {"lisen", "listen", 1}, {"tokne", "token", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
