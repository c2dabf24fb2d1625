package postmortem

import (
	"time"

	"github.com/novasre/nova"
)

// Timeline sources: where a line of the timeline comes from.
const (
	SourcePagerDuty = "PagerDuty"      // a PagerDuty log entry
	SourceNote      = "PagerDuty note" // a note written by a person
	SourceNova      = "Nova"           // one of Nova's acts, from its audit log
	SourceSlack     = "Slack"          // a person's decision in Slack (approve, deny, apply, feedback)
)

// Verdicts of Judge: did the resolution match Nova's hypothesis?
const (
	VerdictMatched      = "matched"
	VerdictNotMatched   = "not_matched"
	VerdictUndecided    = "undecided"
	VerdictNoHypothesis = "no_hypothesis"
)

// Limits that keep a draft bounded whatever the incident's history.
const (
	// MaxTimeline is the most timeline lines a draft keeps; the earliest and
	// latest are kept and the omitted middle is counted.
	MaxTimeline = 1000
	// MaxLineChars bounds each line of outside text in the draft.
	MaxLineChars = 500
	// MaxResolutionNotes is how many of the last people's notes the
	// resolution section quotes.
	MaxResolutionNotes = 3
)

// Draft is one version of an incident's postmortem draft.
type Draft struct {
	// ID is the same for every version of the incident's draft.
	ID          string    `json:"id"`
	Version     int       `json:"version"`
	Environment string    `json:"environment"`
	IncidentID  string    `json:"incident_id"`
	ServiceID   string    `json:"service_id"`
	GeneratedAt time.Time `json:"generated_at"`
	// History lists every version: when it was drafted and which resolution
	// it covers.
	History []Revision `json:"history"`

	Header     Header      `json:"header"`
	Impact     Impact      `json:"impact"`
	Timeline   []Line      `json:"timeline"`
	Omitted    int         `json:"timeline_omitted,omitempty"`
	Hypothesis Hypothesis  `json:"hypothesis"`
	Resolution Resolution  `json:"resolution"`
	Actions    []ActionRow `json:"actions"`
	Outcome    Outcome     `json:"outcome"`
	// Answers are people's answers to "Was Nova's hypothesis right?", one
	// per person (the latest); they outlive versions.
	Answers []Answer `json:"answers"`
	// Changes are the change events triage cited as evidence.
	Changes []nova.Evidence `json:"contributing_changes"`
	// Related are the related or concurrent incidents triage found.
	Related []Related `json:"related_incidents"`
	// Sections are written by people; Nova leaves them empty.
	Sections []Section `json:"sections"`
}

// Revision is one version of a draft.
type Revision struct {
	Version    int       `json:"version"`
	DraftedAt  time.Time `json:"drafted_at"`
	ResolvedAt time.Time `json:"resolved_at"`
}

// Header identifies the incident.
type Header struct {
	Number       int    `json:"number,omitempty"`
	Title        string `json:"title"`
	ServiceID    string `json:"service_id"`
	ServiceName  string `json:"service_name,omitempty"`
	Environment  string `json:"environment"`
	Urgency      string `json:"urgency,omitempty"`
	Priority     string `json:"priority,omitempty"`
	PagerDutyURL string `json:"pagerduty_url,omitempty"`
	SlackURL     string `json:"slack_url,omitempty"`
	// Mode is the service's mode when Nova triaged the incident.
	Mode nova.Mode `json:"mode"`
}

// Impact holds the incident's timings and who responded.
type Impact struct {
	TriggeredAt time.Time `json:"triggered_at"`
	FirstAckAt  time.Time `json:"first_ack_at,omitempty"`
	// AckedBy is nova.AckByNova or nova.AckByPerson; AckedByName the person.
	AckedBy     string    `json:"acked_by,omitempty"`
	AckedByName string    `json:"acked_by_name,omitempty"`
	ResolvedAt  time.Time `json:"resolved_at"`
	// Seconds from trigger to first acknowledgement and to resolution; 0
	// when unknown.
	TimeToAckSeconds     int64 `json:"time_to_ack_seconds"`
	TimeToResolveSeconds int64 `json:"time_to_resolve_seconds"`
	// Escalations are the escalate log entries' summaries, in order.
	Escalations []string `json:"escalations"`
	// Responders are the people who acknowledged, were assigned, wrote a
	// note or resolved, by name, in order of first appearance.
	Responders []string `json:"responders"`
}

// Line is one line of the merged timeline.
type Line struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	// Actor is who acted: a PagerDuty user's name, "Nova", a Slack user id.
	Actor string `json:"actor,omitempty"`
	Text  string `json:"text"`
	// Ref is the line's id at its source: a nova-… audit id, a PagerDuty
	// log entry or note id, an approval request id.
	Ref string `json:"ref,omitempty"`
}

// Hypothesis is what Nova thought, as it recorded it at triage.
type Hypothesis struct {
	Abstained  bool              `json:"abstained"`
	Top        *nova.Hypothesis  `json:"top,omitempty"`
	RunnersUp  []nova.Hypothesis `json:"runners_up"`
	Checked    []string          `json:"checked"`
	NotChecked []string          `json:"not_checked"`
	// PhrasedByModel is set when a language model phrased the top summary.
	PhrasedByModel bool `json:"phrased_by_model,omitempty"`
}

// Resolution is what happened at the end, as PagerDuty and Nova recorded it.
type Resolution struct {
	ResolvedBy    string      `json:"resolved_by,omitempty"`
	ResolveReason string      `json:"resolve_reason,omitempty"`
	LastNotes     []nova.Note `json:"last_notes"`
}

// ActionRow is one catalog action Nova proposed for the incident and what
// became of it.
type ActionRow struct {
	RequestID   string             `json:"request_id"`
	Action      string             `json:"action"`
	Title       string             `json:"title"`
	Destructive bool               `json:"destructive"`
	State       nova.ApprovalState `json:"state"`
	StateReason string             `json:"state_reason,omitempty"`
	ProposedAt  time.Time          `json:"proposed_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	ApprovedBy  []string           `json:"approved_by"`
	DeniedBy    []string           `json:"denied_by"`
	Result      string             `json:"result,omitempty"`
	// FromRank is the rank of the hypothesis that suggested the action, 0
	// when none of the recorded hypotheses did.
	FromRank int `json:"from_rank"`
}

// Outcome says whether the resolution matched Nova's hypothesis, as far as
// the record decides it, and why.
type Outcome struct {
	Verdict string `json:"verdict"`
	Basis   string `json:"basis"`
}

// Related is a related or concurrent incident triage found.
type Related struct {
	ID      string `json:"id"`
	Summary string `json:"summary,omitempty"`
	URL     string `json:"url,omitempty"`
	// Storm is set when triage judged it to share a cause (a storm).
	Storm bool `json:"storm,omitempty"`
}

// Section is a part of the draft people write. Nova creates it empty and
// never fills or overwrites it.
type Section struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// Prompt tells the writer what belongs there.
	Prompt string `json:"prompt"`
	Owner  string `json:"owner"`
	Body   string `json:"body"`
}

// OwnerPeople marks the sections people write.
const OwnerPeople = "people"

// peopleSections are the sections of every draft that people write.
var peopleSections = []Section{
	{Key: "root_cause", Title: "Root cause analysis", Prompt: "What caused the incident, and why it was possible. Nova states no root cause."},
	{Key: "went_well", Title: "What went well", Prompt: "Detection, response and tools that helped."},
	{Key: "went_badly", Title: "What went badly", Prompt: "What slowed detection, diagnosis or recovery."},
	{Key: "action_items", Title: "Action items", Prompt: "One line each: the item, its owner, its due date."},
}
