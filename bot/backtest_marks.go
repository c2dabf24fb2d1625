package bot

import (
	"context"
	"fmt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/backtest"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/store"
)

// BacktestRows returns the cached rows of the service's latest backtest
// with their marks, and whether user is an admin of its environment (who
// alone may mark them).
func (a *App) BacktestRows(ctx context.Context, user string, svc nova.Service) ([]backtest.MarkedRow, bool, error) {
	rows, _, err := backtest.Latest(ctx, a.store, svc)
	if err != nil {
		return nil, false, err
	}
	admin, err := a.rollout.IsAdmin(ctx, svc.Environment, user)
	if err != nil {
		return nil, false, err
	}
	return rows, admin, nil
}

// MarkBacktest records an admin's judgement of a backtest row the evidence
// left undecided: right, partly or wrong. One mark per row, the latest
// wins; it counts as feedback for the service like the Slack buttons
// (right as helpful, wrong as wrong) and partly like a postmortem's
// "Partly" answer, so a changed mark moves the counters from the old
// answer to the new one and never counts twice. Every mark and every
// refusal is audited.
func (a *App) MarkBacktest(ctx context.Context, user string, svc nova.Service, incidentID, mark string) (string, error) {
	refuse := func(err error) (string, error) {
		_ = a.audit.Append(ctx, nova.AuditEntry{Environment: svc.Environment, Service: svc.ID, Incident: incidentID,
			Actor: nova.SlackActor(user), Action: review.ActionBacktestMark, Outcome: nova.OutcomeRefused, Detail: nova.ErrorMessage(err)})
		return "", err
	}
	if mark != backtest.MarkRight && mark != backtest.MarkPartly && mark != backtest.MarkWrong {
		return "", nova.Errorf(nova.EINVALID, "a backtest row is marked right, partly or wrong, not %q", render.Truncate(mark, 20))
	}
	admin, err := a.rollout.IsAdmin(ctx, svc.Environment, user)
	if err != nil {
		return "", err
	}
	if !admin {
		return refuse(nova.Errorf(nova.EFORBIDDEN, "only Nova admins of %s can mark backtest rows of %s", svc.Environment, svc.Name))
	}
	row, err := backtest.LatestRow(ctx, a.store, svc, incidentID)
	if err != nil {
		return "", err
	}
	if row.Verdict != backtest.VerdictUndecided {
		return refuse(nova.Errorf(nova.ECONFLICT, "the backtest already decided incident %s (%s); only undecided rows are marked", incidentID, row.Verdict))
	}
	var before string
	now := a.cfg.Now()
	_, err = store.Update(ctx, a.store, store.KindMeta, store.BacktestMarkID(svc.Environment, svc.ID, incidentID), func(m *backtest.Mark, exists bool) error {
		before = ""
		if exists {
			before = m.Mark
		}
		*m = backtest.Mark{Mark: mark, By: user, At: now.UTC()}
		return nil
	})
	if err != nil {
		return "", err
	}
	if before != mark {
		err := a.rollout.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
			countMark(st, before, -1)
			countMark(st, mark, +1)
		})
		if err != nil {
			return "", err
		}
	}
	detail := mark
	if before != "" && before != mark {
		detail = fmt.Sprintf("%s (was %s)", mark, before)
	}
	if err := a.audit.Append(ctx, nova.AuditEntry{Time: now, Environment: svc.Environment, Service: svc.ID, Incident: incidentID,
		Actor: nova.SlackActor(user), Action: review.ActionBacktestMark, Outcome: nova.OutcomeOK, Detail: detail}); err != nil {
		return "", err
	}
	return fmt.Sprintf("Recorded that Nova's backtest hypothesis for %s was %s.", incidentID, mark), nil
}

// countMark moves the service's feedback counters by one mark: right and
// wrong are the Slack buttons' helpful and wrong (and count among the
// verdicts that calibrate confidence), partly is a postmortem's "Partly"
// answer.
func countMark(st *nova.ServiceState, mark string, by int64) {
	st.SeedVerdicts()
	switch mark {
	case backtest.MarkRight:
		st.Helpful += by
		st.CountVerdict(nova.FeedbackHelpful, false, by)
	case backtest.MarkWrong:
		st.Wrong += by
		st.CountVerdict(nova.FeedbackWrong, false, by)
	case backtest.MarkPartly:
		st.AnswersPartly += by
	}
}
