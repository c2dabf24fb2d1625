package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
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

// cmdAuditVerify walks the audit log and checks its hash chain.
func cmdAuditVerify(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	path := fs.String("config", envOr("NOVA_CONFIG", "nova.yaml"), "configuration file")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
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
	var (
		prevHash string
		prevSeq  int64
		n        int
	)
	for {
		page, err := st.ListAudit(ctx, prevSeq, 1000)
		if err != nil {
			return err
		}
		if i, why := nova.VerifyChain(page, prevHash, prevSeq); i >= 0 {
			fmt.Fprintf(stdout, "audit log FAILED verification after %d good entries: %s\n", n+i, why)
			return exitError(1)
		}
		if len(page) == 0 {
			break
		}
		n += len(page)
		last := page[len(page)-1]
		prevHash, prevSeq = last.Hash, last.Seq
	}
	fmt.Fprintf(stdout, "audit log OK: %d entries, chain intact, head %s\n", n, orDash(prevHash))
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
