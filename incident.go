package nova

import "time"

// Incident statuses.
const (
	StatusTriggered    = "triggered"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Urgencies.
const (
	UrgencyHigh = "high"
	UrgencyLow  = "low"
)

// Incident is a PagerDuty incident as seen by Nova.
type Incident struct {
	ID          string    `json:"id"`
	Number      int       `json:"number,omitempty"`
	Title       string    `json:"title"`
	Status      string    `json:"status"`
	Urgency     string    `json:"urgency,omitempty"`
	Priority    string    `json:"priority,omitempty"`
	HTMLURL     string    `json:"html_url,omitempty"`
	IncidentKey string    `json:"incident_key,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Service     Ref       `json:"service"`
	Assignees   []Ref     `json:"assignees,omitempty"`
	Teams       []Ref     `json:"teams,omitempty"`
	// ResolveReason is PagerDuty's resolve_reason, when set.
	ResolveReason string `json:"resolve_reason,omitempty"`
	// ResolvedAt is when it was resolved; zero while it is open (REST only,
	// webhooks do not carry it).
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// IncidentFilter selects incidents to list (GET /incidents).
type IncidentFilter struct {
	// ServiceIDs restricts the list to these services; at least one is
	// required, Nova never lists a whole account.
	ServiceIDs []string
	// Statuses restricts the list to triggered, acknowledged or resolved.
	Statuses []string
	// Since and Until bound the creation time, [Since, Until); PagerDuty
	// allows at most 6 months between them.
	Since, Until time.Time
	// Limit stops the listing once this many incidents are in; 0 means
	// the client's page cap.
	Limit int
}

// Alert is one alert grouped into an incident.
type Alert struct {
	ID        string    `json:"id"`
	Summary   string    `json:"summary"`
	Severity  string    `json:"severity,omitempty"`
	Status    string    `json:"status,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	HTMLURL   string    `json:"html_url,omitempty"`
	// Source is the monitoring tool or integration that raised it.
	Source string `json:"source,omitempty"`
	// Details are the alert body's custom details flattened to dotted keys.
	Details map[string]string `json:"details,omitempty"`
}

// Link is a hyperlink attached to a change event.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// ChangeEvent is a deploy, build or configuration change sent to PagerDuty.
type ChangeEvent struct {
	ID        string    `json:"id"`
	Summary   string    `json:"summary"`
	Timestamp time.Time `json:"timestamp"`
	Source    string    `json:"source,omitempty"`
	// Services the change was sent to.
	Services []Ref  `json:"services,omitempty"`
	Links    []Link `json:"links,omitempty"`
	// Details are the change's custom details flattened to dotted keys.
	Details map[string]string `json:"details,omitempty"`
	// CorrelationReason is PagerDuty's reason for relating it to an incident
	// (most_recent, related_service, intelligent); empty for service changes.
	CorrelationReason string `json:"correlation_reason,omitempty"`
	HTMLURL           string `json:"html_url,omitempty"`
}

// PastIncident is an earlier incident of the same service that PagerDuty
// found similar, with how it was resolved when Nova could find out.
type PastIncident struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
	HTMLURL   string    `json:"html_url,omitempty"`
	Score     float64   `json:"score"`
	// Resolution is what fixed it: the resolution note or the last notes.
	Resolution string `json:"resolution,omitempty"`
	// Category is the cause category recorded for it, when known.
	Category Category `json:"category,omitempty"`
}

// RelatedIncident is a concurrent incident PagerDuty relates to this one.
type RelatedIncident struct {
	ID           string    `json:"id"`
	Title        string    `json:"title"`
	Status       string    `json:"status,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	HTMLURL      string    `json:"html_url,omitempty"`
	Service      Ref       `json:"service"`
	Relationship string    `json:"relationship,omitempty"` // machine_learning_inferred, service_dependency
}

// Outlier is PagerDuty's classification of how usual an incident is.
type Outlier struct {
	Category string `json:"category"` // frequent, rare, anomaly
	Count    int    `json:"count"`
	Template string `json:"template,omitempty"`
}

// Note is an incident note.
type Note struct {
	ID        string    `json:"id"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"created_at"`
	User      Ref       `json:"user"`
	// Trimmed is true when a webhook carried only the start of the note.
	Trimmed bool `json:"trimmed,omitempty"`
}

// LogEntry is one entry of an incident's timeline.
type LogEntry struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Summary   string    `json:"summary,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Agent     *Ref      `json:"agent,omitempty"`
	Channel   string    `json:"channel,omitempty"`
}
