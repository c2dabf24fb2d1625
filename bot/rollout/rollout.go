// Package rollout is how far Nova may act on each service, and who may
// change that: the stored mode of every service (off → read-only → action)
// and its counters (with each incident's verdict for calibration: see
// Calibrate), the global pause switch, Nova's admins (per
// environment, global, through Slack user groups), the /nova status,
// enable, mode, disable, pause, resume and review commands, and the
// scheduled rollout review.
//
// Modes and the pause switch live in the store, so every replica sees a
// change on its next read; only webhook ingress reads modes through a short
// cache.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/internal/ttlcache"
	"github.com/novasre/nova/store"
)

// Cache ages: ingress reads modes on every delivery, and admin and
// approver checks resolve user groups on every command and click.
const (
	modeCacheAge  = 250 * time.Millisecond
	groupCacheAge = time.Minute
)

// Groups is one environment's Slack app, as far as user groups go.
type Groups interface {
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Auditor records acts in the audit log.
type Auditor interface {
	Append(ctx context.Context, e nova.AuditEntry) error
}

// Config is what New needs.
type Config struct {
	Store    store.Records
	Settings func() *settings.Settings
	// Groups returns the Slack app of env (ENOTFOUND without one).
	Groups func(env string) (Groups, error)
	Audit  Auditor
	// CancelRequests withdraws a service's open action requests when it is
	// demoted (the approval flow); nil withdraws nothing.
	CancelRequests func(ctx context.Context, serviceID, reason string) error
	Now            func() time.Time
	// Reviewer builds the rollout review; nil leaves /nova review and the
	// scheduled review off.
	Reviewer Reviewer
	// PostReview posts the scheduled review exactly once per key and
	// audits it (the writer), returning the message's ts.
	PostReview func(ctx context.Context, p ReviewPost) (string, error)
}

// Rollout reads and changes service modes, the pause switch and admins.
type Rollout struct {
	cfg    Config
	modes  *ttlcache.Cache[string, nova.Mode]
	groups *ttlcache.Cache[string, []string]
}

// New returns a Rollout.
func New(cfg Config) *Rollout {
	return &Rollout{cfg: cfg,
		modes:  ttlcache.New[string, nova.Mode](modeCacheAge, 0),
		groups: ttlcache.New[string, []string](groupCacheAge, 0),
	}
}

func (r *Rollout) settings() *settings.Settings { return r.cfg.Settings() }

// Seed gives every declared service without a stored state its declared
// mode. The stored state is the actual one from then on: modes changed in
// Slack are not overwritten by the file.
func (r *Rollout) Seed(ctx context.Context) error {
	now := r.cfg.Now()
	for _, svc := range r.settings().Services {
		_, err := store.Update(ctx, r.cfg.Store, store.KindService, svc.ID, func(st *nova.ServiceState, exists bool) error {
			if exists {
				return store.ErrUnchanged
			}
			*st = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode, Since: now, ChangedBy: "config"}
			if svc.DeclaredMode == nova.ModeReadOnly {
				st.ReadOnlySince = now
			}
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrUnchanged) {
			return fmt.Errorf("seed the state of service %s: %w", svc.ID, err)
		}
	}
	return nil
}

// State returns the stored state of a declared service, falling back to
// the declared mode when nothing is stored yet.
func (r *Rollout) State(ctx context.Context, svc nova.Service) (nova.ServiceState, error) {
	st, _, err := store.Load[nova.ServiceState](ctx, r.cfg.Store, store.KindService, svc.ID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode}, nil
	}
	return st, err
}

// Mode reads the mode from the store, uncached: used right before anything
// is written, so a demotion takes effect at once.
func (r *Rollout) Mode(ctx context.Context, svc nova.Service) (nova.Mode, error) {
	st, err := r.State(ctx, svc)
	return st.Mode, err
}

// IngressMode is the mode as webhook ingress reads it: through a short
// cache, since a store read per delivery would cost throughput; mode
// changes reach ingress within the cache's age.
func (r *Rollout) IngressMode(ctx context.Context, svc nova.Service) (nova.Mode, error) {
	now := r.cfg.Now()
	if m, ok := r.modes.Get(svc.ID, now); ok {
		return m, nil
	}
	m, err := r.Mode(ctx, svc)
	if err != nil {
		return "", err
	}
	r.modes.Put(svc.ID, m, now)
	return m, nil
}

// UpdateStats changes a service's counters with compare-and-set.
func (r *Rollout) UpdateStats(ctx context.Context, svc nova.Service, fn func(st *nova.ServiceState)) error {
	_, err := store.Update(ctx, r.cfg.Store, store.KindService, svc.ID, func(st *nova.ServiceState, exists bool) error {
		if !exists {
			*st = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode, Since: r.cfg.Now(), ChangedBy: "config"}
		}
		fn(st)
		return nil
	})
	if err != nil {
		return fmt.Errorf("update the counters of service %s: %w", svc.ID, err)
	}
	return nil
}

// Pause is the global pause switch, kept in the store so that every
// replica sees it on its next write.
type Pause struct {
	Paused bool      `json:"paused"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// PauseState reads the pause switch. It is read before every PagerDuty write and
// every action run, never cached.
func (r *Rollout) PauseState(ctx context.Context) (Pause, error) {
	p, _, err := store.Load[Pause](ctx, r.cfg.Store, store.KindMeta, store.PauseID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return Pause{}, nil
	}
	return p, err
}

// Paused reports whether Nova is paused.
func (r *Rollout) Paused(ctx context.Context) (bool, error) {
	p, err := r.PauseState(ctx)
	return p.Paused, err
}
