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

// replies lists one thread, as Slack's conversations.replies does: channel
// and ts are required, and ts may name the thread's parent or any reply in
// it (a message without replies is returned alone). Messages come oldest
// first, the parent before its replies; oldest and latest bound them by
// timestamp (inclusive only when asked), limit (default and maximum 1000)
// and cursor page through them, and metadata is only returned with
// include_all_metadata. Deleted messages are left out.
func (e *Emulator) replies(p params) apiResult {
	ch := e.lookupChannel(p["channel"])
	if ch == nil {
		return fail("channel_not_found")
	}
	if !ch.member {
		return fail("not_in_channel")
	}
	anchor := e.findMessage(ch.id, p["ts"])
	if p["ts"] == "" || anchor == nil || anchor.Deleted {
		return fail("thread_not_found")
	}
	parentTS := anchor.TS
	if anchor.ThreadTS != "" {
		parentTS = anchor.ThreadTS
	}
	oldest, latest := 0.0, 0.0
	if v := p["oldest"]; v != "" {
		var err error
		if oldest, err = strconv.ParseFloat(v, 64); err != nil || oldest < 0 {
			return fail("invalid_ts_oldest")
		}
	}
	if v := p["latest"]; v != "" {
		var err error
		if latest, err = strconv.ParseFloat(v, 64); err != nil || latest < 0 {
			return fail("invalid_ts_latest")
		}
	}
	inclusive := truthy(p["inclusive"])
	limit, _ := strconv.Atoi(p["limit"])
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	offset := 0
	if c := p["cursor"]; c != "" {
		var err error
		if offset, err = strconv.Atoi(c); err != nil || offset < 0 {
			return fail("invalid_cursor")
		}
	}
	withMetadata := truthy(p["include_all_metadata"])

	parentUser := anchor.User
	if parent := e.findMessage(ch.id, parentTS); parent != nil {
		parentUser = parent.User
	}
	var thread []*Message
	for _, m := range ch.messages {
		if !m.Deleted && (m.TS == parentTS || m.ThreadTS == parentTS) {
			thread = append(thread, m)
		}
	}
	var listed []map[string]any
	for _, m := range thread {
		ts, _ := strconv.ParseFloat(m.TS, 64)
		if oldest != 0 && (ts < oldest || (ts == oldest && !inclusive)) {
			continue
		}
		if latest != 0 && (ts > latest || (ts == latest && !inclusive)) {
			continue
		}
		w := e.wireMessage(m, withMetadata)
		if m.TS == parentTS && len(thread) > 1 {
			w["thread_ts"] = parentTS
			w["reply_count"] = len(thread) - 1
		} else if m.TS != parentTS {
			w["parent_user_id"] = parentUser
		}
		listed = append(listed, w)
	}
	offset = min(offset, len(listed))
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
