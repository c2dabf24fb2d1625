package approvals

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// The property: whatever sequence of clicks, sweeps, starts and even
// hand-edits of State and Decisions a destructive request goes through, it
// is never running unless RequiredApprovals distinct people allowed to
// approve did so, in time, and nobody denied it.

// chooser is the source of choices: a seeded PRNG or fuzz input.
type chooser interface{ intn(n int) int }

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }

type byteChooser struct{ b []byte }

func (c *byteChooser) intn(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

// universe is everyone who may click, with carolToo a second SRE member.
var (
	carolToo = Actor{UserID: "UCAROL2", Groups: []string{"SSRE"}}
	universe = []Actor{alice, bob, carol, carolToo, dave, eve, novaA, blank}
)

// allowedMoves are the transitions the state diagram permits for a
// destructive request; pending → running (AutoStart) is not among them.
var allowedMoves = map[[2]nova.ApprovalState]bool{
	{nova.ApprovalPending, nova.ApprovalApproved}:   true,
	{nova.ApprovalPending, nova.ApprovalDenied}:     true,
	{nova.ApprovalPending, nova.ApprovalExpired}:    true,
	{nova.ApprovalPending, nova.ApprovalCancelled}:  true,
	{nova.ApprovalApproved, nova.ApprovalRunning}:   true,
	{nova.ApprovalApproved, nova.ApprovalExpired}:   true,
	{nova.ApprovalApproved, nova.ApprovalCancelled}: true,
	{nova.ApprovalRunning, nova.ApprovalSucceeded}:  true,
	{nova.ApprovalRunning, nova.ApprovalFailed}:     true,
}

// walk drives one request through steps random operations and reports a
// violation through t. It returns whether the request ever ran.
func walk(t *testing.T, c chooser, steps int) (ran bool) {
	t.Helper()
	required := 1 + c.intn(3)
	req, err := Propose(proposal(restart), Policy{Approvers: []string{"UALICE", "UBOB", "SSRE"}, RequiredApprovals: required}, t0)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	var trace []string
	for i := 0; i < steps; i++ {
		prev := req
		a := universe[c.intn(len(universe))]
		tampered := false
		var name string
		switch c.intn(14) {
		case 0, 1, 2:
			name = "approve by " + a.UserID
			req, _, _ = Decide(req, a, true, now)
		case 3:
			name = "deny by " + a.UserID
			req, _, _ = Decide(req, a, false, now)
		case 4:
			name = "apply by " + a.UserID
			req, _ = Apply(req, a, now)
		case 5:
			name = "autostart"
			act := []nova.Action{restart, flushCache, func() nova.Action { x := restart; x.AutoRun = true; return x }()}[c.intn(3)]
			req, _ = AutoStart(req, act, allGood, now)
		case 6, 7:
			name = "start"
			req, _ = Start(req, Preconditions{IncidentOpen: c.intn(4) > 0, ServiceInActionMode: c.intn(4) > 0, Paused: c.intn(4) == 0}, now)
		case 8:
			name = "finish"
			req, _ = Finish(req, c.intn(2) == 0, "r", now)
		case 9:
			name = "expire or cancel"
			if c.intn(2) == 0 {
				req, _ = Expire(req, now)
			} else {
				req, _ = Cancel(req, "x", now)
			}
		case 10:
			name = "advance the clock"
			now = now.Add(time.Duration(c.intn(20)) * time.Minute)
		case 11:
			name, tampered = "tamper: set state", true
			req.State = []nova.ApprovalState{nova.ApprovalApproved, nova.ApprovalPending}[c.intn(2)]
		case 12:
			name, tampered = "tamper: add a Nova or blank approval", true
			req.Decisions = append(slices.Clip(req.Decisions), nova.Decision{UserID: []string{"nova", "", "Nova"}[c.intn(3)], Approve: true, At: now})
		case 13:
			name, tampered = "tamper: repeat a decision or add a late one", true
			if len(req.Decisions) > 0 && c.intn(2) == 0 {
				d := req.Decisions[c.intn(len(req.Decisions))]
				d.At = d.At.Add(time.Second)
				req.Decisions = append(slices.Clip(req.Decisions), d)
			} else {
				req.Decisions = append(slices.Clip(req.Decisions), nova.Decision{UserID: a.UserID, Approve: true, At: req.ExpiresAt.Add(time.Duration(c.intn(3)) * time.Second)})
			}
		}
		trace = append(trace, name+" → "+string(req.State))
		if !tampered && req.State != prev.State && !allowedMoves[[2]nova.ApprovalState{prev.State, req.State}] {
			t.Fatalf("forbidden move %s → %s by %s\ntrace: %v", prev.State, req.State, name, trace)
		}
		if req.State == nova.ApprovalRunning && prev.State != nova.ApprovalRunning {
			ran = true
			if got := trustedApprovals(req); got < required {
				t.Fatalf("destructive request started with %d of %d trusted approvals\ntrace: %v\ndecisions: %+v", got, required, trace, req.Decisions)
			}
			if deniedBy(req) != "" {
				t.Fatalf("denied request started\ntrace: %v", trace)
			}
		}
	}
	return ran
}

// trustedApprovals counts, independently of Tally, the distinct people in
// the universe who may decide and approved before the request expired.
func trustedApprovals(req nova.ApprovalRequest) int {
	var seen []string
	for _, d := range req.Decisions {
		if !d.Approve || !d.At.Before(req.ExpiresAt) || slices.Contains(seen, d.UserID) {
			continue
		}
		for _, a := range universe {
			if a.UserID == d.UserID && CanDecide(req, a) {
				seen = append(seen, d.UserID)
			}
		}
	}
	return len(seen)
}

func TestPropertyNoRunWithoutQuorum(t *testing.T) {
	runs := 0
	for seed := uint64(0); seed < 5000; seed++ {
		if walk(t, randChooser{rand.New(rand.NewPCG(seed, 0x9e3779b9))}, 40) {
			runs++
		}
	}
	// Guard against a vacuous property: many sequences must reach running.
	if runs < 100 {
		t.Fatalf("only %d of 5000 sequences reached running; the generator no longer exercises Start", runs)
	}
}

func FuzzNoRunWithoutQuorum(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 7, 0})
	f.Add([]byte{1, 11, 0, 6, 1, 1, 0})
	f.Add([]byte{2, 0, 0, 0, 1, 0, 2, 3, 0, 6, 1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		walk(t, &byteChooser{b: data}, len(data))
	})
}
