package bot

import (
	"context"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/triage"
)

// PagerDuty is one environment's scoped PagerDuty client, as bot uses it.
// It can view and it can note and acknowledge; nothing else exists.
type PagerDuty interface {
	GetIncident(ctx context.Context, id string) (nova.Incident, error)
	ListAlerts(ctx context.Context, id string) ([]nova.Alert, error)
	ListNotes(ctx context.Context, id string) ([]nova.Note, error)
	ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error)
	RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error)
	ServiceChangeEvents(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error)
	PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error)
	RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error)
	OutlierIncident(ctx context.Context, id string) (nova.Outlier, error)
	// SupportingServices returns the technical services a service depends
	// on, from the account's service dependencies (triage adds them to the
	// declared depends_on).
	SupportingServices(ctx context.Context, serviceID string) ([]nova.Ref, error)
	AddNote(ctx context.Context, incidentID, content string) (nova.Note, error)
	Acknowledge(ctx context.Context, incidentID string) error
}

// Chat is one environment's Slack client, as bot uses it.
type Chat interface {
	Post(ctx context.Context, channel, threadTS string, m nova.Message) (string, error)
	Update(ctx context.Context, channel, ts string, m nova.Message) error
	PostEphemeral(ctx context.Context, channel, user string, m nova.Message) error
	Respond(ctx context.Context, responseURL string, r nova.Reply) error
	// FindByMetadata looks for a message Nova posted since oldest whose
	// metadata has key = value: in the channel's top level when threadTS is
	// empty, else in that thread (where a thread reply was posted).
	FindByMetadata(ctx context.Context, channel, threadTS, key, value string, oldest time.Time) (string, bool, error)
	GroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// Run is one execution of a catalog action, as sent to an executor.
type Run = nova.ActionRun

// Executor runs catalog actions through the customer's automation.
type Executor interface {
	Run(ctx context.Context, r Run) (string, error)
}

// Summariser phrases a hypothesis summary with a language model.
type Summariser interface {
	Summarise(ctx context.Context, in triage.Input, r nova.TriageResult) (string, error)
}

// Reviewer builds the rollout review (cmd/nova's collector); see
// rollout.Reviewer.
type Reviewer = rollout.Reviewer

// Environments hands out the per-environment adapters. It is consulted on
// every use, so rotated credentials take effect without a restart.
type Environments interface {
	PagerDuty(env string) (PagerDuty, error)
	// Chat returns ENOTFOUND when the environment has no Slack app.
	Chat(env string) (Chat, error)
	// Executor returns the executor of a catalog action.
	Executor(action string) (Executor, error)
}
