package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/novasre/nova/internal/e2e"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// novaBinary builds the real nova binary once per test run.
func novaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nova-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "nova")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("go build: %s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build nova: %v", buildErr)
	}
	return binPath
}

// process is a nova binary running as its own process.
type process struct {
	proc *e2e.Process
	url  string
	logs *lockedBuffer
}

// startProcess runs `nova serve` on the harness's configuration and waits
// until it listens.
func (h *harness) startProcess() *process {
	h.t.Helper()
	p := &process{logs: &lockedBuffer{}}
	proc, err := e2e.Start(context.Background(), "nova", novaBinary(h.t), []string{"serve", "--config", h.cfgPath}, p.logs, e2e.ListeningMsg, 20*time.Second)
	if err != nil {
		h.t.Fatal(err)
	}
	p.proc, p.url = proc, proc.URL
	h.t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	return p
}

// kill sends sig and waits for the process to end.
func (p *process) kill(sig syscall.Signal) { p.proc.Kill(sig) }

func (p *process) instance() *instance { return &instance{url: p.url, logs: p.logs} }

func hasLine(logs, msg string) bool { return strings.Contains(logs, msg) }
