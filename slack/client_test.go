package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/novasre/nova"
	"github.com/novasre/nova/slack/slackemu"
)

func newTestClient(t *testing.T, emu *slackemu.Emulator, mutate func(*ClientConfig)) (*Client, *logtest.Hook) {
	t.Helper()
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	cfg := ClientConfig{APIURL: emu.APIURL(), BotToken: emu.BotToken, Log: log,
		PerChannelInterval: 10 * time.Millisecond, Registerer: prometheus.NewRegistry()}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, hook
}

func TestPostUpdateAndFindByMetadata(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	c, _ := newTestClient(t, emu, nil)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)

	ts, err := c.Post(ctx, "C0INCIDENT", "", hypothesisMessage())
	if err != nil {
		t.Fatal(err)
	}
	reply, err := c.Post(ctx, "C0INCIDENT", ts, nova.Message{Text: "status: rollback started"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := emu.Messages("C0INCIDENT")
	if len(msgs) != 2 || msgs[0].TS != ts || msgs[1].TS != reply || msgs[1].ThreadTS != ts {
		t.Fatalf("messages = %+v", msgs)
	}
	if md := msgs[0].Metadata; md == nil || md.EventType != "nova" || md.EventPayload["key"] != "hyp-P1234" {
		t.Fatalf("metadata = %+v", md)
	}
	if !msgs[0].Contains("likely the 14:02 deploy") || len(msgs[0].Buttons()) != 4 {
		t.Fatalf("blocks lost: %s", msgs[0].Blocks)
	}

	found, ok, err := c.FindByMetadata(ctx, "C0INCIDENT", "", "key", "hyp-P1234", start)
	if err != nil || !ok || found != ts {
		t.Fatalf("FindByMetadata = %q %v %v, want %q", found, ok, err, ts)
	}
	if _, ok, err := c.FindByMetadata(ctx, "C0INCIDENT", "", "key", "hyp-P9999", start); err != nil || ok {
		t.Fatalf("found a message that was never posted: %v %v", ok, err)
	}
	if _, ok, _ := c.FindByMetadata(ctx, "C0INCIDENT", "", "key", "hyp-P1234", time.Now().Add(time.Hour)); ok {
		t.Fatal("found a message older than oldest")
	}

	if err := c.Update(ctx, "C0INCIDENT", ts, nova.Message{Text: "resolved"}); err != nil {
		t.Fatal(err)
	}
	m, _ := emu.Message("C0INCIDENT", ts)
	if m.Text != "resolved" || len(m.Edits) != 1 || m.Edits[0].Via != "chat.update" {
		t.Fatalf("after update: %+v", m)
	}
	if err := c.PostEphemeral(ctx, "C0INCIDENT", "U0ALICE", nova.Message{Text: "only you"}); err != nil {
		t.Fatal(err)
	}
	if eph := emu.Ephemerals(); len(eph) != 1 || eph[0].User != "U0ALICE" || eph[0].Text != "only you" {
		t.Fatalf("ephemerals = %+v", eph)
	}
}

func TestFindByMetadataPages(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{PostInterval: time.Millisecond, PostBurst: 500})
	c, _ := newTestClient(t, emu, func(cfg *ClientConfig) { cfg.PerChannelInterval, cfg.Burst = time.Millisecond, 500 })
	ctx := context.Background()
	first, err := c.Post(ctx, "C0OTHER", "", nova.Message{Text: "oldest", Metadata: map[string]string{"key": "first"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 230 {
		if _, err := c.Post(ctx, "C0OTHER", "", nova.Message{Text: nova.Mrkdwn(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if ts, ok, err := c.FindByMetadata(ctx, "C0OTHER", "", "key", "first", time.Time{}); err != nil || !ok || ts != first {
		t.Fatalf("FindByMetadata across pages = %q %v %v", ts, ok, err)
	}
}

func TestErrorsAreMappedAndCarryNoToken(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	ctx := context.Background()
	good, _ := newTestClient(t, emu, nil)
	bad, hook := newTestClient(t, emu, func(cfg *ClientConfig) { cfg.BotToken = func() string { return "xoxb-not-a-real-token-123" } })

	_, err := bad.Post(ctx, "C0INCIDENT", "", nova.Message{Text: "hi"})
	if !nova.IsCode(err, nova.EUNAUTHORIZED) {
		t.Fatalf("bad token: %v", err)
	}
	_, err = good.Post(ctx, "C0NOSUCH", "", nova.Message{Text: "hi"})
	if !nova.IsCode(err, nova.ENOTFOUND) {
		t.Fatalf("unknown channel: %v", err)
	}
	_, err = good.GroupMembers(ctx, "S0NOSUCH")
	if !nova.IsCode(err, nova.ENOTFOUND) {
		t.Fatalf("unknown group: %v", err)
	}
	unreachable, _ := newTestClient(t, emu, func(cfg *ClientConfig) { cfg.APIURL = "http://127.0.0.1:1/api/" })
	_, err = unreachable.Post(ctx, "C0INCIDENT", "", nova.Message{Text: "hi"})
	if !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("unreachable: %v", err)
	}
	for _, e := range []error{err} {
		if strings.Contains(e.Error(), "xoxb-") {
			t.Fatalf("error leaks a token: %v", e)
		}
	}
	for _, entry := range hook.AllEntries() {
		if strings.Contains(entry.Message, "xoxb-not-a-real") {
			t.Fatalf("log leaks a token: %s", entry.Message)
		}
	}
	if !strings.Contains(redact(errors.New("got token xoxb-1-abc and xapp-1-def")).Error(), "REDACTED") {
		t.Fatal("redact kept a token")
	}
}

func TestTokenRotationTakesEffect(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	var mu sync.Mutex
	token := emu.BotToken()
	c, _ := newTestClient(t, emu, func(cfg *ClientConfig) {
		cfg.BotToken = func() string { mu.Lock(); defer mu.Unlock(); return token }
	})
	emu.AddBotToken("xoxb-rotated")
	emu.RevokeBotToken(emu.BotToken())
	mu.Lock()
	token = "xoxb-rotated"
	mu.Unlock()
	if _, err := c.AuthTest(context.Background()); err != nil {
		t.Fatalf("rotated token refused: %v", err)
	}
}

func TestGroupMembersAndAuthTest(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	emu.AddGroup("S0APPROVERS", "U0ALICE", "U0BOB")
	c, _ := newTestClient(t, emu, nil)
	members, err := c.GroupMembers(context.Background(), "S0APPROVERS")
	if err != nil || strings.Join(members, ",") != "U0ALICE,U0BOB" {
		t.Fatalf("members = %v %v", members, err)
	}
	id, err := c.AuthTest(context.Background())
	if err != nil || id.UserID != "U0NOVABOT" || id.BotID != "B0NOVABOT" {
		t.Fatalf("identity = %+v %v", id, err)
	}
}

// TestStormDelaysButLosesNothing: Nova posts faster than Slack allows;
// Slack answers 429, the client waits Retry-After, and every message
// lands, in order.
func TestStormDelaysButLosesNothing(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{PostInterval: 200 * time.Millisecond, PostBurst: 2})
	c, _ := newTestClient(t, emu, func(cfg *ClientConfig) { cfg.PerChannelInterval, cfg.Burst = time.Millisecond, 100 })
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Post(context.Background(), "C0INCIDENT", "", nova.Message{Text: nova.Mrkdwn(fmt.Sprintf("update %d", i))})
			errs <- err
		}()
		time.Sleep(5 * time.Millisecond) // enqueue in a known order
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	msgs := emu.Messages("C0INCIDENT")
	if len(msgs) != n {
		t.Fatalf("%d messages landed, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m.Text != fmt.Sprintf("update %d", i) {
			t.Fatalf("message %d is %q: order not preserved", i, m.Text)
		}
	}
	if emu.RateLimited() == 0 {
		t.Fatal("the storm never hit the rate limit; the test proves nothing")
	}
}

func TestQueuedPostRespectsCancellation(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	c, _ := newTestClient(t, emu, func(cfg *ClientConfig) { cfg.PerChannelInterval, cfg.Burst = time.Hour, 1 })
	if _, err := c.Post(context.Background(), "C0INCIDENT", "", nova.Message{Text: "first"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Post(ctx, "C0INCIDENT", "", nova.Message{Text: "second"})
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cause lost: %v", err)
	}
	// Another channel is not held up by the first one's queue.
	if _, err := c.Post(context.Background(), "C0OTHER", "", nova.Message{Text: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	if n := len(emu.Messages("C0INCIDENT")); n != 1 {
		t.Fatalf("%d messages; the cancelled one was posted", n)
	}
}

func TestRespondOnlyToSlack(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	c, _ := newTestClient(t, emu, nil)
	for _, target := range []string{"http://169.254.169.254/latest/meta-data", "file:///etc/passwd", "://bad"} {
		if err := c.Respond(context.Background(), target, nova.Reply{Message: nova.Message{Text: "x"}}); !nova.IsCode(err, nova.EINVALID) {
			t.Fatalf("Respond(%q) = %v", target, err)
		}
	}
}

func TestRespondUsesTheURLAtMostFiveTimes(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	c, _ := newTestClient(t, emu, nil)
	req, err := emu.SlashCommandRequest("http://127.0.0.1:1/unused", "s", "U0ALICE", "C0INCIDENT", "status")
	if err != nil {
		t.Fatal(err)
	}
	u := responseURLOf(t, req)
	for i := range 5 {
		if err := c.Respond(context.Background(), u, nova.Reply{Message: nova.Message{Text: nova.Mrkdwn(fmt.Sprint(i))}}); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	if err := c.Respond(context.Background(), u, nova.Reply{Message: nova.Message{Text: "6"}}); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Fatalf("sixth use: %v", err)
	}
	if got := emu.Responses(); len(got) != 6 || got[5].Error != "used_url" {
		t.Fatalf("responses = %+v", got)
	}
}

func responseURLOf(t *testing.T, req *slackemu.SignedRequest) string {
	t.Helper()
	form, err := parseForm(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	return form.Get("response_url")
}

func TestNewClientValidates(t *testing.T) {
	for _, api := range []string{"https://slack.com/api", "/api/", "::"} {
		if _, err := NewClient(ClientConfig{APIURL: api, BotToken: func() string { return "" }}); err == nil {
			t.Errorf("accepted APIURL %q", api)
		}
	}
	if _, err := NewClient(ClientConfig{}); err == nil {
		t.Error("accepted a config without BotToken")
	}
	c, err := NewClient(ClientConfig{BotToken: func() string { return "" }})
	if err != nil || c.cfg.APIURL != DefaultAPIURL || c.cfg.Burst != DefaultBurst || c.cfg.HTTPClient == nil {
		t.Fatalf("defaults: %v %+v", err, c.cfg)
	}
}
