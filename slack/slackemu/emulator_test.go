package slackemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

type answer struct {
	status     int
	retryAfter string
	body       map[string]any
}

func (a answer) ok() bool            { return a.body["ok"] == true }
func (a answer) error() string       { s, _ := a.body["error"].(string); return s }
func (a answer) str(k string) string { s, _ := a.body[k].(string); return s }

// fake is a started emulator with a clock the test can move.
type fake struct {
	*Emulator
	t   *testing.T
	mu  sync.Mutex
	now time.Time
}

func start(t *testing.T, opts Options) *fake {
	t.Helper()
	f := &fake{t: t, now: time.Unix(1_760_000_000, 0)}
	opts.Now = f.clock
	f.Emulator = New(opts)
	if _, err := f.Start(); err != nil {
		t.Fatal(err)
	}
	f.AddChannel("C1", "incidents")
	f.AddChannel("C2", "other")
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func (f *fake) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fake) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// call posts form values to a Web API method with the bot token.
func (f *fake) call(method string, values url.Values) answer {
	f.t.Helper()
	if values.Get("token") == "" {
		values.Set("token", f.BotToken())
	}
	return f.do(http.MethodPost, f.APIURL()+method, "application/x-www-form-urlencoded", values.Encode(), "")
}

func (f *fake) do(httpMethod, target, contentType, body, bearer string) answer {
	f.t.Helper()
	req, _ := http.NewRequest(httpMethod, target, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		f.t.Fatalf("%s %s answered %d %q", httpMethod, target, resp.StatusCode, raw)
	}
	return a
}

func TestTokensAreChecked(t *testing.T) {
	f := start(t, Options{})
	if a := f.call("auth.test", url.Values{"token": {"xoxb-wrong"}}); a.error() != "invalid_auth" {
		t.Fatalf("wrong token: %+v", a)
	}
	if a := f.do(http.MethodPost, f.APIURL()+"auth.test", "application/x-www-form-urlencoded", "", ""); a.error() != "not_authed" {
		t.Fatalf("no token: %+v", a)
	}
	if a := f.do(http.MethodPost, f.APIURL()+"auth.test", "application/json", "{}", f.BotToken()); !a.ok() || a.str("user_id") != "U0NOVABOT" {
		t.Fatalf("bearer token: %+v", a)
	}
	f.AddBotToken("xoxb-new")
	f.RevokeBotToken(f.BotToken())
	if a := f.call("auth.test", url.Values{"token": {f.BotToken()}}); a.error() != "invalid_auth" {
		t.Fatalf("revoked token: %+v", a)
	}
	for _, r := range f.Requests() {
		if strings.Contains(fmt.Sprint(r), "xoxb") {
			t.Fatalf("a token was recorded: %+v", r)
		}
	}
}

func TestUnmodelledRequestsFailLoudly(t *testing.T) {
	f := start(t, Options{})
	if a := f.call("chat.delete", url.Values{"channel": {"C1"}}); a.status != http.StatusNotFound || a.error() != "unknown_method" {
		t.Fatalf("chat.delete: %+v", a)
	}
	if a := f.do(http.MethodGet, f.URL()+"/services/T0/B0/X", "", "", ""); a.status != http.StatusNotFound {
		t.Fatalf("webhook path: %+v", a)
	}
	if got := f.Unexpected(); len(got) != 2 || !strings.Contains(got[0], "chat.delete") {
		t.Fatalf("Unexpected() = %v", got)
	}
}

func TestPostMessageFormAndJSON(t *testing.T) {
	f := start(t, Options{})
	blocks := `[{"type":"section","block_id":"s","text":{"type":"mrkdwn","text":"*hi*"}}]`
	a := f.call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hi"}, "blocks": {blocks},
		"metadata": {`{"event_type":"nova","event_payload":{"key":"k1"}}`}})
	if !a.ok() || a.str("channel") != "C1" || a.str("ts") == "" {
		t.Fatalf("form post: %+v", a)
	}
	parent := a.str("ts")
	body := fmt.Sprintf(`{"channel":"#incidents","text":"reply","thread_ts":%q,"blocks":%s}`, parent, blocks)
	if a := f.do(http.MethodPost, f.APIURL()+"chat.postMessage", "application/json", body, f.BotToken()); !a.ok() {
		t.Fatalf("JSON post by channel name: %+v", a)
	}
	msgs := f.Messages("C1")
	if len(msgs) != 2 || msgs[0].Metadata.EventPayload["key"] != "k1" || msgs[1].ThreadTS != parent || !msgs[1].Contains("*hi*") {
		t.Fatalf("messages = %+v", msgs)
	}
	if msgs[1].TS <= msgs[0].TS {
		t.Fatalf("timestamps not increasing: %s then %s", msgs[0].TS, msgs[1].TS)
	}
	for name, v := range map[string]url.Values{
		"channel_not_found":       {"channel": {"C404"}, "text": {"x"}},
		"no_text":                 {"channel": {"C1"}},
		"thread_not_found":        {"channel": {"C1"}, "text": {"x"}, "thread_ts": {"1.000001"}},
		"invalid_metadata_format": {"channel": {"C2"}, "text": {"x"}, "metadata": {`{"event_payload":{}}`}},
	} {
		if a := f.call("chat.postMessage", v); a.error() != name {
			t.Errorf("want %s, got %+v", name, a)
		}
	}
}

func TestBlockKitLimitsAreEnforced(t *testing.T) {
	f := start(t, Options{PostBurst: 100})
	section := func(id, text string) string {
		return fmt.Sprintf(`{"type":"section","block_id":%q,"text":{"type":"mrkdwn","text":%q}}`, id, text)
	}
	var fifty, fiftyOne []string
	for i := range 51 {
		fiftyOne = append(fiftyOne, section(fmt.Sprint(i), "x"))
	}
	fifty = fiftyOne[:50]
	button := func(text, value string) string {
		return fmt.Sprintf(`[{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":%q},"value":%q}]}]`, text, value)
	}
	tests := []struct {
		name, blocks string
		ok           bool
	}{
		{"50 blocks", "[" + strings.Join(fifty, ",") + "]", true},
		{"51 blocks", "[" + strings.Join(fiftyOne, ",") + "]", false},
		{"3000-char section", "[" + section("s", strings.Repeat("é", 3000)) + "]", true},
		{"3001-char section", "[" + section("s", strings.Repeat("é", 3001)) + "]", false},
		{"astral chars count twice", "[" + section("s", strings.Repeat("😀", 1501)) + "]", false},
		{"duplicate block_id", "[" + section("s", "a") + "," + section("s", "b") + "]", false},
		{"151-char header", fmt.Sprintf(`[{"type":"header","text":{"type":"plain_text","text":%q}}]`, strings.Repeat("h", 151)), false},
		{"mrkdwn header", `[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]`, false},
		{"76-char button", button(strings.Repeat("b", 76), "v"), false},
		{"2001-char value", button("b", strings.Repeat("v", 2001)), false},
		{"ok button", button("Approve", "appr-1"), true},
		{"unknown type", `[{"type":"carousel"}]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}, "blocks": {tt.blocks}})
			if a.ok() != tt.ok || (!tt.ok && a.error() != "invalid_blocks") {
				t.Fatalf("%+v", a)
			}
		})
	}
}

func TestPostingRateIsPerChannel(t *testing.T) {
	f := start(t, Options{PostInterval: time.Second, PostBurst: 2})
	post := func(ch string) answer { return f.call("chat.postMessage", url.Values{"channel": {ch}, "text": {"x"}}) }
	post("C1")
	post("C1")
	if a := post("C1"); a.status != http.StatusTooManyRequests || a.retryAfter != "1" || a.error() != "ratelimited" {
		t.Fatalf("third post: %+v", a)
	}
	if a := post("C2"); !a.ok() {
		t.Fatalf("another channel was limited too: %+v", a)
	}
	f.advance(time.Second)
	if a := post("C1"); !a.ok() {
		t.Fatalf("after waiting: %+v", a)
	}
	if f.RateLimited() != 1 || len(f.Messages("C1")) != 3 {
		t.Fatalf("rate limited %d, messages %d", f.RateLimited(), len(f.Messages("C1")))
	}
}

func TestHistory(t *testing.T) {
	f := start(t, Options{PostBurst: 100})
	var ts []string
	for i := range 5 {
		v := url.Values{"channel": {"C1"}, "text": {fmt.Sprint(i)}, "metadata": {fmt.Sprintf(`{"event_type":"nova","event_payload":{"n":"%d"}}`, i)}}
		if i == 4 {
			v.Set("thread_ts", ts[0])
		}
		ts = append(ts, f.call("chat.postMessage", v).str("ts"))
	}
	history := func(v url.Values) []any {
		v.Set("channel", "C1")
		a := f.call("conversations.history", v)
		if !a.ok() {
			t.Fatalf("history: %+v", a)
		}
		msgs, _ := a.body["messages"].([]any)
		return msgs
	}
	all := history(url.Values{})
	if len(all) != 4 || all[0].(map[string]any)["text"] != "3" {
		t.Fatalf("want 4 top-level messages newest first, got %v", all)
	}
	if _, has := all[0].(map[string]any)["metadata"]; has {
		t.Fatal("metadata returned without include_all_metadata")
	}
	withMeta := history(url.Values{"include_all_metadata": {"1"}})
	if md, _ := withMeta[0].(map[string]any)["metadata"].(map[string]any); md["event_type"] != "nova" {
		t.Fatalf("metadata missing: %v", withMeta[0])
	}
	if got := history(url.Values{"oldest": {ts[2]}}); len(got) != 1 {
		t.Fatalf("oldest (exclusive): %d messages", len(got))
	}
	a := f.call("conversations.history", url.Values{"channel": {"C1"}, "limit": {"3"}})
	next := a.body["response_metadata"].(map[string]any)["next_cursor"].(string)
	if a.body["has_more"] != true || next == "" {
		t.Fatalf("first page: %+v", a.body)
	}
	if rest := history(url.Values{"limit": {"3"}, "cursor": {next}}); len(rest) != 1 {
		t.Fatalf("second page: %d", len(rest))
	}
}

func TestChannelsUsersGroups(t *testing.T) {
	f := start(t, Options{})
	f.AddPrivateChannel("G1", "secret-ops", false)
	f.AddUser("U1", "alice")
	f.AddGroup("S1", "U1", "U2")
	if a := f.call("chat.postMessage", url.Values{"channel": {"G1"}, "text": {"x"}}); a.error() != "not_in_channel" {
		t.Fatalf("post to private channel: %+v", a)
	}
	if a := f.call("conversations.join", url.Values{"channel": {"G1"}}); a.ok() {
		t.Fatal("joined a private channel without an invite")
	}
	if a := f.call("conversations.info", url.Values{"channel": {"G1"}}); a.body["channel"].(map[string]any)["is_private"] != true {
		t.Fatalf("info: %+v", a)
	}
	if a := f.call("users.info", url.Values{"user": {"U1"}}); a.body["user"].(map[string]any)["name"] != "alice" {
		t.Fatalf("users.info: %+v", a)
	}
	if a := f.call("users.info", url.Values{"user": {"U9"}}); a.error() != "user_not_found" {
		t.Fatalf("unknown user: %+v", a)
	}
	if a := f.call("usergroups.users.list", url.Values{"usergroup": {"S1"}}); fmt.Sprint(a.body["users"]) != "[U1 U2]" {
		t.Fatalf("group: %+v", a)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := start(t, Options{PostInterval: time.Millisecond, PostBurst: 1000})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				f.call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {fmt.Sprint(i, j)}})
				_ = f.Messages("C1")
				_ = f.Requests()
			}
		})
	}
	wg.Wait()
	if n := len(f.Messages("C1")); n != 80 {
		t.Fatalf("%d messages, want 80", n)
	}
}

func TestInspectionEndpoint(t *testing.T) {
	f := start(t, Options{})
	f.call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hello sandbox"}})
	resp, err := http.Get(f.URL() + "/_slackemu/messages?channel=C1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Channels []struct {
			ID       string    `json:"id"`
			Messages []Message `json:"messages"`
		} `json:"channels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Channels) != 1 || out.Channels[0].Messages[0].Text != "hello sandbox" {
		t.Fatalf("inspection = %+v", out)
	}
}

func TestParseMrkdwnEntities(t *testing.T) {
	got := ParseMrkdwn("hi <!channel> and <@U1|bob>, see <https://x.example/a?b=1&amp;c=2|the doc> in <#C1> for <!subteam^S1> "+
		"on <!date^1392734382^{date}|Feb 18> &lt;!here&gt; @here", true)
	want := []Entity{
		{Kind: "special", Target: "channel", Source: "<!channel>"},
		{Kind: "user", Target: "U1", Label: "bob", Source: "<@U1|bob>"},
		{Kind: "link", Target: "https://x.example/a?b=1&c=2", Label: "the doc", Source: "<https://x.example/a?b=1&amp;c=2|the doc>"},
		{Kind: "channel", Target: "C1", Source: "<#C1>"},
		{Kind: "usergroup", Target: "S1", Source: "<!subteam^S1>"},
		{Kind: "date", Target: "!date^1392734382^{date}", Label: "Feb 18", Source: "<!date^1392734382^{date}|Feb 18>"},
		{Kind: "special", Target: "here", Source: "@here"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entities %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entity %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if e := ParseMrkdwn("@here and user@channel.example", false); len(e) != 0 {
		t.Errorf("verbatim text parsed bare mentions: %+v", e)
	}
	m := Message{Text: "&lt;!channel&gt; plain", Blocks: json.RawMessage(`[{"type":"header","text":{"type":"plain_text","text":"<!channel>"}},` +
		`{"type":"section","text":{"type":"mrkdwn","text":"@here <https://a.example|a>","verbatim":true},"fields":[{"type":"mrkdwn","text":"@everyone"}]}]`)}
	es := m.Entities()
	if len(es) != 2 || es[0].Kind != "special" || es[0].Target != "everyone" || es[1].Kind != "link" {
		t.Errorf("message entities = %+v, want the field's @everyone and the section's link", es)
	}
}
