package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
	"github.com/novasre/nova/store/redis"
)

// backends returns the stores the Once tests run against: bolt always,
// Redis when reachable (and always under CI=true).
func backends(t *testing.T) map[string]store.Store {
	t.Helper()
	out := map[string]store.Store{}
	b, err := bolt.Open(filepath.Join(t.TempDir(), "once.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	out["bolt"] = b
	url := os.Getenv("NOVA_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/15"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opt)
	prefix := "once-test-" + store.NewOwner()
	r, err := redis.Open(ctx, redis.Options{Client: client, Prefix: prefix})
	switch {
	case err == nil:
		t.Cleanup(func() {
			r.Close()
			ctx := context.Background()
			keys, _ := client.Keys(ctx, "*"+prefix+"*").Result()
			if len(keys) > 0 {
				client.Del(ctx, keys...)
			}
			client.Close()
		})
		out["redis"] = r
	case os.Getenv("CI") == "true":
		t.Fatalf("Redis unreachable under CI=true: %v", err)
	default:
		t.Logf("Redis unreachable, running Once tests on bolt only: %v", err)
	}
	return out
}

func TestOnceConcurrentWritersWriteOnce(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			once := &store.Once{Records: st, Poll: 5 * time.Millisecond}
			var writes atomic.Int32
			var wg sync.WaitGroup
			results := make(chan string, 50)
			for i := 0; i < 50; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, _, _, err := once.Do(context.Background(), "note:P1:hypothesis", store.OnceOp{
						Write: func(ctx context.Context, auditID string) (string, error) {
							writes.Add(1)
							time.Sleep(20 * time.Millisecond) // a slow PagerDuty
							return "NOTE1", nil
						},
					})
					if err != nil {
						t.Error(err)
					}
					results <- res
				}()
			}
			wg.Wait()
			close(results)
			if n := writes.Load(); n != 1 {
				t.Fatalf("50 concurrent attempts wrote %d times, want 1", n)
			}
			for r := range results {
				if r != "NOTE1" {
					t.Fatalf("a caller got %q, want the one note id", r)
				}
			}
		})
	}
}

func TestOnceCrashAfterWriteIsFoundNotRepeated(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now()
			clock := func() time.Time { return now }
			once := &store.Once{Records: st, Lease: time.Minute, Now: clock}
			// A first worker begins, writes remotely, and dies before Complete.
			rec, verdict, err := once.Begin(ctx, "k", "dead-worker")
			if err != nil || verdict != store.VerdictWrite {
				t.Fatalf("begin: %v %v", verdict, err)
			}
			remote := map[string]string{rec.AuditID: "NOTE-FROM-DEAD-WORKER"}
			// While its lease lasts, others wait.
			if _, v, _ := once.Begin(ctx, "k", "other"); v != store.VerdictBusy {
				t.Fatalf("verdict during lease = %v, want busy", v)
			}
			now = now.Add(2 * time.Minute)
			var wrote bool
			res, auditID, did, err := once.Do(ctx, "k", store.OnceOp{
				Write: func(context.Context, string) (string, error) { wrote = true; return "DUPLICATE", nil },
				Find: func(_ context.Context, id string) (string, bool, error) {
					v, ok := remote[id]
					return v, ok, nil
				},
			})
			if err != nil || wrote || did || res != "NOTE-FROM-DEAD-WORKER" || auditID != rec.AuditID {
				t.Fatalf("after crash: res=%q audit=%q wrote=%v did=%v err=%v", res, auditID, wrote, did, err)
			}
			if _, v, _ := once.Begin(ctx, "k", "later"); v != store.VerdictDone {
				t.Fatalf("verdict after recovery = %v, want done", v)
			}
		})
	}
}

func TestOnceRefusedWriteIsForgottenUnknownIsVerified(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			once := &store.Once{Records: st, Lease: time.Hour}
			// A 4xx: certainly not written, so the next attempt writes afresh.
			_, _, _, err := once.Do(ctx, "refused", store.OnceOp{Write: func(context.Context, string) (string, error) {
				return "", nova.Errorf(nova.EINVALID, "PagerDuty said 400")
			}})
			if !nova.IsCode(err, nova.EINVALID) {
				t.Fatal(err)
			}
			if _, v, _ := once.Begin(ctx, "refused", "next"); v != store.VerdictWrite {
				t.Fatalf("after a refusal the verdict is %v, want write", v)
			}
			// A timeout: maybe written, so the next attempt verifies at once
			// (no waiting for the hour-long lease).
			_, _, _, err = once.Do(ctx, "unknown", store.OnceOp{Write: func(context.Context, string) (string, error) {
				return "", nova.Errorf(nova.EUNAVAILABLE, "timeout")
			}})
			if !nova.IsCode(err, nova.EUNAVAILABLE) {
				t.Fatal(err)
			}
			if _, v, _ := once.Begin(ctx, "unknown", "next"); v != store.VerdictVerify {
				t.Fatalf("after an unknown outcome the verdict is %v, want verify", v)
			}
		})
	}
}
