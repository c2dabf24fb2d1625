package bot

import (
	"context"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/store"
)

// writeNote posts one note on an incident exactly once per purpose, ending
// with its audit id, and records it in the audit log with the note's id.
func (a *App) writeNote(ctx context.Context, svc nova.Service, incidentID, purpose, auditAction string, note func(auditID string) string) (string, error) {
	if paused, err := a.rollout.Paused(ctx); err != nil {
		return "", err
	} else if paused {
		return "", errPaused
	}
	pd, err := a.cfg.Envs.PagerDuty(svc.Environment)
	if err != nil {
		return "", err
	}
	key := "pd:" + svc.Environment + ":" + incidentID + ":note:" + purpose
	noteID, auditID, _, err := a.once.Do(ctx, key, store.OnceOp{
		Write: func(ctx context.Context, auditID string) (string, error) {
			n, err := pd.AddNote(ctx, incidentID, render.WithAuditHead(note(auditID), a.audit.Head(ctx)))
			if err != nil {
				return "", err
			}
			a.learnBotUser(ctx, svc.Environment, n.User.ID)
			return n.ID, nil
		},
		Find: func(ctx context.Context, auditID string) (string, bool, error) {
			notes, err := pd.ListNotes(ctx, incidentID)
			if err != nil {
				return "", false, err
			}
			for _, n := range notes {
				if strings.Contains(n.Content, auditID) {
					return n.ID, true, nil
				}
			}
			return "", false, nil
		},
	})
	err = a.recordWrite(ctx, "pagerduty_note", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: incidentID, Action: auditAction, PagerDutyRef: noteID})
	if err != nil {
		return "", err
	}
	return noteID, nil
}

// recordWrite counts an external write and audits it: as the act itself,
// under the audit id the write carried, when writeErr is nil; as a failure
// with the error's message otherwise (writeErr is returned as is).
func (a *App) recordWrite(ctx context.Context, target string, writeErr error, e nova.AuditEntry) error {
	if writeErr != nil {
		a.metrics.writes.WithLabelValues(target, "failed").Inc()
		e.ID, e.Outcome, e.Detail, e.PagerDutyRef = "", nova.OutcomeFailed, nova.ErrorMessage(writeErr), ""
		_ = a.audit.Append(context.WithoutCancel(ctx), e)
		return writeErr
	}
	a.metrics.writes.WithLabelValues(target, "ok").Inc()
	e.Outcome = nova.OutcomeOK
	return a.audit.Append(ctx, e)
}

// acknowledge acknowledges an incident as the bot user, exactly once.
func (a *App) acknowledge(ctx context.Context, svc nova.Service, incidentID string) error {
	if paused, err := a.rollout.Paused(ctx); err != nil {
		return err
	} else if paused {
		return errPaused
	}
	pd, err := a.cfg.Envs.PagerDuty(svc.Environment)
	if err != nil {
		return err
	}
	bot := a.botUserID(ctx, svc.Environment)
	key := "pd:" + svc.Environment + ":" + incidentID + ":ack"
	ref, auditID, _, err := a.once.Do(ctx, key, store.OnceOp{
		Write: func(ctx context.Context, _ string) (string, error) {
			if err := pd.Acknowledge(ctx, incidentID); err != nil {
				return "", err
			}
			return a.ackLogEntry(ctx, pd, incidentID, bot), nil
		},
		Find: func(ctx context.Context, _ string) (string, bool, error) {
			id := a.ackLogEntry(ctx, pd, incidentID, bot)
			return id, id != "", nil
		},
	})
	return a.recordWrite(ctx, "pagerduty_ack", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: incidentID, Action: "pagerduty.acknowledge", PagerDutyRef: ref})
}

// ackLogEntry finds the bot user's acknowledge log entry, so the audit entry
// can name it; "" when it cannot be found (the ack still happened).
func (a *App) ackLogEntry(ctx context.Context, pd PagerDuty, incidentID, botUser string) string {
	entries, err := pd.ListLogEntries(ctx, incidentID)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Type, "acknowledge") && e.Agent != nil && (botUser == "" || e.Agent.ID == botUser) {
			return e.ID
		}
	}
	return ""
}

// postHypothesisNote writes the hypothesis note (action mode only).
func (a *App) postHypothesisNote(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	set := a.settings()
	noteID, err := a.writeNote(ctx, svc, rec.ID, "hypothesis", "pagerduty.note.hypothesis", func(auditID string) string {
		return render.HypothesisNote(*rec, set.PublicURL, auditID)
	})
	if err != nil {
		return err
	}
	updated, err := a.updateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		r.NoteID = noteID
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	return a.markHypothesis(ctx, svc, rec)
}

// postHypothesisMessage posts the Slack message exactly once (both modes);
// the channel's outbox calls it (queueHypothesisMessage queues it).
func (a *App) postHypothesisMessage(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error {
	if svc.SlackChannel == "" {
		if mode == nova.ModeReadOnly {
			return a.markHypothesis(ctx, svc, rec) // stored and served by the API
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
	key := "slack:" + svc.Environment + ":" + rec.ID + ":hypothesis"
	ts, auditID, _, err := a.once.Do(ctx, key, store.OnceOp{
		Write: func(ctx context.Context, auditID string) (string, error) {
			m := render.HypothesisMessage(svc, *rec, mode)
			m.Metadata = map[string]string{"nova_audit_id": auditID, "incident_id": rec.ID}
			return chat.Post(ctx, svc.SlackChannel, "", m)
		},
		Find: func(ctx context.Context, auditID string) (string, bool, error) {
			return chat.FindByMetadata(ctx, svc.SlackChannel, "", "nova_audit_id", auditID, oldest)
		},
	})
	err = a.recordWrite(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: rec.ID, Action: "slack.post.hypothesis", Detail: "channel " + svc.SlackChannel + " ts " + ts})
	if err != nil {
		return err
	}
	updated, err := a.updateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		r.SlackChannel, r.SlackTS = svc.SlackChannel, ts
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	return a.markHypothesis(ctx, svc, rec)
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
	if err := chat.Update(ctx, rec.SlackChannel, rec.SlackTS, render.HypothesisMessage(svc, rec, mode)); err != nil {
		a.metrics.writes.WithLabelValues("slack_update", "failed").Inc()
		return err
	}
	a.metrics.writes.WithLabelValues("slack_update", "ok").Inc()
	return nil
}
