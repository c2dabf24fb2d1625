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
	// The verdicts that calibrate the service's confidence (triage's
	// feedback shift): one per incident, a person's latest verdict (a Slack
	// button or a postmortem answer) or else how the incident was resolved
	// (see IncidentVerdict), plus backtest marks. ResolutionHelpful and
	// ResolutionWrong are the part judged by resolutions. Helpful and Wrong
	// above keep counting every person's button (and backtest marks): the
	// promotion rule reads them.
	VerdictsHelpful   int64 `json:"verdicts_helpful,omitempty"`
	VerdictsWrong     int64 `json:"verdicts_wrong,omitempty"`
	ResolutionHelpful int64 `json:"resolution_helpful,omitempty"`
	ResolutionWrong   int64 `json:"resolution_wrong,omitempty"`
	// VerdictsSeeded is set once the verdict counters took over the
	// button counts a state stored before they existed (SeedVerdicts).
	VerdictsSeeded bool `json:"verdicts_seeded,omitempty"`
}

// Verdicts returns the per-incident verdicts that calibrate the service's
// confidence, and how many of each were judged by how the incident was
// resolved rather than by a person. A state stored before these counters
// existed answers with its button counts.
func (s ServiceState) Verdicts() (helpful, wrong, byResolution int64) {
	if !s.VerdictsSeeded {
		return s.Helpful, s.Wrong, 0
	}
	return s.VerdictsHelpful, s.VerdictsWrong, s.ResolutionHelpful + s.ResolutionWrong
}

// SeedVerdicts starts the verdict counters from the button counts of a
// state stored before they existed, once; every change of Helpful, Wrong
// or the verdict counters calls it first. (An incident judged before the
// upgrade and judged again after it may count twice in the seeded figure.)
func (s *ServiceState) SeedVerdicts() {
	if s.VerdictsSeeded {
		return
	}
	s.VerdictsHelpful += s.Helpful
	s.VerdictsWrong += s.Wrong
	s.VerdictsSeeded = true
}

// CountVerdict moves the verdict counters by one incident's verdict
// (FeedbackHelpful or FeedbackWrong; anything else counts nothing).
func (s *ServiceState) CountVerdict(verdict string, byResolution bool, by int64) {
	s.SeedVerdicts()
	switch verdict {
	case FeedbackHelpful:
		s.VerdictsHelpful += by
		if byResolution {
			s.ResolutionHelpful += by
		}
	case FeedbackWrong:
		s.VerdictsWrong += by
		if byResolution {
			s.ResolutionWrong += by
		}
	}
}

// Sources of a person's verdict on an incident.
const (
	VerdictBySlack      = "slack"
	VerdictByPostmortem = "postmortem"
)

// IncidentVerdict is what is known about whether Nova's hypothesis on one
// incident was right, and which verdict the incident contributes to its
// service's calibration. One is kept per incident; every source updates
// its own part, and Counted says what the service's counters hold for it,
// so that a redelivered or replayed update never counts twice.
type IncidentVerdict struct {
	ServiceID   string `json:"service_id"`
	Environment string `json:"environment"`
	// Person is the latest verdict a person gave: FeedbackHelpful,
	// FeedbackWrong, or "partly" (a postmortem's Partly: it counts as
	// neither, and still overrides the resolution). PersonBy is where it
	// was given (VerdictBySlack, VerdictByPostmortem), PersonAt when.
	Person   string    `json:"person,omitempty"`
	PersonBy string    `json:"person_by,omitempty"`
	PersonAt time.Time `json:"person_at,omitzero"`
	// Resolution is how the resolution judged the hypothesis:
	// FeedbackHelpful (matched), FeedbackWrong (not matched) or "" (not
	// decided, or no hypothesis).
	Resolution string `json:"resolution,omitempty"`
	// Counted and CountedByResolution are the verdict the service's
	// counters hold for this incident.
	Counted             string `json:"counted,omitempty"`
	CountedByResolution bool   `json:"counted_by_resolution,omitempty"`
}

// Verdict is the incident's verdict for calibration: a person's latest
// verdict beats the resolution's; "" counts nothing.
func (v IncidentVerdict) Verdict() (verdict string, byResolution bool) {
	if v.Person != "" {
		if v.Person == FeedbackHelpful || v.Person == FeedbackWrong {
			return v.Person, false
		}
		return "", false
	}
	if v.Resolution == FeedbackHelpful || v.Resolution == FeedbackWrong {
		return v.Resolution, true
	}
	return "", false
}

// JudgedBy records a person's verdict given at `at`, unless a later one is
// already known.
func (v *IncidentVerdict) JudgedBy(source, verdict string, at time.Time) {
	if at.Before(v.PersonAt) {
		return
	}
	v.Person, v.PersonBy, v.PersonAt = verdict, source, at.UTC()
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
