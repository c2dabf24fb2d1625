package rollout

import (
	"context"
	"slices"
	"strings"

	"github.com/novasre/nova"
)

// Caller is who sent a command or click, and from where: the channel, and
// the environments whose Slack app verified the request (none when an
// in-process caller did not say: then every environment).
type Caller struct {
	User    string
	Channel string
	Envs    []string
}

// CallerOf returns the caller of a slash command.
func CallerOf(req nova.CommandRequest) Caller {
	return Caller{User: req.UserID, Channel: req.ChannelID, Envs: req.Environments}
}

// Reaches reports whether the request came through env's Slack app.
func (c Caller) Reaches(env string) bool {
	return len(c.Envs) == 0 || slices.Contains(c.Envs, env)
}

// Sees reports whether svc is within the caller's reach: its environment
// is one the request came through, and the caller either administers that
// environment or is asking in the service's own channel (where Nova posts
// about it anyway). Nothing of another environment is ever shown or changed.
func (r *Rollout) Sees(ctx context.Context, c Caller, svc nova.Service) (bool, error) {
	if !c.Reaches(svc.Environment) {
		return false, nil
	}
	if c.Channel != "" && c.Channel == svc.SlackChannel {
		return true, nil
	}
	return r.IsAdmin(ctx, svc.Environment, c.User)
}

// globalAdmin reports whether the caller may act on Nova as a whole
// (pause, resume): listed in global_admins (directly or through a user
// group), or an admin of every configured environment. Otherwise it names
// the environments the caller does not administer.
func (r *Rollout) globalAdmin(ctx context.Context, c Caller) (bool, []string, error) {
	set := r.settings()
	if slices.Contains(set.GlobalAdmins, c.User) && c.User != nova.ActorNova {
		return true, nil, nil
	}
	if env, ok := r.groupLookupEnv(c); ok && slices.ContainsFunc(set.GlobalAdmins, func(id string) bool { return strings.HasPrefix(id, "S") }) {
		groups, err := r.UserGroups(ctx, env, c.User, set.GlobalAdmins)
		if err != nil {
			return false, nil, err
		}
		if len(groups) > 0 {
			return true, nil, nil
		}
	}
	var missing []string
	for env := range set.Environments {
		ok, err := r.IsAdmin(ctx, env, c.User)
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
func (r *Rollout) groupLookupEnv(c Caller) (string, bool) {
	set := r.settings()
	names := make([]string, 0, len(set.Environments))
	for env, es := range set.Environments {
		if es.Slack && c.Reaches(env) {
			names = append(names, env)
		}
	}
	if len(names) == 0 {
		return "", false
	}
	slices.Sort(names)
	return names[0], true
}

// IsAdmin reports whether user is a Nova admin of env: listed by id, or a
// member of a listed user group.
func (r *Rollout) IsAdmin(ctx context.Context, env, user string) (bool, error) {
	es, ok := r.settings().Environments[env]
	if !ok {
		return false, nil
	}
	return r.inList(ctx, env, user, es.Admins)
}

// inList reports whether user is in ids, directly or through a user group.
func (r *Rollout) inList(ctx context.Context, env, user string, ids []string) (bool, error) {
	if user == "" || user == nova.ActorNova {
		return false, nil
	}
	if slices.Contains(ids, user) {
		return true, nil
	}
	groups, err := r.UserGroups(ctx, env, user, ids)
	return len(groups) > 0, err
}

// UserGroups returns which of the user-group ids in ids user belongs to,
// asking env's Slack app (members are cached for a minute).
func (r *Rollout) UserGroups(ctx context.Context, env, user string, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if !strings.HasPrefix(id, "S") {
			continue
		}
		members, err := r.groups.Load(env+"/"+id, r.cfg.Now(), func() ([]string, error) {
			g, err := r.cfg.Groups(env)
			if err != nil {
				return nil, err
			}
			return g.GroupMembers(ctx, id)
		})
		if err != nil {
			return out, nova.WrapError(nova.EUNAVAILABLE, err, "could not check membership of Slack user group %s", id)
		}
		if slices.Contains(members, user) {
			out = append(out, id)
		}
	}
	return out, nil
}
