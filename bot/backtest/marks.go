package backtest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Marks a person can give a backtest row the evidence did not decide.
const (
	MarkRight  = "right"
	MarkPartly = "partly"
	MarkWrong  = "wrong"
)

// Mark is the latest person's judgement of a backtest row (one per row:
// the latest wins).
type Mark struct {
	Mark string    `json:"mark"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// index names the rows of a service's latest run, so the backtest page can
// read them back from the cache.
type index struct {
	Fingerprint string    `json:"fingerprint"`
	Incidents   []string  `json:"incidents"`
	At          time.Time `json:"at"`
}

func (r *Runner) saveIndex(ctx context.Context, svc nova.Service, rows []Row) {
	if r.cfg.Store == nil {
		return
	}
	ix := index{Fingerprint: r.cfg.Fingerprint, At: r.cfg.Now().UTC()}
	for _, row := range rows {
		if row.Error == "" {
			ix.Incidents = append(ix.Incidents, row.Incident.ID)
		}
	}
	b, err := json.Marshal(ix)
	if err != nil {
		return
	}
	// A failed save only leaves the page showing the previous run.
	_, _ = r.cfg.Store.Put(ctx, store.KindMeta, store.BacktestIndexID(svc.Environment, svc.ID), b, store.AnyVersion, cacheTTL)
}

// MarkedRow is a cached row of the latest run with its person's mark.
type MarkedRow struct {
	Row
	Mark *Mark
}

// Latest returns the cached rows of the service's latest backtest, in the
// run's order, with their marks; ENOTFOUND when no run is cached.
func Latest(ctx context.Context, st store.Records, svc nova.Service) ([]MarkedRow, time.Time, error) {
	ix, _, err := store.Load[index](ctx, st, store.KindMeta, store.BacktestIndexID(svc.Environment, svc.ID))
	if err != nil {
		if nova.IsCode(err, nova.ENOTFOUND) {
			return nil, time.Time{}, nova.Errorf(nova.ENOTFOUND, "no backtest of %s is cached: run `/nova backtest %s` or `nova backtest --service %s`", svc.Name, svc.Name, svc.ID)
		}
		return nil, time.Time{}, err
	}
	rows := make([]MarkedRow, 0, len(ix.Incidents))
	for _, id := range ix.Incidents {
		row, _, err := store.Load[Row](ctx, st, store.KindMeta, rowKey(svc, id, ix.Fingerprint))
		if nova.IsCode(err, nova.ENOTFOUND) {
			continue // expired from the cache
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		m := MarkedRow{Row: row}
		mk, _, err := store.Load[Mark](ctx, st, store.KindMeta, store.BacktestMarkID(svc.Environment, svc.ID, id))
		switch {
		case err == nil:
			m.Mark = &mk
		case !nova.IsCode(err, nova.ENOTFOUND):
			return nil, time.Time{}, err
		}
		rows = append(rows, m)
	}
	return rows, ix.At, nil
}

// LatestRow returns the cached row of incidentID in the service's latest run.
func LatestRow(ctx context.Context, st store.Records, svc nova.Service, incidentID string) (MarkedRow, error) {
	rows, _, err := Latest(ctx, st, svc)
	if err != nil {
		return MarkedRow{}, err
	}
	for _, r := range rows {
		if r.Incident.ID == incidentID {
			return r, nil
		}
	}
	return MarkedRow{}, nova.Errorf(nova.ENOTFOUND, "incident %s is not in the latest backtest of %s", incidentID, svc.Name)
}
