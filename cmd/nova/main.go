// Command nova is the Nova service and its operator tools.
//
//	nova serve --config nova.yaml          run the service
//	nova config validate FILE              check a configuration file
//	nova keys status --config FILE         credential ages and rotation status
//	nova audit verify --config FILE [--anchor SEQ:HASH] [--incident ENV:ID]
//	                                       check the audit log's chain and anchors
//	nova audit export --config FILE --since 2026-11-01 --format jsonl
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usageText = `usage: nova <command> [flags]

commands:
  serve --config FILE              run Nova (default config: $NOVA_CONFIG or nova.yaml)
  config validate FILE             check a configuration file and list its problems
  keys status --config FILE        list credentials with their age; 'due' after 90 days
  audit verify --config FILE [--anchor SEQ:HASH]... [--incident ENV:ID]...
                                   check the audit log's chain (keyed with audit.key) and that it
                                   still reaches heads witnessed outside Nova (PagerDuty notes)
  audit export --config FILE [--since DATE] [--format jsonl]
  version                          print the version
`

// runMain dispatches a subcommand and returns the process exit code.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "config":
		if len(args) < 3 || args[1] != "validate" {
			fmt.Fprint(stderr, "usage: nova config validate FILE\n")
			return 2
		}
		err = cmdValidate(args[2], stdout)
	case "keys":
		if len(args) < 2 || args[1] != "status" {
			fmt.Fprint(stderr, "usage: nova keys status --config FILE [--json]\n")
			return 2
		}
		err = cmdKeysStatus(args[2:], stdout)
	case "audit":
		if len(args) < 2 {
			fmt.Fprint(stderr, "usage: nova audit verify|export --config FILE\n")
			return 2
		}
		switch args[1] {
		case "verify":
			err = cmdAuditVerify(ctx, args[2:], stdout)
		case "export":
			err = cmdAuditExport(ctx, args[2:], stdout)
		default:
			fmt.Fprint(stderr, "usage: nova audit verify|export --config FILE\n")
			return 2
		}
	case "version", "--version":
		fmt.Fprintln(stdout, "nova", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usageText)
	default:
		fmt.Fprintf(stderr, "nova: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
	if code, ok := errors.AsType[exitError](err); ok {
		return int(code) // already reported
	}
	if err != nil {
		fmt.Fprintf(stderr, "nova %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// exitError is an exit code for a failure already reported to the user.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
