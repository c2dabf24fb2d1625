package main

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// A process killed with SIGKILL right after answering 202 processes the
// event after a restart: the event was durable before the answer.
func TestKilledAfter202IsProcessedAfterRestart(t *testing.T) {
	h := newHarness(t, harnessOptions{Visibility: "2s"})
	inc := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout-api: 5xx error rate above 5%"})
	h.pd.SetLatency(2 * time.Second) // triage is still gathering evidence when the kill comes
	p := h.startProcess()
	code, body := h.deliver(p.instance(), "prod", "wh-kill-1", envelope("evt-kill-1", "incident.triggered", inc, time.Now()))
	if code != 202 {
		t.Fatalf("delivery answered %d %s", code, body)
	}
	p.kill(syscall.SIGKILL)
	if n := len(h.novaNotes(inc.ID)); n != 0 {
		t.Fatalf("note written before the kill (%d); the test did not kill mid-work", n)
	}
	h.pd.SetLatency(0)
	p2 := h.startProcess()
	h.eventually(30*time.Second, "the note after restart", func() bool { return len(h.novaNotes(inc.ID)) >= 1 })
	time.Sleep(3 * time.Second) // a second processing would have written by now
	if n := len(h.novaNotes(inc.ID)); n != 1 {
		t.Fatalf("%d notes after kill and restart, want 1", n)
	}
	p2.kill(syscall.SIGTERM)
	if !hasLine(p2.logs.String(), "stopped") {
		t.Errorf("graceful shutdown did not finish:\n%s", p2.logs.String())
	}
}

// A crash after PagerDuty stored the note but before Nova recorded it does
// not duplicate the note on restart: Nova finds it by its audit id.
func TestCrashBetweenNoteAcceptedAndRecordedDoesNotDuplicate(t *testing.T) {
	h := newHarness(t, harnessOptions{Visibility: "2s"})
	inc := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout-api: 5xx error rate above 5%"})
	// PagerDuty stores the note, then the answer hangs: Nova is killed before it hears back.
	h.pd.InjectFault(pdemu.Fault{Method: "POST", Path: "/incidents/" + inc.ID + "/notes", AfterCommit: true, Hang: 30 * time.Second, Count: 1})
	p := h.startProcess()
	if code, body := h.deliver(p.instance(), "prod", "wh-crash-1", envelope("evt-crash-1", "incident.triggered", inc, time.Now())); code != 202 {
		t.Fatalf("delivery answered %d %s", code, body)
	}
	h.eventually(15*time.Second, "PagerDuty to store the note", func() bool { return len(h.novaNotes(inc.ID)) == 1 })
	p.kill(syscall.SIGKILL)
	h.pd.ClearFaults()
	h.startProcess()
	h.eventually(30*time.Second, "the ack after restart", func() bool {
		got, _ := h.pd.Incident(inc.ID)
		return got.Status == "acknowledged"
	})
	time.Sleep(time.Second)
	if n := len(h.novaNotes(inc.ID)); n != 1 {
		t.Fatalf("%d notes after a crash between write and record, want 1", n)
	}
}

// With Redis down, deliveries are answered 503 (PagerDuty retries) and
// nothing already accepted is lost once Redis is back.
func TestRedisOutageAnswers503AndLosesNothing(t *testing.T) {
	srv := startRedisServer(t)
	h := newHarness(t, harnessOptions{Backend: "redis", RedisURL: srv.url(), Visibility: "2s"})
	incA := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout-api: 5xx error rate above 5%"})
	incB := h.pd.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "checkout-api: latency p99 above 2s"})
	in := h.start()
	h.pd.SetLatency(1500 * time.Millisecond) // A is mid-triage when Redis goes away
	if code, _ := h.deliver(in, "prod", "wh-A", envelope("evt-A", "incident.triggered", incA, time.Now())); code != 202 {
		t.Fatalf("A answered %d", code)
	}
	srv.stop()
	code, body := h.deliver(in, "prod", "wh-B", envelope("evt-B", "incident.triggered", incB, time.Now()))
	if code != 503 {
		t.Fatalf("with Redis down B answered %d %s, want 503 so PagerDuty retries", code, body)
	}
	if code, _ := httpGet(t, in.url+"/readyz", ""); code != 503 {
		t.Errorf("/readyz = %d with Redis down, want 503", code)
	}
	h.pd.SetLatency(0)
	srv.restart()
	// PagerDuty redelivers B with the same webhook id.
	h.eventually(20*time.Second, "B to be accepted after Redis returns", func() bool {
		code, _ := h.deliver(in, "prod", "wh-B", envelope("evt-B", "incident.triggered", incB, time.Now()))
		return code == 202
	})
	h.eventually(40*time.Second, "notes on A and B", func() bool {
		return len(h.novaNotes(incA.ID)) == 1 && len(h.novaNotes(incB.ID)) == 1
	})
	time.Sleep(2 * time.Second)
	if a, b := len(h.novaNotes(incA.ID)), len(h.novaNotes(incB.ID)); a != 1 || b != 1 {
		t.Fatalf("notes: A %d, B %d; want exactly one each", a, b)
	}
}

// redisServer is a throwaway redis-server that keeps its data across a
// restart (append-only file), like a production Redis should.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed")
		}
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &redisServer{t: t, port: port, dir: t.TempDir()}
	s.restart()
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(s.port) + "/0" }

func (s *redisServer) restart() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(s.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatal("redis-server did not start")
}

func (s *redisServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}
