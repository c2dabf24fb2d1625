package actions

import (
	"context"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/auditlog"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
)

// pagerDuty is what the flow and its writer ask of PagerDuty.
type pagerDuty interface {
	PagerDuty
	writeback.PagerDuty
}

// newFlow is the approval flow of one replica on st, wired as bot wires it
// (rollout as its gate, the writer for its notes), with the ports given.
// Without Slack: Chat answers ENOTFOUND.
func newFlow(t *testing.T, st store.Store, set func() *settings.Settings, pd pagerDuty, exec Executor, visibility time.Duration, now func() time.Time) *Flow {
	t.Helper()
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	if now == nil {
		now = time.Now
	}
	if visibility == 0 {
		visibility = nova.DefaultVisibility
	}
	audit, err := auditlog.New(st, log, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	noChat := func(string) (writeback.Chat, error) { return nil, nova.Errorf(nova.ENOTFOUND, "no slack") }
	gate := rollout.New(rollout.Config{Store: st, Settings: set, Audit: audit, Now: now,
		Groups: func(string) (rollout.Groups, error) { return nil, nova.Errorf(nova.ENOTFOUND, "no slack") }})
	once := &store.Once{Records: st, Lease: visibility, Now: now}
	writer, err := writeback.New(writeback.Config{Store: st, Once: once, Audit: audit, Log: log, Now: now,
		PagerDuty:   func(string) (writeback.PagerDuty, error) { return pd, nil },
		BotUserID:   func(string) string { return "" },
		Paused:      gate.Paused,
		UpdateStats: gate.UpdateStats,
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{Store: st, Once: once, Settings: set, Gate: gate, Writer: writer, Audit: audit, Log: log, Now: now,
		Visibility: visibility,
		PagerDuty:  func(string) (PagerDuty, error) { return pd, nil },
		Chat:       noChat,
		Executor:   func(string) (Executor, error) { return exec, nil },
		QueueMessage: func(context.Context, nova.Service, nova.IncidentRecord, nova.ApprovalRequest) error {
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
