package approvals

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

func TestStartPreconditions(t *testing.T) {
	tests := []struct {
		name   string
		c      Preconditions
		reason string // "" means it runs
	}{
		{"all hold", allGood, ""},
		{"incident resolved", Preconditions{ServiceInActionMode: true}, "not run: the incident is resolved"},
		{"service demoted", Preconditions{IncidentOpen: true}, "not run: the service is no longer in action mode"},
		{"paused", Preconditions{IncidentOpen: true, ServiceInActionMode: true, Paused: true}, "not run: Nova is paused"},
		{"zero value fails closed", Preconditions{}, "not run: the incident is resolved; the service is no longer in action mode"},
		{"everything wrong", Preconditions{Paused: true}, "not run: Nova is paused; the incident is resolved; the service is no longer in action mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := inState(t, restart, nova.ApprovalApproved)
			now := t0.Add(5 * time.Minute)
			out, err := Start(req, tt.c, now)
			if tt.reason == "" {
				if err != nil || out.State != nova.ApprovalRunning || out.StateReason != "" {
					t.Fatalf("Start = %s %q, %v; want running", out.State, out.StateReason, err)
				}
				return
			}
			if !nova.IsCode(err, nova.ECONFLICT) || out.State != nova.ApprovalCancelled || out.StateReason != tt.reason {
				t.Fatalf("Start = %s %q, %v; want cancelled %q", out.State, out.StateReason, err, tt.reason)
			}
			if !strings.Contains(nova.ErrorMessage(err), tt.reason) || out.UpdatedAt != now {
				t.Errorf("message %q / UpdatedAt %v", nova.ErrorMessage(err), out.UpdatedAt)
			}
		})
	}
}

// TestStartRecountsQuorum sets State to approved by hand, as a bug or an
// edited record could, and checks that Start still refuses to run.
func TestStartRecountsQuorum(t *testing.T) {
	at := t0.Add(time.Minute)
	approve := func(user string, when time.Time) nova.Decision {
		return nova.Decision{UserID: user, Approve: true, At: when}
	}
	tests := []struct {
		name      string
		required  int
		decisions []nova.Decision
		edit      func(*nova.ApprovalRequest)
		wantErr   string // "" means it runs
	}{
		{"no decisions", 1, nil, nil, "0 of the 1"},
		{"one of two", 2, []nova.Decision{approve("UALICE", at)}, nil, "1 of the 2"},
		{"same person twice", 2, []nova.Decision{approve("UALICE", at), approve("UALICE", at.Add(time.Second))}, nil, "1 of the 2"},
		{"nova approved", 1, []nova.Decision{approve("nova", at)}, nil, "0 of the 1"},
		{"nova plus one person of two", 2, []nova.Decision{approve("UALICE", at), approve("NOVA", at)}, nil, "1 of the 2"},
		{"empty user id", 1, []nova.Decision{approve("", at)}, nil, "0 of the 1"},
		{"approval without a time", 1, []nova.Decision{approve("UALICE", time.Time{})}, nil, "0 of the 1"},
		{"approval after expiry", 1, []nova.Decision{approve("UALICE", t0.Add(time.Hour))}, nil, "0 of the 1"},
		{"approval at expiry", 1, []nova.Decision{approve("UALICE", t0.Add(30*time.Minute))}, nil, "0 of the 1"},
		{"denied as well", 2, []nova.Decision{approve("UALICE", at), approve("UBOB", at), {UserID: "UCAROL", At: at}}, nil, "denied by <@UCAROL>"},
		{"required zero still needs one", 0, nil, nil, "0 of the 1"},
		{"no approvers", 1, []nova.Decision{approve("UALICE", at)}, func(r *nova.ApprovalRequest) { r.Approvers = nil }, "names no approvers"},
		{"two people", 2, []nova.Decision{approve("UALICE", at), approve("UCAROL", at)}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := propose(t, restart, 1)
			req.RequiredApprovals = tt.required
			req.Decisions = tt.decisions
			req.State = nova.ApprovalApproved
			if tt.edit != nil {
				tt.edit(&req)
			}
			out, err := Start(req, allGood, at.Add(time.Minute))
			if tt.wantErr == "" {
				if err != nil || out.State != nova.ApprovalRunning {
					t.Fatalf("Start = %s, %v; want running", out.State, err)
				}
				return
			}
			if !nova.IsCode(err, nova.EFORBIDDEN) || !strings.Contains(nova.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("Start error = %v, want EFORBIDDEN containing %q", err, tt.wantErr)
			}
			if out.State != nova.ApprovalApproved {
				t.Errorf("refused Start moved the request to %s", out.State)
			}
		})
	}
}

func TestStartExpiryBoundary(t *testing.T) {
	req := inState(t, restart, nova.ApprovalApproved)
	if out, err := Start(req, allGood, req.ExpiresAt.Add(-time.Nanosecond)); err != nil || out.State != nova.ApprovalRunning {
		t.Errorf("just before expiry: %s %v", out.State, err)
	}
	out, err := Start(req, allGood, req.ExpiresAt)
	if !nova.IsCode(err, nova.ECONFLICT) || out.State != nova.ApprovalExpired {
		t.Fatalf("at expiry: %s %v", out.State, err)
	}
	if out.StateReason != "approved but not started before it expired at 2025-03-04 10:30:00 UTC" {
		t.Errorf("StateReason = %q", out.StateReason)
	}
	// Expiry wins over a failed precondition: the request is expired either way.
	if out, _ := Start(req, Preconditions{}, req.ExpiresAt); out.State != nova.ApprovalExpired {
		t.Errorf("expired with failed preconditions: %s", out.State)
	}
}

func TestStartPendingSaysWhatIsMissing(t *testing.T) {
	req := decided(t, propose(t, restart, 2), alice, true, t0.Add(time.Minute))
	_, err := Start(req, allGood, t0.Add(2*time.Minute))
	if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), "still waiting for approval (1 of 2)") {
		t.Fatalf("Start on pending: %v", err)
	}
}

func TestAutoStart(t *testing.T) {
	at := t0.Add(time.Minute)
	req := propose(t, flushCache, 1)
	out, err := AutoStart(req, flushCache, allGood, at)
	if err != nil || out.State != nova.ApprovalRunning || len(out.Decisions) != 0 {
		t.Fatalf("AutoStart = %s %v %+v; want running with no human decision recorded", out.State, err, out.Decisions)
	}
	out, err = AutoStart(req, flushCache, Preconditions{IncidentOpen: true, ServiceInActionMode: true, Paused: true}, at)
	if !nova.IsCode(err, nova.ECONFLICT) || out.State != nova.ApprovalCancelled || out.StateReason != "not run: Nova is paused" {
		t.Errorf("AutoStart while paused = %s %q %v", out.State, out.StateReason, err)
	}

	manual := flushCache
	manual.AutoRun = false
	destructiveAuto := restart
	destructiveAuto.AutoRun = true
	other := flushCache
	other.Name = "purge-everything"
	tests := []struct {
		name    string
		req     nova.ApprovalRequest
		action  nova.Action
		code    string
		message string
	}{
		{"not auto_run", req, manual, nova.EFORBIDDEN, "not marked auto_run"},
		{"destructive request", propose(t, restart, 1), restart, nova.EFORBIDDEN, "never runs automatically"},
		{"destructive catalog entry marked auto_run", propose(t, restart, 1), destructiveAuto, nova.EFORBIDDEN, "never runs automatically"},
		{"request flagged non-destructive but catalog says destructive", req, func() nova.Action { a := flushCache; a.Destructive = true; return a }(), nova.EFORBIDDEN, "never runs automatically"},
		{"another action", req, other, nova.EINVALID, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := AutoStart(tt.req, tt.action, allGood, at)
			if !nova.IsCode(err, tt.code) || !strings.Contains(nova.ErrorMessage(err), tt.message) {
				t.Fatalf("AutoStart error = %v, want %s containing %q", err, tt.code, tt.message)
			}
			if out.State != tt.req.State {
				t.Errorf("refused AutoStart moved the request to %s", out.State)
			}
		})
	}
}

func TestFinish(t *testing.T) {
	running := inState(t, restart, nova.ApprovalRunning)
	at := t0.Add(3 * time.Minute)
	ok, err := Finish(running, true, "HTTP 200: restarted 3 pods", at)
	if err != nil || ok.State != nova.ApprovalSucceeded || ok.Result != "HTTP 200: restarted 3 pods" || ok.UpdatedAt != at {
		t.Fatalf("Finish ok = %+v, %v", ok, err)
	}
	failed, err := Finish(running, false, "HTTP 500", at)
	if err != nil || failed.State != nova.ApprovalFailed || failed.StateReason == "" || failed.Result != "HTTP 500" {
		t.Fatalf("Finish failed = %+v, %v", failed, err)
	}
	long := strings.Repeat("é", MaxResultLen) // two bytes each
	cut, _ := Finish(running, true, long, at)
	if len(cut.Result) > MaxResultLen || !utf8.ValidString(cut.Result) || !strings.HasSuffix(cut.Result, "…") {
		t.Errorf("long result kept as %d bytes, valid UTF-8 %v", len(cut.Result), utf8.ValidString(cut.Result))
	}
	if _, err := Finish(ok, false, "again", at); !nova.IsCode(err, nova.ECONFLICT) {
		t.Errorf("Finish twice: %v", err)
	}
}

func TestExpireAndCancel(t *testing.T) {
	req := decided(t, propose(t, restart, 2), alice, true, t0.Add(time.Minute))
	if _, err := Expire(req, req.ExpiresAt.Add(-time.Second)); !nova.IsCode(err, nova.ECONFLICT) ||
		!strings.Contains(nova.ErrorMessage(err), "does not expire until 2025-03-04 10:30:00 UTC") {
		t.Errorf("early Expire: %v", err)
	}
	out, err := Expire(req, req.ExpiresAt)
	if err != nil || out.State != nova.ApprovalExpired || out.StateReason != "1 of 2 approvals before it expired at 2025-03-04 10:30:00 UTC" {
		t.Errorf("Expire = %s %q %v", out.State, out.StateReason, err)
	}
	broken := propose(t, restart, 1)
	broken.ExpiresAt = time.Time{}
	if out, _, err := Decide(broken, alice, true, t0); !nova.IsCode(err, nova.ECONFLICT) || out.State != nova.ApprovalExpired {
		t.Errorf("a request without ExpiresAt must fail closed: %s %v", out.State, err)
	}

	c, err := Cancel(req, "  ", t0.Add(2*time.Minute))
	if err != nil || c.State != nova.ApprovalCancelled || c.StateReason != "cancelled" {
		t.Errorf("Cancel with blank reason = %s %q %v", c.State, c.StateReason, err)
	}
	c, _ = Cancel(req, "incident resolved", t0.Add(2*time.Minute))
	if c.StateReason != "incident resolved" {
		t.Errorf("StateReason = %q", c.StateReason)
	}
	_, err = Cancel(inState(t, restart, nova.ApprovalRunning), "stop", t0)
	if !nova.IsCode(err, nova.ECONFLICT) || !strings.Contains(nova.ErrorMessage(err), "already running") {
		t.Errorf("Cancel running: %v", err)
	}
}
