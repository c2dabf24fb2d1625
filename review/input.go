// Package review is the quarterly rollout review: it compares what the
// configuration intends with what the store, the audit log, PagerDuty and
// Slack show actually happened, and says what to do about each difference.
//
// It is pure: an adapter (cmd/nova) gathers an Input (configuration, store
// state, audit entries, the period's incidents and their per-incident
// verdicts, credential ages, webhook subscriptions read from
// PagerDuty, the results of matching audit entries to PagerDuty notes) and
// Build turns it into a Report, deterministically, with now passed in.
package review

import (
	"time"

	"github.com/novasre/nova"
)

// Input is everything one review looks at.
type Input struct {
	// Now ends the period and Since starts it.
	Now, Since time.Time
	// Services are the declared services (intended state).
	Services []nova.Service
	// States are the stored states by service id (actual state); a
	// declared service without one has never run.
	States map[string]nova.ServiceState
	// Access is each environment's admins and approvers, as configured now.
	Access map[string]Access
	// GlobalAdmins may pause and resume Nova as a whole.
	GlobalAdmins []string
	// Groups maps Slack user-group ids named in Access or GlobalAdmins to
	// their members; GroupErrors says why a group could not be read.
	Groups      map[string][]string
	GroupErrors map[string]string
	// Pause is the global pause switch.
	Pause Pause
	// Audit holds the audit entries of the period, in sequence order.
	Audit []nova.AuditEntry
	// Chain is the verification of the whole audit chain.
	Chain Chain
	// Notes is the matching of Nova's PagerDuty writes to PagerDuty notes.
	Notes NoteMatch
	// Credentials are the configured credentials with their ages.
	Credentials []Credential
	// Subscriptions are the webhook subscriptions read per environment.
	Subscriptions []EnvSubscriptions
	// Incidents are Nova's incident records of the period.
	Incidents []nova.IncidentRecord
	// Verdicts are the per-incident verdicts that calibrate confidence
	// (one per incident: a person's latest verdict, else how the incident
	// was resolved), by incident id, for the period's incidents that have
	// one (stored under store.VerdictID).
	Verdicts map[string]nova.IncidentVerdict
	// Approvals are the action requests created in the period.
	Approvals []nova.ApprovalRequest
	// Sightings are events Nova received but ignored for their service
	// (undeclared, off, or of another environment).
	Sightings []Sighting
	// Promotion is the feedback bar for promotion.
	Promotion Promotion
}

// Access is one environment's configured admins and approvers: Slack user
// ids (U…/W…) or user-group ids (S…).
type Access struct {
	Admins    []string
	Approvers []string
}

// Pause is the global pause switch as stored.
type Pause struct {
	Paused bool
	By     string
	At     time.Time
}

// Chain is the outcome of verifying the audit chain from its first entry.
type Chain struct {
	// Entries is how many entries were checked.
	Entries int64
	// Keyed reports whether the chain was checked with audit keys.
	Keyed bool
	// Head is the last entry verified, as SEQ:HASH.
	Head string
	// Problem is the first problem found ("" when the chain is intact),
	// naming the entry.
	Problem string
	// EntryID names the entry the problem is at, when known.
	EntryID string
}

// NoteMatch is the matching of Nova's PagerDuty note writes, recorded in
// the audit log, to the notes PagerDuty has.
type NoteMatch struct {
	// Writes is how many note writes the period's audit records; Checked
	// how many were compared with PagerDuty (fewer when sampled).
	Writes, Checked int
	// Sampled is true when only some incidents were read.
	Sampled bool
	// Mismatches lists writes whose note PagerDuty does not confirm.
	Mismatches []NoteMismatch
	// Errors lists incidents whose notes could not be read.
	Errors []string
}

// NoteMismatch is one audited note write PagerDuty does not confirm.
type NoteMismatch struct {
	AuditID     string
	Environment string
	Incident    string
	NoteID      string
	// Problem says what does not match.
	Problem string
}

// Credential is one configured credential's age (never its value).
type Credential struct {
	Environment string
	Kind        string
	Name        string
	Created     time.Time
	AgeDays     int
	// Status is ok, due or unknown (no created date).
	Status string
}

// EnvSubscriptions are the V3 webhook subscriptions of one environment, as
// read from PagerDuty, with what Nova expects.
type EnvSubscriptions struct {
	Environment string
	// ExpectedURL is where Nova receives this environment's webhooks.
	ExpectedURL string
	// ExpectedEvents are the event types Nova handles.
	ExpectedEvents []string
	Found          []Subscription
	// Error says why the subscriptions could not be read.
	Error string
}

// Subscription is one webhook subscription.
type Subscription struct {
	ID     string
	URL    string
	Events []string
	// FilterType is account_reference, service_reference or team_reference.
	FilterType string
	FilterID   string
	Active     bool
	// TemporarilyDisabled is set by PagerDuty after failed deliveries.
	TemporarilyDisabled bool
}

// Sighting counts events received for a service Nova ignored.
type Sighting struct {
	Environment string
	ServiceID   string
	Events      int64
	First, Last time.Time
}

// Promotion is the feedback bar: MinFeedback answered hypotheses with a
// helpful share of at least MinPrecision. It is measured on responders'
// Helpful / Wrong buttons and backtest marks (ServiceState.Helpful and
// Wrong), not on the verdicts judged by resolutions.
type Promotion struct {
	MinFeedback  int
	MinPrecision float64
}
