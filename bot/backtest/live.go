package backtest

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/evidence"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/store"
)

// Live returns live triage as an Engine: bot/evidence's gatherer, with the
// settings live triage uses (budget, options, calibration, runbooks, the
// action catalog), reading PagerDuty only through each incident's as-of
// view. Each incident gets a gatherer of its own, so no evidence read as of
// one time is reused for another; it sees no concurrent incidents from
// Nova's own storm list (not kept for the past) and phrases nothing with
// the language model: the hypotheses are the engine's. Nor does it apply
// the feedback shift: the service's verdicts today may be on the very
// incidents being replayed.
func Live(set func() *settings.Settings, log logrus.FieldLogger) Engine {
	return live{set: set, log: log}
}

type live struct {
	set func() *settings.Settings
	log logrus.FieldLogger
}

func (l live) Triage(ctx context.Context, svc nova.Service, inc nova.Incident, view *View) nova.TriageResult {
	g, err := evidence.New(evidence.Config{
		Store:     noHistory{},
		Settings:  l.set,
		PagerDuty: func(string) (evidence.PagerDuty, error) { return view, nil },
		Log:       l.log,
		Now:       time.Now,
	})
	if err != nil {
		return nova.TriageResult{Abstained: true, NotChecked: []string{"evidence (" + nova.ErrorMessage(err) + ")"}}
	}
	return g.Triage(ctx, svc, inc)
}

// noHistory is the store the replay's gatherer sees: no records. Nova's
// list of recent triggers (storm recognition) is not kept for the past,
// and whatever the live store holds now may postdate the incident. It
// refuses writes: a backtest records nothing but its own cache.
type noHistory struct{}

func (noHistory) Get(_ context.Context, kind, id string) (store.Item, error) {
	return store.Item{}, store.ErrNotFound(kind, id)
}

func (noHistory) Put(_ context.Context, kind, id string, _ []byte, _ int64, _ time.Duration) (int64, error) {
	return 0, nova.Errorf(nova.EFORBIDDEN, "a backtest's replay writes no records (%s %s refused)", kind, id)
}

func (noHistory) Delete(_ context.Context, kind, id string, _ int64) error {
	return nova.Errorf(nova.EFORBIDDEN, "a backtest's replay deletes no records (%s %s refused)", kind, id)
}

func (noHistory) List(context.Context, string, string, int) ([]store.Item, error) { return nil, nil }
