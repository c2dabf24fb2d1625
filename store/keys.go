package store

import (
	"fmt"
	"time"
)

// Record ids, one constructor each, so that no key is spelled in two places
// and a reader finds every record Nova keeps in one file. Incidents,
// services and approval requests are stored under their own ids
// (KindIncident, KindService, KindApproval, KindPostmortem).

// Meta records (KindMeta).
const (
	// PauseID holds the global pause switch.
	PauseID = "pause"
	// OpenApprovalsID lists the approval requests the sweeper watches.
	OpenApprovalsID = "open-approvals"
)

// BotUserID holds the PagerDuty bot user learned for env.
func BotUserID(env string) string { return "botuser:" + env }

// RecentTriggersID holds the incidents triggered in t's minute, for storm
// recognition across replicas.
func RecentTriggersID(t time.Time) string { return fmt.Sprintf("recent:%d", t.Unix()/60) }

// DeadLetterID keeps an event set aside after too many failed attempts.
func DeadLetterID(eventID string) string { return "deadletter:" + eventID }

// OutboxPrefix starts the ids of Slack outboxes, for listing them.
const OutboxPrefix = "slack-outbox:"

// OutboxID holds one Slack channel's outbox: the posts waiting for it.
func OutboxID(env, channel string) string { return OutboxPrefix + env + ":" + channel }

// SightingPrefix starts the ids of the counts of events Nova ignored for
// their service, for listing them (the rollout review's coverage drift).
const SightingPrefix = "sighting:"

// SightingID counts the events of service that env's subscription sent and
// Nova ignored (undeclared, off, or declared in another environment).
func SightingID(env, serviceID string) string { return SightingPrefix + env + ":" + serviceID }

// ReviewPostedID records the last period whose scheduled review was posted.
const ReviewPostedID = "review-posted"

// VerdictID holds an incident's verdict for calibrating its service's
// confidence (nova.IncidentVerdict).
func VerdictID(incidentID string) string { return "verdict:" + incidentID }

// BacktestIndexID holds the rows of a service's last backtest.
func BacktestIndexID(env, serviceID string) string { return "backtest-index:" + env + ":" + serviceID }

// BacktestMarkID holds an admin's mark of one backtest row.
func BacktestMarkID(env, serviceID, incidentID string) string {
	return "backtest-mark:" + env + ":" + serviceID + ":" + incidentID
}

// SlackReplayID remembers a Slack request signature (its hash, in hex).
func SlackReplayID(hash string) string { return "slack-replay:" + hash }

// Idempotency keys of external writes (KindOnce, see Once).

// NoteKey is one PagerDuty note per incident and purpose.
func NoteKey(env, incidentID, purpose string) string {
	return "pd:" + env + ":" + incidentID + ":note:" + purpose
}

// ActionNotePurpose is the purpose (NoteKey) of the timeline note about an
// approval request reaching state.
func ActionNotePurpose(requestID, state string) string { return "action:" + requestID + ":" + state }

// AckKey is Nova's acknowledgement of an incident.
func AckKey(env, incidentID string) string { return "pd:" + env + ":" + incidentID + ":ack" }

// HypothesisPostKey is the Slack message with an incident's hypothesis.
func HypothesisPostKey(env, incidentID string) string {
	return "slack:" + env + ":" + incidentID + ":hypothesis"
}

// StormPostKey is the storm summary message of one channel's storm.
func StormPostKey(env, channel, stormID string) string {
	return "slack:" + env + ":" + channel + ":storm:" + stormID
}

// ApprovalPostKey is the Slack message of an approval request.
func ApprovalPostKey(env, requestID string) string {
	return "slack:" + env + ":" + requestID + ":request"
}

// PostmortemPostKey is the Slack thread reply announcing an incident's
// postmortem draft (later versions update it in place).
func PostmortemPostKey(env, incidentID string) string {
	return "slack:" + env + ":" + incidentID + ":postmortem"
}

// PostmortemNotePurpose is the purpose of the PagerDuty note linking an
// incident's postmortem draft (NoteKey): one note per incident, whatever
// the number of versions.
const PostmortemNotePurpose = "postmortem"

// ProposalKey is the approval request for one action on one incident.
func ProposalKey(incidentID, action string) string { return "approval:" + incidentID + ":" + action }

// ReviewPostKey is the scheduled review's Slack message of the period that
// starts at periodStart.
func ReviewPostKey(env, channel string, periodStart time.Time) string {
	return "slack:" + env + ":" + channel + ":review:" + periodStart.UTC().Format(time.RFC3339)
}

// ActionRunKey is the execution of an approval request's action.
func ActionRunKey(requestID string) string { return "action:" + requestID }
