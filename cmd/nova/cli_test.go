package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store/bolt"
)

// runSplit invokes the command line in-process and keeps stdout and stderr apart.
func runSplit(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// -h and --help on every command, and `nova help COMMAND`, print the
// command's usage and flags on stdout and exit 0, without running it.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		for _, form := range [][]string{append(words, "-h"), append(words, "--help"), append([]string{"help"}, words...)} {
			code, out, errOut := runSplit(t, form...)
			if code != 0 {
				t.Errorf("nova %s: exit %d, stderr %q", strings.Join(form, " "), code, errOut)
				continue
			}
			if c.name == "help" {
				continue
			}
			if !strings.Contains(out, "usage: nova "+c.name) || !strings.Contains(out, "exit codes:") {
				t.Errorf("nova %s: help lacks usage or exit codes:\n%s", strings.Join(form, " "), out)
			}
			if c.args != "" && strings.Contains(c.args, "--") && !strings.Contains(out, "flags:") {
				t.Errorf("nova %s: help lists no flags:\n%s", strings.Join(form, " "), out)
			}
		}
	}
	for _, group := range []string{"config", "keys", "audit"} {
		if code, out, _ := runSplit(t, group, "--help"); code != 0 || !strings.Contains(out, "subcommands:") {
			t.Errorf("nova %s --help: %d %s", group, code, out)
		}
	}
}

func TestBadCommandLinesExit2(t *testing.T) {
	for _, args := range [][]string{
		{}, {"frobnicate"}, {"serve", "--bogus"}, {"config"}, {"config", "lint"}, {"keys", "status", "extra"},
		{"audit", "export", "--format", "xml"}, {"audit", "export", "--since", "yesterday"},
		{"audit", "export", "--since", "2026-11-02", "--until", "2026-11-01"}, {"help", "frobnicate"},
		{"config", "validate", "a.yaml", "b.yaml"},
	} {
		code, out, errOut := runSplit(t, args...)
		if code != 2 {
			t.Errorf("nova %s: exit %d, want 2\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		if errOut == "" {
			t.Errorf("nova %s: nothing said on stderr", strings.Join(args, " "))
		}
	}
}

func TestVersionReportsTheBuild(t *testing.T) {
	code, out, _ := runSplit(t, "version")
	if code != 0 || !strings.HasPrefix(out, "nova ") || !strings.Contains(out, goruntime.Version()) {
		t.Fatalf("nova version: %d %q", code, out)
	}
	version, commit = "v1.2.3", "0123456789abcdef0123-dirty"
	defer func() { version, commit = "", "" }()
	if _, out, _ := runSplit(t, "--version"); !strings.HasPrefix(out, "nova v1.2.3 (commit 0123456789ab (modified)") {
		t.Fatalf("stamped version: %q", out)
	}
}

// The shipped example passes `nova config validate --offline` in both the
// flag and the positional form; problems are listed by field with exit 1.
func TestConfigValidateCommand(t *testing.T) {
	example := filepath.Join("..", "..", "deploy", "nova.example.yaml")
	for _, args := range [][]string{
		{"config", "validate", "--offline", example},
		{"config", "validate", example, "--offline"},
		{"config", "validate", "--config", example, "--offline"},
	} {
		code, out, errOut := runSplit(t, args...)
		if code != 0 || !strings.Contains(out, "is valid (offline: structure only)") || strings.Contains(out, "warning") {
			t.Fatalf("nova %s: %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, `listen: ":8080"
environments:
  prod:
    pagerduty: {token: "${PD_TOKEN}", from: bot@example.com, webhook_secrets: [s], rate_per_minut: 100}
services:
  - {id: PABC, name: a, environment: prod, mode: action, watch_days: two}
`)
	code, out, _ := runSplit(t, "config", "validate", "--offline", bad)
	for _, want := range []string{
		"is not valid (2 problem(s))",
		"environments.prod.pagerduty.rate_per_minut: unknown field (line 4); did you mean rate_per_minute?",
		`services[0].watch_days: expected an integer, found a string (line 6)`,
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	warn := filepath.Join(dir, "warn.yaml")
	writeFile(t, warn, `environments:
  prod:
    pagerduty: {token: t, from: bot@example.com, webhook_secrets: [s]}
workers: {visibility_timeout: 10s}
`)
	code, out, _ = runSplit(t, "config", "validate", warn)
	if code != 0 || !strings.Contains(out, "warning: triage.budget: 20s is longer than the 9s a worker may spend on an event") {
		t.Errorf("warnings: %d\n%s", code, out)
	}
}

// `nova keys status` exits 1 when a credential is due, so cron and CI notice.
func TestKeysStatusExitsOneWhenDue(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nova.yaml")
	cfg := func(created time.Time) string {
		return `environments:
  prod:
    pagerduty: {token: t, token_created: ` + created.Format("2006-01-02") + `, from: bot@example.com, webhook_secrets: [s]}
`
	}
	writeFile(t, p, cfg(time.Now().AddDate(0, 0, -10)))
	if code, out, _ := runSplit(t, "keys", "status", "--config", p); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("fresh token: %d %s", code, out)
	}
	writeFile(t, p, cfg(time.Now().AddDate(0, 0, -120)))
	code, out, _ := runSplit(t, "keys", "status", "--config", p)
	if code != 1 || !strings.Contains(out, "1 credential(s) older than 90 days are due") {
		t.Fatalf("old token: %d %s", code, out)
	}
	if code, out, _ := runSplit(t, "keys", "status", "--config", p, "--json"); code != 1 || !strings.Contains(out, `"status": "due"`) {
		t.Fatalf("old token, JSON: %d %s", code, out)
	}
}

// Export filters by time and incident, writes JSONL or CSV, and an export
// verifies offline; a tampered, reordered or cut export fails, naming the entry.
func TestAuditExportFiltersAndVerifiesOffline(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nova.yaml")
	dbPath := filepath.Join(dir, "nova.db")
	writeFile(t, cfgPath, `store: {backend: bolt, path: `+dbPath+`}
environments:
  prod:
    pagerduty: {token: t, from: bot@example.com, webhook_secrets: [s]}
`)
	st, err := bolt.Open(dbPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	var appended []nova.AuditEntry
	for i, e := range []nova.AuditEntry{
		{Time: day(1, 9), Incident: "PINC1", Action: "pagerduty.note.hypothesis", Actor: "nova", Outcome: "ok"},
		{Time: day(1, 10), Incident: "PINC2", Action: "pagerduty.note.hypothesis", Actor: "nova", Outcome: "ok"},
		{Time: day(2, 9), Incident: "PINC1", Action: "command.disable", Actor: "U0MALLORY", Outcome: "refused", Detail: "=HYPERLINK(\"http://evil\")"},
		{Time: day(3, 9), Incident: "PINC1", Action: "pagerduty.acknowledge", Actor: "nova", Outcome: "ok"},
		{Time: day(4, 9), Incident: "PINC2", Action: "slack.post.hypothesis", Actor: "nova", Outcome: "ok"},
	} {
		e.ID = nova.NewAuditID(e.Time.Add(time.Duration(i)))
		got, err := st.AppendAudit(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, got)
	}
	st.Close()

	export := func(args ...string) []nova.AuditEntry {
		t.Helper()
		code, out, errOut := runSplit(t, append([]string{"audit", "export", "--config", cfgPath}, args...)...)
		if code != 0 {
			t.Fatalf("export %v: %d %s", args, code, errOut)
		}
		var es []nova.AuditEntry
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var e nova.AuditEntry
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			es = append(es, e)
		}
		return es
	}
	seqs := func(es []nova.AuditEntry) (out []int64) {
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		args []string
		want []int64
	}{
		{nil, []int64{1, 2, 3, 4, 5}},
		{[]string{"--since", "2026-11-02"}, []int64{3, 4, 5}},
		{[]string{"--until", "2026-11-02"}, []int64{1, 2}},
		{[]string{"--since", "2026-11-01T09:30:00Z", "--until", "2026-11-04"}, []int64{2, 3, 4}},
		{[]string{"--incident", "PINC1"}, []int64{1, 3, 4}},
		{[]string{"--incident", "PINC2", "--since", "2026-11-02"}, []int64{5}},
	} {
		if got := seqs(export(tc.args...)); !equalInts(got, tc.want) {
			t.Errorf("export %v: seqs %v, want %v", tc.args, got, tc.want)
		}
	}

	// CSV: a header, one row per entry, formulas defused.
	code, out, _ := runSplit(t, "audit", "export", "--config", cfgPath, "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 6 || rows[0][0] != "seq" || rows[3][9] != `'=HYPERLINK("http://evil")` {
		t.Fatalf("csv: %d %v %q", code, err, rows)
	}

	writeExport := func(name string, es []nova.AuditEntry) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, e := range es {
			_ = enc.Encode(e)
		}
		p := filepath.Join(dir, name)
		writeFile(t, p, b.String())
		return p
	}
	all := export()
	verify := func(args ...string) (int, string) {
		code, out, errOut := runSplit(t, append([]string{"audit", "verify"}, args...)...)
		return code, out + errOut
	}
	if code, out := verify("--file", writeExport("all.jsonl", all)); code != 0 || !strings.Contains(out, "complete chain from the first entry, head "+appended[4].Head().Anchor()) {
		t.Fatalf("verify full export: %d %s", code, out)
	}
	if code, out := verify("--file", writeExport("since.jsonl", export("--since", "2026-11-02"))); code != 0 || !strings.Contains(out, "seq 3-5") {
		t.Fatalf("verify --since export: %d %s", code, out)
	}
	inc := writeExport("inc.jsonl", export("--incident", "PINC1"))
	if code, out := verify("--file", inc); code != 1 || !strings.Contains(out, "1 entries are missing") {
		t.Fatalf("incident export without --allow-gaps: %d %s", code, out)
	}
	if code, out := verify("--file", inc, "--allow-gaps"); code != 0 || !strings.Contains(out, "1 gap(s)") {
		t.Fatalf("incident export with --allow-gaps: %d %s", code, out)
	}
	altered := append([]nova.AuditEntry(nil), all...)
	altered[2].Outcome = "ok"
	if code, out := verify("--file", writeExport("altered.jsonl", altered)); code != 1 || !strings.Contains(out, altered[2].ID+" was altered") {
		t.Fatalf("altered export: %d %s", code, out)
	}
	cut := append(append([]nova.AuditEntry(nil), all[:2]...), all[3:]...)
	if code, out := verify("--file", writeExport("cut.jsonl", cut)); code != 1 || !strings.Contains(out, all[3].ID) {
		t.Fatalf("export with an entry removed: %d %s", code, out)
	}
	swapped := append([]nova.AuditEntry(nil), all...)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	if code, out := verify("--file", writeExport("swapped.jsonl", swapped), "--allow-gaps"); code != 1 || !strings.Contains(out, "out of order") {
		t.Fatalf("reordered export: %d %s", code, out)
	}
	// A re-chained forgery: entry 3 rewritten and re-hashed still breaks entry 4's link.
	forged := append([]nova.AuditEntry(nil), all...)
	forged[2].Outcome = "ok"
	forged[2].Hash = forged[2].ComputeHash()
	if code, out := verify("--file", writeExport("forged.jsonl", forged)); code != 1 || !strings.Contains(out, all[3].ID+" does not follow") {
		t.Fatalf("re-hashed forgery: %d %s", code, out)
	}
	csvPath := filepath.Join(dir, "export.csv")
	writeFile(t, csvPath, out)
	if code, out := verify("--file", csvPath); code != 1 || !strings.Contains(out, "CSV export") {
		t.Fatalf("csv given to verify: %d %s", code, out)
	}
	if code, out := verify("--file", inc, "--incident", "prod:PINC1"); code != 2 {
		t.Fatalf("--file with --incident: %d %s", code, out)
	}
	// An anchor beyond the export's end: entries were cut (or the export is old).
	if code, out := verify("--file", writeExport("short.jsonl", all[:3]), "--anchor", appended[4].Head().Anchor()); code != 1 || !strings.Contains(out, "ends at seq 3") {
		t.Fatalf("export shorter than an anchor: %d %s", code, out)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
