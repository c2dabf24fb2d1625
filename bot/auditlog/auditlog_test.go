package auditlog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
)

func newLog(t *testing.T, st *mock.Records, now *time.Time) *Log {
	t.Helper()
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	l, err := New(st, log, func() time.Time { return *now }, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestAppendFillsIDTimeAndActor(t *testing.T) {
	st := mock.NewRecords()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	l := newLog(t, st, &now)
	if err := l.Append(context.Background(), nova.AuditEntry{Action: "mode.change"}); err != nil {
		t.Fatal(err)
	}
	e := st.Audited()
	if len(e) != 1 || !strings.HasPrefix(e[0].ID, "nova-") || !e[0].Time.Equal(now) || e[0].Actor != nova.ActorNova {
		t.Fatalf("entry %+v", e)
	}
	if h := l.Head(context.Background()); h.Seq != 1 {
		t.Errorf("head %+v", h)
	}
	st.FailPut = map[string]error{"audit": nova.Errorf(nova.EUNAVAILABLE, "down")}
	if err := l.Append(context.Background(), nova.AuditEntry{Action: "x"}); !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Errorf("an entry that could not be appended must say so: %v", err)
	}
	st.FailGet = map[string]error{"audit": nova.Errorf(nova.EUNAVAILABLE, "down")}
	if h := l.Head(context.Background()); h != (nova.AuditHead{}) {
		t.Errorf("unknown head %+v", h)
	}
}

// A flood of refusals of one kind gets refusalAuditBurst entries a minute;
// the rest are counted into the next entry, and other kinds keep theirs.
func TestRefusalsAreBoundedPerKind(t *testing.T) {
	st := mock.NewRecords()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	l := newLog(t, st, &now)
	for range refusalAuditBurst + 5 {
		l.RefusedRequest("slack", "command", "bad signature", "203.0.113.9")
	}
	l.RefusedCall("prod", "DELETE", "/incidents/Q1")
	if n := len(st.Audited("slack.request")); n != refusalAuditBurst {
		t.Fatalf("%d slack refusals audited, want %d", n, refusalAuditBurst)
	}
	if n := len(st.Audited("pagerduty.call")); n != 1 {
		t.Fatalf("the PagerDuty refusal was crowded out: %d", n)
	}
	var m dto.Metric
	if err := l.unaudited.WithLabelValues("slack.request").Write(&m); err != nil || m.GetCounter().GetValue() != 5 {
		v := m.GetCounter().GetValue()
		t.Errorf("unaudited refusals counted %v", v)
	}
	now = now.Add(time.Minute)
	l.RefusedRequest("slack", "command", "bad signature", "203.0.113.9")
	e := st.Audited("slack.request")
	if last := e[len(e)-1]; !strings.Contains(last.Detail, "and 5 more slack.request refusals") || last.Outcome != nova.OutcomeRefused {
		t.Fatalf("the next minute's entry: %+v", last)
	}
	// A huge detail is clipped on a character boundary.
	l.Refusal(context.Background(), nova.AuditEntry{Action: "command.status", Detail: strings.Repeat("é", 1000)})
	e = st.Audited("command.status")
	if len(e) != 1 || len(e[0].Detail) > refusalDetailMax || !strings.HasSuffix(e[0].Detail, "…") {
		t.Fatalf("clipped detail: %d bytes", len(e[0].Detail))
	}
}
