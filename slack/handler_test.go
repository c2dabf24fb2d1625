package slack

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestCommandAnsweredInTime(t *testing.T) {
	r := newRig(t, nil)
	resp, body, err := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "  status checkout ")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	reply := decodeReply(t, body)
	if reply.ResponseType != "ephemeral" || reply.Text != "you said status checkout" {
		t.Fatalf("reply = %+v", reply)
	}
	got := r.app.commands[0]
	if got.UserID != "U0ALICE" || got.UserName != "alice" || got.ChannelID != "C0INCIDENT" || got.Text != "status checkout" ||
		!strings.HasPrefix(got.ResponseURL, r.emu.URL()+"/response/") || !slices.Equal(got.Environments, []string{"prod"}) {
		t.Fatalf("App got %+v", got)
	}
	if n := r.counter(t, "command", "ok"); n != 1 {
		t.Fatalf("requests_total{command,ok} = %v", n)
	}
}

func TestCommandInChannelReplyWithBlocks(t *testing.T) {
	r := newRig(t, nil)
	r.app.onCommand = func(context.Context, nova.CommandRequest) (nova.Reply, error) {
		return nova.Reply{InChannel: true, Message: hypothesisMessage()}, nil
	}
	_, body, err := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "status")
	if err != nil {
		t.Fatal(err)
	}
	reply := decodeReply(t, body)
	if reply.ResponseType != "in_channel" || len(reply.Blocks) != 8 {
		t.Fatalf("reply = %s", body)
	}
}

func TestCommandRefusalIsShownNot500(t *testing.T) {
	r := newRig(t, nil)
	r.app.onCommand = func(context.Context, nova.CommandRequest) (nova.Reply, error) {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "only admins may promote checkout to action mode")
	}
	resp, body, err := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "mode checkout action")
	if err != nil {
		t.Fatal(err)
	}
	reply := decodeReply(t, body)
	if resp.StatusCode != http.StatusOK || reply.ResponseType != "ephemeral" || !strings.Contains(reply.Text, "only admins may promote checkout") {
		t.Fatalf("status %d, reply %+v", resp.StatusCode, reply)
	}
	if n := r.counter(t, "command", "app_error"); n != 1 {
		t.Fatalf("requests_total{command,app_error} = %v", n)
	}
}

func TestCommandInternalErrorHidesDetails(t *testing.T) {
	r := newRig(t, nil)
	r.app.onCommand = func(context.Context, nova.CommandRequest) (nova.Reply, error) {
		return nova.Reply{}, errors.New("redis: dial tcp 10.0.0.7:6379: password=hunter2")
	}
	_, body, _ := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "status")
	if reply := decodeReply(t, body); reply.Text != "⚠️ internal error" {
		t.Fatalf("reply = %q", reply.Text)
	}
}

func TestCommandPanicStillAnswers(t *testing.T) {
	r := newRig(t, nil)
	r.app.onCommand = func(context.Context, nova.CommandRequest) (nova.Reply, error) { panic("boom") }
	resp, body, _ := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "status")
	if resp.StatusCode != http.StatusOK || decodeReply(t, body).Text != "⚠️ internal error" {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
}

// TestSlowCommandRepliesLater: App misses the ack deadline; Slack gets a
// 200 in time and the reply arrives on the response_url.
func TestSlowCommandRepliesLater(t *testing.T) {
	r := newRig(t, nil)
	release := make(chan struct{})
	r.app.onCommand = func(ctx context.Context, req nova.CommandRequest) (nova.Reply, error) {
		<-release
		if ctx.Err() != nil {
			return nova.Reply{}, ctx.Err()
		}
		return nova.Reply{InChannel: true, Message: nova.Message{Text: "checkout is in read-only mode"}}, nil
	}
	start := time.Now()
	resp, body, err := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "status checkout")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); resp.StatusCode != http.StatusOK || took > time.Second {
		t.Fatalf("status %d after %s", resp.StatusCode, took)
	}
	if reply := decodeReply(t, body); !strings.Contains(reply.Text, "Working on it") {
		t.Fatalf("ack = %+v", reply)
	}
	close(release)
	eventually(t, "the late reply in the channel", func() bool {
		msgs := r.emu.Messages("C0INCIDENT")
		return len(msgs) == 1 && msgs[0].Text == "checkout is in read-only mode" && msgs[0].Via == "response_url"
	})
	if n := r.counter(t, "command", "late"); n != 1 {
		t.Fatalf("requests_total{command,late} = %v", n)
	}
}

func TestSlowCommandErrorRepliesLater(t *testing.T) {
	r := newRig(t, nil)
	r.app.onCommand = func(context.Context, nova.CommandRequest) (nova.Reply, error) {
		time.Sleep(500 * time.Millisecond)
		return nova.Reply{}, nova.Errorf(nova.ENOTFOUND, "no service named chekout")
	}
	if _, _, err := r.emu.SlashCommand(r.commands, prodSecret, "U0ALICE", "C0INCIDENT", "enable chekout"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ephemeral error", func() bool {
		eph := r.emu.Ephemerals()
		return len(eph) == 1 && eph[0].User == "U0ALICE" && strings.Contains(eph[0].Text, "no service named chekout")
	})
}
