package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/config"
)

// cmdValidate checks a configuration file and lists every problem.
func cmdValidate(path string, stdout io.Writer) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is valid: tier %s, %d environment(s) %v, %d service(s), %d action(s), store %s\n",
		path, cfg.Tier, len(cfg.Environments), cfg.EnvironmentNames(), len(cfg.Services), len(cfg.Actions), cfg.Store.Backend)
	return nil
}

// cmdKeysStatus lists credentials (never their values) with age and status.
func cmdKeysStatus(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keys status", flag.ContinueOnError)
	path := fs.String("config", envOr("NOVA_CONFIG", "nova.yaml"), "configuration file")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	creds := cfg.Credentials(time.Now())
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(creds)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENVIRONMENT\tKIND\tNAME\tCREATED\tAGE (DAYS)\tSTATUS")
	due := 0
	for _, c := range creds {
		created, age := "unknown", "-"
		if !c.Created.IsZero() {
			created, age = c.Created.Format("2006-01-02"), fmt.Sprint(c.AgeDays)
		}
		if c.Status == "due" {
			due++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(c.Environment), c.Kind, c.Name, created, age, c.Status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if due > 0 {
		fmt.Fprintf(stdout, "\n%d credential(s) older than %d days are due for rotation.\n", due, config.RotationDays)
	}
	return nil
}

// cmdAuditVerify walks the audit log and checks its chain: every entry's
// hash (the HMAC under the audit key it names, when keyed), the links, that
// no plain entry follows a keyed one, and that the log still reaches every
// anchor witnessed outside Nova: --anchor SEQ:HASH, or the heads in Nova's
// notes on --incident ENV:ID, read from PagerDuty with the scoped client
// (GET only).
func cmdAuditVerify(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	path := fs.String("config", envOr("NOVA_CONFIG", "nova.yaml"), "configuration file")
	var anchorArgs, incidentArgs listFlag
	fs.Var(&anchorArgs, "anchor", "`SEQ:HASH` of a chain head witnessed outside Nova (repeatable)")
	fs.Var(&incidentArgs, "incident", "`ENV:INCIDENT` whose Nova notes in PagerDuty carry chain heads to check (repeatable)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	var anchors []nova.AuditAnchor
	for _, s := range anchorArgs {
		a, err := nova.ParseAuditAnchor(s, "--anchor")
		if err != nil {
			fmt.Fprintf(stdout, "nova audit verify: %s\n", nova.ErrorMessage(err))
			return exitError(2)
		}
		anchors = append(anchors, a)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, quietLogger())
	if err != nil {
		return err
	}
	defer st.Close()
	var rt *runtime
	if len(incidentArgs) > 0 {
		rt = newRuntime(cfg, st, quietLogger(), prometheus.NewRegistry())
		rt.onRefused = func(string, string, string) {} // the client only reads
	}
	for _, s := range incidentArgs {
		found, err := anchorsFromPagerDuty(ctx, rt, s)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			fmt.Fprintf(stdout, "note: incident %s has no Nova note with an audit chain head\n", s)
		}
		anchors = append(anchors, found...)
	}
	_, keys := cfg.AuditKeys()
	v := nova.NewChainVerifier(keys, anchors)
	var after int64
	for {
		page, err := st.ListAudit(ctx, after, 1000)
		if err != nil {
			return err
		}
		if i, why := v.Add(page); i >= 0 {
			fmt.Fprintf(stdout, "audit log FAILED verification after %d good entries: %s\n", v.Entries, why)
			return exitError(1)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if why := v.Finish(); why != "" {
		fmt.Fprintf(stdout, "audit log FAILED verification (%d entries checked): %s\n", v.Entries, why)
		return exitError(1)
	}
	fmt.Fprintf(stdout, "audit log OK: %d entries, chain intact, head %s\n", v.Entries, orDash(v.Head().Anchor()))
	if v.Keyed() {
		var ids []string
		for id, n := range v.PerKey {
			ids = append(ids, fmt.Sprintf("%s (%d)", id, n))
		}
		sort.Strings(ids)
		fmt.Fprintf(stdout, "keyed: entries from seq %d on are sealed with HMAC-SHA256 under audit key %s", v.FirstKeyed, strings.Join(ids, ", "))
		if v.Unkeyed > 0 {
			fmt.Fprintf(stdout, "; the %d earlier entries are on the plain chain, bound by the first keyed entry", v.Unkeyed)
		}
		fmt.Fprintln(stdout)
	} else {
		fmt.Fprintln(stdout, "UNKEYED: no audit.key is configured, so this is a plain SHA-256 chain that anyone who can write to the store "+
			"can rewrite and recompute; configure audit.key (README: Trust boundary and audit) and check anchors.")
	}
	if len(anchors) == 0 {
		fmt.Fprintln(stdout, "no anchors checked: a truncated tail cannot be detected without one; pass --incident ENV:ID "+
			"(an incident with a recent Nova note) or --anchor SEQ:HASH")
	} else {
		fmt.Fprintf(stdout, "anchors: the log reaches and matches all %d witnessed head(s)\n", v.AnchorsChecked)
	}
	return nil
}

// anchorsFromPagerDuty reads the chain heads in Nova's notes on one
// incident ("ENV:ID"), through the environment's scoped client.
func anchorsFromPagerDuty(ctx context.Context, rt *runtime, ref string) ([]nova.AuditAnchor, error) {
	env, id, ok := strings.Cut(ref, ":")
	if !ok || env == "" || id == "" {
		return nil, fmt.Errorf("--incident %q is not ENV:INCIDENT_ID (e.g. prod:Q1ABC2DEF)", ref)
	}
	pd, err := rt.PagerDuty(env)
	if err != nil {
		return nil, err
	}
	notes, err := pd.ListNotes(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read the notes of %s incident %s: %w", env, id, err)
	}
	var out []nova.AuditAnchor
	for _, n := range notes {
		if a, ok := render.AuditAnchorInNote(n.Content, fmt.Sprintf("PagerDuty note %s on %s incident %s", n.ID, env, id)); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// listFlag collects a repeatable flag's values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// cmdAuditExport writes audit entries as JSON lines.
func cmdAuditExport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit export", flag.ContinueOnError)
	path := fs.String("config", envOr("NOVA_CONFIG", "nova.yaml"), "configuration file")
	since := fs.String("since", "", "only entries at or after this date (YYYY-MM-DD) or time (RFC 3339)")
	format := fs.String("format", "jsonl", "output format (jsonl)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *format != "jsonl" {
		return fmt.Errorf("unknown --format %q: only jsonl is supported", *format)
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = parseSince(*since); err != nil {
			return err
		}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, quietLogger())
	if err != nil {
		return err
	}
	defer st.Close()
	enc := json.NewEncoder(stdout)
	var after int64
	for {
		page, err := st.ListAudit(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, e := range page {
			if !e.Time.Before(from) {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
		}
		after = page[len(page)-1].Seq
	}
}

// quietLogger is for the operator tools: only errors, on stderr.
func quietLogger() logrus.FieldLogger {
	l := logrus.New()
	l.SetLevel(logrus.ErrorLevel)
	return l
}

func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is not a date (YYYY-MM-DD) or RFC 3339 time", s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
