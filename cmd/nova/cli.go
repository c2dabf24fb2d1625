package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// command is one `nova` subcommand. Commands with a group ("config
// validate") are reached as two words.
type command struct {
	name    string // "serve", "config validate"
	args    string // synopsis after the name
	summary string // one line for the command list
	detail  string // paragraphs for `nova help <command>`
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// Exit codes, documented in `nova help` and the README.
const (
	exitOK      = 0 // success
	exitFailure = 1 // the command ran and found a problem (invalid config, failed check, credential due, broken chain)
	exitUsage   = 2 // bad command line
)

// commands lists every subcommand, in the order `nova help` shows them.
func commands() []command {
	return []command{
		{name: "serve", args: "[--config FILE]", summary: "run Nova",
			detail: "Runs the service: webhook ingress, workers, Slack, API, metrics. The configuration comes from\n--config, else $NOVA_CONFIG, else nova.yaml. SIGHUP reloads it; SIGTERM shuts down gracefully.",
			run: func(ctx context.Context, args []string, _, stderr io.Writer) error {
				return cmdServe(ctx, args, stderr)
			}},
		{name: "config validate", args: "[--config FILE | FILE] [--offline]", summary: "check a configuration file and list its problems and warnings",
			detail: "Lists every problem with its field path (services[2].environment: ...), suggests the intended\nname for unknown fields, and warns about settings that cannot work together. --offline checks\nthe structure only: ${VAR} and ${file:...} references need not resolve (for CI and laptops).\nExit 1 when the file is invalid; warnings alone exit 0.",
			run:    cmdValidate},
		{name: "keys status", args: "[--config FILE] [--json]", summary: "list credentials with their age; exit 1 when one is due (older than 90 days)",
			run: cmdKeysStatus},
		{name: "audit verify", args: "[--config FILE] [--anchor SEQ:HASH]... [--incident ENV:ID]... | --file EXPORT [--allow-gaps]", summary: "check the audit log's chain and anchors (the store, or an export offline)",
			detail: "With --config, reads the audit log from the configured store (on bolt, stop Nova first): every entry's\nhash (the HMAC under its audit key on the keyed chain), the links, and that the log still reaches\nevery head witnessed outside Nova (--anchor SEQ:HASH, or the heads in Nova's notes on --incident\nENV:ID, read from PagerDuty with the scoped client). With --file, checks a JSON-lines export from\n`nova audit export` without any store (give --config too for keyed entries: it supplies the audit\nkeys): hashes, links, no missing sequence numbers (an export filtered with --incident has gaps: add\n--allow-gaps), anchors inside its range. Exit 1 names the first bad entry.",
			run:    cmdAuditVerify},
		{name: "audit export", args: "[--config FILE] [--since T] [--until T] [--incident ID] [--format jsonl|csv]", summary: "export audit entries",
			detail: "T is a date (YYYY-MM-DD, UTC midnight) or an RFC 3339 time; --since is inclusive, --until\nexclusive. jsonl keeps every field and can be checked with `nova audit verify --file`; csv is\nfor spreadsheets.",
			run:    cmdAuditExport},
		{name: "postmortem", args: "INCIDENT_ID [--config FILE] [--format md|json]", summary: "print an incident's postmortem draft (latest version)",
			detail: postmortemDetail, run: cmdPostmortem},
		{name: "setup pagerduty", args: "[--config FILE] --environment ENV [--scope account|team|service] [--scope-id ID] [--url URL]", summary: "create or find the PagerDuty webhook subscription for an environment",
			detail: setupPagerDutyDetail, run: cmdSetupPagerDuty},
		{name: "setup slack", args: "[--config FILE] [--url URL] [--socket-mode]", summary: "print the Slack app manifest with Nova's public URL filled in",
			detail: setupSlackDetail,
			run:    cmdSetupSlack},
		{name: "review", args: "[--config FILE] [--since 90d] [--format md|json] [--at TIME] [--reconcile=config|store [--apply]]",
			summary: "the rollout review: drift, key age, quality, integrity, with what to do; exit 1 when something needs action",
			detail:  reviewDetail, run: cmdReview},
		{name: "doctor", args: "[--config FILE] [--environment ENV] [--timeout D]", summary: "check credentials, ids, channels, people, Redis and executors against the real services",
			detail: doctorDetail, run: cmdDoctor},
		{name: "backtest", args: "[--config FILE] --service NAME|ID [--since 90d] [--limit 200] [--format md|json]",
			summary: "replay a service's resolved incidents as of their trigger times: what Nova would have said, beside what happened",
			detail:  backtestDetail, run: cmdBacktest},
		{name: "version", summary: "print the version, commit and Go version",
			run: func(_ context.Context, args []string, stdout, _ io.Writer) error {
				fs := newFlags("version")
				if _, err := parseFlags(fs, args); err != nil {
					return err
				}
				return cmdVersion(stdout)
			}},
		{name: "help", args: "[COMMAND]", summary: "show this list, or a command's flags"},
	}
}

const exitCodesText = `exit codes:
  0  success
  1  the command ran and found a problem (invalid config, failed doctor check, credential due, broken audit chain)
  2  bad command line
`

func usage() string {
	var b strings.Builder
	b.WriteString("usage: nova <command> [flags]\n\ncommands:\n")
	for _, c := range commands() {
		syn := c.name
		if c.args != "" {
			syn += " " + c.args
		}
		fmt.Fprintf(&b, "  %s\n      %s\n", syn, c.summary)
	}
	b.WriteString("\n'nova help COMMAND' or 'nova COMMAND -h' shows a command's flags.\n\n")
	b.WriteString(exitCodesText)
	return b.String()
}

// runMain dispatches a subcommand and returns the process exit code.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return showHelp(ctx, args[1:], stdout, stderr)
		}
		fmt.Fprint(stdout, usage())
		return exitOK
	case "--version":
		args = []string{"version"}
	}
	cmd, rest, group := lookupCommand(args)
	if cmd == nil {
		if group != "" {
			if len(args) > 1 && !isHelpFlag(args[1]) {
				fmt.Fprintf(stderr, "nova %s: unknown subcommand %q\n\n", group, args[1])
				fmt.Fprint(stderr, groupUsage(group))
				return exitUsage
			}
			if len(args) > 1 { // nova config -h
				fmt.Fprint(stdout, groupUsage(group))
				return exitOK
			}
			fmt.Fprint(stderr, groupUsage(group))
			return exitUsage
		}
		fmt.Fprintf(stderr, "nova: unknown command %q\n\n%s", args[0], usage())
		return exitUsage
	}
	err := cmd.run(ctx, rest, stdout, stderr)
	return exitCode(cmd, err, stdout, stderr)
}

func exitCode(cmd *command, err error, stdout, stderr io.Writer) int {
	var help *helpRequest
	var code exitError
	var bad usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &help):
		fmt.Fprint(stdout, commandHelp(cmd, help.fs))
		return exitOK
	case errors.As(err, &code):
		return int(code) // already reported
	case errors.As(err, &bad):
		fmt.Fprintf(stderr, "nova %s: %s\n", cmd.name, bad.msg)
		return exitUsage
	}
	fmt.Fprintf(stderr, "nova %s: %v\n", cmd.name, err)
	return exitFailure
}

// showHelp serves `nova help COMMAND [SUBCOMMAND]`.
func showHelp(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if isHelpFlag(args[0]) {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	cmd, _, group := lookupCommand(args)
	switch {
	case cmd != nil && cmd.run != nil:
		// Every command parses its flags before doing anything, so -h
		// returns its flag set without side effects.
		return exitCode(cmd, cmd.run(ctx, []string{"-h"}, io.Discard, io.Discard), stdout, stderr)
	case cmd != nil:
		fmt.Fprint(stdout, usage())
		return exitOK
	case group != "":
		fmt.Fprint(stdout, groupUsage(group))
		return exitOK
	}
	fmt.Fprintf(stderr, "nova help: unknown command %q\n\n%s", strings.Join(args, " "), usage())
	return exitUsage
}

// lookupCommand finds the command args start with. group is set when
// args[0] names a group ("config") but not one of its subcommands.
func lookupCommand(args []string) (cmd *command, rest []string, group string) {
	all := commands()
	for i := range all {
		words := strings.Fields(all[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == all[i].name {
			return &all[i], args[len(words):], ""
		}
		if len(words) > 1 && args[0] == words[0] {
			group = words[0]
		}
	}
	return nil, nil, group
}

func groupUsage(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: nova %s <subcommand> [flags]\n\nsubcommands:\n", group)
	var names []string
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			names = append(names, fmt.Sprintf("  %s %s\n      %s\n", c.name, c.args, c.summary))
		}
	}
	sort.Strings(names)
	b.WriteString(strings.Join(names, ""))
	return b.String()
}

func commandHelp(cmd *command, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: nova %s %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	if cmd.detail != "" {
		fmt.Fprintf(&b, "\n%s\n", cmd.detail)
	}
	if fs != nil {
		var flags bytes.Buffer
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		if flags.Len() > 0 {
			fmt.Fprintf(&b, "\nflags:\n%s", flags.String())
		}
	}
	b.WriteString("\n" + exitCodesText)
	return b.String()
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "-help" || s == "--help"
}

// helpRequest is returned by parseFlags for -h/--help: runMain prints the
// command's help to stdout and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return "help requested" }

// newFlags returns a flag set that reports errors through parseFlags.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// configFlag adds the --config flag every command reading the
// configuration takes.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", envOr("NOVA_CONFIG", "nova.yaml"), "configuration file; $NOVA_CONFIG when not given")
}

// parseFlags parses flags anywhere among the arguments (so both
// `validate FILE --offline` and `validate --offline FILE` work) and returns
// the positional ones. -h/--help gives a *helpRequest; a bad flag is
// reported on the flag set's original output and gives exit code 2.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs: fs}
			}
			return nil, usageError{fmt.Sprintf("%v (see 'nova help %s')", err, fs.Name())}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// noPositional refuses arguments a command does not take.
func noPositional(fs *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (see 'nova help %s')", args[0], fs.Name())}
	}
	return nil
}

// usageError is a bad command line: reported on stderr, exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// exitError is an exit code for a failure already reported to the user.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
