package incident

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/auditlog"
	"github.com/novasre/nova/bot/writeback"
)

// onTriggered triages a new incident and writes the hypothesis back: a
// Slack message queued in both modes, a PagerDuty note in action mode, then
// the optional ack and any action proposals (whose Slack messages are
// queued too).
func (h *Handler) onTriggered(ctx context.Context, ev nova.Event, svc nova.Service, log logrus.FieldLogger) error {
	mode, err := h.cfg.Rollout.Mode(ctx, svc)
	if err != nil {
		return fmt.Errorf("read the mode of %s: %w", svc.ID, err)
	}
	if mode == nova.ModeOff {
		return nil
	}
	inc := incidentOf(ev)
	created := false
	rec, err := h.cfg.Writer.UpdateIncident(ctx, inc.ID, func(r *nova.IncidentRecord, exists bool) error {
		if exists {
			return nil
		}
		created = true
		*r = nova.IncidentRecord{
			ID: inc.ID, Environment: svc.Environment, ServiceID: svc.ID, Title: inc.Title,
			Number: inc.Number, Urgency: inc.Urgency, Status: nova.StatusTriggered, HTMLURL: inc.HTMLURL,
			Mode: mode, TriggeredAt: inc.CreatedAt, ReceivedAt: ev.ReceivedAt,
		}
		if r.TriggeredAt.IsZero() {
			r.TriggeredAt = ev.OccurredAt
		}
		return nil
	})
	if err != nil {
		return err
	}
	if created {
		_ = h.cfg.Rollout.UpdateStats(ctx, svc, func(st *nova.ServiceState) { st.IncidentsSeen++ })
		h.cfg.Evidence.NoteTrigger(ctx, rec)
	}
	if rec.Triage == nil {
		result := h.cfg.Evidence.Triage(ctx, svc, inc)
		h.hypothesisMilestone(svc, inc.ID, result)
		rec, err = h.cfg.Writer.UpdateIncident(ctx, inc.ID, func(r *nova.IncidentRecord, _ bool) error {
			if r.Triage == nil { // another attempt may have stored one first
				r.Triage = &result
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Re-read the mode right before writing: a demotion wins over triage.
	if mode, err = h.cfg.Rollout.Mode(ctx, svc); err != nil {
		return fmt.Errorf("read the mode of %s again before writing: %w", svc.ID, err)
	}
	// The Slack message goes to the channel's outbox, posted by its own
	// poster: PagerDuty write-back never waits in Slack's per-channel lane.
	if mode != nova.ModeOff {
		if err := h.cfg.Outbox.QueueHypothesis(ctx, svc, &rec, mode); err != nil {
			return fmt.Errorf("queue the hypothesis message of %s: %w", rec.ID, err)
		}
	}
	if mode == nova.ModeAction {
		if err := h.postHypothesisNote(ctx, svc, &rec); err != nil && !errors.Is(err, writeback.ErrPaused) {
			return fmt.Errorf("post the hypothesis note of %s: %w", rec.ID, err)
		}
		if err := h.autoAck(ctx, svc, &rec); err != nil && !errors.Is(err, writeback.ErrPaused) {
			return fmt.Errorf("auto-ack %s: %w", rec.ID, err)
		}
		if err := h.cfg.Actions.Propose(ctx, svc, rec, log); err != nil && !errors.Is(err, writeback.ErrPaused) {
			return fmt.Errorf("propose actions for %s: %w", rec.ID, err)
		}
	}
	return nil
}

// incidentOf returns the event's incident, or a minimal one built from ids.
func incidentOf(ev nova.Event) nova.Incident {
	if ev.Incident != nil {
		inc := *ev.Incident
		if inc.ID == "" {
			inc.ID = ev.IncidentID
		}
		return inc
	}
	return nova.Incident{ID: ev.IncidentID, Service: nova.Ref{ID: ev.ServiceID}, CreatedAt: ev.OccurredAt, Status: nova.StatusTriggered}
}

// autoAck acknowledges the incident as the bot user where the service
// allows it, the tier includes it, and nobody has acknowledged yet.
func (h *Handler) autoAck(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	if !svc.AutoAck || !h.cfg.Settings().Tier.Allows(nova.FeatureAck) || !rec.FirstAckAt.IsZero() {
		return nil
	}
	pd, err := h.cfg.PagerDuty(svc.Environment)
	if err != nil {
		return err
	}
	inc, err := pd.GetIncident(ctx, rec.ID)
	if err != nil {
		return fmt.Errorf("read the status of %s before acknowledging: %w", rec.ID, err)
	}
	if inc.Status != nova.StatusTriggered {
		return nil // a person was faster, or it resolved
	}
	if err := h.cfg.Writer.Ack(ctx, svc, rec.ID); err != nil {
		return err
	}
	first := false
	updated, err := h.cfg.Writer.UpdateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		if r.FirstAckAt.IsZero() {
			first = true
			r.FirstAckAt, r.AckedBy, r.AckedByName, r.Status = h.cfg.Now(), nova.AckByNova, "Nova", nova.StatusAcknowledged
		}
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	if first {
		h.recordAck(ctx, svc, updated, nova.AckByNova)
		return h.cfg.Outbox.QueueRefresh(ctx, svc, updated)
	}
	return nil
}

// hypothesisMilestone logs the triage result's headline.
func (h *Handler) hypothesisMilestone(svc nova.Service, incidentID string, r nova.TriageResult) {
	f := logrus.Fields{"incident_id": incidentID, "service": svc.ID, "environment": svc.Environment,
		"abstained": r.Abstained, "triage_ms": r.Elapsed.Milliseconds()}
	if top := r.Top(); top != nil {
		f["category"], f["confidence"] = top.Category, top.Confidence
	}
	auditlog.Milestone(h.cfg.Log, auditlog.MilestoneHypothesis, f)
}
