package slackemu

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// conversations.replies as Slack documents it: a thread's parent and its
// replies oldest first, found from the parent or any reply, bounded by
// oldest/latest, paged by limit and cursor, metadata only when asked.
func TestReplies(t *testing.T) {
	f := start(t, Options{PostBurst: 100})
	post := func(thread, text string) string {
		v := url.Values{"channel": {"C1"}, "text": {text}, "metadata": {`{"event_type":"nova","event_payload":{"n":"` + text + `"}}`}}
		if thread != "" {
			v.Set("thread_ts", thread)
		}
		a := f.call("chat.postMessage", v)
		if !a.ok() {
			t.Fatalf("post: %+v", a)
		}
		return a.str("ts")
	}
	parent := post("", "parent")
	var replies []string
	for i := range 4 {
		f.advance(time.Second)
		replies = append(replies, post(parent, fmt.Sprint(i)))
	}
	other := post("", "unrelated")
	list := func(v url.Values) ([]map[string]any, answer) {
		t.Helper()
		if v.Get("channel") == "" {
			v.Set("channel", "C1")
		}
		a := f.call("conversations.replies", v)
		raw, _ := a.body["messages"].([]any)
		var out []map[string]any
		for _, m := range raw {
			out = append(out, m.(map[string]any))
		}
		return out, a
	}
	texts := func(ms []map[string]any) (s []string) {
		for _, m := range ms {
			s = append(s, m["text"].(string))
		}
		return s
	}

	all, _ := list(url.Values{"ts": {parent}})
	if got := fmt.Sprint(texts(all)); got != "[parent 0 1 2 3]" {
		t.Fatalf("thread = %s, want the parent then the replies oldest first", got)
	}
	if all[0]["reply_count"] != float64(4) || all[0]["thread_ts"] != parent || all[1]["thread_ts"] != parent || all[1]["parent_user_id"] == nil {
		t.Errorf("thread fields: parent %v, reply %v", all[0], all[1])
	}
	if _, has := all[1]["metadata"]; has {
		t.Error("metadata returned without include_all_metadata")
	}
	withMeta, _ := list(url.Values{"ts": {parent}, "include_all_metadata": {"true"}})
	if md, _ := withMeta[2]["metadata"].(map[string]any); md["event_type"] != "nova" {
		t.Fatalf("metadata missing: %v", withMeta[2])
	}
	if fromReply, _ := list(url.Values{"ts": {replies[2]}}); len(fromReply) != 5 {
		t.Errorf("ts of a reply names its whole thread: got %d messages", len(fromReply))
	}
	if alone, _ := list(url.Values{"ts": {other}}); len(alone) != 1 {
		t.Errorf("a message without replies comes back alone: got %d", len(alone))
	}
	if got, _ := list(url.Values{"ts": {parent}, "oldest": {replies[1]}}); fmt.Sprint(texts(got)) != "[2 3]" {
		t.Errorf("oldest (exclusive) = %v", texts(got))
	}
	if got, _ := list(url.Values{"ts": {parent}, "oldest": {replies[1]}, "inclusive": {"1"}}); fmt.Sprint(texts(got)) != "[1 2 3]" {
		t.Errorf("oldest inclusive = %v", texts(got))
	}
	if got, _ := list(url.Values{"ts": {parent}, "latest": {replies[1]}}); fmt.Sprint(texts(got)) != "[parent 0]" {
		t.Errorf("latest (exclusive) = %v", texts(got))
	}
	first, a := list(url.Values{"ts": {parent}, "limit": {"2"}})
	next, _ := a.body["response_metadata"].(map[string]any)["next_cursor"].(string)
	if len(first) != 2 || a.body["has_more"] != true || next == "" {
		t.Fatalf("first page: %+v", a.body)
	}
	if rest, a := list(url.Values{"ts": {parent}, "limit": {"2"}, "cursor": {next}}); fmt.Sprint(texts(rest)) != "[1 2]" || a.body["has_more"] != true {
		t.Errorf("second page = %v", texts(rest))
	}
	for _, tc := range []struct {
		v    url.Values
		want string
	}{
		{url.Values{"ts": {"1.000001"}}, "thread_not_found"},
		{url.Values{}, "thread_not_found"},
		{url.Values{"channel": {"C9"}, "ts": {parent}}, "channel_not_found"},
		{url.Values{"ts": {parent}, "cursor": {"x"}}, "invalid_cursor"},
		{url.Values{"ts": {parent}, "oldest": {"soon"}}, "invalid_ts_oldest"},
		{url.Values{"ts": {parent}, "latest": {"later"}}, "invalid_ts_latest"},
	} {
		if _, a := list(tc.v); a.ok() || a.error() != tc.want {
			t.Errorf("%v: %+v, want %s", tc.v, a.body, tc.want)
		}
	}
}

// A lost answer: the post is stored, the client hears nothing.
func TestLoseAnswers(t *testing.T) {
	f := start(t, Options{})
	f.LoseAnswers(AnswerLoss{Method: "chat.postMessage", InThread: true, Count: 1})
	parent := f.call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"top level"}})
	if !parent.ok() {
		t.Fatalf("a top-level post lost its answer: %+v", parent)
	}
	resp, err := f.Emulator.opts.HTTPClient.PostForm(f.APIURL()+"chat.postMessage",
		url.Values{"token": {f.BotToken()}, "channel": {"C1"}, "thread_ts": {parent.str("ts")}, "text": {"hello"}})
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the answer arrived (%d); want the connection closed", resp.StatusCode)
	}
	if msgs := f.Messages("C1"); len(msgs) != 2 || msgs[1].Text != "hello" {
		t.Fatalf("the post was not stored: %+v", msgs)
	}
	if a := f.call("chat.postMessage", url.Values{"channel": {"C1"}, "thread_ts": {parent.str("ts")}, "text": {"again"}}); !a.ok() {
		t.Fatalf("the next call lost its answer too: %+v", a)
	}
}
