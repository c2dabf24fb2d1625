package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a server under test running as its own process: Nova, or the
// baseline. Its stderr goes to a log file; the line announcing its address
// is picked out on the way.
type child struct {
	name    string
	cmd     *exec.Cmd
	url     string
	logPath string
	done    chan struct{}

	mu   sync.Mutex
	tail []string // the last log lines, for error messages
}

// startChild runs bin with args and waits until it logs listenMsg with an
// addr field (JSON), as Nova does with "nova listening".
func (b *bench) startChild(name, bin string, args []string, listenMsg string) (*child, error) {
	logPath := fmt.Sprintf("%s/%s-%d.log", b.tmp, name, time.Now().UnixNano())
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = childProcAttr()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	addr := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		c.scan(stderr, logFile, listenMsg, addr)
	}()
	go func() {
		<-scanned // Wait closes the pipe; read it to the end first
		_ = cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	select {
	case a := <-addr:
		c.url = "http://" + a
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited at start; last log lines:\n%s", name, c.lastLines())
	case <-time.After(30 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not listen within 30 s; last log lines:\n%s", name, c.lastLines())
	case <-b.ctx.Done():
		c.stop()
		return nil, b.ctx.Err()
	}
}

// scan copies the child's log to w and reports the address it listens on.
func (c *child) scan(r io.Reader, w io.Writer, listenMsg string, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = io.WriteString(w, line+"\n")
		c.mu.Lock()
		c.tail = append(c.tail, line)
		if len(c.tail) > 20 {
			c.tail = c.tail[1:]
		}
		c.mu.Unlock()
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

func (c *child) lastLines() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop asks the process to shut down gracefully (SIGTERM), and kills it if
// it has not ended within 40 s (Nova's own grace is 30 s).
func (c *child) stop() {
	if c.exited() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(40 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}
