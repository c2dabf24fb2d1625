package bot

import (
	"context"
	"errors"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// errPaused stops PagerDuty writes and action runs while Nova is paused.
var errPaused = nova.Errorf(nova.EFORBIDDEN, "Nova is paused: no PagerDuty writes or actions until /nova resume")

// onTriggered triages a new incident and writes the hypothesis back: a
// Slack message queued in both modes, a PagerDuty note in action mode, then
// the optional ack and any action proposals (whose Slack messages are
// queued too).
func (a *App) onTriggered(ctx context.Context, ev nova.Event, svc nova.Service, log logrus.FieldLogger) error {
	mode, err := a.currentMode(ctx, svc)
	if err != nil {
		return err
	}
	if mode == nova.ModeOff {
		return nil
	}
	inc := incidentOf(ev)
	created := false
	rec, err := a.updateIncident(ctx, inc.ID, func(r *nova.IncidentRecord, exists bool) error {
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
		_ = a.updateServiceStats(ctx, svc, func(st *nova.ServiceState) { st.IncidentsSeen++ })
		a.noteRecentTrigger(ctx, rec)
	}
	if rec.Triage == nil {
		result := a.triage(ctx, svc, inc, rec)
		a.hypothesisMilestone(svc, inc.ID, result)
		rec, err = a.updateIncident(ctx, inc.ID, func(r *nova.IncidentRecord, _ bool) error {
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
	if mode, err = a.currentMode(ctx, svc); err != nil {
		return err
	}
	// The Slack message goes to the channel's outbox, posted by its own
	// poster: PagerDuty write-back never waits in Slack's per-channel lane.
	if mode != nova.ModeOff {
		if err := a.queueHypothesisMessage(ctx, svc, &rec, mode); err != nil {
			return err
		}
	}
	if mode == nova.ModeAction {
		if err := a.postHypothesisNote(ctx, svc, &rec); err != nil && !errors.Is(err, errPaused) {
			return err
		}
		if err := a.autoAck(ctx, svc, &rec); err != nil && !errors.Is(err, errPaused) {
			return err
		}
		if err := a.proposeActions(ctx, svc, rec, log); err != nil && !errors.Is(err, errPaused) {
			return err
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

// markHypothesis records the first time a hypothesis became visible.
func (a *App) markHypothesis(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	first := false
	updated, err := a.updateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		if r.HypothesisAt.IsZero() {
			first = true
			r.HypothesisAt = a.now()
		}
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	if first {
		tth := rec.TimeToHypothesis().Seconds()
		a.metrics.timeToHypothesis.Observe(tth)
		_ = a.updateServiceStats(ctx, svc, func(st *nova.ServiceState) {
			st.Hypotheses++
			st.HypothesisSeconds += tth
		})
	}
	return nil
}

// autoAck acknowledges the incident as the bot user where the service
// allows it, the tier includes it, and nobody has acknowledged yet.
func (a *App) autoAck(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	if !svc.AutoAck || !a.settings().Tier.Allows(nova.FeatureAck) || !rec.FirstAckAt.IsZero() {
		return nil
	}
	pd, err := a.cfg.Envs.PagerDuty(svc.Environment)
	if err != nil {
		return err
	}
	inc, err := pd.GetIncident(ctx, rec.ID)
	if err != nil {
		return err
	}
	if inc.Status != nova.StatusTriggered {
		return nil // a person was faster, or it resolved
	}
	if err := a.acknowledge(ctx, svc, rec.ID); err != nil {
		return err
	}
	first := false
	updated, err := a.updateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		if r.FirstAckAt.IsZero() {
			first = true
			r.FirstAckAt, r.AckedBy, r.AckedByName, r.Status = a.now(), nova.AckByNova, "Nova", nova.StatusAcknowledged
		}
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	if first {
		a.recordAck(ctx, svc, updated, nova.AckByNova)
		return a.refreshMessage(ctx, svc, updated)
	}
	return nil
}
