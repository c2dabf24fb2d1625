package pagerduty

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/novasre/nova/pagerduty/pdemu"
	"github.com/novasre/nova/store"
)

// The client's tests run against pdemu, PagerDuty's emulator: two
// environments, each with its own key, service, bot user and a person.
const (
	clientProdToken    = "u+prodKEYxxxxxxxx9PRD"
	clientStagingToken = "u+stagingKEYxxxxx9STG"
	clientBotEmail     = "nova-bot@example.com"
)

// clientMemLimiter is an in-memory GCRA with store.Limiter's semantics
// (burst, and reserve as headroom reads must leave), so the client's pacing
// is tested without a store backend. It records the keys it saw.
type clientMemLimiter struct {
	mu   sync.Mutex
	tat  map[string]time.Time
	keys map[string]int
}

func newClientMemLimiter() *clientMemLimiter {
	return &clientMemLimiter{tat: map[string]time.Time{}, keys: map[string]int{}}
}

func (l *clientMemLimiter) Take(_ context.Context, key string, rate store.Rate, reserve int) (time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys[key]++
	now := time.Now()
	interval := rate.Period / time.Duration(rate.Limit)
	tat := l.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	allowed := time.Duration(rate.Burst-reserve) * interval
	if d := next.Sub(now) - allowed; d > 0 {
		return d, nil
	}
	l.tat[key] = next
	return 0, nil
}

type clientRig struct {
	emu     *pdemu.Emulator
	url     string
	limiter *clientMemLimiter
	logger  *logrus.Logger
	logs    *logtest.Hook
}

func newClientRig(t testing.TB, opts pdemu.Options) *clientRig {
	t.Helper()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	emu := pdemu.New(opts)
	emu.AddToken(clientProdToken, "prod")
	emu.AddToken(clientStagingToken, "staging")
	emu.AddService("prod", pdemu.Service{ID: "PCHKOUT", Name: "checkout"})
	emu.AddService("staging", pdemu.Service{ID: "SCHKOUT", Name: "checkout (staging)"})
	emu.AddUser("prod", "PNOVA01", clientBotEmail, "Nova")
	emu.AddUser("prod", "PALICE1", "alice@example.com", "Alice")
	emu.AddUser("staging", "SNOVA01", clientBotEmail, "Nova (staging)")
	url := emu.Start()
	t.Cleanup(emu.Close)
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	return &clientRig{emu: emu, url: url, limiter: newClientMemLimiter(), logger: logger, logs: hook}
}

// client returns a Client for env with test-friendly timings; mod adjusts
// the config before NewClient.
func (r *clientRig) client(t testing.TB, env string, mod func(*ClientConfig)) *Client {
	t.Helper()
	token := clientProdToken
	if env == "staging" {
		token = clientStagingToken
	}
	cfg := ClientConfig{
		Environment: env,
		APIURL:      r.url,
		Token:       func() string { return token },
		From:        clientBotEmail,
		Limiter:     r.limiter,
		Timeout:     2 * time.Second,
		MaxElapsed:  10 * time.Second,
		RetryBase:   10 * time.Millisecond,
		Log:         r.logger,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// incident creates a prod incident.
func (r *clientRig) incident(title string) string {
	return r.emu.CreateIncident(pdemu.IncidentSpec{ServiceID: "PCHKOUT", Title: title}).ID
}
