package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ListeningMsg is the log message with which `nova serve` says it accepts
// requests; its addr field is the address.
const ListeningMsg = "nova listening"

// Process is a server running as its own process (Nova, or a baseline
// server): its stderr is copied to a log, and the JSON log line announcing
// its address is picked out on the way.
type Process struct {
	Name string
	// URL is http:// and the address the process announced.
	URL  string
	cmd  *exec.Cmd
	done chan struct{}

	mu   sync.Mutex
	tail []string // the last log lines, for error messages
}

// Start runs bin with args, copies its stderr (and stdout) to logs, and
// waits until it logs listenMsg with an addr field, for at most within.
// On Linux the process gets SIGTERM if its parent dies, so no server is left
// listening after a crash of the caller.
func Start(ctx context.Context, name, bin string, args []string, logs io.Writer, listenMsg string, within time.Duration) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = childProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	logs = &lockedWriter{mu: &mu, w: logs}
	cmd.Stdout = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		p.scan(stderr, logs, listenMsg, addr)
	}()
	go func() {
		<-scanned // Wait closes the pipe; read it to the end first
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-addr:
		p.URL = "http://" + a
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited at start; last log lines:\n%s", name, p.LastLines())
	case <-time.After(within):
		p.Stop()
		return nil, fmt.Errorf("%s did not listen within %s; last log lines:\n%s", name, within, p.LastLines())
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
}

// scan copies the process's log to w and reports the address it listens on.
func (p *Process) scan(r io.Reader, w io.Writer, listenMsg string, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = io.WriteString(w, line+"\n")
		p.mu.Lock()
		p.tail = append(p.tail, line)
		if len(p.tail) > 20 {
			p.tail = p.tail[1:]
		}
		p.mu.Unlock()
		var e struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == listenMsg && e.Addr != "" {
			select {
			case addr <- e.Addr:
			default:
			}
		}
	}
	_, _ = io.Copy(w, r)
}

// LastLines returns the last lines the process logged.
func (p *Process) LastLines() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill sends sig and waits for the process to end, killing it if it has
// not ended within 40 s (Nova's own shutdown grace is 30 s).
func (p *Process) Kill(sig syscall.Signal) {
	if p.Exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Stop asks the process to shut down gracefully (SIGTERM) and waits.
func (p *Process) Stop() { p.Kill(syscall.SIGTERM) }

// lockedWriter serialises the process's two output streams.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
