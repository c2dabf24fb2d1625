package pagerduty

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// registerLimiterWait registers the histogram of time spent waiting for the
// shared rate limiter (or a 429's ratelimit-reset) before a request,
// sharing it with the other environments' clients on the same registry.
func registerLimiterWait(r prometheus.Registerer) (*prometheus.HistogramVec, error) {
	hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "nova_pagerduty_rate_limit_wait_seconds",
		Help:    "Time a PagerDuty request waited for its credential's rate limit, by environment and kind (read or write).",
		Buckets: []float64{0, .01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"environment", "kind"})
	if err := r.Register(hv); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return hv, nil
}

// observeWait records how long a request waited for its turn.
func (c *Client) observeWait(write bool, since time.Time) {
	if c.limiterWait == nil {
		return
	}
	kind := "read"
	if write {
		kind = "write"
	}
	c.limiterWait.WithLabelValues(c.cfg.Environment, kind).Observe(time.Since(since).Seconds())
}
