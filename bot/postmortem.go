package bot

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/postmortems"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/postmortem"
)

func newPostmortems(a *App, cfg Config) *postmortems.Drafts {
	return postmortems.New(postmortems.Config{
		Store: cfg.Store, Settings: cfg.Settings, Writer: a.writer, Audit: a.audit,
		PagerDuty:   func(env string) (postmortems.PagerDuty, error) { return cfg.Envs.PagerDuty(env) },
		Chat:        func(env string) (writeback.Chat, error) { return cfg.Envs.Chat(env) },
		Mode:        a.rollout.Mode,
		UpdateStats: a.rollout.UpdateStats,
		Calibrate:   a.rollout.Calibrate,
		QueueMessage: func(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
			return a.outbox.QueuePostmortem(ctx, svc, rec)
		},
		Log: cfg.Log, Now: cfg.Now,
	})
}

// Postmortem returns the latest version of an incident's postmortem draft.
func (a *App) Postmortem(ctx context.Context, incidentID string) (postmortem.Draft, error) {
	return a.postmortems.Get(ctx, incidentID)
}

// draftPostmortem drafts the postmortem of a resolved incident (see
// postmortems.Drafts.OnResolved).
func (a *App) draftPostmortem(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) error {
	return a.postmortems.OnResolved(ctx, svc, rec, log)
}

// answerPostmortem records a Yes / Partly / No click on a draft's Slack
// reply. Like feedback, anyone in the service's channel may answer, and an
// admin of its environment from anywhere; other incidents are unknown.
func (a *App) answerPostmortem(ctx context.Context, c rollout.Caller, incidentID, answer string) (nova.Reply, error) {
	unknown := nova.Errorf(nova.ENOTFOUND, "Nova has no postmortem draft for incident %s here", render.Truncate(incidentID, 32))
	rec, err := a.Incident(ctx, incidentID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nova.Reply{}, unknown
	}
	if err != nil {
		return nova.Reply{}, err
	}
	svc, known := a.cfg.Settings().Services[rec.ServiceID]
	if !known || svc.Environment != rec.Environment {
		return nova.Reply{}, unknown
	}
	if ok, err := a.rollout.Sees(ctx, c, svc); err != nil {
		return nova.Reply{}, err
	} else if !ok {
		return nova.Reply{}, unknown
	}
	return a.postmortems.Answer(ctx, svc, incidentID, c.User, answer)
}
