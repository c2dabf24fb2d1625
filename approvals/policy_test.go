package approvals

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name    string
		pol     Policy
		wantErr string // substring of the message; "" means valid
	}{
		{"one user", Policy{Approvers: []string{"U1"}}, ""},
		{"enterprise grid user", Policy{Approvers: []string{"W0ABC"}}, ""},
		{"group", Policy{Approvers: []string{"S0SRE"}}, ""},
		{"two-person rule with two users", Policy{Approvers: []string{"U1", "U2"}, RequiredApprovals: 2}, ""},
		{"two-person rule with a group", Policy{Approvers: []string{"S0SRE"}, RequiredApprovals: 2}, ""},
		{"max expiry", Policy{Approvers: []string{"U1"}, ExpiresAfter: MaxExpiresAfter}, ""},
		{"responders", Policy{Approvers: []string{"U1"}, Responders: []string{"U2", "S3"}}, ""},
		{"no approvers", Policy{}, "names no approvers"},
		{"only responders", Policy{Responders: []string{"U2"}}, "names no approvers"},
		{"lower-case id", Policy{Approvers: []string{"u123"}}, `"u123" is not a Slack user id`},
		{"channel id", Policy{Approvers: []string{"C123"}}, `"C123" is not a Slack user id`},
		{"bare prefix", Policy{Approvers: []string{"U"}}, `"U" is not`},
		{"nova itself", Policy{Approvers: []string{"nova"}}, `"nova" is not`},
		{"mention syntax", Policy{Approvers: []string{"<@U1>"}}, "is not a Slack user id"},
		{"bad responder", Policy{Approvers: []string{"U1"}, Responders: []string{"@dave"}}, `responder "@dave"`},
		{"negative approvals", Policy{Approvers: []string{"U1"}, RequiredApprovals: -1}, "required approvals is -1"},
		{"quorum impossible", Policy{Approvers: []string{"U1"}, RequiredApprovals: 2}, "2 approvals are required but only 1"},
		{"duplicates do not make two people", Policy{Approvers: []string{"U1", "U1"}, RequiredApprovals: 2}, "only 1 approvers"},
		{"negative expiry", Policy{Approvers: []string{"U1"}, ExpiresAfter: -time.Minute}, "negative"},
		{"expiry too long", Policy{Approvers: []string{"U1"}, ExpiresAfter: 25 * time.Hour}, "longer than the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.pol.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !nova.IsCode(err, nova.EINVALID) || !strings.Contains(nova.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("Validate() = %v, want EINVALID containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestProposeDestructive(t *testing.T) {
	req, err := Propose(proposal(restart), Policy{Approvers: []string{"UALICE", "SSRE", "UALICE"}, RequiredApprovals: 2}, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := nova.ApprovalRequest{
		ID: "act-1", Environment: "prod", ServiceID: "PCHECKOUT", IncidentID: "Q1",
		Action: "restart", Title: "Restart checkout pods", Destructive: true,
		Params: map[string]string{"namespace": "checkout"}, Reason: "deploy 42 preceded the error spike",
		Evidence:  []nova.Evidence{{Kind: nova.EvidenceChange, Summary: "deploy 42"}},
		Approvers: []string{"UALICE", "SSRE"}, RequiredApprovals: 2, State: nova.ApprovalPending,
		CreatedAt: t0, UpdatedAt: t0, ExpiresAt: t0.Add(DefaultExpiresAfter), IdempotencyKey: "idem-1",
	}
	if !reflect.DeepEqual(req, want) {
		t.Fatalf("Propose =\n%+v\nwant\n%+v", req, want)
	}
}

func TestProposeDefaultsAndNonDestructive(t *testing.T) {
	req := propose(t, flushCache, 2)
	// A one-click action: everyone who may click, one click enough.
	if got, want := req.Approvers, []string{"UALICE", "UBOB", "SSRE", "UDAVE"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Approvers = %v, want %v", got, want)
	}
	if req.RequiredApprovals != 1 || req.Destructive || req.State != nova.ApprovalPending {
		t.Errorf("got required=%d destructive=%v state=%s, want 1 false pending", req.RequiredApprovals, req.Destructive, req.State)
	}
	if req.ExpiresAt != t0.Add(30*time.Minute) {
		t.Errorf("ExpiresAt = %v", req.ExpiresAt)
	}
	dest, _ := Propose(proposal(restart), Policy{Approvers: []string{"U1"}}, t0)
	if dest.RequiredApprovals != DefaultRequiredApprovals || dest.ExpiresAt != t0.Add(DefaultExpiresAfter) {
		t.Errorf("defaults: required=%d expires=%v", dest.RequiredApprovals, dest.ExpiresAt)
	}
	if dest.Title != "Restart checkout pods" {
		t.Errorf("Title = %q", dest.Title)
	}
	untitled := proposal(nova.Action{Name: "noop", Services: []string{"*"}})
	if r, _ := Propose(untitled, policy(1), t0); r.Title != "noop" {
		t.Errorf("untitled action: Title = %q, want the name", r.Title)
	}
}

func TestProposeDoesNotAliasInputs(t *testing.T) {
	p := proposal(restart)
	pol := policy(1)
	req, err := Propose(p, pol, t0)
	if err != nil {
		t.Fatal(err)
	}
	p.Params["namespace"] = "other"
	p.Evidence[0].Summary = "changed"
	pol.Approvers[0] = "UMALLORY"
	if req.Params["namespace"] != "checkout" || req.Evidence[0].Summary != "deploy 42" || req.Approvers[0] != "UALICE" {
		t.Fatalf("request changed with its inputs: %+v", req)
	}
}

func TestProposeRejects(t *testing.T) {
	type edit func(*Proposal, *Policy, *time.Time)
	tests := []struct {
		name    string
		edit    edit
		wantErr string
	}{
		{"no id", func(p *Proposal, _ *Policy, _ *time.Time) { p.ID = "" }, "without id"},
		{"no environment", func(p *Proposal, _ *Policy, _ *time.Time) { p.Environment = " " }, "without environment"},
		{"no service", func(p *Proposal, _ *Policy, _ *time.Time) { p.ServiceID = "" }, "without service id"},
		{"no incident", func(p *Proposal, _ *Policy, _ *time.Time) { p.IncidentID = "" }, "without incident id"},
		{"no action", func(p *Proposal, _ *Policy, _ *time.Time) { p.Action.Name = "" }, "without action name"},
		{"no idempotency key", func(p *Proposal, _ *Policy, _ *time.Time) { p.IdempotencyKey = "" }, "without idempotency key"},
		{"action for another service", func(p *Proposal, _ *Policy, _ *time.Time) { p.ServiceID = "PBILLING" }, `does not apply to service PBILLING`},
		{"destructive auto_run", func(p *Proposal, _ *Policy, _ *time.Time) { p.Action.AutoRun = true }, "always need approval"},
		{"zero time", func(_ *Proposal, _ *Policy, now *time.Time) { *now = time.Time{} }, "current time"},
		{"bad policy", func(_ *Proposal, pol *Policy, _ *time.Time) { pol.Approvers = nil }, "names no approvers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, pol, now := proposal(restart), policy(1), t0
			tt.edit(&p, &pol, &now)
			_, err := Propose(p, pol, now)
			if !nova.IsCode(err, nova.EINVALID) || !strings.Contains(nova.ErrorMessage(err), tt.wantErr) {
				t.Fatalf("Propose() = %v, want EINVALID containing %q", err, tt.wantErr)
			}
		})
	}
}
