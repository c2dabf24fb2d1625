package approvals

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// op is one operation on a request, as the authorised alice would do it.
type op struct {
	name string
	do   func(req nova.ApprovalRequest, a nova.Action, now time.Time) (nova.ApprovalRequest, error)
}

var ops = []op{
	{"approve", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		out, _, err := Decide(r, alice, true, now)
		return out, err
	}},
	{"deny", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		out, _, err := Decide(r, alice, false, now)
		return out, err
	}},
	{"apply", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return Apply(r, alice, now)
	}},
	{"autostart", func(r nova.ApprovalRequest, a nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return AutoStart(r, a, allGood, now)
	}},
	{"start", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return Start(r, allGood, now)
	}},
	{"finish-ok", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return Finish(r, true, "done", now)
	}},
	{"finish-failed", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return Finish(r, false, "exit 1", now)
	}},
	{"expire", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return Expire(r, now)
	}},
	{"cancel", func(r nova.ApprovalRequest, _ nova.Action, now time.Time) (nova.ApprovalRequest, error) {
		return Cancel(r, "incident resolved", now)
	}},
}

// Each cell is the result of ops[i] on the row's state: a new state with no
// error ("running"), an error leaving the state unchanged ("!conflict"), or
// a new state together with an error ("expired!conflict").
const (
	C = "!" + nova.ECONFLICT
	F = "!" + nova.EFORBIDDEN
	X = "expired!" + nova.ECONFLICT
)

var finalRow = []string{C, C, F, F, C, C, C, C, C}
var finalRowND = []string{C, C, C, C, C, C, C, C, C}

// Columns follow ops: approve, deny, apply, autostart, start, finish-ok,
// finish-failed, expire, cancel. States without a row are final.
var transitionTables = []struct {
	name   string
	action nova.Action
	late   bool // run every op at ExpiresAt instead of before it
	rows   map[nova.ApprovalState][]string
}{
	{"destructive", restart, false, map[nova.ApprovalState][]string{
		nova.ApprovalPending:  {"approved", "denied", F, F, C, C, C, C, "cancelled"},
		nova.ApprovalApproved: {C, C, F, F, "running", C, C, C, "cancelled"},
		nova.ApprovalRunning:  {C, C, F, F, C, "succeeded", "failed", C, C},
	}},
	{"destructive at expiry", restart, true, map[nova.ApprovalState][]string{
		nova.ApprovalPending:  {X, X, F, F, C, C, C, "expired", "cancelled"},
		nova.ApprovalApproved: {C, C, F, F, X, C, C, "expired", "cancelled"},
		nova.ApprovalRunning:  {C, C, F, F, C, "succeeded", "failed", C, C},
	}},
	{"non-destructive", flushCache, false, map[nova.ApprovalState][]string{
		nova.ApprovalPending:  {"approved", "denied", "approved", "running", C, C, C, C, "cancelled"},
		nova.ApprovalApproved: {C, C, C, C, "running", C, C, C, "cancelled"},
		nova.ApprovalRunning:  {C, C, C, C, C, "succeeded", "failed", C, C},
	}},
	{"non-destructive at expiry", flushCache, true, map[nova.ApprovalState][]string{
		nova.ApprovalPending:  {X, X, X, X, C, C, C, "expired", "cancelled"},
		nova.ApprovalApproved: {C, C, C, C, X, C, C, "expired", "cancelled"},
		nova.ApprovalRunning:  {C, C, C, C, C, "succeeded", "failed", C, C},
	}},
}

// TestTransitions runs every operation on every state and checks the
// resulting state and error code against the tables above.
func TestTransitions(t *testing.T) {
	for _, tab := range transitionTables {
		for _, from := range allStates {
			row, ok := tab.rows[from]
			if !ok {
				row = finalRow
				if !tab.action.Destructive {
					row = finalRowND
				}
			}
			for i, o := range ops {
				t.Run(fmt.Sprintf("%s/%s/%s", tab.name, from, o.name), func(t *testing.T) {
					req := inState(t, tab.action, from)
					now := t0.Add(2 * time.Minute)
					if tab.late {
						now = req.ExpiresAt
					}
					out, err := o.do(req, tab.action, now)
					wantState, wantCode, _ := strings.Cut(row[i], "!")
					if wantState == "" {
						wantState = string(from)
					}
					if got := nova.ErrorCode(err); got != wantCode {
						t.Errorf("error code = %q (%v), want %q", got, err, wantCode)
					}
					if out.State != nova.ApprovalState(wantState) {
						t.Errorf("state = %s, want %s", out.State, wantState)
					}
					if out.State != from && out.UpdatedAt != now {
						t.Errorf("state changed but UpdatedAt = %v, want %v", out.UpdatedAt, now)
					}
					if out.State == from && err != nil && out.UpdatedAt != req.UpdatedAt {
						t.Errorf("a refused %s touched UpdatedAt", o.name)
					}
					if err != nil && nova.ErrorMessage(err) == "internal error" {
						t.Errorf("error has no user-facing message: %v", err)
					}
				})
			}
		}
	}
}

func TestUnknownStateIsRefused(t *testing.T) {
	req := propose(t, restart, 1)
	req.State = "paused"
	for _, o := range ops {
		out, err := o.do(req, restart, t0.Add(time.Minute))
		if err == nil || out.State != "paused" {
			t.Errorf("%s on an unknown state: %v, state %s", o.name, err, out.State)
		}
	}
}
