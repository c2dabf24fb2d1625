package incident

import (
	"context"
	"fmt"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/rollout"
)

// Feedback records one person's verdict on a hypothesis (the latest verdict
// of a person counts) and keeps the service's counters in step: Helpful and
// Wrong count every person's latest verdict, and the verdict becomes the
// incident's verdict for calibration (the latest a person gave, here or on
// the postmortem, beats how the incident was resolved). Anyone in
// the service's channel may judge (the buttons are there), and an admin of
// its environment from anywhere; an incident of an environment the request
// did not come through is unknown.
func (h *Handler) Feedback(ctx context.Context, c rollout.Caller, incidentID, verdict, cause string) (nova.Reply, error) {
	user := c.User
	verdict = strings.ToLower(verdict)
	if verdict != nova.FeedbackHelpful && verdict != nova.FeedbackWrong {
		return nova.Reply{}, nova.Errorf(nova.EINVALID, "usage: `/nova feedback <incident> helpful|wrong [cause]`")
	}
	unknown := nova.Errorf(nova.ENOTFOUND, "Nova has no record of incident %s here", render.Truncate(incidentID, 32))
	current, err := h.Record(ctx, incidentID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nova.Reply{}, unknown
	}
	if err != nil {
		return nova.Reply{}, err
	}
	svc, known := h.cfg.Settings().Services[current.ServiceID]
	if !known || svc.Environment != current.Environment {
		return nova.Reply{}, unknown
	}
	if ok, err := h.cfg.Rollout.Sees(ctx, c, svc); err != nil {
		return nova.Reply{}, err
	} else if !ok {
		return nova.Reply{}, unknown
	}
	var before string
	at := h.cfg.Now()
	rec, err := h.cfg.Writer.UpdateIncident(ctx, incidentID, func(r *nova.IncidentRecord, exists bool) error {
		if !exists || r.ServiceID != svc.ID || r.Environment != svc.Environment {
			return unknown
		}
		if r.Triage == nil {
			return nova.Errorf(nova.ECONFLICT, "Nova has not posted a hypothesis for %s yet", incidentID)
		}
		before = ""
		kept := r.Feedback[:0]
		for _, f := range r.Feedback {
			if f.UserID == user {
				before = f.Verdict
				continue
			}
			kept = append(kept, f)
		}
		r.Feedback = append(kept, nova.Feedback{UserID: user, Verdict: verdict, Cause: render.Truncate(cause, 500), At: at})
		return nil
	})
	if err != nil {
		return nova.Reply{}, err
	}
	if before != verdict {
		err := h.cfg.Rollout.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
			st.SeedVerdicts()
			bump(st, before, -1)
			bump(st, verdict, +1)
		})
		if err != nil {
			return nova.Reply{}, err
		}
	}
	if h.cfg.Calibrate != nil {
		err := h.cfg.Calibrate(ctx, svc, incidentID, func(v *nova.IncidentVerdict) { v.JudgedBy(nova.VerdictBySlack, verdict, at) })
		if err != nil {
			return nova.Reply{}, err
		}
	}
	detail := verdict
	if cause != "" {
		detail += ": " + render.Truncate(cause, 200)
	}
	if err := h.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: rec.Environment, Service: rec.ServiceID, Incident: rec.ID,
		Actor: nova.SlackActor(user), Action: "feedback", Outcome: nova.OutcomeOK, Detail: detail}); err != nil {
		return nova.Reply{}, err
	}
	_ = h.cfg.Outbox.QueueRefresh(ctx, svc, rec)
	msg := fmt.Sprintf("Thanks — recorded *%s* for %s.", verdict, incidentID)
	if verdict == nova.FeedbackWrong && cause == "" {
		msg += fmt.Sprintf(" If you know the real cause, `/nova feedback %s wrong <cause>` helps Nova learn.", incidentID)
	}
	return nova.Reply{Message: render.Text("%s", msg)}, nil
}

func bump(st *nova.ServiceState, verdict string, by int64) {
	switch verdict {
	case nova.FeedbackHelpful:
		st.Helpful += by
	case nova.FeedbackWrong:
		st.Wrong += by
	}
}
