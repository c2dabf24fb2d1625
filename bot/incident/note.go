package incident

import (
	"context"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
)

// postHypothesisNote writes the hypothesis note (action mode only).
func (h *Handler) postHypothesisNote(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	set := h.cfg.Settings()
	noteID, err := h.cfg.Writer.Note(ctx, svc, rec.ID, "hypothesis", "pagerduty.note.hypothesis", func(auditID string) string {
		return render.HypothesisNote(*rec, set.PublicURL, auditID)
	})
	if err != nil {
		return err
	}
	updated, err := h.cfg.Writer.UpdateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		r.NoteID = noteID
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	return h.cfg.Writer.MarkVisible(ctx, svc, rec)
}
