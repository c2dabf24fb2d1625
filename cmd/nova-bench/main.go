// Command nova-bench measures Nova end to end on this machine: webhook
// ingress against a bare HTTP baseline, PagerDuty write-back pacing and the
// idempotency bookkeeping's cost, time from trigger to hypothesis note, and
// an incident storm with Slack traffic alongside.
//
// Nova runs as its own process (the real binary, `nova serve`) on loopback;
// the PagerDuty and Slack emulators run inside this process. Every loop is
// bounded in count and time.
//
//	go run ./cmd/nova-bench all                 every benchmark, then a summary table
//	go run ./cmd/nova-bench ingress -n 20000 -c 32
//	go run ./cmd/nova-bench writeback|triage|storm|channelstorm
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const usageText = `usage: nova-bench <benchmark> [flags]

benchmarks:
  ingress     signed-webhook ingress throughput and latency (bolt, redis) beside a bare HTTP baseline
  writeback   notes/min one credential sustains; idempotency bookkeeping cost per write on Redis
  triage      time from trigger to hypothesis note, with 150 ms per PagerDuty call
  storm       200 incidents in a minute at PagerDuty's real rate limit, with Slack traffic alongside
  channelstorm  100 incidents at once on one service and one Slack channel: notes within 60 s despite Slack's lane
  all         all of the above in order, then one summary table (also written to -out)

Run 'nova-bench <benchmark> -h' for the flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a benchmark and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	name := args[0]
	if name == baselineCommand {
		// Hidden: the bench re-executes itself as the baseline server, so the
		// baseline pays the same process and loopback costs as Nova does.
		return serveBaseline(args[1:], stderr)
	}
	steps, ok := benchmarks[name]
	if !ok {
		if name != "-h" && name != "--help" && name != "help" {
			fmt.Fprintf(stderr, "nova-bench: unknown benchmark %q\n\n", name)
		}
		fmt.Fprint(stderr, usageText)
		return 2
	}
	o, err := parseOptions(name, args[1:], stderr)
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "nova-bench: %v\n", err)
		return 1
	}
	defer b.cleanup()
	start := time.Now()
	for _, step := range steps {
		if ctx.Err() != nil {
			break
		}
		step(b)
	}
	b.summary.elapsed = time.Since(start)
	b.summary.command = commandLine()
	b.summary.print(stdout)
	if err := b.summary.write(o.out); err != nil {
		fmt.Fprintf(stderr, "nova-bench: write %s: %v\n", o.out, err)
		return 1
	}
	fmt.Fprintf(stdout, "\nSummary written to %s\n", o.out)
	if ctx.Err() != nil {
		return 130
	}
	return 0
}

// benchmarks maps each subcommand to the steps it runs, in order.
var benchmarks = map[string][]func(*bench){
	"ingress":      {(*bench).ingress},
	"writeback":    {(*bench).writeback},
	"triage":       {(*bench).triage},
	"storm":        {(*bench).storm},
	"channelstorm": {(*bench).channelStorm},
	"all":          {(*bench).ingress, (*bench).writeback, (*bench).triage, (*bench).storm, (*bench).channelStorm},
}

// options are the flags shared by every benchmark.
type options struct {
	novaPath      string
	redisURL      string
	backend       string
	out           string
	keep          bool
	deliveries    int
	clients       int
	warmup        int
	ingressLimit  time.Duration
	notes         int
	onceWrites    int
	latency       time.Duration
	triageCount   int
	triageEvery   time.Duration
	stormCount    int
	stormEvery    time.Duration
	stormWait     time.Duration
	slackPerSec   int
	stormServices int
	// channelStormCount is the one-channel storm's incidents.
	channelStormCount int
}

func parseOptions(name string, args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("nova-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.novaPath, "nova", "", "prebuilt nova binary (default: go build ./cmd/nova into a temporary directory)")
	fs.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/13", "Redis for the redis rows (keys under a random prefix, deleted afterwards)")
	fs.StringVar(&o.backend, "store", "redis", "store backend for triage and storm: redis (falls back to bolt when Redis is unreachable) or bolt")
	fs.StringVar(&o.out, "out", "bench-results.md", "file the summary table is written to")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, Nova logs) for inspection")
	fs.IntVar(&o.deliveries, "n", 20000, "ingress: measured deliveries per target")
	fs.IntVar(&o.clients, "c", 32, "ingress: concurrent keep-alive clients")
	fs.IntVar(&o.warmup, "warmup", 1000, "ingress: unmeasured deliveries sent first to each target")
	fs.DurationVar(&o.ingressLimit, "ingress-limit", 3*time.Minute, "ingress: time limit per target")
	fs.IntVar(&o.notes, "notes", 600, "writeback: notes posted through the scoped client")
	fs.IntVar(&o.onceWrites, "once", 5000, "writeback: idempotent no-op writes per case on Redis")
	fs.DurationVar(&o.latency, "latency", 150*time.Millisecond, "triage, storm: emulator latency per PagerDuty call")
	fs.IntVar(&o.triageCount, "triage-n", 30, "triage: incidents, one at a time")
	fs.DurationVar(&o.triageEvery, "triage-every", 500*time.Millisecond, "triage: spacing between incidents")
	fs.IntVar(&o.stormCount, "storm-n", 200, "storm: incidents")
	fs.DurationVar(&o.stormEvery, "storm-every", 300*time.Millisecond, "storm: spacing between incidents")
	fs.DurationVar(&o.stormWait, "storm-wait", 5*time.Minute, "storm: how long after the first trigger to wait for every note")
	fs.IntVar(&o.slackPerSec, "slack-rate", 5, "storm: Slack slash commands and clicks per second during the storm")
	fs.IntVar(&o.stormServices, "storm-services", 5, "storm: action-mode services the incidents are spread over")
	fs.IntVar(&o.channelStormCount, "channel-storm-n", 100, "channelstorm: incidents triggered at once on one service and one Slack channel")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nova-bench: unexpected arguments %q\n", fs.Args())
		return o, flag.ErrHelp
	}
	if o.backend != "redis" && o.backend != "bolt" {
		fmt.Fprintf(stderr, "nova-bench: -store must be redis or bolt\n")
		return o, flag.ErrHelp
	}
	if o.deliveries < 1 || o.clients < 1 || o.notes < 1 || o.onceWrites < 1 || o.triageCount < 1 ||
		o.stormCount < 2 || o.channelStormCount < 1 || o.slackPerSec < 1 || o.stormServices < 1 || o.warmup < 0 {
		fmt.Fprintf(stderr, "nova-bench: counts must be positive\n")
		return o, flag.ErrHelp
	}
	return o, nil
}

// commandLine is how this run was started, in a form one can paste: under
// `go run` the binary lives in a temporary build directory, so the go run
// form is shown instead of that path.
func commandLine() string {
	prog := filepath.Base(os.Args[0])
	if strings.Contains(os.Args[0], "go-build") {
		prog = "go run ./cmd/nova-bench"
	}
	return strings.TrimSpace(prog + " " + strings.Join(os.Args[1:], " "))
}
