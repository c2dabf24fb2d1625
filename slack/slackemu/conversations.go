package slackemu

import (
	"strconv"
	"strings"
)

func (e *Emulator) authTest(params) apiResult {
	return ok(map[string]any{
		"url": "https://slackemu.invalid/", "team": "Slack emulator", "user": "nova",
		"team_id": e.opts.TeamID, "user_id": e.opts.BotUserID, "bot_id": e.opts.BotID,
	})
}

// history lists a channel's top-level messages newest first, as Slack's
// conversations.history does: thread replies are left out, and metadata is
// only returned with include_all_metadata.
func (e *Emulator) history(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	if !ch.member {
		return fail("not_in_channel")
	}
	oldest, _ := strconv.ParseFloat(p["oldest"], 64)
	latest, err := strconv.ParseFloat(p["latest"], 64)
	if err != nil {
		latest = 0
	}
	inclusive := truthy(p["inclusive"])
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	offset, _ := strconv.Atoi(p["cursor"])
	withMetadata := truthy(p["include_all_metadata"])

	var listed []map[string]any
	for i := len(ch.messages) - 1; i >= 0; i-- {
		m := ch.messages[i]
		if m.Deleted || (m.ThreadTS != "" && m.ThreadTS != m.TS) {
			continue
		}
		ts, _ := strconv.ParseFloat(m.TS, 64)
		if ts < oldest || (ts == oldest && !inclusive && oldest != 0) {
			continue
		}
		if latest != 0 && (ts > latest || (ts == latest && !inclusive)) {
			continue
		}
		listed = append(listed, e.wireMessage(m, withMetadata))
	}
	offset = min(max(offset, 0), len(listed))
	page := listed[offset:min(offset+limit, len(listed))]
	next := ""
	if offset+limit < len(listed) {
		next = strconv.Itoa(offset + limit)
	}
	if page == nil {
		page = []map[string]any{}
	}
	return ok(map[string]any{
		"messages": page, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

func (e *Emulator) wireChannel(ch *channel) map[string]any {
	return map[string]any{
		"id": ch.id, "name": ch.name, "is_channel": !ch.private, "is_group": ch.private,
		"is_private": ch.private, "is_member": ch.member, "is_archived": false,
	}
}

func (e *Emulator) conversationInfo(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	return ok(map[string]any{"channel": e.wireChannel(ch)})
}

// join lets the bot into a public channel; a private one needs an invite.
func (e *Emulator) join(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	if ch.private && !ch.member {
		return fail("method_not_supported_for_channel_type")
	}
	ch.member = true
	return ok(map[string]any{"channel": e.wireChannel(ch)})
}

func (e *Emulator) userInfo(p params) apiResult {
	name, found := e.users[p["user"]]
	if !found {
		return fail("user_not_found")
	}
	return ok(map[string]any{"user": map[string]any{
		"id": p["user"], "team_id": e.opts.TeamID, "name": name, "real_name": name,
		"deleted": false, "is_bot": false,
		"profile": map[string]any{"display_name": name, "real_name": name},
	}})
}

func (e *Emulator) groupMembers(p params) apiResult {
	members, found := e.groups[strings.TrimSpace(p["usergroup"])]
	if !found {
		return fail("no_such_subteam")
	}
	return ok(map[string]any{"users": append([]string{}, members...)})
}
