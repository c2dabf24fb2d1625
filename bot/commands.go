package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/postmortem"
)

const helpText = "*Nova commands*\n" +
	"`/nova status [service]` — mode, incidents seen, feedback and time to hypothesis\n" +
	"`/nova backtest <service>` — replay its past incidents as of their trigger times: what Nova would have said (admins; read-only)\n" +
	"`/nova enable <service>` — start watching a service in read-only (shadow) mode\n" +
	"`/nova mode <service> read-only|action [--force]` — promote after the watching period, or demote at once\n" +
	"`/nova disable <service>` — stop all work on a service\n" +
	"`/nova pause` / `/nova resume` — stop / restart every PagerDuty write and action, for all services\n" +
	"`/nova feedback <incident> helpful|wrong [cause]` — judge a hypothesis\n" +
	"`/nova review [90d]` — the rollout review's summary: drift, key age, quality, integrity (admins of every environment)\n" +
	"Status and feedback cover the services of this channel and of the environments you administer. " +
	"Changing modes needs a Nova admin of the service's environment; pausing and resuming, an admin of every environment (or a global admin)."

// Command runs a /nova slash command. It answers quickly: every command is
// a few store operations. Refusals are answered (ephemerally) and audited.
func (a *App) Command(ctx context.Context, req nova.CommandRequest) (nova.Reply, error) {
	args := strings.Fields(req.Text)
	name := "help"
	if len(args) > 0 {
		name = strings.ToLower(args[0])
		args = args[1:]
	}
	reply, err := a.runCommand(ctx, req, name, args)
	result := "ok"
	if err != nil {
		result = nova.ErrorCode(err)
		a.audit.Refusal(ctx, nova.AuditEntry{Actor: nova.SlackActor(req.UserID), Action: "command." + safeName(name),
			Detail: fmt.Sprintf("/nova %s: %s", strings.TrimSpace(req.Text), nova.ErrorMessage(err))})
		a.log.WithField("user", req.UserID).WithField("command", name).WithError(err).Info("command refused")
	}
	a.commands.WithLabelValues(safeName(name), result).Inc()
	return reply, err
}

// safeName bounds metric label values to the known commands.
func safeName(name string) string {
	switch name {
	case "help", "status", "enable", "mode", "disable", "pause", "resume", "feedback", "review", "backtest":
		return name
	}
	return "unknown"
}

func (a *App) runCommand(ctx context.Context, req nova.CommandRequest, name string, args []string) (nova.Reply, error) {
	switch name {
	case "help", "":
		return nova.Reply{Message: render.Text("%s", helpText)}, nil
	case "status":
		return a.rollout.Status(ctx, rollout.CallerOf(req), args)
	case "enable":
		if len(args) != 1 {
			return nova.Reply{}, usage("enable <service>")
		}
		return a.rollout.ChangeMode(ctx, req, args[0], nova.ModeReadOnly, false, true)
	case "backtest":
		return a.startBacktest(ctx, req, args)
	case "disable":
		if len(args) != 1 {
			return nova.Reply{}, usage("disable <service>")
		}
		return a.rollout.ChangeMode(ctx, req, args[0], nova.ModeOff, false, false)
	case "mode":
		force := slices.Contains(args, "--force")
		args = slices.DeleteFunc(args, func(s string) bool { return s == "--force" })
		if len(args) != 2 {
			return nova.Reply{}, usage("mode <service> read-only|action [--force]")
		}
		mode, err := nova.ParseMode(args[1])
		if err != nil {
			return nova.Reply{}, err
		}
		return a.rollout.ChangeMode(ctx, req, args[0], mode, force, false)
	case "pause":
		return a.rollout.SetPaused(ctx, req, true)
	case "resume":
		return a.rollout.SetPaused(ctx, req, false)
	case "review":
		return a.rollout.ReviewCommand(ctx, req, args)
	case "feedback":
		if len(args) < 2 {
			return nova.Reply{}, usage("feedback <incident> helpful|wrong [cause]")
		}
		return a.incidents.Feedback(ctx, rollout.CallerOf(req), args[0], args[1], strings.Join(args[2:], " "))
	}
	return nova.Reply{}, nova.Errorf(nova.EINVALID, "unknown command %q. Try `/nova help`.", render.Truncate(name, 30))
}

func usage(u string) error {
	return nova.Errorf(nova.EINVALID, "usage: `/nova %s`", u)
}

// Interact handles a button click. Feedback buttons become the feedback
// command; approval buttons go to the approval flow.
func (a *App) Interact(ctx context.Context, in nova.Interaction) (nova.Reply, error) {
	var (
		reply nova.Reply
		err   error
		name  string
	)
	switch {
	case in.ActionID == render.ActionFeedbackHelpful || in.ActionID == render.ActionFeedbackWrong:
		name = "feedback"
		verdict := nova.FeedbackHelpful
		if in.ActionID == render.ActionFeedbackWrong {
			verdict = nova.FeedbackWrong
		}
		reply, err = a.incidents.Feedback(ctx, rollout.Caller{User: in.UserID, Channel: in.ChannelID, Envs: in.Environments}, in.Value, verdict, "")
	case postmortem.AnswerOfAction(in.ActionID) != "":
		name = "postmortem"
		reply, err = a.answerPostmortem(ctx, rollout.Caller{User: in.UserID, Channel: in.ChannelID, Envs: in.Environments}, in.Value, postmortem.AnswerOfAction(in.ActionID))
	case in.ActionID == render.ActionApprove:
		name = "approve"
		reply, err = a.actions.Decide(ctx, in, true)
	case in.ActionID == render.ActionDeny:
		name = "deny"
		reply, err = a.actions.Decide(ctx, in, false)
	case in.ActionID == render.ActionApply:
		name = "apply"
		reply, err = a.actions.Apply(ctx, in)
	default:
		name = "unknown"
		err = nova.Errorf(nova.EINVALID, "this button is not Nova's (or is from an older version)")
	}
	result := "ok"
	if err != nil {
		result = nova.ErrorCode(err)
		a.audit.Refusal(ctx, nova.AuditEntry{Actor: nova.SlackActor(in.UserID), Action: "click." + name,
			Detail: fmt.Sprintf("button %s value %s: %s", render.Truncate(in.ActionID, 40), render.Truncate(in.Value, 60), nova.ErrorMessage(err))})
	}
	a.commands.WithLabelValues("click_"+name, result).Inc()
	return reply, err
}
