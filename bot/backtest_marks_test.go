package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/backtest"
	"github.com/novasre/nova/store"
)

// cacheBacktest stores rows as a run of PPAY with fingerprint fp leaves them.
func cacheBacktest(t *testing.T, a *App, rows ...backtest.Row) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, r := range rows {
		b, _ := json.Marshal(r)
		if _, err := a.store.Put(ctx, store.KindMeta, "backtest:prod:PPAY:"+r.Incident.ID+":fp", b, store.AnyVersion, time.Hour); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Incident.ID)
	}
	b, _ := json.Marshal(map[string]any{"fingerprint": "fp", "incidents": ids})
	if _, err := a.store.Put(ctx, store.KindMeta, "backtest-index:prod:PPAY", b, store.AnyVersion, time.Hour); err != nil {
		t.Fatal(err)
	}
}

func TestBacktestMarksCountAsFeedbackLatestWins(t *testing.T) {
	a, _ := backtestApp(t, nil)
	ctx := context.Background()
	cacheBacktest(t, a,
		backtest.Row{Incident: backtest.IncidentRef{ID: "Q1"}, Verdict: backtest.VerdictUndecided},
		backtest.Row{Incident: backtest.IncidentRef{ID: "Q2"}, Verdict: backtest.VerdictRight})
	svc := a.cfg.Settings().Services["PPAY"]
	status := func() string {
		t.Helper()
		r, err := a.Command(ctx, nova.CommandRequest{UserID: "U0ALICE", ChannelID: "C0PAY", Text: "status PPAY", Environments: []string{"prod"}})
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Message.Text)
	}
	rows, admin, err := a.BacktestRows(ctx, "U0ALICE", svc)
	if err != nil || !admin || len(rows) != 2 || rows[0].Mark != nil {
		t.Fatalf("rows: %+v admin %v err %v", rows, admin, err)
	}
	if _, err := a.MarkBacktest(ctx, "U0MALLORY", svc, "Q1", backtest.MarkWrong); nova.ErrorCode(err) != nova.EFORBIDDEN {
		t.Fatalf("non-admin mark: %v, want EFORBIDDEN", err)
	}
	if _, err := a.MarkBacktest(ctx, "U0ALICE", svc, "Q2", backtest.MarkWrong); nova.ErrorCode(err) != nova.ECONFLICT {
		t.Errorf("mark of a decided row: %v, want ECONFLICT", err)
	}
	if _, err := a.MarkBacktest(ctx, "U0ALICE", svc, "Q1", "maybe"); nova.ErrorCode(err) != nova.EINVALID {
		t.Errorf("bad mark: %v, want EINVALID", err)
	}
	if _, err := a.MarkBacktest(ctx, "U0ALICE", svc, "Q1", backtest.MarkWrong); err != nil {
		t.Fatal(err)
	}
	if s := status(); !strings.Contains(s, "0 helpful, 1 wrong") {
		t.Errorf("after wrong: %s", s)
	}
	for range 2 { // the same mark again does not count twice
		if _, err := a.MarkBacktest(ctx, "U0ALICE", svc, "Q1", backtest.MarkRight); err != nil {
			t.Fatal(err)
		}
	}
	if s := status(); !strings.Contains(s, "1 helpful, 0 wrong") {
		t.Errorf("after wrong then right: %s", s)
	}
	if _, err := a.MarkBacktest(ctx, "U0ALICE", svc, "Q1", backtest.MarkPartly); err != nil {
		t.Fatal(err)
	}
	st, err := a.rollout.State(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if st.Helpful != 0 || st.Wrong != 0 || st.AnswersPartly != 1 {
		t.Errorf("after partly: helpful %d wrong %d partly %d, want 0 0 1", st.Helpful, st.Wrong, st.AnswersPartly)
	}
	rows, _, _ = a.BacktestRows(ctx, "U0ALICE", svc)
	if m := rows[0].Mark; m == nil || m.Mark != backtest.MarkPartly || m.By != "U0ALICE" {
		t.Errorf("mark shown: %+v", m)
	}
	entries, err := a.store.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Action == "backtest.mark" {
			got = append(got, e.Actor+" "+e.Outcome+" "+e.Detail)
		}
	}
	want := []string{"refused", "refused", "ok wrong", "ok right (was wrong)", "ok right", "ok partly (was right)"}
	if len(got) != len(want) {
		t.Fatalf("audit: %q", got)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("audit %d: %q, want %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "U0MALLORY") {
		t.Errorf("refusal audited without the actor: %q", got[0])
	}
}
