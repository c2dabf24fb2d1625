package bolt

import (
	"context"
	"sync"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// limiter is an in-memory GCRA limiter. One process owns a bolt file, so
// there is nobody to share the buckets with, and losing them on restart
// only forgets recent history.
type limiter struct {
	mu  sync.Mutex
	tat map[string]int64 // key -> theoretical arrival time, unix ns
}

// Take asks for one request on bucket key (see store.Limiter).
func (s *Store) Take(ctx context.Context, key string, rate store.Rate, reserve int) (time.Duration, error) {
	if err := checkCtx(ctx, "rate limit"); err != nil {
		return 0, err
	}
	interval, burst, reserve, err := gcraParams(rate, reserve)
	if err != nil {
		return 0, err
	}
	now := time.Now().UnixNano()
	s.limiter.mu.Lock()
	defer s.limiter.mu.Unlock()
	tat := max(s.limiter.tat[key], now)
	next := tat + interval
	// Taking is allowed if, afterwards, burst-reserve-1 more requests
	// could still be taken right now; reserve requests stay for others.
	if allowAt := next - int64(burst-reserve)*interval; allowAt > now {
		return time.Duration(allowAt - now), nil
	}
	s.limiter.tat[key] = next
	return 0, nil
}

// gcraParams validates rate and returns the emission interval (ns), the
// burst (at least 1) and the reserve (clamped so that a full bucket still
// serves a caller whose reserve can never be met).
func gcraParams(rate store.Rate, reserve int) (int64, int, int, error) {
	if rate.Limit <= 0 || rate.Period <= 0 {
		return 0, 0, 0, nova.Errorf(nova.EINVALID, "rate limit: limit and period must be positive (got %d per %v)", rate.Limit, rate.Period)
	}
	interval := max(int64(rate.Period)/int64(rate.Limit), 1)
	burst := max(rate.Burst, 1)
	return interval, burst, min(max(reserve, 0), burst-1), nil
}

// sweep forgets buckets that are full again, which is the same as never
// having seen them.
func (l *limiter) sweep(now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, tat := range l.tat {
		if tat <= now {
			delete(l.tat, k)
		}
	}
}
