package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	done chan struct{}
}

// startProcess runs `nova serve` on the harness's configuration and waits
// until it listens.
func (h *harness) startProcess() *process {
	h.t.Helper()
	cmd := exec.Command(novaBinary(h.t), "serve", "--config", h.cfgPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &lockedBuffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _ = io.WriteString(p.logs, line+"\n")
			var e struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "nova listening" {
				addr <- e.Addr
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-p.done:
		h.t.Fatalf("nova exited at start:\n%s", p.logs.String())
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		h.t.Fatalf("nova did not listen within 20 s:\n%s", p.logs.String())
	}
	h.t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	return p
}

// kill sends sig and waits for the process to end.
func (p *process) kill(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *process) instance() *instance { return &instance{url: p.url, logs: p.logs} }

func hasLine(logs, msg string) bool { return strings.Contains(logs, msg) }
