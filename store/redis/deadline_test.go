package redis

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// freeze stops the throwaway server with SIGSTOP (its process only, by
// pid): connections stay open and commands are accepted by the kernel but
// never answered, which is what a stalled Redis looks like to a client.
func (r *throwaway) freeze(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.thaw)
}

func (r *throwaway) thaw() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(syscall.SIGCONT)
	}
}

// Issue 15 item 9: with Redis frozen, every store call gives up at its
// caller's deadline (EUNAVAILABLE wrapping context.DeadlineExceeded)
// instead of waiting out go-redis's own read timeout.
func TestRedTeam9_FrozenRedisHonoursCallerDeadlines(t *testing.T) {
	srv := startThrowaway(t)
	s, err := Open(context.Background(), Options{URL: srv.url(), Prefix: "frozen"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Warm the pool so the calls below use open connections to the stalled server.
	if _, err := s.Put(context.Background(), store.KindMeta, "m", []byte("1"), store.AnyVersion, 0); err != nil {
		t.Fatal(err)
	}
	srv.freeze(t)

	const budget = 400 * time.Millisecond
	calls := map[string]func(context.Context) error{
		"Ping": s.Ping,
		"Get":  func(ctx context.Context) error { _, err := s.Get(ctx, store.KindMeta, "m"); return err },
		"Put": func(ctx context.Context) error {
			_, err := s.Put(ctx, store.KindMeta, "m", []byte("2"), store.AnyVersion, 0)
			return err
		},
		"AppendAudit": func(ctx context.Context) error {
			_, err := s.AppendAudit(ctx, nova.AuditEntry{Actor: nova.ActorNova, Action: "test"})
			return err
		},
		"AuditHead": func(ctx context.Context) error { _, err := s.AuditHead(ctx); return err },
		"Claim":     func(ctx context.Context) error { _, err := s.Claim(ctx, time.Minute); return err },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		cancel()
		if !nova.IsCode(err, nova.EUNAVAILABLE) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s on a frozen Redis = %v; want EUNAVAILABLE wrapping context.DeadlineExceeded", name, err)
		}
		if took > budget+time.Second {
			t.Errorf("%s on a frozen Redis returned after %v; its caller gave it %v", name, took, budget)
		}
	}
}
