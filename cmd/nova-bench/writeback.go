package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova/internal/e2e"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
	novaredis "github.com/novasre/nova/store/redis"
)

// PagerDuty's limit per key, and the write-back target against it.
const (
	pagerDutyLimit   = 960
	notesTargetShare = 0.90
)

// The emulator's window is shrunk tenfold: 96 requests per 6 s is
// PagerDuty's rate (960/min) without waiting minutes for a full window.
const (
	scaledLimit  = 96
	scaledWindow = 6 * time.Second
	// scaledBurst is the client's default burst (20) scaled by the same
	// tenth, so burst + pace (2 + 90) fits the 96-per-window limit as the
	// real 20 + 900 fits 960 per minute.
	scaledBurst = 2
)

// writeback measures (a) the notes one credential sustains through Nova's
// scoped client and (b) the cost of the idempotency bookkeeping per write.
func (b *bench) writeback() {
	b.section("2. writeback: notes per minute, and the cost of exactly-once")
	b.notesPerMinute()
	b.onceOverhead()
}

// notesPerMinute posts notes through pagerduty.Client (at its default
// 900/min pace, with the store's shared GCRA limiter) against the emulator
// enforcing PagerDuty's 960/min, from 8 concurrent writers on one incident.
func (b *bench) notesPerMinute() {
	const bench = "writeback notes/min"
	limiter, where, closeLimiter, err := b.limiterStore()
	if err != nil {
		b.fail(bench, err)
		return
	}
	defer closeLimiter()
	emu := pdemu.New(pdemu.Options{RateLimit: scaledLimit, RateWindow: scaledWindow, Logf: func(string, ...any) {}})
	url := emu.Start()
	defer emu.Close()
	token, from := "pd-bench-"+e2e.RandHex(10), "nova-bot@bench.example.com"
	emu.AddToken(token, benchEnv)
	emu.AddService(benchEnv, pdemu.Service{ID: "PCHECKOUT", Name: "checkout"})
	emu.AddUser(benchEnv, "PNOVABOT", from, "Nova")
	id := emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHECKOUT", Title: "write-back benchmark"}).ID
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	c, err := pagerduty.NewClient(pagerduty.ClientConfig{
		Environment: benchEnv, APIURL: url, Token: func() string { return token }, From: from,
		Limiter: limiter, Burst: scaledBurst, MaxElapsed: time.Minute, Log: quiet,
	})
	if err != nil {
		b.fail(bench, err)
		return
	}
	n := b.opts.notes
	b.logf("(a) %d notes through the scoped client (pace: its default 900/min, burst %d, limiter: %s) from 8 writers,", n, scaledBurst, where)
	b.logf("    against the emulator's limit of %d per %s (= %d/min, PagerDuty's, in a tenth of the window).", scaledLimit, scaledWindow, pagerDutyLimit)
	emu.ResetRequests()
	ctx, cancel := context.WithTimeout(b.ctx, time.Duration(n)*time.Second/10+2*time.Minute)
	defer cancel()
	jobs := make(chan int)
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if _, err := c.AddNote(ctx, id, fmt.Sprintf("bench note %d", i)); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	start := time.Now()
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	stored := len(emu.Notes(id))
	perMin := float64(stored) / elapsed.Minutes()
	limited := emu.RateLimited()
	beyond := max(0, limited-1)
	b.logf("    %d notes stored in %s: %.0f notes/min, %s of PagerDuty's %d/min; %d answered 429 (%d beyond the first); %d failed",
		stored, secs(elapsed), perMin, share(perMin, pagerDutyLimit), pagerDutyLimit, limited, beyond, failed.Load())
	if e := firstErr.Load(); e != nil {
		b.logf("    first failure: %s", e)
	}
	b.summary.add(bench, fmt.Sprintf("%.0f notes/min = %s of %d/min (%d notes, %s)", perMin, share(perMin, pagerDutyLimit),
		pagerDutyLimit, stored, secs(elapsed)), fmt.Sprintf("≥ %.0f%% of limit", notesTargetShare*100),
		met(perMin >= notesTargetShare*pagerDutyLimit && stored == n))
	b.summary.add("writeback 429s", fmt.Sprintf("%d beyond the first (%d in all), %d failed writes", beyond, limited, failed.Load()),
		"0 beyond the first", met(beyond == 0 && failed.Load() == 0))
}

// limiterStore returns the store whose GCRA the client paces with: Redis
// (what replicas share in production) when reachable, else bolt.
func (b *bench) limiterStore() (store.Limiter, string, func(), error) {
	if b.redisReachable() == nil {
		prefix := "bench-" + e2e.RandHex(6)
		s, err := novaredis.Open(b.ctx, novaredis.Options{URL: b.opts.redisURL, Prefix: prefix})
		if err == nil {
			return s, "Redis GCRA", func() { _ = s.Close(); _ = deleteRedisPrefix(b.opts.redisURL, prefix) }, nil
		}
	}
	s, err := bolt.Open(filepath.Join(b.tmp, "limiter-"+e2e.RandHex(4)+".db"), bolt.Options{})
	if err != nil {
		return nil, "", nil, err
	}
	return s, "bolt GCRA (Redis unreachable)", func() { _ = s.Close() }, nil
}

// onceOverhead times store.Once.Do with a no-op write on Redis, against
// calling the no-op directly: the difference is what exactly-once costs
// each note, ack and Slack post.
func (b *bench) onceOverhead() {
	const bench = "writeback exactly-once overhead (Redis)"
	n := b.opts.onceWrites
	b.logf("\n(b) store.Once.Do with a no-op Write on store/redis, %d writes per case, one at a time:", n)
	if err := b.redisReachable(); err != nil {
		b.logf("    %s (%v)", redisSkipped, err)
		b.summary.add(bench, redisSkipped, "", verdictSkipped)
		return
	}
	prefix := "bench-" + e2e.RandHex(6)
	s, err := novaredis.Open(b.ctx, novaredis.Options{URL: b.opts.redisURL, Prefix: prefix})
	if err != nil {
		b.fail(bench, err)
		return
	}
	defer func() { _ = s.Close(); _ = deleteRedisPrefix(b.opts.redisURL, prefix) }()
	once := &store.Once{Records: s}
	noop := func(context.Context, string) (string, error) { return "N0000001", nil }
	op := store.OnceOp{Write: noop}
	ctx := b.ctx

	bare := make([]time.Duration, n)
	for i := range bare {
		t0 := time.Now()
		_, _ = noop(ctx, "nova-01BENCH")
		bare[i] = time.Since(t0)
	}
	distinct, errs := timeOnce(ctx, once, op, n, func(i int) string { return fmt.Sprintf("note:Q%07d:hypothesis", i) })
	if _, _, _, err := once.Do(ctx, "note:QREPEAT:hypothesis", op); err != nil {
		errs++
	}
	repeat, rerrs := timeOnce(ctx, once, op, n, func(int) string { return "note:QREPEAT:hypothesis" })
	errs += rerrs

	lb, ld, lr := summarise(bare), summarise(distinct), summarise(repeat)
	fmt.Fprintln(b.out)
	table(b.out, []string{"case", "p50", "p99", "max", "overhead p50", "overhead p99"}, [][]string{
		{"bare no-op write", micro(lb.p50), micro(lb.p99), micro(lb.max), "", ""},
		{"Once.Do, distinct keys (first write)", micro(ld.p50), micro(ld.p99), micro(ld.max), micro(ld.p50 - lb.p50), micro(ld.p99 - lb.p99)},
		{"Once.Do, same key (already done)", micro(lr.p50), micro(lr.p99), micro(lr.max), micro(lr.p50 - lb.p50), micro(lr.p99 - lb.p99)},
	})
	b.logf("    A first write is Begin (load + compare-and-set put) and Complete (load + put): 4 Redis round trips;")
	b.logf("    a repeat is one load that finds the record done. %d errors.", errs)
	verdict := verdictNone
	if errs > 0 {
		verdict = verdictError
	}
	b.summary.add(bench, fmt.Sprintf("+%s p50 / +%s p99 per first write; +%s p50 / +%s p99 per repeat (bare no-op p50 %s)",
		micro(ld.p50-lb.p50), micro(ld.p99-lb.p99), micro(lr.p50-lb.p50), micro(lr.p99-lb.p99), micro(lb.p50)), "", verdict)
}

// timeOnce runs Once.Do n times with key(i) and returns the durations.
func timeOnce(ctx context.Context, once *store.Once, op store.OnceOp, n int, key func(int) string) ([]time.Duration, int) {
	out := make([]time.Duration, 0, n)
	errs := 0
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		_, _, _, err := once.Do(ctx, key(i), op)
		out = append(out, time.Since(t0))
		if err != nil {
			errs++
		}
	}
	return out, errs
}
