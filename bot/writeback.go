package bot

import (
	"context"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
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
