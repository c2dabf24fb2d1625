package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
)

const helpText = "*Nova commands*\n" +
	"`/nova status [service]` — mode, incidents seen, feedback and time to hypothesis\n" +
	"`/nova enable <service>` — start watching a service in read-only (shadow) mode\n" +
	"`/nova mode <service> read-only|action [--force]` — promote after the watching period, or demote at once\n" +
	"`/nova disable <service>` — stop all work on a service\n" +
	"`/nova pause` / `/nova resume` — stop / restart every PagerDuty write and action, for all services\n" +
	"`/nova feedback <incident> helpful|wrong [cause]` — judge a hypothesis\n" +
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
		return nova.Reply{Message: render.Text("%s", helpText)}, nil
	case "status":
		return a.status(ctx, callerOf(req), args)
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
		return a.feedback(ctx, callerOf(req), args[0], args[1], strings.Join(args[2:], " "))
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
		reply, err = a.feedback(ctx, caller{user: in.UserID, channel: in.ChannelID, envs: in.Environments}, in.Value, verdict, "")
	case in.ActionID == render.ActionApprove:
		name = "approve"
		reply, err = a.decide(ctx, in, true)
	case in.ActionID == render.ActionDeny:
		name = "deny"
		reply, err = a.decide(ctx, in, false)
	case in.ActionID == render.ActionApply:
		name = "apply"
		reply, err = a.apply(ctx, in)
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
	a.metrics.commands.WithLabelValues("click_"+name, result).Inc()
	return reply, err
}

// caller is who sent a command or click, and from where: the channel, and
// the environments whose Slack app verified the request (none when an
// in-process caller did not say: then every environment).
type caller struct {
	user    string
	channel string
	envs    []string
}

func callerOf(req nova.CommandRequest) caller {
	return caller{user: req.UserID, channel: req.ChannelID, envs: req.Environments}
}

// reaches reports whether the request came through env's Slack app.
func (c caller) reaches(env string) bool {
	return len(c.envs) == 0 || slices.Contains(c.envs, env)
}

// sees reports whether svc is within the caller's reach: its environment
// is one the request came through, and the caller either administers that
// environment or is asking in the service's own channel (where Nova posts
// about it anyway). Nothing of another environment is ever shown or changed.
func (a *App) sees(ctx context.Context, c caller, svc nova.Service) (bool, error) {
	if !c.reaches(svc.Environment) {
		return false, nil
	}
	if c.channel != "" && c.channel == svc.SlackChannel {
		return true, nil
	}
	return a.isAdmin(ctx, svc.Environment, c.user)
}

// globalAdmin reports whether the caller may act on Nova as a whole
// (pause, resume): listed in global_admins (directly or through a user
// group), or an admin of every configured environment. Otherwise it names
// the environments the caller does not administer.
func (a *App) globalAdmin(ctx context.Context, c caller) (bool, []string, error) {
	set := a.settings()
	if slices.Contains(set.GlobalAdmins, c.user) && c.user != nova.ActorNova {
		return true, nil, nil
	}
	if env, ok := a.groupLookupEnv(c); ok && slices.ContainsFunc(set.GlobalAdmins, func(id string) bool { return strings.HasPrefix(id, "S") }) {
		groups, err := a.userGroups(ctx, env, c.user, set.GlobalAdmins)
		if err != nil {
			return false, nil, err
		}
		if len(groups) > 0 {
			return true, nil, nil
		}
	}
	var missing []string
	for env := range set.Environments {
		ok, err := a.isAdmin(ctx, env, c.user)
		if err != nil {
			return false, nil, err
		}
		if !ok {
			missing = append(missing, env)
		}
	}
	slices.Sort(missing)
	return len(missing) == 0 && len(set.Environments) > 0, missing, nil
}

// groupLookupEnv picks the environment whose Slack app resolves user
// groups of global_admins: the first the request came through that has one.
func (a *App) groupLookupEnv(c caller) (string, bool) {
	set := a.settings()
	names := make([]string, 0, len(set.Environments))
	for env, es := range set.Environments {
		if es.Slack && c.reaches(env) {
			names = append(names, env)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	slices.Sort(names)
	return names[0], true
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
