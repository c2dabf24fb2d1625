package bot

import (
	"context"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// handle dispatches one event by type. Every step is idempotent, so a
// redelivered or retried event changes nothing that was already done.
func (a *App) handle(ctx context.Context, ev nova.Event, log logrus.FieldLogger) error {
	svc, ok := a.settings().Services[ev.ServiceID]
	if !ok {
		log.Info("service no longer declared; event dropped")
		return nil
	}
	if a.isEcho(ctx, ev, svc) {
		log.Debug("Nova's own echo; ignored")
		return nil
	}
	switch ev.Type {
	case nova.EventTriggered:
		return a.onTriggered(ctx, ev, svc, log)
	case nova.EventAcknowledged:
		return a.onAcknowledged(ctx, ev, svc)
	case nova.EventResolved:
		return a.onResolved(ctx, ev, svc)
	case nova.EventUnacknowledged, nova.EventReopened:
		return a.onStatus(ctx, ev, svc, nova.StatusTriggered)
	}
	return nil
}

// isEcho recognises events caused by Nova itself: its notes and acks come
// back as incident.annotated and incident.acknowledged webhooks.
func (a *App) isEcho(ctx context.Context, ev nova.Event, svc nova.Service) bool {
	if ev.Agent != nil && ev.Agent.ID != "" && ev.Agent.ID == a.botUserID(ctx, svc.Environment) {
		return true
	}
	// A note that carries one of Nova's audit ids is Nova's, whoever posted it.
	return ev.Type == nova.EventAnnotated && ev.Note != nil && strings.Contains(ev.Note.Content, "audit nova-")
}

// botUserID is the PagerDuty user Nova writes as: configured, or learned
// from the author of Nova's first note.
func (a *App) botUserID(ctx context.Context, env string) string {
	if e, ok := a.settings().Environments[env]; ok && e.BotUserID != "" {
		return e.BotUserID
	}
	if id, ok := a.botUsers.Load(env); ok {
		return id.(string)
	}
	id, _, err := store.Load[string](ctx, a.store, store.KindMeta, "botuser:"+env)
	if err != nil {
		return ""
	}
	a.botUsers.Store(env, id) // a learned id never changes: read it once per process
	return id
}

func (a *App) learnBotUser(ctx context.Context, env, userID string) {
	if userID == "" || a.botUserID(ctx, env) == userID {
		return
	}
	if _, err := store.Save(ctx, a.store, store.KindMeta, "botuser:"+env, userID, store.AnyVersion); err != nil {
		a.log.WithError(err).Warn("could not remember the bot user id")
		return
	}
	a.botUsers.Store(env, userID)
}

// updateIncident changes Nova's record of an incident with compare-and-set.
func (a *App) updateIncident(ctx context.Context, id string, fn func(r *nova.IncidentRecord, exists bool) error) (nova.IncidentRecord, error) {
	return store.Update(ctx, a.store, store.KindIncident, id, fn)
}

// updateServiceStats changes a service's counters with compare-and-set.
func (a *App) updateServiceStats(ctx context.Context, svc nova.Service, fn func(st *nova.ServiceState)) error {
	_, err := store.Update(ctx, a.store, store.KindService, svc.ID, func(st *nova.ServiceState, exists bool) error {
		if !exists {
			*st = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode, Since: a.now(), ChangedBy: "config"}
		}
		fn(st)
		return nil
	})
	return err
}

func (a *App) onAcknowledged(ctx context.Context, ev nova.Event, svc nova.Service) error {
	first := false
	rec, err := a.updateIncident(ctx, ev.IncidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists {
			return errUnchanged // an ack for an incident Nova never saw triggered
		}
		r.Status = nova.StatusAcknowledged
		if r.FirstAckAt.IsZero() {
			first = true
			r.FirstAckAt, r.AckedBy = ev.OccurredAt, nova.AckByPerson
			if ev.Agent != nil {
				r.AckedByName = ev.Agent.String()
			}
		}
		return nil
	})
	if err == errUnchanged {
		return nil
	}
	if err != nil {
		return err
	}
	if first {
		a.recordAck(ctx, svc, rec, nova.AckByPerson)
	}
	return a.refreshMessage(ctx, svc, rec)
}

func (a *App) recordAck(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, by string) {
	a.metrics.acks.WithLabelValues(by).Inc()
	secs := rec.TimeToAck().Seconds()
	err := a.updateServiceStats(ctx, svc, func(st *nova.ServiceState) {
		if by == nova.AckByNova {
			st.NovaAcks++
			st.NovaAckSeconds += secs
		} else {
			st.PersonAcks++
			st.PersonAckSeconds += secs
		}
	})
	if err != nil {
		a.log.WithError(err).Warn("could not count the acknowledgement")
	}
}

func (a *App) onResolved(ctx context.Context, ev nova.Event, svc nova.Service) error {
	rec, err := a.updateIncident(ctx, ev.IncidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists {
			return errUnchanged
		}
		r.Status = nova.StatusResolved
		if r.ResolvedAt.IsZero() {
			r.ResolvedAt = ev.OccurredAt
		}
		return nil
	})
	if err == errUnchanged {
		return nil
	}
	if err != nil {
		return err
	}
	a.milestone(MilestoneResolved, logrus.Fields{"incident_id": rec.ID, "service": svc.ID, "environment": svc.Environment, "event_id": ev.ID})
	if err := a.cancelOpenRequests(ctx, rec.ID, "the incident was resolved"); err != nil {
		return err
	}
	return a.refreshMessage(ctx, svc, rec)
}

func (a *App) onStatus(ctx context.Context, ev nova.Event, svc nova.Service, status string) error {
	rec, err := a.updateIncident(ctx, ev.IncidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists {
			return errUnchanged
		}
		r.Status = status
		r.ResolvedAt = time.Time{}
		return nil
	})
	if err == errUnchanged {
		return nil
	}
	if err != nil {
		return err
	}
	return a.refreshMessage(ctx, svc, rec)
}
