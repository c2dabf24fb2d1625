package web

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/novasre/nova"
)

// maxThrottledClients bounds the memory the limiter keeps: beyond it, the
// client that failed longest ago is forgotten first.
const maxThrottledClients = 10000

// AuthLimiter throttles failed authentication per client address: each
// client may fail PerMinute times in a burst, then once every 60/PerMinute
// seconds; meanwhile its requests are answered 429 with Retry-After without
// their credentials being looked at. Successes cost nothing.
//
// Clients are told apart by the connection's address (IPv6 by its /64),
// not by X-Forwarded-For, which any client can write: behind a proxy, all
// clients share the proxy's allowance.
type AuthLimiter struct {
	// PerMinute is the sustained rate and the burst of failures.
	PerMinute int
	// OnThrottle is called when a client starts being throttled, with the
	// failures that led there, and again for every ten minutes' worth of
	// failures while it keeps failing; Nova audits it from here.
	OnThrottle func(client string, failures int)
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	clients map[string]*authClient
}

type authClient struct {
	tat       time.Time // GCRA theoretical arrival time of the next failure
	failures  int       // failures since the client last had a clean slate
	throttled bool
}

func (l *AuthLimiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *AuthLimiter) interval() time.Duration {
	return time.Minute / time.Duration(max(l.PerMinute, 1))
}

func (l *AuthLimiter) burst() time.Duration {
	return time.Duration(max(l.PerMinute, 1)) * l.interval()
}

// Check reports how long client must wait before its credentials are
// examined again; 0 means go ahead.
func (l *AuthLimiter) Check(client string) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[client]
	if !ok {
		return 0
	}
	now := l.now()
	// Allowed while one more failure would still fit in the burst.
	return max(c.tat.Sub(now)-(l.burst()-l.interval()), 0)
}

// Fail records one failed authentication by client.
func (l *AuthLimiter) Fail(client string) {
	if l == nil {
		return
	}
	now := l.now()
	l.mu.Lock()
	if l.clients == nil {
		l.clients = map[string]*authClient{}
	}
	c, ok := l.clients[client]
	if !ok {
		l.makeRoom(now)
		c = &authClient{}
		l.clients[client] = c
	}
	if !c.tat.After(now) { // a clean slate: any earlier episode is over
		c.tat, c.failures, c.throttled = now, 0, false
	}
	c.tat = c.tat.Add(l.interval())
	c.failures++
	// Tell once when the client becomes throttled, then again every ten
	// minutes' worth of failures while it keeps trying.
	notify := false
	if !c.throttled && c.tat.Sub(now) > l.burst()-l.interval() {
		c.throttled, notify = true, true
	} else if c.throttled && c.failures%(10*max(l.PerMinute, 1)) == 0 {
		notify = true
	}
	failures := c.failures
	l.mu.Unlock()
	if notify && l.OnThrottle != nil {
		l.OnThrottle(client, failures)
	}
}

// makeRoom keeps the table bounded: clients with a clean slate go first,
// then the one whose last failure is oldest. Called with l.mu held.
func (l *AuthLimiter) makeRoom(now time.Time) {
	if len(l.clients) < maxThrottledClients {
		return
	}
	for k, c := range l.clients {
		if !c.tat.After(now) {
			delete(l.clients, k)
		}
	}
	if len(l.clients) < maxThrottledClients {
		return
	}
	oldest, at := "", time.Time{}
	for k, c := range l.clients {
		if oldest == "" || c.tat.Before(at) {
			oldest, at = k, c.tat
		}
	}
	delete(l.clients, oldest)
}

// ClientAddress names the client of r for throttling: the connection's IP,
// or its /64 for IPv6 (one host usually holds a whole /64).
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// writeThrottled answers a throttled client.
func writeThrottled(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	WriteJSON(w, http.StatusTooManyRequests, ErrorBody{
		Error: "too many failed authentication attempts from this address; retry after the time in Retry-After",
		Code:  nova.ERATELIMITED,
	})
}
