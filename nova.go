// Package nova holds Nova's domain types and error codes. It imports only the
// standard library; every adapter translates its own types into these.
package nova

import (
	"fmt"
	"strings"
)

// Mode is how far Nova may act on a service.
type Mode string

// Rollout modes, from least to most trusted.
const (
	ModeOff      Mode = "off"
	ModeReadOnly Mode = "read-only"
	ModeAction   Mode = "action"
)

// ParseMode returns the Mode named by s, accepting "readonly" and "read_only" as spellings of read-only.
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off":
		return ModeOff, nil
	case "read-only", "readonly", "read_only":
		return ModeReadOnly, nil
	case "action":
		return ModeAction, nil
	}
	return "", Errorf(EINVALID, "unknown mode %q: use off, read-only or action", s)
}

// Rank orders modes so that promotion and demotion can be told apart.
func (m Mode) Rank() int {
	switch m {
	case ModeReadOnly:
		return 1
	case ModeAction:
		return 2
	}
	return 0
}

// Tier is the commercial tier that gates features.
type Tier string

// Tiers.
const (
	TierStandard   Tier = "standard"
	TierEnterprise Tier = "enterprise"
)

// Feature is something a tier may or may not include.
type Feature string

// Features gated by tier.
const (
	FeatureIngress      Feature = "webhook ingress"
	FeatureHypotheses   Feature = "hypotheses"
	FeatureNotes        Feature = "PagerDuty notes"
	FeatureReadOnly     Feature = "read-only mode"
	FeatureAck          Feature = "acknowledgement by Nova"
	FeatureActions      Feature = "actions with approvals"
	FeaturePostmortem   Feature = "postmortem drafts"
	FeatureMultipleEnvs Feature = "several environments"
)

// Allows reports whether tier t includes feature f.
func (t Tier) Allows(f Feature) bool {
	switch f {
	case FeatureIngress, FeatureHypotheses, FeatureNotes, FeatureReadOnly:
		return true
	}
	return t == TierEnterprise
}

// RequireFeature returns a forbidden error naming the tier when t lacks f.
func (t Tier) RequireFeature(f Feature) error {
	if t.Allows(f) {
		return nil
	}
	return Errorf(EFORBIDDEN, "%s needs the enterprise tier; this installation is on the %s tier", f, t)
}

// Ref is a reference to a PagerDuty resource.
type Ref struct {
	ID      string `json:"id"`
	Type    string `json:"type,omitempty"`
	Summary string `json:"summary,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`
}

// String returns the summary, or the id when there is none.
func (r Ref) String() string {
	if r.Summary != "" {
		return r.Summary
	}
	return r.ID
}

// Actor names who did something in an audit entry or a record.
const ActorNova = "nova"

// SlackActor returns the actor name of a Slack user.
func SlackActor(userID string) string { return fmt.Sprintf("slack:%s", userID) }
