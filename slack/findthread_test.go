package slack

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/slack/slackemu"
)

// Red-team item 6: a thread reply whose answer was lost must be found where
// it went (conversations.replies), across pages, and not in other threads.
func TestRedTeam6_FindByMetadataLooksInTheThread(t *testing.T) {
	emu := startEmulator(t, slackemu.Options{PostInterval: time.Millisecond, PostBurst: 500})
	c, _ := newTestClient(t, emu, func(cfg *ClientConfig) { cfg.PerChannelInterval, cfg.Burst = time.Millisecond, 500 })
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	parent, err := c.Post(ctx, "C0INCIDENT", "", hypothesisMessage())
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Post(ctx, "C0INCIDENT", "", nova.Message{Text: "another incident"})
	if err != nil {
		t.Fatal(err)
	}
	emu.LoseAnswers(slackemu.AnswerLoss{Method: "chat.postMessage", InThread: true, Count: 1})
	if _, err := c.Post(ctx, "C0INCIDENT", parent, nova.Message{Text: "Approval needed", Metadata: map[string]string{"nova_audit_id": "nova-LOST"}}); err == nil {
		t.Fatal("the post's answer was not lost")
	}
	for i := range 230 { // the thread goes on: the lost post is on the first of several pages
		if _, err := c.Post(ctx, "C0INCIDENT", parent, nova.Message{Text: nova.Mrkdwn(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	var lost string
	for _, m := range emu.Messages("C0INCIDENT") {
		if m.Text == "Approval needed" {
			lost = m.TS
		}
	}
	ts, ok, err := c.FindByMetadata(ctx, "C0INCIDENT", parent, "nova_audit_id", "nova-LOST", start)
	if err != nil || !ok || ts != lost {
		t.Fatalf("FindByMetadata in the thread = %q %v %v, want %q", ts, ok, err, lost)
	}
	if _, ok, err := c.FindByMetadata(ctx, "C0INCIDENT", other, "nova_audit_id", "nova-LOST", start); err != nil || ok {
		t.Fatalf("found the post in another thread: %v %v", ok, err)
	}
	if _, ok, _ := c.FindByMetadata(ctx, "C0INCIDENT", "", "nova_audit_id", "nova-LOST", start); ok {
		t.Fatal("conversations.history listed a thread reply; the emulator no longer models Slack")
	}
}
