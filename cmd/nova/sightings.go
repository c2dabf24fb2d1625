package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/store"
)

// Events Nova ignores for their service (undeclared, off, or delivered
// through another environment's subscription) are counted in the store, so
// that the rollout review can report coverage drift from any replica.

// sightingFlush is how often one process writes a service's count: a
// flood of ignored events costs at most one store write per service and
// interval.
const sightingFlush = time.Minute

// maxSightingServices bounds the services one process tracks, so that
// forged service ids in verified-but-junk events cannot grow memory.
const maxSightingServices = 1000

type sightingRecord struct {
	Environment string    `json:"environment"`
	ServiceID   string    `json:"service_id"`
	Events      int64     `json:"events"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
}

type pendingSighting struct {
	events  int64
	last    time.Time
	written time.Time
}

// sightings counts ignored events per environment and service.
type sightings struct {
	st  store.Store
	now func() time.Time
	log logrus.FieldLogger

	mu      sync.Mutex
	pending map[string]*pendingSighting
}

func newSightings(st store.Store, now func() time.Time, log logrus.FieldLogger) *sightings {
	if now == nil {
		now = time.Now
	}
	return &sightings{st: st, now: now, log: log, pending: map[string]*pendingSighting{}}
}

// saw counts one ignored event. The first event of a service and then one
// per sightingFlush are written through; the ones in between are added to
// the next write. A store failure is logged: the delivery was handled.
func (s *sightings) saw(ctx context.Context, env, serviceID string) {
	if env == "" || serviceID == "" || len(serviceID) > 64 || strings.ContainsAny(serviceID, ":\n") {
		return
	}
	key := store.SightingID(env, serviceID)
	now := s.now()
	s.mu.Lock()
	p := s.pending[key]
	if p == nil {
		if len(s.pending) >= maxSightingServices {
			s.mu.Unlock()
			return
		}
		p = &pendingSighting{}
		s.pending[key] = p
	}
	p.events++
	p.last = now
	if !p.written.IsZero() && now.Sub(p.written) < sightingFlush {
		s.mu.Unlock()
		return
	}
	n := p.events
	p.events, p.written = 0, now
	s.mu.Unlock()
	_, err := store.Update(context.WithoutCancel(ctx), s.st, store.KindMeta, key, func(r *sightingRecord, exists bool) error {
		if !exists {
			*r = sightingRecord{Environment: env, ServiceID: serviceID, First: now}
		}
		r.Events += n
		r.Last = now
		return nil
	})
	if err != nil {
		s.mu.Lock()
		p.events += n // try again with the next event
		p.written = time.Time{}
		s.mu.Unlock()
		s.log.WithError(err).WithField("service", serviceID).Warn("could not count an ignored event for the review")
	}
}

// loadSightings reads every sighting from the store.
func loadSightings(ctx context.Context, st store.Store) ([]review.Sighting, error) {
	var out []review.Sighting
	after := store.SightingPrefix
	for {
		items, err := st.List(ctx, store.KindMeta, after, 500)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if !strings.HasPrefix(it.ID, store.SightingPrefix) {
				return out, nil
			}
			var r sightingRecord
			if err := json.Unmarshal(it.Value, &r); err != nil {
				return nil, nova.WrapError(nova.EINTERNAL, err, "decode sighting %s", it.ID)
			}
			out = append(out, review.Sighting{Environment: r.Environment, ServiceID: r.ServiceID, Events: r.Events, First: r.First, Last: r.Last})
		}
		if len(items) < 500 {
			return out, nil
		}
		after = items[len(items)-1].ID
	}
}
