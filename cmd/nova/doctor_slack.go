package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/novasre/nova/config"
)

// slackCall makes one Slack Web API call with token and returns its JSON
// answer; Slack reports failures as {"ok": false, "error": "..."}.
func (d *doctor) slackCall(ctx context.Context, apiURL, token, method string, args url.Values) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(apiURL, "/")+"/"+method, strings.NewReader(args.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.client("slack").Do(req)
	if err != nil {
		return nil, fmt.Errorf("Slack %s: %s", method, urlErrorCause(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("Slack %s answered HTTP %d without JSON", method, resp.StatusCode)
	}
	return out, nil
}

func slackError(res map[string]any) string {
	if ok, _ := res["ok"].(bool); ok {
		return ""
	}
	if e, _ := res["error"].(string); e != "" {
		return e
	}
	return "unknown_error"
}

func (d *doctor) checkSlack(parent context.Context, cfg *config.Config, env string) {
	e := cfg.Environments[env]
	what := "slack " + env
	if !e.Slack.Enabled() {
		for i, s := range cfg.Services {
			if s.Environment == env && s.SlackChannel != "" {
				d.fail(what, fmt.Sprintf("services[%d] names channel %s, but the environment has no Slack app", i, s.SlackChannel), "set environments."+env+".slack")
			}
		}
		return
	}
	api, token := e.Slack.APIURL, e.Slack.BotToken.Value()
	ctx, cancel := d.ctx(parent)
	defer cancel()
	res, err := d.slackCall(ctx, api, token, "auth.test", nil)
	if err != nil {
		d.fail(what+" auth.test", err.Error(), "check environments."+env+".slack.api_url and that Slack can be reached from here")
		return
	}
	if code := slackError(res); code != "" {
		d.fail(what+" auth.test", code, "the bot token is wrong or revoked: reinstall the app and update environments."+env+".slack.bot_token (xoxb-…)")
		return
	}
	d.pass(what+" auth.test", fmt.Sprintf("bot token of team %v, bot user %v", res["team_id"], res["user_id"]))
	if e.Slack.SocketMode {
		ctx, cancel := d.ctx(parent)
		res, err := d.slackCall(ctx, api, e.Slack.AppToken.Value(), "apps.connections.open", nil)
		cancel()
		switch {
		case err != nil:
			d.fail(what+" socket mode", err.Error(), "")
		case slackError(res) != "":
			d.fail(what+" socket mode", slackError(res), "create an app-level token with connections:write and set environments."+env+".slack.app_token (xapp-…)")
		default:
			d.pass(what+" socket mode", "the app token opens a connection")
		}
	}
	for i, s := range cfg.Services {
		if s.Environment != env || s.SlackChannel == "" {
			continue
		}
		ctx, cancel := d.ctx(parent)
		res, err := d.slackCall(ctx, api, token, "conversations.history", url.Values{"channel": {s.SlackChannel}, "limit": {"1"}})
		cancel()
		item := fmt.Sprintf("%s channel %s (services[%d].slack_channel)", what, s.SlackChannel, i)
		switch code := slackError(res); {
		case err != nil:
			d.fail(item, err.Error(), "")
		case code == "not_in_channel":
			d.fail(item, "the bot is not in the channel", "invite it: /invite @Nova in that channel (Nova reads its own messages there to never post twice)")
		case code == "channel_not_found":
			d.fail(item, "no such channel (or a private one without the bot)", "check the channel id (channel details → bottom), or invite the bot to the private channel")
		case code == "missing_scope":
			d.fail(item, "the app lacks a scope (channels:history / groups:history)", "update the app from nova setup slack and reinstall it")
		case code != "":
			d.fail(item, code, "")
		default:
			d.pass(what+" channel "+s.SlackChannel, "the bot is a member")
		}
	}
	d.checkSlackPeople(parent, what, api, token, "environments."+env+".slack.admins", e.Slack.Admins)
	d.checkSlackPeople(parent, what, api, token, "environments."+env+".approvals.approvers", e.Approvals.Approvers)
	if !d.globalChecked && len(cfg.GlobalAdmins) > 0 {
		d.globalChecked = true
		d.checkSlackPeople(parent, what, api, token, "global_admins", cfg.GlobalAdmins)
	}
}

// checkSlackPeople checks that every user and user-group id resolves in
// the workspace of the bot token.
func (d *doctor) checkSlackPeople(parent context.Context, what, api, token, field string, ids []string) {
	for i, id := range ids {
		item := fmt.Sprintf("%s %s[%d] %s", what, field, i, id)
		ctx, cancel := d.ctx(parent)
		var res map[string]any
		var err error
		if strings.HasPrefix(id, "S") {
			res, err = d.slackCall(ctx, api, token, "usergroups.users.list", url.Values{"usergroup": {id}})
		} else {
			res, err = d.slackCall(ctx, api, token, "users.info", url.Values{"user": {id}})
		}
		cancel()
		switch code := slackError(res); {
		case err != nil:
			d.fail(item, err.Error(), "")
		case code == "user_not_found" || code == "no_such_subteam":
			d.fail(item, "does not exist in this workspace", "copy the id from the person's or group's profile (⋮ → Copy member ID) into "+field)
		case code != "":
			d.fail(item, code, "")
		case strings.HasPrefix(id, "S"):
			if users, _ := res["users"].([]any); len(users) == 0 {
				d.warn(item, "the user group is empty: nobody in it can act", "add members, or name people directly")
			} else {
				d.pass(item, fmt.Sprintf("user group with %d member(s)", len(users)))
			}
		default:
			u, _ := res["user"].(map[string]any)
			if deleted, _ := u["deleted"].(bool); deleted {
				d.fail(item, "the account is deactivated", "remove it from "+field)
			} else {
				d.pass(item, fmt.Sprintf("user %v", u["name"]))
			}
		}
	}
}
