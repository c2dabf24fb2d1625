// Package settings is the part of Nova's configuration the application acts
// on, as one immutable snapshot: a reload replaces it as a whole, and every
// package of bot reads the current one through a func() *Settings.
package settings

import (
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/triage"
)

// Settings is the part of the configuration bot acts on. It is replaced as a
// whole on reload; bot never mutates it.
type Settings struct {
	Tier      nova.Tier
	PublicURL string
	// Services by id.
	Services     map[string]nova.Service
	Environments map[string]Env
	// GlobalAdmins are Slack user or user-group ids who may pause and
	// resume Nova as a whole (as may an admin of every environment).
	GlobalAdmins []string
	Actions      []nova.Action
	// TriageBudget bounds evidence gathering per incident.
	TriageBudget time.Duration
	Triage       triage.Options
	// Promotion is the feedback a service must have earned, besides its
	// watching period, to be promoted to action mode.
	Promotion review.Promotion
	// Review schedules the rollout review.
	Review Review
}

// Review schedules the rollout review: its summary is posted to Channel
// (with Environment's Slack app) once per Every. An empty Channel posts
// nothing; /nova review still answers.
type Review struct {
	Channel     string
	Environment string
	Every       time.Duration
}

// Env is one environment's part of the settings.
type Env struct {
	// Admins are Slack user or user-group ids allowed to change modes.
	Admins []string
	// BotUserID is the PagerDuty user Nova writes as, when configured
	// (otherwise learned from Nova's first note).
	BotUserID string
	Approvals approvals.Policy
	// Slack says whether the environment has a Slack app.
	Slack bool
}

// ServiceByName finds a declared service by name or id.
func (s *Settings) ServiceByName(name string) (nova.Service, bool) {
	if svc, ok := s.Services[name]; ok {
		return svc, true
	}
	for _, svc := range s.Services {
		if svc.Name == name {
			return svc, true
		}
	}
	return nova.Service{}, false
}

// Action finds a catalog action by name.
func (s *Settings) Action(name string) (nova.Action, bool) {
	for _, a := range s.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return nova.Action{}, false
}

// ActionsFor returns the catalog actions that apply to a service.
func (s *Settings) ActionsFor(serviceID string) []nova.Action {
	var out []nova.Action
	for _, a := range s.Actions {
		if a.AppliesTo(serviceID) {
			out = append(out, a)
		}
	}
	return out
}
