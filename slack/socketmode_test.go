package slack

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/novasre/nova"
	"github.com/novasre/nova/slack/slackemu"
)

// runSocketMode connects Nova to the emulator over Socket Mode and stops
// it when the test ends.
func runSocketMode(t *testing.T, emu *slackemu.Emulator, app App) {
	t.Helper()
	client, _ := newTestClient(t, emu, nil)
	log, _ := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- RunSocketMode(ctx, SocketModeConfig{AppToken: emu.AppToken(), APIURL: emu.APIURL(),
			Environments: []string{"prod"}, App: app, Responder: client, Log: log, AckTimeout: 300 * time.Millisecond})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("RunSocketMode: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("RunSocketMode did not stop")
		}
	})
	if err := emu.WaitSocket(5 * time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestSocketModeCommandAckCarriesReply(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	app := &fakeApp{}
	runSocketMode(t, emu, app)
	ack, err := emu.SocketSlashCommand("U0ALICE", "C0INCIDENT", "status checkout")
	if err != nil {
		t.Fatal(err)
	}
	var reply replyJSON
	if err := json.Unmarshal(ack, &reply); err != nil || reply.Text != "you said status checkout" || reply.ResponseType != "ephemeral" {
		t.Fatalf("ack payload %s: %v", ack, err)
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	if got := app.commands[0]; got.UserID != "U0ALICE" || got.ChannelID != "C0INCIDENT" || !slices.Equal(got.Environments, []string{"prod"}) || got.ResponseURL == "" {
		t.Fatalf("App got %+v", got)
	}
}

func TestSocketModeSlowCommandRepliesLater(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	app := &fakeApp{onCommand: func(context.Context, nova.CommandRequest) (nova.Reply, error) {
		time.Sleep(600 * time.Millisecond)
		return nova.Reply{Message: nova.Message{Text: "all services paused"}}, nil
	}}
	runSocketMode(t, emu, app)
	ack, err := emu.SocketSlashCommand("U0ALICE", "C0INCIDENT", "pause")
	if err != nil {
		t.Fatalf("not acked within Slack's 3 s: %v", err)
	}
	if !strings.Contains(string(ack), "Working on it") {
		t.Fatalf("ack = %s", ack)
	}
	eventually(t, "the late reply", func() bool {
		eph := emu.Ephemerals()
		return len(eph) == 1 && eph[0].Text == "all services paused" && eph[0].Via == "response_url"
	})
}

func TestSocketModeClickAndReconnect(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	app := &fakeApp{onInteract: func(_ context.Context, in nova.Interaction) (nova.Reply, error) {
		return nova.Reply{ReplaceOriginal: true, Message: nova.Message{Text: "approved by " + nova.MentionUser(in.UserID)}}, nil
	}}
	runSocketMode(t, emu, app)
	client, _ := newTestClient(t, emu, nil)
	ts, err := client.Post(context.Background(), "C0INCIDENT", "", hypothesisMessage())
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := emu.Message("C0INCIDENT", ts)
	ack, err := emu.SocketClick("U0ALICE", msg, "nova_approve")
	if err != nil || (len(ack) != 0 && string(ack) != "null") {
		t.Fatalf("click ack %q: %v", ack, err)
	}
	eventually(t, "the approval to replace the message", func() bool {
		m, _ := emu.Message("C0INCIDENT", ts)
		return m.Text == "approved by <@U0ALICE>"
	})
	app.mu.Lock()
	in := app.interactions[0]
	app.mu.Unlock()
	if in.ActionID != "nova_approve" || in.Value != "appr-01J9Z6Q3" || in.MessageTS != ts || !slices.Equal(in.Environments, []string{"prod"}) {
		t.Fatalf("interaction = %+v", in)
	}

	// Slack asks for a reconnect every few hours; commands keep working.
	emu.RefreshSockets()
	eventually(t, "a command after the refresh", func() bool {
		ack, err := emu.SocketSlashCommand("U0ALICE", "C0INCIDENT", "status")
		return err == nil && strings.Contains(string(ack), "you said status")
	})
}

func TestSocketModeRefusesBadToken(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{})
	client, _ := newTestClient(t, emu, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := RunSocketMode(ctx, SocketModeConfig{AppToken: "xapp-wrong", APIURL: emu.APIURL(), App: &fakeApp{}, Responder: client})
	if !nova.IsCode(err, nova.EUNAUTHORIZED) {
		t.Fatalf("RunSocketMode with a bad token = %v", err)
	}
	if strings.Contains(err.Error(), "xapp-wrong") {
		t.Fatalf("error leaks the token: %v", err)
	}
	if err := RunSocketMode(ctx, SocketModeConfig{AppToken: "xoxb-not-an-app-token", App: &fakeApp{}, Responder: client}); err == nil {
		t.Fatal("accepted a bot token as the app token")
	}
}
