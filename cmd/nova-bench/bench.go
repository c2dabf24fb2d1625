package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// bench is one run of the tool: options, a scratch directory, the Nova
// binary under test, and the summary rows collected along the way.
type bench struct {
	ctx     context.Context
	opts    options
	out     io.Writer
	tmp     string
	summary *summary

	buildOnce sync.Once
	novaBin   string
	buildErr  error

	redisOnce sync.Once
	redisErr  error

	// cleanups run at the end, last first (stop processes, delete Redis keys).
	cleanups []func()
}

func newBench(ctx context.Context, o options, out io.Writer) (*bench, error) {
	tmp, err := os.MkdirTemp("", "nova-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{ctx: ctx, opts: o, out: out, tmp: tmp, summary: &summary{started: time.Now()}}
	b.summary.machine = fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(out, "nova-bench: %s; scratch directory %s\n", b.summary.machine, tmp)
	return b, nil
}

// deferCleanup registers fn to run at cleanup.
func (b *bench) deferCleanup(fn func()) { b.cleanups = append(b.cleanups, fn) }

// cleanup undoes everything the run set up.
func (b *bench) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
	if b.opts.keep {
		fmt.Fprintf(b.out, "Kept %s (configs and Nova logs)\n", b.tmp)
		return
	}
	_ = os.RemoveAll(b.tmp)
}

// novaBinary returns the binary under test, building ./cmd/nova once when
// -nova was not given. The module path is used so it builds from any
// directory inside the module.
func (b *bench) novaBinary() (string, error) {
	b.buildOnce.Do(func() {
		if b.opts.novaPath != "" {
			b.novaBin, b.buildErr = filepath.Abs(b.opts.novaPath)
			return
		}
		b.novaBin = filepath.Join(b.tmp, "nova")
		fmt.Fprintf(b.out, "Building nova (go build -o %s github.com/novasre/nova/cmd/nova)…\n", b.novaBin)
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", b.novaBin, "github.com/novasre/nova/cmd/nova").CombinedOutput()
		if err != nil {
			b.buildErr = fmt.Errorf("go build nova: %v\n%s", err, out)
		}
	})
	return b.novaBin, b.buildErr
}

// section prints a heading for one benchmark.
func (b *bench) section(title string) {
	fmt.Fprintf(b.out, "\n## %s\n\n", title)
}

// logf prints one progress line.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.out, format+"\n", args...)
}

// fail reports a benchmark that could not run, in the section and in the
// summary, so a broken run is never mistaken for a missed target.
func (b *bench) fail(benchmark string, err error) {
	b.logf("ERROR: %v", err)
	b.summary.add(benchmark, "could not run: "+firstLine(err.Error()), "", verdictError)
}

// sleep waits for d or until the run is interrupted; it reports whether the
// full time passed.
func (b *bench) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}
