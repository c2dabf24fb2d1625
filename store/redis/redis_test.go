package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/storetest"
)

// testURL is the shared test server; database 15 keeps tests away from
// anything else on a developer's Redis.
func testURL() string {
	if u := os.Getenv("NOVA_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// inCI reports whether missing infrastructure must fail the run rather
// than skip: CI promises a Redis.
func inCI() bool { return os.Getenv("CI") == "true" }

var (
	reachOnce sync.Once
	reachErr  error
)

// requireRedis skips (or, in CI, fails) when the test server is down.
func requireRedis(t testing.TB) {
	t.Helper()
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var s *Store
		if s, reachErr = Open(ctx, Options{URL: testURL()}); reachErr == nil {
			_ = s.Close()
		}
	})
	if reachErr != nil {
		if inCI() {
			t.Fatalf("CI=true but the test Redis is unreachable: %v", reachErr)
		}
		t.Skipf("no Redis for tests (set NOVA_TEST_REDIS_URL): %v", reachErr)
	}
}

func randomPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "novatest-" + hex.EncodeToString(b[:])
}

// openPrefix opens a store on prefix and deletes the prefix's keys when
// the test ends.
func openPrefix(t testing.TB, prefix string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{URL: testURL(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		deletePrefix(t, prefix)
	})
	return s
}

// deletePrefix removes every key of prefix, with a client of its own since
// a test may have closed the store's.
func deletePrefix(t testing.TB, prefix string) {
	ctx := context.Background()
	o, err := redis.ParseURL(testURL())
	if err != nil {
		t.Logf("cleanup of %s: %v", prefix, err)
		return
	}
	c := redis.NewClient(o)
	defer c.Close()
	iter := c.Scan(ctx, 0, "*"+prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("cleanup of %s: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Logf("cleanup of %s: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

func TestConformance(t *testing.T) {
	requireRedis(t)
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T) store.Store { return openPrefix(t, randomPrefix()) },
		Reopen: func(t *testing.T, s store.Store) store.Store {
			old := s.(*Store)
			_ = old.Close()
			reopened, err := Open(context.Background(), Options{URL: testURL(), Prefix: old.prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = reopened.Close() })
			return reopened
		},
		TamperAudit: func(t *testing.T, s store.Store, seq int64, mutate func(*nova.AuditEntry)) {
			rs := s.(*Store)
			ctx := context.Background()
			log := rs.audit + ":log"
			score := redis.ZRangeBy{Min: itoa(seq), Max: itoa(seq)}
			raw, err := rs.client.ZRangeByScore(ctx, log, &score).Result()
			if err != nil || len(raw) != 1 {
				t.Fatalf("read audit entry %d: %v, %d found", seq, err, len(raw))
			}
			var e nova.AuditEntry
			if err := json.Unmarshal([]byte(raw[0]), &e); err != nil {
				t.Fatal(err)
			}
			mutate(&e)
			body, _ := json.Marshal(e)
			_, err = rs.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZRemRangeByScore(ctx, log, itoa(seq), itoa(seq))
				p.ZAdd(ctx, log, redis.Z{Score: float64(seq), Member: body})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		},
		DeleteAudit: func(t *testing.T, s store.Store, seq int64) {
			rs := s.(*Store)
			if err := rs.client.ZRemRangeByScore(context.Background(), rs.audit+":log", itoa(seq), itoa(seq)).Err(); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
