package bot

import (
	"context"
	"encoding/json"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/backtest"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/store"
)

// BacktestFunc runs a backtest of a service to the end (cmd/nova builds it
// over the scoped client at background priority, the store's cache and
// live triage's engine).
type BacktestFunc func(ctx context.Context, svc nova.Service) (backtest.Report, error)

// Backtest runs: at most one per service across replicas, each bounded.
const (
	backtestLockTTL = 2 * time.Hour
	backtestTimeout = 2 * time.Hour
)

type backtestLock struct {
	By      string    `json:"by"`
	Started time.Time `json:"started"`
}

// startBacktest serves `/nova backtest <service>`: an admin of the
// service's environment starts a backtest; its summary is posted to the
// channel when it is done.
func (a *App) startBacktest(ctx context.Context, req nova.CommandRequest, args []string) (nova.Reply, error) {
	if len(args) != 1 {
		return nova.Reply{}, usage("backtest <service>")
	}
	set := a.cfg.Settings()
	svc, ok := set.ServiceByName(args[0])
	if !ok {
		return nova.Reply{}, nova.Errorf(nova.ENOTFOUND, "unknown service %q. Services are declared in Nova's config file; `/nova status` lists them.", render.Truncate(args[0], 64))
	}
	if len(req.Environments) > 0 && !containsString(req.Environments, svc.Environment) {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "this Slack app is not connected to environment %s, where %s lives", svc.Environment, svc.Name)
	}
	admin, err := a.rollout.IsAdmin(ctx, svc.Environment, req.UserID)
	if err != nil {
		return nova.Reply{}, err
	}
	if !admin {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "only Nova admins of %s can start backtests", svc.Environment)
	}
	if a.cfg.Backtest == nil {
		return nova.Reply{}, nova.Errorf(nova.EUNAVAILABLE, "backtests are not available in this deployment; run `nova backtest --service %s` on the command line", svc.ID)
	}
	now := a.cfg.Now()
	lockKey := "backtest-running:" + svc.ID
	b, _ := json.Marshal(backtestLock{By: req.UserID, Started: now})
	if _, err := a.store.Put(ctx, store.KindMeta, lockKey, b, 0, backtestLockTTL); err != nil {
		if nova.IsCode(err, nova.ECONFLICT) {
			running, _, _ := store.Load[backtestLock](ctx, a.store, store.KindMeta, lockKey)
			return nova.Reply{}, nova.Errorf(nova.ECONFLICT, "a backtest of %s is already running (started by <@%s> at %s UTC)",
				svc.Name, running.By, running.Started.UTC().Format("15:04"))
		}
		return nova.Reply{}, err
	}
	if err := a.audit.Append(ctx, nova.AuditEntry{Environment: svc.Environment, Service: svc.ID, Actor: nova.SlackActor(req.UserID),
		Action: "backtest.start", Outcome: nova.OutcomeOK, Detail: "backtest of " + svc.Name + " started from Slack"}); err != nil {
		_ = a.store.Delete(ctx, store.KindMeta, lockKey, store.AnyVersion)
		return nova.Reply{}, err
	}
	channel := req.ChannelID
	go a.runBacktest(context.WithoutCancel(ctx), svc, channel, lockKey)
	return nova.Reply{Message: render.Text("%s started a backtest of *%s*: its resolved incidents of the last 90 days, each triaged as of its trigger time. "+
		"It only reads PagerDuty, at the lowest priority, and the summary will be posted here.", nova.MentionUser(req.UserID), svc.Name),
		InChannel: true}, nil
}

func (a *App) runBacktest(ctx context.Context, svc nova.Service, channel, lockKey string) {
	defer func() { _ = a.store.Delete(context.WithoutCancel(ctx), store.KindMeta, lockKey, store.AnyVersion) }()
	ctx, cancel := context.WithTimeout(ctx, backtestTimeout)
	defer cancel()
	log := a.log.WithField("service", svc.ID).WithField("environment", svc.Environment)
	rep, err := a.cfg.Backtest(ctx, svc)
	text := backtestSummary(svc, rep, err)
	if err != nil {
		log.WithError(err).Warn("backtest failed")
	}
	chat, cerr := a.cfg.Envs.Chat(svc.Environment)
	if cerr == nil {
		pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		_, cerr = chat.Post(pctx, channel, "", render.Text("%s", text))
		pcancel()
	}
	if cerr != nil {
		log.WithError(cerr).Warn("could not post the backtest summary")
	}
}

// backtestSummary is the Slack summary of a finished backtest; text from
// outside (names, change summaries, errors) is escaped.
func backtestSummary(svc nova.Service, rep backtest.Report, err error) nova.Mrkdwn {
	if err != nil && len(rep.Rows) == 0 {
		return nova.Mrkdwnf("The backtest of *%s* failed: %s. `nova backtest --service %s` on the command line says more.",
			svc.Name, nova.ErrorMessage(err), svc.ID)
	}
	t := rep.Totals
	out := nova.Mrkdwnf("*Backtest of %s* (%s): %d resolved incidents since %s, each triaged as of its trigger time.\n",
		svc.Name, svc.Environment, t.Incidents, rep.Since.Format(time.DateOnly))
	out += nova.Mrkdwnf("• %d answered, %d without a confident answer, %d could not be replayed\n", t.Answered, t.Abstained, t.Failed)
	out += nova.Mrkdwnf("• automatic verdicts: %d right, %d wrong, %d for a person to judge\n", t.Right, t.Wrong, t.Undecided)
	if t.MedianLead > 0 {
		out += nova.Mrkdwnf("• a note would have landed a median %s before the first person acknowledged\n", t.MedianLead.Round(time.Second).String())
	}
	if len(t.TopChanges) > 0 {
		c := t.TopChanges[0]
		out += nova.Mrkdwnf("• change most often blamed: %s (%d incidents)\n", render.Truncate(c.Summary, 120), c.Count)
	}
	if rep.Partial || err != nil {
		out += "The run stopped before the end; start it again to finish (done incidents are cached).\n"
	}
	if rep.PageURL != "" {
		return out + nova.Mrkdwnf("Row by row, and to mark the undecided rows (admins): ") + nova.MrkdwnLink(rep.PageURL, "the backtest page") + "."
	}
	return out + nova.Mrkdwnf("Row by row: `nova backtest --service %s` (answered from the cache).", svc.ID)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
