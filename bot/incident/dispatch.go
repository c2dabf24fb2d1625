package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/auditlog"
	"github.com/novasre/nova/store"
)

// Handle dispatches one event by type. Every step is idempotent, so a
// redelivered or retried event changes nothing that was already done.
func (h *Handler) Handle(ctx context.Context, ev nova.Event, log logrus.FieldLogger) error {
	svc, ok := h.cfg.Settings().Services[ev.ServiceID]
	if !ok {
		log.Info("service no longer declared; event dropped")
		return nil
	}
	if h.isEcho(ctx, ev, svc) {
		log.Debug("Nova's own echo; ignored")
		return nil
	}
	switch ev.Type {
	case nova.EventTriggered:
		return h.onTriggered(ctx, ev, svc, log)
	case nova.EventAcknowledged:
		return h.onAcknowledged(ctx, ev, svc)
	case nova.EventResolved:
		return h.onResolved(ctx, ev, svc, log)
	case nova.EventUnacknowledged, nova.EventReopened:
		return h.onStatus(ctx, ev, svc, nova.StatusTriggered)
	}
	return nil
}

// isEcho recognises events caused by Nova itself: its notes and acks come
// back as incident.annotated and incident.acknowledged webhooks.
func (h *Handler) isEcho(ctx context.Context, ev nova.Event, svc nova.Service) bool {
	if ev.Agent != nil && ev.Agent.ID != "" && ev.Agent.ID == h.cfg.Writer.BotUserID(ctx, svc.Environment) {
		return true
	}
	// A note that carries one of Nova's audit ids is Nova's, whoever posted it.
	return ev.Type == nova.EventAnnotated && ev.Note != nil && strings.Contains(ev.Note.Content, "audit nova-")
}

func (h *Handler) onAcknowledged(ctx context.Context, ev nova.Event, svc nova.Service) error {
	first := false
	rec, err := h.cfg.Writer.UpdateIncident(ctx, ev.IncidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists {
			return store.ErrUnchanged // an ack for an incident Nova never saw triggered
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
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	if first {
		h.recordAck(ctx, svc, rec, nova.AckByPerson)
	}
	return h.cfg.Outbox.QueueRefresh(ctx, svc, rec)
}

func (h *Handler) recordAck(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, by string) {
	h.acks.WithLabelValues(by).Inc()
	secs := rec.TimeToAck().Seconds()
	err := h.cfg.Rollout.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
		if by == nova.AckByNova {
			st.NovaAcks++
			st.NovaAckSeconds += secs
		} else {
			st.PersonAcks++
			st.PersonAckSeconds += secs
		}
	})
	if err != nil {
		h.cfg.Log.WithError(err).Warn("could not count the acknowledgement")
	}
}

func (h *Handler) onResolved(ctx context.Context, ev nova.Event, svc nova.Service, log logrus.FieldLogger) error {
	rec, err := h.cfg.Writer.UpdateIncident(ctx, ev.IncidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists {
			return store.ErrUnchanged
		}
		r.Status = nova.StatusResolved
		if r.ResolvedAt.IsZero() {
			r.ResolvedAt = ev.OccurredAt
		}
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	auditlog.Milestone(h.cfg.Log, auditlog.MilestoneResolved, logrus.Fields{"incident_id": rec.ID, "service": svc.ID, "environment": svc.Environment, "event_id": ev.ID})
	if err := h.cfg.Actions.CancelIncident(ctx, rec.ID, "the incident was resolved"); err != nil {
		return fmt.Errorf("withdraw the open requests of %s: %w", rec.ID, err)
	}
	if err := h.cfg.Outbox.QueueRefresh(ctx, svc, rec); err != nil {
		return err
	}
	if h.cfg.Postmortems == nil {
		return nil
	}
	if err := h.cfg.Postmortems.OnResolved(ctx, svc, rec, log); err != nil {
		return fmt.Errorf("draft the postmortem of %s: %w", rec.ID, err)
	}
	return nil
}

func (h *Handler) onStatus(ctx context.Context, ev nova.Event, svc nova.Service, status string) error {
	rec, err := h.cfg.Writer.UpdateIncident(ctx, ev.IncidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists {
			return store.ErrUnchanged
		}
		r.Status = status
		r.ResolvedAt = time.Time{}
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	return h.cfg.Outbox.QueueRefresh(ctx, svc, rec)
}
