package nova

import "time"

// Who acknowledged an incident first.
const (
	AckByNova   = "nova"
	AckByPerson = "person"
)

// Feedback verdicts on a hypothesis.
const (
	FeedbackHelpful = "helpful"
	FeedbackWrong   = "wrong"
)

// Feedback is one person's verdict on Nova's hypothesis for an incident.
type Feedback struct {
	UserID  string    `json:"user_id"`
	Verdict string    `json:"verdict"`
	Cause   string    `json:"cause,omitempty"`
	At      time.Time `json:"at"`
}

// IncidentRecord is what Nova keeps about one incident: the timings that
// measure it, its triage result and where it wrote about it.
type IncidentRecord struct {
	ID          string `json:"id"`
	Environment string `json:"environment"`
	ServiceID   string `json:"service_id"`
	Title       string `json:"title"`
	Number      int    `json:"number,omitempty"`
	Urgency     string `json:"urgency,omitempty"`
	Status      string `json:"status"`
	HTMLURL     string `json:"html_url,omitempty"`
	// Mode is the service's mode when Nova triaged the incident.
	Mode Mode `json:"mode"`

	TriggeredAt  time.Time `json:"triggered_at"`
	ReceivedAt   time.Time `json:"received_at"`
	HypothesisAt time.Time `json:"hypothesis_at,omitempty"`
	FirstAckAt   time.Time `json:"first_ack_at,omitempty"`
	// AckedBy is AckByNova or AckByPerson; AckedByName names the person.
	AckedBy     string    `json:"acked_by,omitempty"`
	AckedByName string    `json:"acked_by_name,omitempty"`
	ResolvedAt  time.Time `json:"resolved_at,omitempty"`

	Triage *TriageResult `json:"triage,omitempty"`
	// NoteID identifies the hypothesis note in PagerDuty (its audit entry
	// names it as its PagerDutyRef).
	NoteID string `json:"note_id,omitempty"`

	SlackChannel string `json:"slack_channel,omitempty"`
	SlackTS      string `json:"slack_ts,omitempty"`
	// SlackSummarised: SlackTS is a storm summary listing this incident
	// among others, not a message of its own.
	SlackSummarised bool `json:"slack_summarised,omitempty"`

	Feedback []Feedback `json:"feedback,omitempty"`
}

// TimeToHypothesis is the time from trigger to hypothesis, or 0.
func (r IncidentRecord) TimeToHypothesis() time.Duration {
	if r.HypothesisAt.IsZero() || r.TriggeredAt.IsZero() {
		return 0
	}
	return r.HypothesisAt.Sub(r.TriggeredAt)
}

// TimeToAck is the time from trigger to first acknowledgement, or 0.
func (r IncidentRecord) TimeToAck() time.Duration {
	if r.FirstAckAt.IsZero() || r.TriggeredAt.IsZero() {
		return 0
	}
	return r.FirstAckAt.Sub(r.TriggeredAt)
}
