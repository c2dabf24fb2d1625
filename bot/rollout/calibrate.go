package rollout

import (
	"context"
	"errors"
	"fmt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Calibrate records what a source now says about an incident's hypothesis
// (fn sets its part of the incident's verdict: a person's verdict, or how
// the resolution judged it) and moves the service's verdict counters by the
// difference between the verdict the incident contributed before and the
// one it contributes now. An incident counts at most once; calling it again
// with the same news changes nothing, so redeliveries and replays are safe.
// As with the other counters, the record is written before the counters: a
// crash in between loses that one change, it never counts it twice.
func (r *Rollout) Calibrate(ctx context.Context, svc nova.Service, incidentID string, fn func(v *nova.IncidentVerdict)) error {
	type counted struct {
		verdict      string
		byResolution bool
	}
	var before, after counted
	_, err := store.Update(ctx, r.cfg.Store, store.KindMeta, store.VerdictID(incidentID), func(v *nova.IncidentVerdict, exists bool) error {
		if !exists {
			*v = nova.IncidentVerdict{ServiceID: svc.ID, Environment: svc.Environment}
		}
		if v.ServiceID != svc.ID || v.Environment != svc.Environment {
			return nova.Errorf(nova.ECONFLICT, "incident %s belongs to another service", incidentID)
		}
		old := *v
		fn(v)
		v.Counted, v.CountedByResolution = v.Verdict()
		before, after = counted{old.Counted, old.CountedByResolution}, counted{v.Counted, v.CountedByResolution}
		if exists && *v == old {
			return store.ErrUnchanged
		}
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record the verdict on incident %s: %w", incidentID, err)
	}
	if before == after {
		return nil
	}
	return r.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
		st.CountVerdict(before.verdict, before.byResolution, -1)
		st.CountVerdict(after.verdict, after.byResolution, +1)
	})
}
