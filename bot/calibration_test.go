package bot

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
)

// calibrationRig is the whole application on a real store, as cmd/nova
// composes it, with fake PagerDuty and Slack adapters: a checkout service
// in action mode whose every incident follows a deploy, with a rollback in
// the catalog.
type calibrationRig struct {
	a      *App
	pd     *pdFake
	sl     *slackFake
	exec   *countingExecutor
	ctx    context.Context
	svc    nova.Service
	events int
}

func newCalibrationRig(t *testing.T) *calibrationRig {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "nova.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &calibrationRig{pd: &pdFake{}, sl: &slackFake{}, exec: &countingExecutor{},
		svc: nova.Service{ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT", DeclaredMode: nova.ModeAction, WatchDays: 14}}
	settings := &Settings{
		Tier: nova.TierEnterprise, PublicURL: "https://nova.example.com",
		Services: map[string]nova.Service{r.svc.ID: r.svc},
		Environments: map[string]EnvSettings{"prod": {Admins: []string{"U0ALICE"}, Slack: true,
			Approvals: approvals.Policy{Approvers: []string{"U0ALICE"}}}},
		Actions: []nova.Action{{Name: "rollback", Title: "Roll back", Destructive: true, Addresses: []nova.Category{nova.CategoryChange},
			Services: []string{"PCHECKOUT"}, Params: map[string]string{"service": "{{.Service}}"}}},
	}
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	r.a, err = New(Config{Store: st, Settings: func() *Settings { return settings }, Log: log, Poll: 5 * time.Millisecond,
		Envs: fakeEnvs{pd: r.pd.port(), chat: r.sl.port(), exec: r.exec}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.ctx = ctx
	if err := r.a.SeedServices(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return r
}

func (r *calibrationRig) ingest(t *testing.T, ev nova.Event) IngestResult {
	t.Helper()
	res, err := r.a.Ingest(r.ctx, ev)
	if err != nil {
		t.Fatalf("ingest %s of %s: %v", ev.Type, ev.IncidentID, err)
	}
	return res
}

// trigger opens an incident and waits for its hypothesis and its approval
// request.
func (r *calibrationRig) trigger(t *testing.T, id string) nova.IncidentRecord {
	t.Helper()
	r.events++
	r.ingest(t, nova.Event{ID: fmt.Sprintf("E%d", r.events), Type: nova.EventTriggered, Environment: "prod", ServiceID: r.svc.ID, IncidentID: id,
		OccurredAt: time.Now(), Incident: &nova.Incident{ID: id, Title: "checkout-api: 5xx error rate", Urgency: nova.UrgencyHigh, CreatedAt: time.Now()}})
	var rec nova.IncidentRecord
	eventually(t, "the hypothesis of "+id, func() bool {
		var err error
		rec, err = r.a.Incident(r.ctx, id)
		return err == nil && rec.Triage != nil && rec.NoteID != "" && r.approveButton(id) != ""
	})
	return rec
}

// approveButton is the Approve button's value of the incident's request.
func (r *calibrationRig) approveButton(incidentID string) string {
	r.sl.mu.Lock()
	var values []string
	for _, m := range r.sl.posts {
		for _, b := range m.Blocks {
			for _, btn := range b.Buttons {
				if btn.ActionID == render.ActionApprove {
					values = append(values, btn.Value)
				}
			}
		}
	}
	r.sl.mu.Unlock()
	for _, v := range values {
		if req, _, err := store.Load[nova.ApprovalRequest](r.ctx, r.a.store, store.KindApproval, v); err == nil && req.IncidentID == incidentID {
			return v
		}
	}
	return ""
}

// fixAndResolve approves the rollback the rank-1 hypothesis suggested,
// lets it run and resolves the incident: the resolution matched the
// hypothesis.
func (r *calibrationRig) fixAndResolve(t *testing.T, id string) {
	t.Helper()
	runs := r.exec.runs.Load()
	if _, err := r.a.Interact(r.ctx, nova.Interaction{UserID: "U0ALICE", ChannelID: "C0CHECKOUT", ActionID: render.ActionApprove, Value: r.approveButton(id)}); err != nil {
		t.Fatalf("approve the rollback of %s: %v", id, err)
	}
	eventually(t, "the rollback of "+id, func() bool { return r.exec.runs.Load() == runs+1 })
	r.a.Wait()
	r.resolve(t, id)
	r.drain(t)
	if _, err := r.a.Postmortem(r.ctx, id); err != nil {
		t.Fatalf("the postmortem of %s: %v", id, err)
	}
}

// drain waits until every queued event (and Slack outbox poke) was handled.
func (r *calibrationRig) drain(t *testing.T) {
	t.Helper()
	eventually(t, "the inbox to drain", func() bool { n, err := r.a.store.InboxDepth(r.ctx); return err == nil && n == 0 })
}

func (r *calibrationRig) resolve(t *testing.T, id string) nova.Event {
	t.Helper()
	r.events++
	ev := nova.Event{ID: fmt.Sprintf("E%d", r.events), Type: nova.EventResolved, Environment: "prod", ServiceID: r.svc.ID, IncidentID: id, OccurredAt: time.Now()}
	r.ingest(t, ev)
	return ev
}

func (r *calibrationRig) status(t *testing.T) string {
	t.Helper()
	rep, err := r.a.Command(r.ctx, nova.CommandRequest{UserID: "U0BOB", ChannelID: "C0CHECKOUT", Text: "status checkout", Environments: []string{"prod"}})
	if err != nil {
		t.Fatal(err)
	}
	return string(rep.Message.Text)
}

func (r *calibrationRig) click(t *testing.T, user, actionID, incidentID string) {
	t.Helper()
	if _, err := r.a.Interact(r.ctx, nova.Interaction{UserID: user, ChannelID: "C0CHECKOUT", ActionID: actionID, Value: incidentID}); err != nil {
		t.Fatalf("%s clicks %s on %s: %v", user, actionID, incidentID, err)
	}
}

// verdicts are the service's calibration counters: helpful, wrong, and how
// many of them were judged by resolutions.
func (r *calibrationRig) verdicts(t *testing.T) string {
	t.Helper()
	st, err := r.a.rollout.State(r.ctx, r.svc)
	if err != nil {
		t.Fatal(err)
	}
	h, w, byRes := st.Verdicts()
	return fmt.Sprintf("%d helpful, %d wrong, %d by resolution", h, w, byRes)
}

// Resolutions that matched Nova's hypothesis raise the service's next
// hypothesis once there are enough of them, and the note says why; a
// person's later word on an incident replaces its resolution's verdict
// (moving the counts by the difference, once), and redelivered or replayed
// resolutions do not count again.
func TestResolutionVerdictsCalibrateTheService(t *testing.T) {
	r := newCalibrationRig(t)
	first := r.trigger(t, "Q1")
	r.fixAndResolve(t, "Q1")
	if d, _ := r.a.Postmortem(r.ctx, "Q1"); d.Outcome.Verdict != postmortem.VerdictMatched {
		t.Fatalf("the rollback from the rank-1 hypothesis fixed Q1, but the verdict is %s: %s", d.Outcome.Verdict, d.Outcome.Basis)
	}
	if got := r.verdicts(t); got != "1 helpful, 0 wrong, 1 by resolution" {
		t.Fatalf("after one matched resolution: %s", got)
	}
	for _, id := range []string{"Q2", "Q3"} {
		r.trigger(t, id)
		r.fixAndResolve(t, id)
	}
	status := r.status(t)
	for _, want := range []string{"Feedback so far: 3 helpful, 0 wrong (3 judged by how the incident was resolved, 0 by responders)",
		"Confidence raised by 5 points: 3 of the 3 rated hypotheses on this service were judged helpful (by responders or by how the incident was resolved)"} {
		if !strings.Contains(status, want) {
			t.Errorf("status after three matched resolutions lacks %q:\n%s", want, status)
		}
	}

	fourth := r.trigger(t, "Q4")
	if before, after := first.Triage.Hypotheses[0].Confidence, fourth.Triage.Hypotheses[0].Confidence; after <= before {
		t.Errorf("confidence %.2f after three matched resolutions, %.2f before", after, before)
	}
	r.pd.mu.Lock()
	var note string
	for _, n := range r.pd.notes {
		if strings.Contains(n, "Confidence raised by") {
			note = n
		}
	}
	r.pd.mu.Unlock()
	if !strings.Contains(note, "3 of the 3 rated hypotheses on this service were judged helpful (by responders or by how the incident was resolved)") {
		t.Errorf("no hypothesis note explains the raise; notes: %q", r.pd.notes)
	}

	// A responder says Q1's hypothesis was wrong after all: Q1 moves from
	// helpful (by resolution) to wrong (by a person), once.
	for range 2 {
		r.click(t, "U0CAROL", postmortem.ActionAnswerWrong, "Q1")
	}
	if got := r.verdicts(t); got != "2 helpful, 1 wrong, 2 by resolution" {
		t.Errorf("after a person's wrong on Q1: %s", got)
	}
	if s := r.status(t); !strings.Contains(s, "2 helpful, 1 wrong (2 judged by how the incident was resolved, 1 by responders)") {
		t.Errorf("status after a person's wrong on Q1:\n%s", s)
	}

	// Resolutions delivered again count once: Q3's resolve event again
	// (a duplicate), Q2's postmortem drafted twice more as a retried
	// handler would, and a new resolve event for Q2.
	r.events--
	if res := r.ingest(t, nova.Event{ID: fmt.Sprintf("E%d", r.events), Type: nova.EventResolved, Environment: "prod", ServiceID: r.svc.ID, IncidentID: "Q3", OccurredAt: time.Now()}); res != IngestDuplicate {
		t.Errorf("the redelivered resolve of Q3: %s", res)
	}
	r.events++
	rec2, err := r.a.Incident(r.ctx, "Q2")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := r.a.draftPostmortem(r.ctx, r.svc, rec2, r.a.cfg.Log); err != nil {
			t.Fatal(err)
		}
	}
	r.resolve(t, "Q2")
	r.drain(t)
	if got := r.verdicts(t); got != "2 helpful, 1 wrong, 2 by resolution" {
		t.Errorf("after Q2's resolution was delivered again: %s", got)
	}

	// The latest person's word wins, whichever way it was given: Bob's
	// Helpful button on Q1 replaces Carol's answer; a Partly answer after
	// it leaves Q1 uncounted (a person judged it, so the resolution does
	// not count either).
	r.click(t, "U0BOB", render.ActionFeedbackHelpful, "Q1")
	if got := r.verdicts(t); got != "3 helpful, 0 wrong, 2 by resolution" {
		t.Errorf("after Bob's Helpful on Q1: %s", got)
	}
	r.click(t, "U0DAVE", postmortem.ActionAnswerPartly, "Q1")
	if got := r.verdicts(t); got != "2 helpful, 0 wrong, 2 by resolution" {
		t.Errorf("after Dave's Partly on Q1: %s", got)
	}
	// The promotion rule keeps counting every person's buttons.
	st, _ := r.a.rollout.State(r.ctx, r.svc)
	if st.Helpful != 1 || st.Wrong != 0 || st.AnswersWrong != 1 || st.AnswersPartly != 1 {
		t.Errorf("button and answer counters: %+v", st)
	}
}
