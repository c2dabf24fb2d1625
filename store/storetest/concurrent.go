package storetest

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova/store"
)

// runInboxConcurrent has producers and claimers race on one inbox, as
// several Nova replicas do, and checks that every item is processed exactly
// once, that no key is ever held by two workers, and that each key's items
// are processed in the order they were enqueued.
func runInboxConcurrent(t *testing.T, h Harness) {
	const workers, keys = 8, 50
	perWorker := 500
	if testing.Short() {
		perWorker = 100
	}
	total := workers * perWorker
	s := h.New(t)
	ctx := testContext(t)

	var (
		mu       sync.Mutex
		done     = make(map[string]int, total)  // payload -> times processed
		lastSeq  = make(map[string]int64, keys) // key -> last processed seq
		lastIdx  = make(map[string]int)         // producer/key -> last index
		holders  = make(map[string]int, keys)   // key -> workers holding it
		failures []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var processed atomic.Int64
	var wg sync.WaitGroup
	for p := range workers {
		wg.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("key-%02d", (p*perWorker+i)%keys)
				d := store.Delivery{Key: key, Priority: i % 3, WebhookID: fmt.Sprintf("w-%d-%d", p, i),
					Payload: fmt.Appendf(nil, "%d/%s/%d", p, key, i)}
				if ok, err := s.Enqueue(ctx, d, dedupTTL); err != nil || !ok {
					fail("Enqueue %s = %v, %v", d.Payload, ok, err)
					return
				}
			}
		})
	}
	for range workers {
		wg.Go(func() {
			for processed.Load() < int64(total) && ctx.Err() == nil {
				d, err := s.Claim(ctx, time.Minute)
				if err != nil {
					fail("Claim: %v", err)
					return
				}
				if d == nil {
					time.Sleep(time.Millisecond)
					continue
				}
				parts := strings.Split(string(d.Payload), "/")
				if len(parts) != 3 || parts[1] != d.Key {
					fail("payload %q does not belong to key %q", d.Payload, d.Key)
					return
				}
				key, pk := d.Key, parts[0]+"/"+d.Key
				i, _ := strconv.Atoi(parts[2])
				mu.Lock()
				holders[key]++
				if holders[key] > 1 {
					failures = append(failures, "key "+key+" claimed by two workers at once")
				}
				mu.Unlock()
				// Let other claimers run while this key is held.
				runtime.Gosched()
				mu.Lock()
				if d.Seq <= lastSeq[key] {
					failures = append(failures, fmt.Sprintf("key %s: seq %d processed after %d", key, d.Seq, lastSeq[key]))
				}
				if last, ok := lastIdx[pk]; ok && i <= last {
					failures = append(failures, fmt.Sprintf("%s: item %d processed after %d", pk, i, last))
				}
				lastSeq[key], lastIdx[pk] = d.Seq, i
				done[string(d.Payload)]++
				holders[key]--
				mu.Unlock()
				if err := s.Ack(ctx, d); err != nil {
					fail("Ack %s: %v", d.Payload, err)
					return
				}
				processed.Add(1)
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d problems, first: %s", len(failures), failures[0])
	}
	if len(done) != total {
		t.Fatalf("%d distinct items processed, want %d", len(done), total)
	}
	for payload, n := range done {
		if n != 1 {
			t.Fatalf("item %s processed %d times, want once", payload, n)
		}
	}
	wantDepth(t, s, 0)
}
