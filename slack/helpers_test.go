package slack

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova/slack/slackemu"
)

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// memoryGuard is a ReplayGuard kept in memory, like the store's.
type memoryGuard struct {
	mu   sync.Mutex
	seen map[string]bool
	err  error
}

func (g *memoryGuard) FirstSeen(_ context.Context, key string, _ time.Duration) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return false, g.err
	}
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	if g.seen[key] {
		return false, nil
	}
	g.seen[key] = true
	return true, nil
}

// startEmulator starts a Slack emulator with two channels and a user, and
// fails the test if anything unmodelled was asked of it.
func startEmulator(t *testing.T, opts slackemu.Options) *slackemu.Emulator {
	t.Helper()
	emu := slackemu.New(opts)
	if _, err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	emu.AddChannel("C0INCIDENT", "incidents")
	emu.AddChannel("C0OTHER", "other")
	emu.AddUser("U0ALICE", "alice")
	t.Cleanup(func() {
		if u := emu.Unexpected(); len(u) > 0 {
			t.Errorf("emulator saw unexpected requests: %v", u)
		}
		_ = emu.Close()
	})
	return emu
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func parseForm(body []byte) (url.Values, error) { return url.ParseQuery(string(body)) }

func jsonOf(v any) ([]byte, error) { return json.Marshal(v) }
