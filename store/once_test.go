package store_test

import (
	"context"
	"encoding/json"
	"errors"
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

// Red-team item 3: a write slower than the lease keeps its key while its
// writer is alive, so a second writer (another replica, the sweeper) waits
// for its result instead of writing again.
func TestRedTeam3_SlowWriteRenewsItsLease(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			once := &store.Once{Records: st, Lease: 300 * time.Millisecond, Poll: 10 * time.Millisecond}
			var writes atomic.Int32
			started := make(chan struct{})
			slow := store.OnceOp{Write: func(ctx context.Context, _ string) (string, error) {
				if writes.Add(1) == 1 {
					close(started)
				}
				time.Sleep(1200 * time.Millisecond) // four leases, ignoring ctx like a stuck HTTP call
				return "RUN1", nil
			}}
			first := make(chan string, 1)
			go func() {
				res, _, _, err := once.Do(ctx, "action:apr-1", slow)
				if err != nil {
					t.Error(err)
				}
				first <- res
			}()
			<-started
			time.Sleep(600 * time.Millisecond) // twice the lease: without renewal it has run out
			if rec, v, err := once.Begin(ctx, "action:apr-1", "sweeper"); err != nil || v != store.VerdictBusy {
				t.Fatalf("a second writer while the first is alive got verdict %v (lease until %v), %v; want busy", v, rec.LeaseUntil, err)
			}
			res, _, wrote, err := once.Do(ctx, "action:apr-1", slow)
			if err != nil || wrote || res != "RUN1" {
				t.Fatalf("second Do = %q wrote=%v %v; want the first run's result", res, wrote, err)
			}
			if got := <-first; got != "RUN1" {
				t.Fatalf("first Do = %q", got)
			}
			if n := writes.Load(); n != 1 {
				t.Fatalf("the write ran %d times, want 1", n)
			}
		})
	}
}

// A writer whose key was taken over stops at once (its context is
// cancelled), reports ErrLeaseLost, and leaves the record to the new owner.
func TestRedTeam3_WriterStopsWhenItsKeyIsTakenOver(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			once := &store.Once{Records: st, Lease: 300 * time.Millisecond}
			started := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				_, _, _, err := once.Do(ctx, "k", store.OnceOp{Write: func(ctx context.Context, _ string) (string, error) {
					close(started)
					<-ctx.Done()
					return "", nova.WrapError(nova.EUNAVAILABLE, ctx.Err(), "gave up")
				}})
				done <- err
			}()
			<-started
			rec, v, err := store.Load[store.OnceRecord](ctx, st, store.KindOnce, "k")
			if err != nil {
				t.Fatal(err)
			}
			rec.Owner, rec.LeaseUntil = "successor", time.Now().Add(time.Hour)
			if _, err := st.Put(ctx, store.KindOnce, "k", mustJSON(t, rec), v, 0); err != nil {
				t.Fatal(err)
			}
			var got error
			select {
			case got = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the writer kept writing after its key was taken over")
			}
			if !errors.Is(got, store.ErrLeaseLost) || !nova.IsCode(got, nova.ECONFLICT) {
				t.Fatalf("Do = %v, want ErrLeaseLost", got)
			}
			after, _, err := store.Load[store.OnceRecord](ctx, st, store.KindOnce, "k")
			if err != nil || after.Owner != "successor" || after.LeaseUntil.IsZero() {
				t.Fatalf("record after the loser stopped: %+v %v; want the successor's, untouched", after, err)
			}
		})
	}
}

// A writer that cannot renew its lease (the store is unreachable) stops
// before the lease runs out, so whoever takes the key over after the lease
// never overlaps with it.
func TestRedTeam3_WriterStopsBeforeAnUnrenewableLeaseEnds(t *testing.T) {
	for name, st := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			flaky := &failingRecords{Records: st}
			once := &store.Once{Records: flaky, Lease: 300 * time.Millisecond}
			var stoppedAt time.Time
			_, _, _, err := once.Do(ctx, "k", store.OnceOp{Write: func(ctx context.Context, _ string) (string, error) {
				flaky.down.Store(true)
				<-ctx.Done()
				stoppedAt = time.Now()
				return "", nova.WrapError(nova.EUNAVAILABLE, ctx.Err(), "gave up")
			}})
			flaky.down.Store(false)
			if !errors.Is(err, store.ErrLeaseLost) {
				t.Fatalf("Do = %v, want ErrLeaseLost", err)
			}
			rec, _, lerr := store.Load[store.OnceRecord](ctx, st, store.KindOnce, "k")
			if lerr != nil || !stoppedAt.Before(rec.LeaseUntil) {
				t.Fatalf("the writer stopped at %v, its lease ended at %v (%v)", stoppedAt, rec.LeaseUntil, lerr)
			}
		})
	}
}

// failingRecords answers every call with EUNAVAILABLE while down is set.
type failingRecords struct {
	store.Records
	down atomic.Bool
}

func (f *failingRecords) Get(ctx context.Context, kind, id string) (store.Item, error) {
	if f.down.Load() {
		return store.Item{}, nova.Errorf(nova.EUNAVAILABLE, "store down")
	}
	return f.Records.Get(ctx, kind, id)
}

func (f *failingRecords) Put(ctx context.Context, kind, id string, v []byte, version int64, ttl time.Duration) (int64, error) {
	if f.down.Load() {
		return 0, nova.Errorf(nova.EUNAVAILABLE, "store down")
	}
	return f.Records.Put(ctx, kind, id, v, version, ttl)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
