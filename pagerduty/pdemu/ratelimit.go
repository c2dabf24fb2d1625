package pdemu

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a sliding-window log per token: a request is allowed when
// fewer than limit requests of that token fall in the last window. A sliding
// window is stricter than a fixed one (no double burst at a boundary), so a
// client that passes it also passes PagerDuty's.
type rateLimiter struct {
	limit  int
	window time.Duration

	mu   sync.Mutex
	hits map[string][]time.Time
}

func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, hits: map[string][]time.Time{}}
}

// take counts one request of token at now. It returns the requests left in
// the window, the whole seconds until the oldest counted request leaves it
// (PagerDuty's ratelimit-reset), and whether the request is allowed.
// Refused requests are not counted, so a client that waits reset seconds
// gets through.
func (l *rateLimiter) take(token string, now time.Time) (remaining, reset int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	hits := l.hits[token]
	cut := now.Add(-l.window)
	i := 0
	for i < len(hits) && !hits[i].After(cut) {
		i++
	}
	hits = append(hits[:0], hits[i:]...)
	if len(hits) >= l.limit {
		l.hits[token] = hits
		return 0, ceilSeconds(hits[0].Add(l.window).Sub(now)), false
	}
	hits = append(hits, now)
	l.hits[token] = hits
	return l.limit - len(hits), ceilSeconds(hits[0].Add(l.window).Sub(now)), true
}

// ceilSeconds rounds up, and to at least 1 s, because a client told "0"
// would retry at once and be refused again.
func ceilSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		return 1
	}
	return s
}
