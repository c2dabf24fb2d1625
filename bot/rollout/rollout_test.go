package rollout

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/internal/mock"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/store"
)

// auditor records entries.
type auditor struct {
	mu      sync.Mutex
	entries []nova.AuditEntry
}

func (a *auditor) Append(_ context.Context, e nova.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *auditor) actions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.entries {
		out = append(out, e.Action)
	}
	return out
}

type fixture struct {
	r         *Rollout
	st        *mock.Records
	audit     *auditor
	chat      *mock.Chat
	now       time.Time
	cancelled []string
	set       *settings.Settings
}

// newFixture is a rollout over an in-memory store: checkout (prod, in
// C0CHECKOUT) is read-only since 20 days with a 14-day watching period,
// payments (staging) is off; alice administers prod, the group S0ADMINS
// (carol) staging, and bob is a global admin.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: mock.NewRecords(), audit: &auditor{}, now: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	f.chat = &mock.Chat{GroupMembersFn: func(_ context.Context, id string) ([]string, error) {
		if id == "S0ADMINS" {
			return []string{"U0CAROL"}, nil
		}
		return nil, nil
	}}
	f.set = &settings.Settings{
		Tier: nova.TierEnterprise,
		Services: map[string]nova.Service{
			"PCHECKOUT": {ID: "PCHECKOUT", Name: "checkout", Environment: "prod", SlackChannel: "C0CHECKOUT", DeclaredMode: nova.ModeReadOnly, WatchDays: 14},
			"PPAY":      {ID: "PPAY", Name: "payments", Environment: "staging", SlackChannel: "C0PAY", DeclaredMode: nova.ModeOff, WatchDays: 14},
		},
		Environments: map[string]settings.Env{
			"prod":    {Admins: []string{"U0ALICE"}, Slack: true},
			"staging": {Admins: []string{"S0ADMINS"}, Slack: true},
		},
		GlobalAdmins: []string{"U0BOB"},
	}
	f.r = New(Config{Store: f.st, Settings: func() *settings.Settings { return f.set }, Audit: f.audit,
		Groups: func(string) (Groups, error) { return f.chat, nil },
		Now:    func() time.Time { return f.now },
		CancelRequests: func(_ context.Context, id, reason string) error {
			f.cancelled = append(f.cancelled, id+": "+reason)
			return nil
		}})
	if err := f.r.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(20 * 24 * time.Hour)
	return f
}

func cmd(user, channel string, envs ...string) nova.CommandRequest {
	return nova.CommandRequest{UserID: user, ChannelID: channel, Environments: envs}
}

func TestSeedKeepsStoredModes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeOff, false, false); err != nil {
		t.Fatal(err)
	}
	if err := f.r.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.r.Mode(ctx, f.set.Services["PCHECKOUT"]); m != nova.ModeOff {
		t.Fatalf("seeding again overwrote the mode changed in Slack: %s", m)
	}
	st, _ := f.r.State(ctx, f.set.Services["PCHECKOUT"])
	if st.ChangedBy != "slack:U0ALICE" {
		t.Errorf("changed by %q", st.ChangedBy)
	}
	// A service nothing is stored for reads as declared.
	if st, err := f.r.State(ctx, nova.Service{ID: "PNEW", DeclaredMode: nova.ModeReadOnly}); err != nil || st.Mode != nova.ModeReadOnly {
		t.Errorf("undeclared state: %+v %v", st, err)
	}
}

func TestPromotionNeedsAdminAndWatchingPeriod(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.r.ChangeMode(ctx, cmd("U0MALLORY", "C0CHECKOUT"), "checkout", nova.ModeAction, false, false); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Fatalf("a non-admin promoted: %v", err)
	}
	if _, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X", "staging"), "checkout", nova.ModeAction, false, false); !nova.IsCode(err, nova.EFORBIDDEN) {
		t.Fatalf("staging's Slack app changed a prod service: %v", err)
	}
	if _, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "nosuch", nova.ModeAction, false, false); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Fatalf("unknown service: %v", err)
	}
	// Back to read-only restarts the watching period: promotion is refused, then forced.
	if _, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeOff, false, false); err != nil {
		t.Fatal(err)
	}
	if r, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeReadOnly, false, true); err != nil || !strings.Contains(string(r.Message.Text), "read-only") {
		t.Fatalf("enable: %q %v", r.Message.Text, err)
	}
	if r, _ := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeReadOnly, false, true); !strings.Contains(string(r.Message.Text), "already") {
		t.Fatalf("enabling twice: %q", r.Message.Text)
	}
	_, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeAction, false, false)
	if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), "watching period") {
		t.Fatalf("promotion inside the watching period: %v", err)
	}
	r, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeAction, true, false)
	if err != nil || !strings.Contains(string(r.Message.Text), "--force") || !r.InChannel {
		t.Fatalf("forced promotion: %+v %v", r, err)
	}
	if m, _ := f.r.IngressMode(ctx, f.set.Services["PCHECKOUT"]); m != nova.ModeAction {
		t.Fatalf("ingress mode after promotion: %s", m)
	}
	// Demotion is immediate and withdraws open requests.
	if _, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeReadOnly, false, false); err != nil {
		t.Fatal(err)
	}
	if len(f.cancelled) != 2 || !strings.Contains(f.cancelled[1], "read-only") {
		t.Errorf("demotions cancelled %v", f.cancelled)
	}
	if got := strings.Join(f.audit.actions(), ","); got != "mode.change,mode.change,mode.override,mode.change" {
		t.Errorf("audited %s", got)
	}
}

// Promotion must be earned: past the watching period it still needs
// enough answered hypotheses, precise enough; the refusal says what is
// missing, and --force is audited as an override naming what it skipped.
func TestPromotionMustBeEarned(t *testing.T) {
	f := newFixture(t)
	f.set.Promotion = review.Promotion{MinFeedback: 10, MinPrecision: 0.8}
	ctx := context.Background()
	feedback := func(helpful, wrong int64) {
		t.Helper()
		_, err := store.Update(ctx, f.st, store.KindService, "PCHECKOUT", func(st *nova.ServiceState, _ bool) error {
			st.Helpful, st.Wrong = helpful, wrong
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	promote := func(force bool) (nova.Reply, error) {
		return f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeAction, force, false)
	}
	for _, c := range []struct {
		helpful, wrong int64
		want           string
	}{
		{6, 1, "7 of 10 needed answers; precision 86%"},
		{0, 0, "0 of 10 needed answers; no precision yet"},
		{7, 3, "precision 70% is below the 80% bar (7 of 10 answers helpful)"},
	} {
		feedback(c.helpful, c.wrong)
		_, err := promote(false)
		if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), c.want) || strings.Contains(nova.ErrorMessage(err), "watching period (") {
			t.Errorf("%d helpful, %d wrong: %v, want a refusal saying %q", c.helpful, c.wrong, err, c.want)
		}
	}
	if m, _ := f.r.Mode(ctx, f.set.Services["PCHECKOUT"]); m != nova.ModeReadOnly {
		t.Fatalf("a refused promotion changed the mode: %s", m)
	}
	r, err := promote(true)
	if err != nil || !strings.Contains(string(r.Message.Text), "--force override (audited): feedback bar (precision 70%") {
		t.Fatalf("forced promotion: %q %v", r.Message.Text, err)
	}
	last := f.audit.entries[len(f.audit.entries)-1]
	if last.Action != "mode.override" || !strings.Contains(last.Detail, "--force override of the feedback bar (precision 70% is below the 80% bar") {
		t.Errorf("override audited as %+v", last)
	}
	// Earned: 8 of 10 helpful.
	if _, err := f.r.ChangeMode(ctx, cmd("U0ALICE", "C0X"), "checkout", nova.ModeReadOnly, false, false); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(15 * 24 * time.Hour)
	feedback(8, 2)
	if r, err := promote(false); err != nil || !strings.Contains(string(r.Message.Text), "to *action* mode") {
		t.Fatalf("earned promotion: %q %v", r.Message.Text, err)
	}
	if last := f.audit.entries[len(f.audit.entries)-1]; last.Action != "mode.change" {
		t.Errorf("an earned promotion audited as %s", last.Action)
	}
}

func TestPromotionFromOffIsRefused(t *testing.T) {
	f := newFixture(t)
	_, err := f.r.ChangeMode(context.Background(), cmd("U0CAROL", "C0X"), "payments", nova.ModeAction, true, false)
	if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), "read-only mode first") {
		t.Fatalf("off → action: %v", err)
	}
}

func TestPauseNeedsAGlobalAdmin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.r.SetPaused(ctx, cmd("U0ALICE", "C0X"), true) // admin of prod only
	if !nova.IsCode(err, nova.EFORBIDDEN) || !strings.Contains(nova.ErrorMessage(err), "not an admin of staging") {
		t.Fatalf("pause by an admin of one environment: %v", err)
	}
	if r, err := f.r.SetPaused(ctx, cmd("U0BOB", "C0X"), true); err != nil || !strings.Contains(string(r.Message.Text), "paused Nova") {
		t.Fatalf("pause by a global admin: %+v %v", r, err)
	}
	if p, _ := f.r.Paused(ctx); !p {
		t.Fatal("not paused")
	}
	r, err := f.r.Status(ctx, Caller{User: "U0BOB", Channel: "C0CHECKOUT"}, nil)
	if err != nil || !strings.Contains(string(r.Message.Text), "Nova is paused") {
		t.Fatalf("status while paused: %q %v", r.Message.Text, err)
	}
	// An admin of every environment may resume.
	f.set.Environments["staging"] = settings.Env{Admins: []string{"U0ALICE"}, Slack: true}
	if _, err := f.r.SetPaused(ctx, cmd("U0ALICE", "C0X"), false); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.r.Paused(ctx); p {
		t.Fatal("still paused")
	}
}

func TestGlobalAdminThroughAUserGroup(t *testing.T) {
	f := newFixture(t)
	f.set.GlobalAdmins = []string{"S0ADMINS"}
	if _, err := f.r.SetPaused(context.Background(), cmd("U0CAROL", "C0X"), true); err != nil {
		t.Fatalf("a member of a global-admin group: %v", err)
	}
	if f.chat.Calls.N("GroupMembers") != 1 {
		t.Errorf("group looked up %d times", f.chat.Calls.N("GroupMembers"))
	}
	f.chat.GroupMembersFn = func(context.Context, string) ([]string, error) {
		return nil, nova.Errorf(nova.EUNAVAILABLE, "slack down")
	}
	f.now = f.now.Add(2 * time.Minute) // past the group cache
	if _, err := f.r.SetPaused(context.Background(), cmd("U0DAVE", "C0X"), true); !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("an unreachable Slack must not decide: %v", err)
	}
}

func TestStatusShowsOnlyWhatTheCallerSees(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.r.UpdateStats(ctx, f.set.Services["PCHECKOUT"], func(st *nova.ServiceState) {
		st.IncidentsSeen, st.Hypotheses, st.HypothesisSeconds, st.Helpful, st.Wrong = 5, 4, 20, 3, 1
		st.NovaAcks, st.NovaAckSeconds, st.PersonAcks, st.PersonAckSeconds = 1, 10, 1, 70
	}); err != nil {
		t.Fatal(err)
	}
	// In checkout's channel, anyone sees checkout and nothing of staging.
	r, err := f.r.Status(ctx, Caller{User: "U0MALLORY", Channel: "C0CHECKOUT"}, nil)
	if err != nil || !strings.Contains(string(r.Message.Text), "checkout") || strings.Contains(string(r.Message.Text), "payments") {
		t.Fatalf("status in the channel: %q %v", r.Message.Text, err)
	}
	r, err = f.r.Status(ctx, Caller{User: "U0MALLORY", Channel: "C0CHECKOUT"}, []string{"checkout"})
	for _, want := range []string{"read-only", "Incidents seen: 5", "mean time to hypothesis: 5.0 s", "3 helpful, 1 wrong", "First acks: Nova 1", "ready for promotion"} {
		if err != nil || !strings.Contains(string(r.Message.Text), want) {
			t.Errorf("status checkout lacks %q: %q %v", want, r.Message.Text, err)
		}
	}
	if _, err := f.r.Status(ctx, Caller{User: "U0MALLORY", Channel: "C0CHECKOUT"}, []string{"payments"}); !nova.IsCode(err, nova.ENOTFOUND) {
		t.Errorf("another environment's service must look unknown: %v", err)
	}
	// Elsewhere, a non-admin sees nothing; carol (staging admin through a group) sees payments.
	if r, _ := f.r.Status(ctx, Caller{User: "U0MALLORY", Channel: "C0X"}, nil); !strings.Contains(string(r.Message.Text), "No services to show") {
		t.Errorf("status of a stranger: %q", r.Message.Text)
	}
	if r, _ := f.r.Status(ctx, Caller{User: "U0CAROL", Channel: "C0X", Envs: []string{"staging"}}, nil); !strings.Contains(string(r.Message.Text), "payments") || strings.Contains(string(r.Message.Text), "checkout") {
		t.Errorf("status of a staging admin: %q", r.Message.Text)
	}
}

func TestIngressModeIsCachedBriefly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := f.set.Services["PCHECKOUT"]
	if m, _ := f.r.IngressMode(ctx, svc); m != nova.ModeReadOnly {
		t.Fatal(m)
	}
	// A change behind the cache's back (another replica) shows after its age.
	if _, err := store.Save(ctx, f.st, store.KindService, svc.ID, nova.ServiceState{ServiceID: svc.ID, Mode: nova.ModeOff}, store.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.r.IngressMode(ctx, svc); m != nova.ModeReadOnly {
		t.Fatalf("not cached: %s", m)
	}
	f.now = f.now.Add(time.Second)
	if m, _ := f.r.IngressMode(ctx, svc); m != nova.ModeOff {
		t.Fatalf("stale after the cache's age: %s", m)
	}
	f.st.FailGet = map[string]error{store.KindService: nova.Errorf(nova.EUNAVAILABLE, "down")}
	f.now = f.now.Add(time.Second)
	if _, err := f.r.IngressMode(ctx, svc); !nova.IsCode(err, nova.EUNAVAILABLE) {
		t.Fatalf("store down: %v", err)
	}
}
