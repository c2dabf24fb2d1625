package slack

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/novasre/nova"
)

// postHypothesis posts the typical hypothesis through the real client and
// returns it as the emulator holds it.
func (r *rig) postHypothesis(t *testing.T) string {
	t.Helper()
	ts, err := r.client.Post(context.Background(), "C0INCIDENT", "", hypothesisMessage())
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestClickReplacesTheMessage reads like the on-call flow: Nova posts a
// hypothesis, someone clicks Helpful, the message is updated in place.
func TestClickReplacesTheMessage(t *testing.T) {
	r := newRig(t, nil)
	r.app.onInteract = func(_ context.Context, in nova.Interaction) (nova.Reply, error) {
		m := hypothesisMessage()
		m.Blocks = append(m.Blocks[:len(m.Blocks)-1], nova.Block{Kind: nova.BlockContext, Text: nova.Mrkdwn("👍 marked helpful by <@" + in.UserID + ">")})
		return nova.Reply{ReplaceOriginal: true, Message: m}, nil
	}
	ts := r.postHypothesis(t)
	msg, _ := r.emu.Message("C0INCIDENT", ts)
	resp, body, err := r.emu.Click(r.clicks, prodSecret, "U0ALICE", msg, "nova_feedback_helpful")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("click ack: %d %q", resp.StatusCode, body)
	}
	eventually(t, "the message to be replaced", func() bool {
		m, _ := r.emu.Message("C0INCIDENT", ts)
		return len(m.Edits) == 1 && m.Edits[0].Via == "response_url" && m.Contains("marked helpful by <@U0ALICE>")
	})
	r.app.mu.Lock()
	in := r.app.interactions[0]
	r.app.mu.Unlock()
	if in.UserID != "U0ALICE" || in.ActionID != "nova_feedback_helpful" || in.Value != "P1234" || in.ChannelID != "C0INCIDENT" ||
		in.MessageTS != ts || in.ResponseURL == "" || in.TriggerID == "" || !slices.Equal(in.Environments, []string{"prod"}) {
		t.Fatalf("interaction = %+v", in)
	}
	if updated, _ := r.emu.Message("C0INCIDENT", ts); len(updated.Buttons()) != 0 {
		t.Fatalf("buttons left after feedback: %+v", updated.Buttons())
	}
}

func TestClickRefusalIsEphemeral(t *testing.T) {
	r := newRig(t, nil)
	r.app.onInteract = func(context.Context, nova.Interaction) (nova.Reply, error) {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "you are not an approver for checkout")
	}
	ts := r.postHypothesis(t)
	msg, _ := r.emu.Message("C0INCIDENT", ts)
	if _, _, err := r.emu.Click(r.clicks, prodSecret, "U0ALICE", msg, "nova_approve"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refusal", func() bool {
		eph := r.emu.Ephemerals()
		return len(eph) == 1 && eph[0].User == "U0ALICE" && strings.Contains(eph[0].Text, "not an approver")
	})
	if m, _ := r.emu.Message("C0INCIDENT", ts); len(m.Edits) != 0 {
		t.Fatal("a refused click changed the message")
	}
	if n := r.counter(t, "interaction", "accepted"); n != 1 {
		t.Fatalf("requests_total{interaction,accepted} = %v", n)
	}
}

func TestClickEmptyReplyPostsNothing(t *testing.T) {
	r := newRig(t, nil)
	done := make(chan struct{})
	r.app.onInteract = func(context.Context, nova.Interaction) (nova.Reply, error) {
		defer close(done)
		return nova.Reply{}, nil
	}
	msg, _ := r.emu.Message("C0INCIDENT", r.postHypothesis(t))
	if _, _, err := r.emu.Click(r.clicks, prodSecret, "U0ALICE", msg, "nova_feedback_wrong"); err != nil {
		t.Fatal(err)
	}
	<-done
	_ = r.handler.Wait(context.Background())
	if n := len(r.emu.Responses()); n != 0 {
		t.Fatalf("%d response_url posts for an empty reply", n)
	}
}

func TestClickOnMissingButtonFailsInTheEmulator(t *testing.T) {
	r := newRig(t, nil)
	msg, _ := r.emu.Message("C0INCIDENT", r.postHypothesis(t))
	if _, _, err := r.emu.Click(r.clicks, prodSecret, "U0ALICE", msg, "nova_deny"); err == nil {
		t.Fatal("clicking a button the message does not have should fail")
	}
}
