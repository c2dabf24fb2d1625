package bot

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/backtest"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/store/bolt"
)

func backtestApp(t *testing.T, run BacktestFunc) (*App, chan string) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	settings := &Settings{
		Tier:         nova.TierEnterprise,
		Services:     map[string]nova.Service{"PPAY": {ID: "PPAY", Name: "payments <!here>", Environment: "prod", DeclaredMode: nova.ModeReadOnly}},
		Environments: map[string]EnvSettings{"prod": {Admins: []string{"U0ALICE"}}},
	}
	posts := make(chan string, 4)
	var mu sync.Mutex
	chat := &mock.Chat{PostFn: func(_ context.Context, channel, _ string, m nova.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		posts <- channel + ": " + string(m.Text)
		return "1.1", nil
	}}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	a, err := New(Config{Store: st, Settings: func() *Settings { return settings }, Envs: fakeEnvs{pd: &mock.PagerDuty{}, chat: chat},
		Log: log, Backtest: run})
	if err != nil {
		t.Fatal(err)
	}
	return a, posts
}

func TestSlashBacktestIsForAdminsOneAtATime(t *testing.T) {
	release := make(chan struct{})
	a, posts := backtestApp(t, func(ctx context.Context, svc nova.Service) (backtest.Report, error) {
		<-release
		return backtest.Report{Since: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Rows: make([]backtest.Row, 3),
			Totals: backtest.Totals{Incidents: 3, Answered: 2, Abstained: 1, Right: 1, Undecided: 1,
				TopChanges: []backtest.ChangeCount{{ID: "C1", Summary: "deploy <!channel> v42", Count: 2}}}}, nil
	})
	ctx := context.Background()
	cmd := func(user, text string) (nova.Reply, error) {
		return a.Command(ctx, nova.CommandRequest{UserID: user, ChannelID: "C0PAY", Text: text, Environments: []string{"prod"}})
	}
	if _, err := cmd("U0MALLORY", "backtest PPAY"); nova.ErrorCode(err) != nova.EFORBIDDEN {
		t.Errorf("non-admin: %v, want EFORBIDDEN", err)
	}
	if _, err := cmd("U0ALICE", "backtest nosuch"); nova.ErrorCode(err) != nova.ENOTFOUND {
		t.Errorf("unknown service: %v, want ENOTFOUND", err)
	}
	if r, err := cmd("U0ALICE", "backtest PPAY"); err != nil || !r.InChannel || !strings.Contains(string(r.Message.Text), "started a backtest") {
		t.Fatalf("start: %+v %v", r, err)
	}
	if _, err := cmd("U0ALICE", "backtest PPAY"); nova.ErrorCode(err) != nova.ECONFLICT || !strings.Contains(nova.ErrorMessage(err), "already running") {
		t.Errorf("second start while running: %v, want ECONFLICT", err)
	}
	close(release)
	select {
	case p := <-posts:
		for _, want := range []string{"C0PAY: ", "3 resolved incidents", "1 right, 0 wrong, 1 for a person to judge", "nova backtest --service PPAY"} {
			if !strings.Contains(p, want) {
				t.Errorf("summary lacks %q: %s", want, p)
			}
		}
		if strings.Contains(p, "<!here>") || strings.Contains(p, "<!channel>") {
			t.Errorf("summary carries outside text unescaped: %s", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no summary posted")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := cmd("U0ALICE", "backtest PPAY")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lock was not released after the run: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSlashBacktestWithoutARunner(t *testing.T) {
	a, _ := backtestApp(t, nil)
	_, err := a.Command(context.Background(), nova.CommandRequest{UserID: "U0ALICE", ChannelID: "C0PAY", Text: "backtest PPAY"})
	if nova.ErrorCode(err) != nova.EUNAVAILABLE || !strings.Contains(nova.ErrorMessage(err), "nova backtest --service PPAY") {
		t.Errorf("got %v, want EUNAVAILABLE pointing to the command line", err)
	}
}

func TestBacktestSummaryLinksThePage(t *testing.T) {
	svc := nova.Service{ID: "PPAY", Name: "payments", Environment: "prod"}
	rep := backtest.Report{PageURL: "https://nova.example.com/backtest/PPAY", Totals: backtest.Totals{Incidents: 1, Undecided: 1}}
	if s := string(backtestSummary(svc, rep, nil)); !strings.Contains(s, "<https://nova.example.com/backtest/PPAY|the backtest page>") {
		t.Errorf("summary lacks the page link: %s", s)
	}
	rep.PageURL = ""
	if s := string(backtestSummary(svc, rep, nil)); !strings.Contains(s, "nova backtest --service PPAY") || strings.Contains(s, "/backtest/") {
		t.Errorf("summary without pages: %s", s)
	}
}
