package rollout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// A service whose counters were stored before per-incident verdicts
// existed keeps its feedback: the first verdict starts from its button
// counts. After that, each incident counts once, a person's latest verdict
// beats the resolution's, an older verdict arriving late changes nothing,
// and the status says where the verdicts came from.
func TestCalibrateCountsOneVerdictPerIncident(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := f.set.Services["PCHECKOUT"]
	if err := f.r.UpdateStats(ctx, svc, func(st *nova.ServiceState) { st.Helpful, st.Wrong = 1, 2 }); err != nil {
		t.Fatal(err)
	}
	verdicts := func() (int64, int64, int64) {
		t.Helper()
		st, err := f.r.State(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		return st.Verdicts()
	}
	if h, w, r := verdicts(); h != 1 || w != 2 || r != 0 {
		t.Fatalf("a stored state reads its button counts: %d %d %d", h, w, r)
	}
	t1 := f.now
	resolved := func(v *nova.IncidentVerdict) { v.Resolution = nova.FeedbackWrong }
	for range 3 { // redelivered
		if err := f.r.Calibrate(ctx, svc, "Q9", resolved); err != nil {
			t.Fatal(err)
		}
	}
	if h, w, r := verdicts(); h != 1 || w != 3 || r != 1 {
		t.Fatalf("after a not-matched resolution: %d helpful %d wrong %d by resolution", h, w, r)
	}
	st, _ := f.r.State(ctx, svc)
	if st.Helpful != 1 || st.Wrong != 2 {
		t.Errorf("the promotion counters moved: %d %d", st.Helpful, st.Wrong)
	}
	if err := f.r.Calibrate(ctx, svc, "Q9", func(v *nova.IncidentVerdict) {
		v.JudgedBy(nova.VerdictBySlack, nova.FeedbackHelpful, t1.Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	// An answer given before the button, arriving late, does not replace it.
	if err := f.r.Calibrate(ctx, svc, "Q9", func(v *nova.IncidentVerdict) { v.JudgedBy(nova.VerdictByPostmortem, nova.FeedbackWrong, t1) }); err != nil {
		t.Fatal(err)
	}
	if h, w, r := verdicts(); h != 2 || w != 2 || r != 0 {
		t.Fatalf("after a person's helpful replaced the resolution: %d helpful %d wrong %d by resolution", h, w, r)
	}
	rep, err := f.r.Status(ctx, Caller{User: "U0MALLORY", Channel: "C0CHECKOUT"}, []string{"checkout"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Feedback so far: 2 helpful, 2 wrong, 50% helpful", "Promotion counts responders' Helpful / Wrong buttons and backtest marks: 1 helpful, 2 wrong"} {
		if !strings.Contains(string(rep.Message.Text), want) {
			t.Errorf("status lacks %q: %s", want, rep.Message.Text)
		}
	}
	// The same incident id under another service is refused, not counted.
	if err := f.r.Calibrate(ctx, f.set.Services["PPAY"], "Q9", resolved); !nova.IsCode(err, nova.ECONFLICT) {
		t.Errorf("another service's verdict on Q9: %v", err)
	}
}
