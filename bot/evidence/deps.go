package evidence

import (
	"context"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// depsCacheAge is how long PagerDuty's answer about a service's
// dependencies is reused: dependencies change rarely, and during a storm
// every incident of a service would otherwise ask again.
const depsCacheAge = 10 * time.Minute

// Dependencies is the optional read of PagerDuty's service dependencies
// (the scoped client has it). A client without it (a backtest's as-of
// view: PagerDuty keeps no history of dependencies) leaves triage with the
// declared depends_on only.
type Dependencies interface {
	// SupportingServices returns the technical services serviceID depends
	// on. ENOTFOUND and EFORBIDDEN mean PagerDuty has none to give (no
	// such service; an account or key without service dependencies).
	SupportingServices(ctx context.Context, serviceID string) ([]nova.Ref, error)
}

// depsAnswer is what PagerDuty said about a service's dependencies: the
// ids it depends on, or why it cannot say (kept, so that an account
// without the feature costs one request per service per depsCacheAge).
type depsAnswer struct {
	ids         []string
	unavailable error
}

// supportingServices returns the ids of the services PagerDuty says svc
// depends on, read once per service per depsCacheAge however many
// incidents ask at once. An account without the feature, or a service
// PagerDuty does not know, gives none, logged once; other failures are
// returned and asked again next time.
func (g *Gatherer) supportingServices(ctx context.Context, pd Dependencies, svc nova.Service) ([]string, error) {
	key := svc.Environment + ":deps:" + svc.ID
	if a, ok := g.deps.Get(key, g.cfg.Now()); ok {
		return a.ids, a.unavailable
	}
	a, err := g.deps.LoadShared(ctx, key, g.cfg.Now(), func() (depsAnswer, error) {
		refs, err := pd.SupportingServices(ctx, svc.ID)
		if nova.IsCode(err, nova.ENOTFOUND) || nova.IsCode(err, nova.EFORBIDDEN) {
			g.depsUnavailable(svc, err)
			return depsAnswer{unavailable: err}, nil
		}
		if err != nil {
			return depsAnswer{}, err
		}
		ids := make([]string, 0, len(refs))
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		return depsAnswer{ids: ids}, nil
	})
	if err != nil && err == ctx.Err() {
		return nil, nova.WrapError(nova.EUNAVAILABLE, err, "gave up waiting for PagerDuty")
	}
	if err != nil {
		return nil, err
	}
	return a.ids, a.unavailable
}

// depsUnavailable logs, once per process, that PagerDuty cannot give a
// service's dependencies: once per environment when the account or key
// may not read them, once per service when PagerDuty does not know it.
func (g *Gatherer) depsUnavailable(svc nova.Service, err error) {
	key, level, msg := svc.Environment+":forbidden", logrus.InfoLevel,
		"PagerDuty service dependencies are not available to this environment's key (the account lacks the feature or the key lacks services.read); triage uses the declared depends_on only"
	if nova.IsCode(err, nova.ENOTFOUND) {
		key, level, msg = svc.Environment+":notfound:"+svc.ID, logrus.WarnLevel,
			"PagerDuty does not know this service, so it has no dependencies for it; check the service id in the configuration"
	}
	if _, seen := g.depsLogged.LoadOrStore(key, true); seen {
		return
	}
	g.cfg.Log.WithFields(logrus.Fields{"environment": svc.Environment, "service_id": svc.ID, "reason": nova.ErrorMessage(err)}).
		Log(level, msg)
}

// mergeDependsOn is the service's declared dependencies followed by those
// PagerDuty records, each once. It builds a new slice: the declared one
// belongs to the shared settings.
func mergeDependsOn(declared, fromPagerDuty []string) []string {
	if len(fromPagerDuty) == 0 {
		return declared
	}
	out := make([]string, 0, len(declared)+len(fromPagerDuty))
	seen := map[string]bool{}
	for _, list := range [][]string{declared, fromPagerDuty} {
		for _, d := range list {
			k := strings.ToLower(strings.TrimSpace(d))
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}
