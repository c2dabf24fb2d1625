package redis

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// throwaway is a redis-server child process owned by one test, so that
// the test can stop Redis without disturbing the shared server.
type throwaway struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
}

func startThrowaway(t *testing.T) *throwaway {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if inCI() {
			t.Fatal("CI=true but redis-server is not in PATH")
		}
		t.Skip("redis-server is not in PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	r := &throwaway{bin: bin, dir: t.TempDir(), port: port}
	r.start(t)
	t.Cleanup(r.stop)
	return r
}

func (r *throwaway) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *throwaway) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not start: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the child (only ours, by its pid) and reaps it.
func (r *throwaway) stop() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

func TestOutageIsUnavailableThenRecovers(t *testing.T) {
	srv := startThrowaway(t)
	ctx := context.Background()
	s, err := Open(ctx, Options{URL: srv.url(), Prefix: "outage"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.Enqueue(ctx, store.Delivery{Key: "k", Payload: []byte("before")}, time.Minute); err != nil || !ok {
		t.Fatalf("Enqueue while up = %v, %v", ok, err)
	}

	srv.stop()
	checks := map[string]func() error{
		"Ping": func() error { return s.Ping(ctx) },
		"Enqueue": func() error {
			_, err := s.Enqueue(ctx, store.Delivery{Key: "k"}, time.Minute)
			return err
		},
		"Claim": func() error { _, err := s.Claim(ctx, time.Minute); return err },
		"Put":   func() error { _, err := s.Put(ctx, store.KindMeta, "m", nil, store.AnyVersion, 0); return err },
		"Get":   func() error { _, err := s.Get(ctx, store.KindMeta, "m"); return err },
		"AppendAudit": func() error {
			_, err := s.AppendAudit(ctx, nova.AuditEntry{Actor: "nova", Action: "test"})
			return err
		},
		"Take": func() error {
			_, err := s.Take(ctx, "k", store.Rate{Limit: 1, Period: time.Second, Burst: 1}, 0)
			return err
		},
	}
	for name, call := range checks {
		if err := call(); !nova.IsCode(err, nova.EUNAVAILABLE) {
			t.Errorf("%s while Redis is down = %v, want EUNAVAILABLE", name, err)
		}
	}

	srv.start(t)
	deadline := time.Now().Add(15 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("store did not recover after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The throwaway server keeps nothing, so the inbox starts empty again.
	if ok, err := s.Enqueue(ctx, store.Delivery{Key: "k", Payload: []byte("after")}, time.Minute); err != nil || !ok {
		t.Fatalf("Enqueue after recovery = %v, %v", ok, err)
	}
	d, err := s.Claim(ctx, time.Minute)
	if err != nil || d == nil || string(d.Payload) != "after" {
		t.Fatalf("Claim after recovery = %+v, %v", d, err)
	}
	if _, err := s.AppendAudit(ctx, nova.AuditEntry{Actor: "nova", Action: "test"}); err != nil {
		t.Fatalf("AppendAudit after recovery: %v", err)
	}
}

func TestOpenUnreachableHidesPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, Options{URL: "redis://nova:s3cret-pw@" + addr + "/0"})
	if !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("Open of an unreachable Redis = %v, want EUNAVAILABLE", err)
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
	t.Logf("unreachable Redis reported after %v: %v", time.Since(start), err)
}

func TestOpenBadURLHidesPassword(t *testing.T) {
	for _, u := range []string{"redis://nova:s3cret-pw@host:notaport/0", "http://nova:s3cret-pw@host:6379", "redis://nova:s3cret-pw@host:6379/x"} {
		_, err := Open(context.Background(), Options{URL: u})
		if !nova.IsCode(err, nova.EINVALID) || strings.Contains(err.Error(), "s3cret-pw") {
			t.Fatalf("Open(bad URL) = %v; want EINVALID without the password", err)
		}
	}
	if _, err := Open(context.Background(), Options{Prefix: "a{b}", URL: "redis://127.0.0.1:1"}); !nova.IsCode(err, nova.EINVALID) {
		t.Fatalf("prefix with braces: %v, want EINVALID", err)
	}
	if _, err := Open(context.Background(), Options{}); !nova.IsCode(err, nova.EINVALID) {
		t.Fatalf("no URL or addresses: %v, want EINVALID", err)
	}
}
