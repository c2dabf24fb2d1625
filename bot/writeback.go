package bot

import (
	"context"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
)

// postHypothesisNote writes the hypothesis note (action mode only).
func (a *App) postHypothesisNote(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	set := a.settings()
	noteID, err := a.writer.Note(ctx, svc, rec.ID, "hypothesis", "pagerduty.note.hypothesis", func(auditID string) string {
		return render.HypothesisNote(*rec, set.PublicURL, auditID)
	})
	if err != nil {
		return err
	}
	updated, err := a.writer.UpdateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		r.NoteID = noteID
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	return a.writer.MarkVisible(ctx, svc, rec)
}

// postHypothesisMessage posts the Slack message exactly once (both modes);
// the channel's outbox calls it (queueHypothesisMessage queues it).
func (a *App) postHypothesisMessage(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error {
	if svc.SlackChannel == "" {
		if mode == nova.ModeReadOnly {
			return a.writer.MarkVisible(ctx, svc, rec) // stored and served by the API
		}
		return nil
	}
	chat, err := a.cfg.Envs.Chat(svc.Environment)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	oldest := rec.ReceivedAt.Add(-time.Hour)
	key := store.HypothesisPostKey(svc.Environment, rec.ID)
	ts, auditID, err := a.writer.Post(ctx, chat, writeback.SlackPost{
		Key: key, Channel: svc.SlackChannel, Oldest: oldest,
		Message:  func() nova.Message { return render.HypothesisMessage(svc, *rec, mode) },
		Metadata: map[string]string{"incident_id": rec.ID},
	})
	err = a.writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: rec.ID, Action: "slack.post.hypothesis", Detail: "channel " + svc.SlackChannel + " ts " + ts})
	if err != nil {
		return err
	}
	updated, err := a.writer.UpdateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		r.SlackChannel, r.SlackTS = svc.SlackChannel, ts
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	return a.writer.MarkVisible(ctx, svc, rec)
}

// refreshMessage queues an update of the hypothesis message (status, acks,
// feedback) in the channel's outbox, so that no event waits for Slack.
// Updates are not audited acts of their own: they only restate.
func (a *App) refreshMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	if rec.SlackTS == "" || rec.SlackChannel == "" {
		return nil
	}
	return a.queueSlack(ctx, svc.Environment, rec.SlackChannel, outboxItem{Kind: outboxRefresh, Incident: rec.ID, Service: svc.ID})
}

// updateMessage updates the hypothesis message in place (the outbox's refresh).
func (a *App) updateMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	chat, err := a.cfg.Envs.Chat(svc.Environment)
	if err != nil {
		return nil
	}
	mode := rec.Mode
	if st, err := a.rollout.State(ctx, svc); err == nil {
		mode = st.Mode
	}
	return a.writer.Update(ctx, chat, rec.SlackChannel, rec.SlackTS, render.HypothesisMessage(svc, rec, mode))
}
