package triage

import (
	"time"

	"github.com/novasre/nova"
)

// Input is everything triage looks at for one incident: the evidence the
// bot gathered, as values. Any field may be empty; missing evidence lowers
// confidence rather than failing.
type Input struct {
	Incident nova.Incident `json:"incident"`
	Alerts   []nova.Alert  `json:"alerts,omitempty"`
	// Changes are the change events correlated with the incident and those
	// of the service and its related services. Duplicates (same id) are
	// merged, keeping the first correlation reason that is set.
	Changes []nova.ChangeEvent `json:"changes,omitempty"`
	// Past are earlier incidents of the service, with their resolutions.
	Past []nova.PastIncident `json:"past,omitempty"`
	// Related are the concurrent incidents PagerDuty relates to this one.
	Related []nova.RelatedIncident `json:"related,omitempty"`
	Outlier *nova.Outlier          `json:"outlier,omitempty"`
	// Service carries the runbooks and the ids of related services.
	Service nova.Service `json:"service"`
	// Actions are the catalog entries; those that do not apply to the
	// service are ignored.
	Actions []nova.Action `json:"actions,omitempty"`
	// Checked and NotChecked name the evidence sources gathered and those
	// missing; they are passed through to the result.
	Checked    []string `json:"checked,omitempty"`
	NotChecked []string `json:"not_checked,omitempty"`
	// Concurrent are other open incidents seen across services in the last
	// minutes, for storm recognition.
	Concurrent []nova.Incident `json:"concurrent,omitempty"`
	// Feedback counts the recent verdicts people gave on this service's
	// hypotheses; it shifts confidence within bounds (see FeedbackShift).
	Feedback *Feedback `json:"feedback,omitempty"`
}

// Options tune the engine. The zero value gives the defaults.
type Options struct {
	// AbstainBelow is the calibrated confidence under which triage
	// abstains. Zero means DefaultAbstainBelow, chosen on the development
	// split; a negative value never abstains.
	AbstainBelow float64
	// ChangeWindow is how far before the trigger a change is considered.
	// Zero means 4h.
	ChangeWindow time.Duration
	// ChangeDecay is the age at which a change counts half as much as one
	// made at the trigger (hyperbolic decay). Zero means 30m.
	ChangeDecay time.Duration
	// DelayedWindow is how far back a change is still considered when its
	// content explains the symptoms and its effect is typically delayed
	// (certificates, caches and TTLs, leaks, quotas). Zero means 72h.
	DelayedWindow time.Duration
	// StormThreshold is how many other concurrent incidents make a storm.
	// Zero means 3.
	StormThreshold int
	// StormWindow is how far from the trigger a concurrent incident may have
	// started and still count towards a storm. Zero means 30m.
	StormWindow time.Duration
	// MaxHypotheses and MaxSuggestions bound the output. Zero means 5 each.
	MaxHypotheses  int
	MaxSuggestions int
	// Signatures replaces the built-in catalog when non-nil; start from
	// DefaultSignatures to extend it.
	Signatures []Signature
	// Calibration replaces the built-in map from evidence score to
	// confidence when non-nil (the evaluation fits it with IdentityCalibration).
	Calibration *Calibration
}

// Defaults, exported so that callers can show them.
const (
	DefaultChangeWindow   = 4 * time.Hour
	DefaultChangeDecay    = 30 * time.Minute
	DefaultDelayedWindow  = 72 * time.Hour
	DefaultStormThreshold = 3
	DefaultStormWindow    = 30 * time.Minute
)

func (o Options) withDefaults() Options {
	if o.AbstainBelow == 0 {
		o.AbstainBelow = DefaultAbstainBelow
	}
	if o.ChangeWindow <= 0 {
		o.ChangeWindow = DefaultChangeWindow
	}
	if o.ChangeDecay <= 0 {
		o.ChangeDecay = DefaultChangeDecay
	}
	if o.DelayedWindow <= 0 {
		o.DelayedWindow = DefaultDelayedWindow
	}
	if o.Calibration == nil {
		o.Calibration = &defaultCalibration
	}
	if o.StormThreshold <= 0 {
		o.StormThreshold = DefaultStormThreshold
	}
	if o.StormWindow <= 0 {
		o.StormWindow = DefaultStormWindow
	}
	if o.MaxHypotheses <= 0 {
		o.MaxHypotheses = 5
	}
	if o.MaxSuggestions <= 0 {
		o.MaxSuggestions = 5
	}
	return o
}

func (o Options) signatures() []compiledSignature {
	if o.Signatures == nil {
		return compiledDefaults
	}
	return compile(o.Signatures)
}

// serviceID is the id of the incident's service, from the service config
// or, failing that, the incident.
func (in Input) serviceID() string {
	if in.Service.ID != "" {
		return in.Service.ID
	}
	return in.Incident.Service.ID
}

// triggerTime is when the incident started: its creation, else its first
// alert, else now.
func (in Input) triggerTime(now time.Time) time.Time {
	if !in.Incident.CreatedAt.IsZero() {
		return in.Incident.CreatedAt
	}
	var first time.Time
	for _, a := range in.Alerts {
		if !a.CreatedAt.IsZero() && (first.IsZero() || a.CreatedAt.Before(first)) {
			first = a.CreatedAt
		}
	}
	if !first.IsZero() {
		return first
	}
	return now
}
