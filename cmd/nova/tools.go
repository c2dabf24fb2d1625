package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova/config"
)

// cmdValidate checks a configuration file, lists every problem and warns
// about settings that cannot work together.
func cmdValidate(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("config validate")
	path := configFlag(fs)
	offline := fs.Bool("offline", false, "check the structure only: ${VAR} and ${file:...} references need not resolve")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 1 && flagSet(fs, "config") && rest[0] != *path:
		return usageError{fmt.Sprintf("two files given: --config %s and %s", *path, rest[0])}
	case len(rest) == 1:
		*path = rest[0] // the positional form: nova config validate FILE
	case len(rest) > 1:
		return usageError{"give one configuration file"}
	}
	cfg, err := config.LoadWith(*path, config.Options{Offline: *offline})
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		fmt.Fprintf(stdout, "%s is not valid (%d problem(s)):\n", *path, len(ve.Problems))
		for _, p := range ve.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
		return exitError(exitFailure)
	}
	if err != nil {
		return err
	}
	how := ""
	if *offline {
		how = " (offline: structure only)"
	}
	fmt.Fprintf(stdout, "%s is valid%s: tier %s, %d environment(s) %v, %d service(s), %d action(s), store %s\n",
		*path, how, cfg.Tier, len(cfg.Environments), cfg.EnvironmentNames(), len(cfg.Services), len(cfg.Actions), cfg.Store.Backend)
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stdout, "  warning: %s\n", w)
	}
	return nil
}

// flagSet reports whether the flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// cmdKeysStatus lists credentials (never their values) with age and
// status, and exits 1 when one is due for rotation (for cron and CI).
func cmdKeysStatus(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("keys status")
	path := configFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if rest, err := parseFlags(fs, args); err != nil {
		return err
	} else if err := noPositional(fs, rest); err != nil {
		return err
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	creds := cfg.Credentials(time.Now())
	due := 0
	for _, c := range creds {
		if c.Status == "due" {
			due++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(creds); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ENVIRONMENT\tKIND\tNAME\tCREATED\tAGE (DAYS)\tSTATUS")
		for _, c := range creds {
			created, age := "unknown", "-"
			if !c.Created.IsZero() {
				created, age = c.Created.Format("2006-01-02"), fmt.Sprint(*c.AgeDays)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(c.Environment), c.Kind, c.Name, created, age, c.Status)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if due > 0 {
			fmt.Fprintf(stdout, "\n%d credential(s) older than %d days are due for rotation.\n", due, config.RotationDays)
		}
	}
	if due > 0 {
		return exitError(exitFailure)
	}
	return nil
}

// quietLogger is for the operator tools: only errors, on stderr.
func quietLogger() logrus.FieldLogger {
	l := logrus.New()
	l.SetLevel(logrus.ErrorLevel)
	return l
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
