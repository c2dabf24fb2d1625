// Command nova is the Nova service and its operator tools.
//
//	nova serve --config nova.yaml          run the service
//	nova config validate --config FILE     check a configuration file (--offline: structure only)
//	nova keys status --config FILE         credential ages and rotation status
//	nova audit verify --config FILE [--anchor SEQ:HASH] [--incident ENV:ID]
//	                                       check the audit log's chain and anchors (--file: an export)
//	nova audit export --config FILE --since 2026-11-01 --format jsonl|csv
//	nova setup pagerduty|slack             create the webhook subscription; print the Slack manifest
//	nova doctor --config FILE              check everything the configuration names, online
//	nova review --config FILE [--since 90d] the rollout review; exit 1 when something needs action
//	nova backtest --config FILE --service NAME|ID [--since 90d] [--limit 200] [--format md|json]
//	                                       replay past incidents as of their trigger times
//	nova help [COMMAND]                    commands, flags and exit codes (cli.go)
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
