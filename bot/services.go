package bot

import (
	"context"
	"sync"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// SeedServices gives every declared service without a stored state its
// declared mode. The stored state is the actual one from then on: modes
// changed in Slack are not overwritten by the file (the review reports drift).
func (a *App) SeedServices(ctx context.Context) error {
	now := a.now()
	for _, svc := range a.settings().Services {
		_, err := store.Update(ctx, a.store, store.KindService, svc.ID, func(st *nova.ServiceState, exists bool) error {
			if exists {
				return errUnchanged
			}
			*st = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode, Since: now, ChangedBy: "config"}
			if svc.DeclaredMode == nova.ModeReadOnly {
				st.ReadOnlySince = now
			}
			return nil
		})
		if err != nil && err != errUnchanged {
			return err
		}
	}
	return nil
}

// errUnchanged aborts a store.Update that has nothing to write.
var errUnchanged = nova.Errorf(nova.ECONFLICT, "unchanged")

// serviceState returns the stored state of a declared service, falling back
// to the declared mode when nothing is stored yet.
func (a *App) serviceState(ctx context.Context, svc nova.Service) (nova.ServiceState, error) {
	st, _, err := store.Load[nova.ServiceState](ctx, a.store, store.KindService, svc.ID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode}, nil
	}
	return st, err
}

// currentMode reads the mode from the store, uncached: used right before
// anything is written, so a demotion takes effect at once.
func (a *App) currentMode(ctx context.Context, svc nova.Service) (nova.Mode, error) {
	st, err := a.serviceState(ctx, svc)
	return st.Mode, err
}

// modeCache keeps service modes briefly for webhook ingress, where a store
// read per delivery would cost throughput; mode changes reach ingress
// within the cache's age.
type modeCache struct {
	mu     sync.Mutex
	maxAge time.Duration
	items  map[string]cachedMode
}

type cachedMode struct {
	mode nova.Mode
	at   time.Time
}

func newModeCache(maxAge time.Duration) *modeCache {
	return &modeCache{maxAge: maxAge, items: map[string]cachedMode{}}
}

func (c *modeCache) get(id string, now time.Time) (nova.Mode, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.items[id]
	if !ok || now.Sub(m.at) > c.maxAge {
		return "", false
	}
	return m.mode, true
}

func (c *modeCache) put(id string, mode nova.Mode, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[id] = cachedMode{mode: mode, at: now}
}

func (c *modeCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.items, id)
}

// ingressMode is the cached mode lookup used by Ingest.
func (a *App) ingressMode(ctx context.Context, svc nova.Service) (nova.Mode, error) {
	now := a.now()
	if m, ok := a.modes.get(svc.ID, now); ok {
		return m, nil
	}
	m, err := a.currentMode(ctx, svc)
	if err != nil {
		return "", err
	}
	a.modes.put(svc.ID, m, now)
	return m, nil
}

// pauseState is the global pause switch, kept in the store so that every
// replica sees it on its next write.
type pauseState struct {
	Paused bool      `json:"paused"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

const pauseKey = "pause"

// paused reads the pause switch. It is read before every PagerDuty write and
// every action run, never cached.
func (a *App) paused(ctx context.Context) (pauseState, error) {
	p, _, err := store.Load[pauseState](ctx, a.store, store.KindMeta, pauseKey)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return pauseState{}, nil
	}
	return p, err
}
