package nova

import "time"

// Service is a PagerDuty service as declared in Nova's configuration.
type Service struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Environment  string `json:"environment"`
	SlackChannel string `json:"slack_channel,omitempty"`
	// DeclaredMode is the mode the configuration file intends.
	DeclaredMode Mode `json:"declared_mode"`
	// WatchDays is how long the service must stay read-only before promotion.
	WatchDays int `json:"watch_days"`
	// AutoAck lets the bot user acknowledge after posting its hypothesis.
	AutoAck  bool      `json:"auto_ack"`
	Runbooks []Runbook `json:"runbooks,omitempty"`
	// Related lists ids of services this one depends on or that depend on it.
	Related []string `json:"related,omitempty"`
	// DependsOn names what the service needs to work: PagerDuty service ids
	// or names of other services, and outside providers by name or host
	// ("stripe", "api.stripe.com"). Triage treats an incident or a failing
	// host among them as a first-class cause.
	DependsOn []string `json:"depends_on,omitempty"`
}

// Runbook is a runbook link matched to alerts by a regular expression.
type Runbook struct {
	Title string `json:"title"`
	URL   string `json:"url"`
	Match string `json:"match,omitempty"`
}

// ServiceState is the actual, stored state of a service; it wins over the
// declared mode once it exists.
type ServiceState struct {
	ServiceID string    `json:"service_id"`
	Mode      Mode      `json:"mode"`
	Since     time.Time `json:"since"`
	ChangedBy string    `json:"changed_by"`
	// ReadOnlySince is when the current read-only watching period began.
	ReadOnlySince time.Time `json:"read_only_since,omitempty"`
	// Counters shown by /nova status.
	IncidentsSeen int64 `json:"incidents_seen"`
	Helpful       int64 `json:"helpful"`
	Wrong         int64 `json:"wrong"`
	Hypotheses    int64 `json:"hypotheses"`
	// HypothesisSeconds is the sum of time-to-hypothesis over Hypotheses.
	HypothesisSeconds float64 `json:"hypothesis_seconds"`
	// Acks and their time-to-acknowledge, by Nova and by people.
	NovaAcks         int64   `json:"nova_acks"`
	NovaAckSeconds   float64 `json:"nova_ack_seconds"`
	PersonAcks       int64   `json:"person_acks"`
	PersonAckSeconds float64 `json:"person_ack_seconds"`
	// Resolved counts the resolved incidents Nova drafted a postmortem for,
	// ResolvedAbstained those where it had posted no hypothesis.
	Resolved          int64 `json:"resolved"`
	ResolvedAbstained int64 `json:"resolved_abstained"`
	// People's answers to "Was Nova's hypothesis right?" on the drafts
	// (each person's latest answer per incident).
	AnswersRight  int64 `json:"answers_right"`
	AnswersPartly int64 `json:"answers_partly"`
	AnswersWrong  int64 `json:"answers_wrong"`
}

// HypothesisPrecision is the share of answers saying Nova's hypothesis was
// right (partly counts as not right); ok is false before any answer.
func (s ServiceState) HypothesisPrecision() (p float64, ok bool) {
	answered := s.AnswersRight + s.AnswersPartly + s.AnswersWrong
	if answered <= 0 {
		return 0, false
	}
	return float64(s.AnswersRight) / float64(answered), true
}

// AbstentionRate is the share of resolved incidents where Nova posted no
// hypothesis; ok is false before any resolution.
func (s ServiceState) AbstentionRate() (r float64, ok bool) {
	if s.Resolved <= 0 {
		return 0, false
	}
	return float64(s.ResolvedAbstained) / float64(s.Resolved), true
}
