package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/novasre/nova"
)

const helpText = "*Nova commands*\n" +
	"`/nova status [service]` — mode, incidents seen, feedback and time to hypothesis\n" +
	"`/nova enable <service>` — start watching a service in read-only (shadow) mode\n" +
	"`/nova mode <service> read-only|action [--force]` — promote after the watching period, or demote at once\n" +
	"`/nova disable <service>` — stop all work on a service\n" +
	"`/nova pause` / `/nova resume` — stop / restart every PagerDuty write and action, for all services\n" +
	"`/nova feedback <incident> helpful|wrong [cause]` — judge a hypothesis\n" +
	"Changing modes, pausing and resuming need a Nova admin."

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
		a.auditRefusal(ctx, nova.AuditEntry{Actor: nova.SlackActor(req.UserID), Action: "command." + safeName(name),
			Detail: fmt.Sprintf("/nova %s: %s", strings.TrimSpace(req.Text), nova.ErrorMessage(err))})
		a.log.WithField("user", req.UserID).WithField("command", name).WithError(err).Info("command refused")
	}
	a.metrics.commands.WithLabelValues(safeName(name), result).Inc()
	return reply, err
}

// safeName bounds metric label values to the known commands.
func safeName(name string) string {
	switch name {
	case "help", "status", "enable", "mode", "disable", "pause", "resume", "feedback":
		return name
	}
	return "unknown"
}

func (a *App) runCommand(ctx context.Context, req nova.CommandRequest, name string, args []string) (nova.Reply, error) {
	switch name {
	case "help", "":
		return nova.Reply{Message: text("%s", helpText)}, nil
	case "status":
		return a.status(ctx, args)
	case "enable":
		if len(args) != 1 {
			return nova.Reply{}, usage("enable <service>")
		}
		return a.changeMode(ctx, req, args[0], nova.ModeReadOnly, false, true)
	case "disable":
		if len(args) != 1 {
			return nova.Reply{}, usage("disable <service>")
		}
		return a.changeMode(ctx, req, args[0], nova.ModeOff, false, false)
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
		return a.changeMode(ctx, req, args[0], mode, force, false)
	case "pause":
		return a.setPaused(ctx, req, true)
	case "resume":
		return a.setPaused(ctx, req, false)
	case "feedback":
		if len(args) < 2 {
			return nova.Reply{}, usage("feedback <incident> helpful|wrong [cause]")
		}
		return a.feedback(ctx, req.UserID, args[0], args[1], strings.Join(args[2:], " "))
	}
	return nova.Reply{}, nova.Errorf(nova.EINVALID, "unknown command %q. Try `/nova help`.", truncate(name, 30))
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
	case in.ActionID == ActionFeedbackHelpful || in.ActionID == ActionFeedbackWrong:
		name = "feedback"
		verdict := nova.FeedbackHelpful
		if in.ActionID == ActionFeedbackWrong {
			verdict = nova.FeedbackWrong
		}
		reply, err = a.feedback(ctx, in.UserID, in.Value, verdict, "")
	case in.ActionID == ActionApprove:
		name = "approve"
		reply, err = a.decide(ctx, in, true)
	case in.ActionID == ActionDeny:
		name = "deny"
		reply, err = a.decide(ctx, in, false)
	case in.ActionID == ActionApply:
		name = "apply"
		reply, err = a.apply(ctx, in)
	default:
		name = "unknown"
		err = nova.Errorf(nova.EINVALID, "this button is not Nova's (or is from an older version)")
	}
	result := "ok"
	if err != nil {
		result = nova.ErrorCode(err)
		a.auditRefusal(ctx, nova.AuditEntry{Actor: nova.SlackActor(in.UserID), Action: "click." + name,
			Detail: fmt.Sprintf("button %s value %s: %s", truncate(in.ActionID, 40), truncate(in.Value, 60), nova.ErrorMessage(err))})
	}
	a.metrics.commands.WithLabelValues("click_"+name, result).Inc()
	return reply, err
}

// isAdmin reports whether user is a Nova admin of env: listed by id, or a
// member of a listed user group.
func (a *App) isAdmin(ctx context.Context, env, user string) (bool, error) {
	es, ok := a.settings().Environments[env]
	if !ok {
		return false, nil
	}
	return a.inList(ctx, env, user, es.Admins)
}

// inList reports whether user is in ids, directly or through a user group.
func (a *App) inList(ctx context.Context, env, user string, ids []string) (bool, error) {
	if user == "" || user == nova.ActorNova {
		return false, nil
	}
	for _, id := range ids {
		if id == user {
			return true, nil
		}
	}
	groups, err := a.userGroups(ctx, env, user, ids)
	return len(groups) > 0, err
}

// userGroups returns which of the group ids in ids user belongs to.
func (a *App) userGroups(ctx context.Context, env, user string, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if !strings.HasPrefix(id, "S") {
			continue
		}
		members, err := a.groups.members(ctx, a.cfg.Envs, env, id, a.now())
		if err != nil {
			return out, nova.WrapError(nova.EUNAVAILABLE, err, "could not check membership of Slack user group %s", id)
		}
		if slices.Contains(members, user) {
			out = append(out, id)
		}
	}
	return out, nil
}
