package slackemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSignMatchesSlackDocs(t *testing.T) {
	dir := "../testdata/vectors"
	raw, err := os.ReadFile(filepath.Join(dir, "signing_docs_vector.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	_ = json.Unmarshal(raw, &v)
	body, _ := os.ReadFile(filepath.Join(dir, v["body_file"]))
	ts, _ := strconv.ParseInt(v["X-Slack-Request-Timestamp"], 10, 64)
	if got := sign(v["signing_secret"], ts, body); got != v["X-Slack-Signature"] {
		t.Fatalf("sign = %s, want %s", got, v["X-Slack-Signature"])
	}
}

// capture is a stand-in for Nova that records what Slack sent it.
type capture struct {
	header http.Header
	form   url.Values
}

func (f *fake) nova(t *testing.T) (*capture, string) {
	t.Helper()
	c := &capture{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.header = r.Header.Clone()
		_ = r.ParseForm()
		c.form = r.PostForm
	}))
	t.Cleanup(srv.Close)
	return c, srv.URL
}

func TestSlashCommandAsSlackSendsIt(t *testing.T) {
	f := start(t, Options{})
	f.AddUser("U1", "alice")
	got, novaURL := f.nova(t)
	if _, _, err := f.SlashCommand(novaURL, "s3cret", "U1", "C1", "status checkout"); err != nil {
		t.Fatal(err)
	}
	ts := got.header.Get("X-Slack-Request-Timestamp")
	if ts != strconv.FormatInt(f.clock().Unix(), 10) || got.header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("headers: %v", got.header)
	}
	want := map[string]string{"command": "/nova", "text": "status checkout", "user_id": "U1", "user_name": "alice",
		"channel_id": "C1", "channel_name": "incidents", "team_id": "T0SLACKEMU"}
	for k, v := range want {
		if got.form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.form.Get(k), v)
		}
	}
	if !strings.HasPrefix(got.form.Get("response_url"), f.URL()+"/response/") {
		t.Fatalf("response_url = %q", got.form.Get("response_url"))
	}
	if _, _, err := f.SlashCommand(novaURL, "s3cret", "U1", "C404", "x"); err == nil {
		t.Fatal("a command from an unknown channel was sent")
	}
}

func TestTamperedCopies(t *testing.T) {
	f := start(t, Options{})
	req, err := f.SlashCommandRequest("http://nova.invalid/slack/commands", "s3cret", "U1", "C1", "pause")
	if err != nil {
		t.Fatal(err)
	}
	if req.Signature != sign("s3cret", req.Timestamp, req.Body) {
		t.Fatal("request not signed with the secret")
	}
	if forged := req.Forged(); forged.Signature == req.Signature || string(forged.Body) != string(req.Body) {
		t.Fatal("Forged should change only the signature")
	}
	stale := req.Stale()
	if req.Timestamp-stale.Timestamp != 600 || stale.Signature != sign("s3cret", stale.Timestamp, req.Body) {
		t.Fatal("Stale should be correctly signed 10 minutes earlier")
	}
	if req.Unsigned().Signature != "" {
		t.Fatal("Unsigned kept a signature")
	}
}

func TestClickAndResponseURL(t *testing.T) {
	f := start(t, Options{})
	blocks := `[{"type":"actions","block_id":"act","elements":[{"type":"button","action_id":"approve","value":"appr-7","text":{"type":"plain_text","text":"Approve"}}]}]`
	ts := f.call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"proposal"}, "blocks": {blocks}}).str("ts")
	msg, _ := f.Message("C1", ts)
	if b, ok := msg.Button("approve"); !ok || b.Value != "appr-7" || b.BlockID != "act" {
		t.Fatalf("button = %+v", b)
	}
	got, novaURL := f.nova(t)
	if _, _, err := f.Click(novaURL, "s3cret", "U1", msg, "deny"); err == nil {
		t.Fatal("clicked a button the message does not have")
	}
	if _, _, err := f.Click(novaURL, "s3cret", "U1", msg, "approve"); err != nil {
		t.Fatal(err)
	}
	var p struct {
		Type        string `json:"type"`
		ResponseURL string `json:"response_url"`
		User        struct{ ID string }
		Container   struct {
			MessageTS string `json:"message_ts"`
			ChannelID string `json:"channel_id"`
		}
		Actions []struct {
			ActionID string `json:"action_id"`
			BlockID  string `json:"block_id"`
			Value    string
		}
	}
	if err := json.Unmarshal([]byte(got.form.Get("payload")), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != "block_actions" || p.User.ID != "U1" || p.Container.MessageTS != ts || p.Container.ChannelID != "C1" ||
		len(p.Actions) != 1 || p.Actions[0].Value != "appr-7" || p.Actions[0].BlockID != "act" {
		t.Fatalf("payload = %+v", p)
	}

	respond := func(body string) answer { return f.do(http.MethodPost, p.ResponseURL, "application/json", body, "") }
	// Slack's docs send booleans as strings; both spellings work.
	if a := respond(`{"replace_original":"true","text":"approved by <@U1>"}`); !a.ok() {
		t.Fatalf("replace: %+v", a)
	}
	if m, _ := f.Message("C1", ts); m.Text != "approved by <@U1>" || len(m.Edits) != 1 || m.Edits[0].Text != "proposal" || len(m.Buttons()) != 0 {
		t.Fatalf("replaced message = %+v", m)
	}
	if a := respond(`{"response_type":"in_channel","replace_original":false,"thread_ts":"` + ts + `","text":"running"}`); !a.ok() {
		t.Fatalf("thread reply: %+v", a)
	}
	if msgs := f.Messages("C1"); len(msgs) != 2 || msgs[1].ThreadTS != ts || msgs[1].Via != "response_url" {
		t.Fatalf("messages = %+v", msgs)
	}
	if a := respond(`{"text":"only you"}`); !a.ok() || f.Ephemerals()[0].User != "U1" {
		t.Fatalf("ephemeral: %+v %+v", a, f.Ephemerals())
	}
	if a := respond(`{"delete_original":"true"}`); !a.ok() {
		t.Fatalf("delete: %+v", a)
	}
	if m, _ := f.Message("C1", ts); !m.Deleted {
		t.Fatal("original not deleted")
	}
	if a := respond(`{"text":"fifth"}`); !a.ok() {
		t.Fatalf("fifth use: %+v", a)
	}
	if a := respond(`{"text":"sixth"}`); a.error() != "used_url" {
		t.Fatalf("sixth use: %+v", a)
	}
	if n := len(f.Responses()); n != 6 {
		t.Fatalf("%d responses recorded", n)
	}
}

func TestResponseURLExpires(t *testing.T) {
	f := start(t, Options{})
	req, _ := f.SlashCommandRequest("http://nova.invalid/", "s", "U1", "C1", "status")
	form, _ := url.ParseQuery(string(req.Body))
	f.advance(31 * time.Minute)
	if a := f.do(http.MethodPost, form.Get("response_url"), "application/json", `{"text":"late"}`, ""); a.error() != "expired_url" {
		t.Fatalf("after 31 min: %+v", a)
	}
	if a := f.do(http.MethodPost, f.URL()+"/response/made-up", "application/json", `{"text":"x"}`, ""); a.status != http.StatusNotFound {
		t.Fatalf("made-up url: %+v", a)
	}
	if len(f.Unexpected()) != 1 {
		t.Fatalf("Unexpected() = %v", f.Unexpected())
	}
}

// TestSocketMode drives the emulator's Socket Mode with a bare websocket
// client: token check, hello, envelope, ack, and the 3 s deadline.
func TestSocketMode(t *testing.T) {
	f := start(t, Options{})
	if a := f.do(http.MethodPost, f.APIURL()+"apps.connections.open", "application/x-www-form-urlencoded", "", "xapp-wrong"); a.error() != "invalid_auth" {
		t.Fatalf("bad app token: %+v", a)
	}
	if _, err := f.SocketSlashCommand("U1", "C1", "status"); err == nil {
		t.Fatal("sent an envelope with no connection")
	}
	open := f.do(http.MethodPost, f.APIURL()+"apps.connections.open", "application/x-www-form-urlencoded", "", f.AppToken())
	ws, _, err := websocket.DefaultDialer.Dial(open.str("url"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello = %v, %v", hello, err)
	}
	ackNext := make(chan bool, 2)
	go func() {
		for ack := range ackNext {
			var env struct {
				EnvelopeID string          `json:"envelope_id"`
				Type       string          `json:"type"`
				Payload    json.RawMessage `json:"payload"`
			}
			if ws.ReadJSON(&env) != nil {
				return
			}
			if ack {
				_ = ws.WriteJSON(map[string]any{"envelope_id": env.EnvelopeID, "payload": map[string]string{"text": "got " + env.Type}})
			}
		}
	}()
	ackNext <- true
	payload, err := f.SocketSlashCommand("U1", "C1", "status")
	if err != nil || !strings.Contains(string(payload), "got slash_commands") {
		t.Fatalf("ack = %s, %v", payload, err)
	}
	ackNext <- false
	start := time.Now()
	if _, err := f.SocketSlashCommand("U1", "C1", "status"); err == nil || time.Since(start) < ackDeadline {
		t.Fatalf("an unacked envelope should fail after %s: %v", ackDeadline, err)
	}
	close(ackNext)
}

func TestSandboxDrivesNova(t *testing.T) {
	var got url.Values
	nova := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm
		_, _ = w.Write([]byte(`{"text":"ok"}`))
	}))
	t.Cleanup(nova.Close)
	f := start(t, Options{Nova: &NovaEndpoints{CommandsURL: nova.URL, InteractionsURL: nova.URL, SigningSecret: "s"}})
	resp, err := http.PostForm(f.URL()+"/_slackemu/command", url.Values{"user": {"U1"}, "channel": {"C1"}, "text": {"help"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a sandboxAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	if a.Status != http.StatusOK || a.Body != `{"text":"ok"}` || got.Get("text") != "help" {
		t.Fatalf("answer %+v, Nova got %v", a, got)
	}
	resp2, _ := http.PostForm(f.URL()+"/_slackemu/click", url.Values{"user": {"U1"}, "channel": {"C1"}, "ts": {"1.1"}, "action_id": {"x"}})
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusBadRequest {
		t.Fatalf("click on a missing message: %d", resp2.StatusCode)
	}
}
