package nova

import "time"

// Action is an entry of the action catalog: something Nova may propose and,
// with the right approval, run through the customer's own automation.
type Action struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Destructive actions run only after an authorised person approves.
	Destructive bool `json:"destructive"`
	// AutoRun lets a non-destructive action run without a click.
	AutoRun bool `json:"auto_run,omitempty"`
	// Addresses lists the hypothesis categories this action can fix.
	Addresses []Category `json:"addresses,omitempty"`
	// Match is an optional regular expression on alert text.
	Match string `json:"match,omitempty"`
	// Services lists the service ids it applies to; empty means none.
	Services []string `json:"services"`
	// Params are templates filled from the incident ({{.Service}}, ...).
	Params map[string]string `json:"params,omitempty"`
}

// AppliesTo reports whether the action may be proposed for service id.
func (a Action) AppliesTo(serviceID string) bool {
	for _, s := range a.Services {
		if s == serviceID || s == "*" {
			return true
		}
	}
	return false
}

// ActionRun is one execution of a catalog action, as an executor receives it.
type ActionRun struct {
	// RequestID is the approval request's id.
	RequestID string
	// IdempotencyKey is the same on every attempt and every retry of the
	// whole run, so the receiver can run the action at most once.
	IdempotencyKey string
	Action         string
	Title          string
	Environment    string
	ServiceID      string
	IncidentID     string
	Params         map[string]string
	// ApprovedBy are the Slack user ids of the people who approved.
	ApprovedBy []string
}

// ApprovalState is where an action request stands.
type ApprovalState string

// Approval states. pending → approved → running → succeeded | failed, or
// pending → denied | expired | cancelled, or approved → cancelled | expired.
const (
	ApprovalPending   ApprovalState = "pending"
	ApprovalApproved  ApprovalState = "approved"
	ApprovalRunning   ApprovalState = "running"
	ApprovalSucceeded ApprovalState = "succeeded"
	ApprovalFailed    ApprovalState = "failed"
	ApprovalDenied    ApprovalState = "denied"
	ApprovalExpired   ApprovalState = "expired"
	ApprovalCancelled ApprovalState = "cancelled"
)

// Final reports whether no further transition can leave s.
func (s ApprovalState) Final() bool {
	switch s {
	case ApprovalSucceeded, ApprovalFailed, ApprovalDenied, ApprovalExpired, ApprovalCancelled:
		return true
	}
	return false
}

// Decision is one person's approve or deny.
type Decision struct {
	UserID  string    `json:"user_id"`
	Approve bool      `json:"approve"`
	At      time.Time `json:"at"`
}

// ApprovalRequest is a proposed run of a catalog action on one incident.
type ApprovalRequest struct {
	ID          string            `json:"id"`
	Environment string            `json:"environment"`
	ServiceID   string            `json:"service_id"`
	IncidentID  string            `json:"incident_id"`
	Action      string            `json:"action"`
	Title       string            `json:"title"`
	Destructive bool              `json:"destructive"`
	Params      map[string]string `json:"params,omitempty"`
	// Reason is the hypothesis that led to the proposal, with its evidence.
	Reason   string     `json:"reason"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Approvers are the Slack user or user-group ids allowed to decide.
	Approvers         []string      `json:"approvers"`
	RequiredApprovals int           `json:"required_approvals"`
	State             ApprovalState `json:"state"`
	Decisions         []Decision    `json:"decisions,omitempty"`
	CreatedAt         time.Time     `json:"created_at"`
	ExpiresAt         time.Time     `json:"expires_at"`
	UpdatedAt         time.Time     `json:"updated_at"`
	// StateReason explains a cancelled, expired, failed or denied state.
	StateReason string `json:"state_reason,omitempty"`
	// Result is the executor's answer once the run finished.
	Result string `json:"result,omitempty"`
	// IdempotencyKey is sent to the executor with every attempt.
	IdempotencyKey string `json:"idempotency_key"`
	// Where the request was posted in Slack.
	SlackChannel string `json:"slack_channel,omitempty"`
	SlackTS      string `json:"slack_ts,omitempty"`
}
