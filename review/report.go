package review

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Recommendation kinds. Fix, rotate, demote and check need someone to act
// (the review exits 1); promote is an opportunity and does not.
const (
	RecFix     = "fix"
	RecRotate  = "rotate"
	RecDemote  = "demote"
	RecCheck   = "check"
	RecPromote = "promote"
)

// recOrder ranks recommendations in the summary: the urgent first.
var recOrder = []string{RecFix, RecRotate, RecDemote, RecCheck, RecPromote}

// NeedsAction reports whether a recommendation kind needs someone to act.
func NeedsAction(kind string) bool { return kind != "" && kind != RecPromote }

// Section ids, in report order.
const (
	SectionMode      = "mode_drift"
	SectionCoverage  = "coverage_drift"
	SectionAccess    = "access_drift"
	SectionKeys      = "key_age"
	SectionQuality   = "quality"
	SectionIntegrity = "integrity"
)

var sectionTitles = map[string]string{
	SectionMode:      "Mode drift",
	SectionCoverage:  "Coverage drift",
	SectionAccess:    "Access drift",
	SectionKeys:      "Key age",
	SectionQuality:   "Quality",
	SectionIntegrity: "Integrity",
}

// Report is a finished review.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	Since       time.Time `json:"since"`
	// NeedsAction is true when any recommendation needs someone to act.
	NeedsAction bool      `json:"needs_action"`
	Sections    []Section `json:"sections"`
	// Recommendations are every item with a recommendation, most urgent
	// first.
	Recommendations []Item `json:"recommendations"`
}

// Section is one heading of the report.
type Section struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Items []Item `json:"items"`
}

// Item is one finding, with what to do about it.
type Item struct {
	Section string `json:"section"`
	// Subject is what the finding is about: a service, an environment, a
	// credential, a person, an audit entry.
	Subject string `json:"subject"`
	Finding string `json:"finding"`
	// Recommendation is fix, rotate, demote, check, promote or "" (for
	// information).
	Recommendation string `json:"recommendation,omitempty"`
	// Action says what to do.
	Action string `json:"action,omitempty"`
}

// builder accumulates a report's items.
type builder struct {
	in    Input
	items map[string][]Item
}

func (b *builder) add(section, subject, finding, rec, action string) {
	b.items[section] = append(b.items[section], Item{Section: section, Subject: subject, Finding: finding, Recommendation: rec, Action: action})
}

// Build turns an Input into a Report. It reads no clock: in.Now is now.
func Build(in Input) Report {
	b := &builder{in: in, items: map[string][]Item{}}
	b.modeDrift()
	b.coverageDrift()
	b.accessDrift()
	b.keyAge()
	b.quality()
	b.integrity()
	r := Report{GeneratedAt: in.Now.UTC(), Since: in.Since.UTC(), Recommendations: []Item{}}
	for _, id := range []string{SectionMode, SectionCoverage, SectionAccess, SectionKeys, SectionQuality, SectionIntegrity} {
		items := b.items[id]
		if items == nil {
			items = []Item{}
		}
		r.Sections = append(r.Sections, Section{ID: id, Title: sectionTitles[id], Items: items})
		for _, it := range items {
			if it.Recommendation != "" {
				r.Recommendations = append(r.Recommendations, it)
			}
			if NeedsAction(it.Recommendation) {
				r.NeedsAction = true
			}
		}
	}
	sort.SliceStable(r.Recommendations, func(i, j int) bool {
		return slices.Index(recOrder, r.Recommendations[i].Recommendation) < slices.Index(recOrder, r.Recommendations[j].Recommendation)
	})
	return r
}

// services returns the declared services ordered by environment and name.
func (b *builder) services() []nova.Service {
	out := slices.Clone(b.in.Services)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Environment != out[j].Environment {
			return out[i].Environment < out[j].Environment
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// state returns a service's actual state: the stored one, or the declared
// mode when nothing is stored.
func (b *builder) state(svc nova.Service) (nova.ServiceState, bool) {
	st, ok := b.in.States[svc.ID]
	if !ok {
		return nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode}, false
	}
	return st, true
}

func (b *builder) inPeriod(t time.Time) bool {
	return !t.Before(b.in.Since) && !t.After(b.in.Now)
}

func subject(svc nova.Service) string { return svc.Name + " (" + svc.ID + ", " + svc.Environment + ")" }

func day(t time.Time) string {
	if t.IsZero() {
		return "an unknown time"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// span renders a duration in days (hours below two days).
func span(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return fmt.Sprintf("%d days", int(math.Round(d.Hours()/24)))
}

// who renders an audit actor for people: slack:U123 as @U123.
func who(actor string) string {
	if u, ok := strings.CutPrefix(actor, "slack:"); ok {
		return "@" + u
	}
	if actor == "" {
		return "an unknown actor"
	}
	return actor
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (b *builder) modeDrift() {
	now := b.in.Now
	changes := map[string][]nova.AuditEntry{}
	for _, e := range b.in.Audit {
		if strings.HasPrefix(e.Action, "mode.") && e.Service != "" && e.Outcome == nova.OutcomeOK {
			changes[e.Service] = append(changes[e.Service], e)
		}
	}
	if p := b.in.Pause; p.Paused {
		b.add(SectionMode, "Nova (every service)", fmt.Sprintf("paused by %s since %s (%s): no PagerDuty writes and no actions for any service",
			who(nova.SlackActor(p.By)), day(p.At), span(now.Sub(p.At))), RecFix,
			"`/nova resume` (a global admin) once the reason for the pause is gone")
	}
	for _, svc := range b.services() {
		st, stored := b.state(svc)
		hist := changes[svc.ID]
		by := "config"
		if stored && st.ChangedBy != "" {
			by = who(st.ChangedBy)
		}
		if len(hist) > 0 {
			last := hist[len(hist)-1]
			by = who(last.Actor)
		}
		if st.Mode != svc.DeclaredMode {
			since := ""
			if !st.Since.IsZero() {
				since = fmt.Sprintf(" since %s (%s)", day(st.Since), span(now.Sub(st.Since)))
			}
			finding := fmt.Sprintf("intended %s (config), actual %s%s, set by %s", svc.DeclaredMode, st.Mode, since, by)
			if st.Mode == nova.ModeOff {
				finding = fmt.Sprintf("paused: intended %s (config), but off%s, disabled by %s", svc.DeclaredMode, since, by)
			}
			b.add(SectionMode, subject(svc), finding, RecFix, fmt.Sprintf(
				"bring actual to intended with `nova review --reconcile=config --apply` (sets %s to %s), or record the actual mode as intended with `nova review --reconcile=store` (prints the config change: mode %s)",
				svc.Name, svc.DeclaredMode, st.Mode))
		}
		for _, e := range hist {
			if e.Action == "mode.override" || strings.Contains(e.Detail, "--force") {
				b.add(SectionMode, subject(svc), fmt.Sprintf("override: %s forced %s on %s (%s)", who(e.Actor), strings.TrimPrefix(e.Detail, svc.Name+": "), day(e.Time), e.ID), "",
					"make sure the override was agreed; the watching period or feedback bar was skipped")
			}
		}
		if n := len(hist); n > 0 && st.Mode == svc.DeclaredMode {
			b.add(SectionMode, subject(svc), fmt.Sprintf("%s in the period, last by %s on %s; actual matches intended (%s)",
				plural(int64(n), "mode change", "mode changes"), who(hist[n-1].Actor), day(hist[n-1].Time), st.Mode), "", "")
		}
	}
}

func (b *builder) coverageDrift() {
	declared := map[string]nova.Service{}
	for _, s := range b.in.Services {
		declared[s.ID] = s
	}
	seen := map[string]bool{} // service ids with activity in the period
	for _, r := range b.in.Incidents {
		seen[r.ServiceID] = true
	}
	sightings := slices.Clone(b.in.Sightings)
	sort.Slice(sightings, func(i, j int) bool {
		if sightings[i].Environment != sightings[j].Environment {
			return sightings[i].Environment < sightings[j].Environment
		}
		return sightings[i].ServiceID < sightings[j].ServiceID
	})
	for _, s := range sightings {
		if !b.inPeriod(s.Last) {
			continue
		}
		svc, ok := declared[s.ServiceID]
		events := plural(s.Events, "event", "events")
		switch {
		case !ok:
			b.add(SectionCoverage, s.ServiceID+" ("+s.Environment+")", fmt.Sprintf("undeclared service sent %s through the %s subscription (last %s); Nova ignored them",
				events, s.Environment, day(s.Last)), RecFix,
				fmt.Sprintf("declare it in `services` (environment %s; mode off keeps ignoring it), or narrow the webhook subscription's scope so it stops sending", s.Environment))
		case svc.Environment != s.Environment:
			b.add(SectionCoverage, subject(svc), fmt.Sprintf("sent %s through the %s subscription, but it is declared in %s; Nova ignored them (last %s)",
				events, s.Environment, svc.Environment, day(s.Last)), RecFix,
				"correct the service's environment in the config, or the subscription's scope in PagerDuty")
		default:
			seen[s.ServiceID] = true
			st, _ := b.state(svc)
			if st.Mode == nova.ModeOff {
				b.add(SectionCoverage, subject(svc), fmt.Sprintf("sent %s while off (last %s); Nova ignored them", events, day(s.Last)), "", "")
			}
		}
	}
	for _, svc := range b.services() {
		st, _ := b.state(svc)
		if st.Mode == nova.ModeOff || seen[svc.ID] {
			continue
		}
		b.add(SectionCoverage, subject(svc), fmt.Sprintf("declared (%s) but sent no event since %s", st.Mode, day(b.in.Since)), RecFix,
			"check that a webhook subscription of "+svc.Environment+" covers it (account scope, its team, or the service) and is enabled, and that PagerDuty routes its alerts; or set it off")
	}
	envs := slices.Clone(b.in.Subscriptions)
	sort.Slice(envs, func(i, j int) bool { return envs[i].Environment < envs[j].Environment })
	for _, es := range envs {
		b.subscriptions(es)
	}
}

func (b *builder) subscriptions(es EnvSubscriptions) {
	env := es.Environment
	subj := "webhook subscriptions (" + env + ")"
	setup := fmt.Sprintf("`nova setup pagerduty --environment %s` (or PagerDuty → Integrations → Generic Webhooks (v3)): URL %s, events %s",
		env, es.ExpectedURL, strings.Join(es.ExpectedEvents, ", "))
	if es.Error != "" {
		b.add(SectionCoverage, subj, "could not be read from PagerDuty: "+es.Error, RecCheck,
			"give the environment's API key read access to webhook subscriptions, then run the review again")
		return
	}
	var working []Subscription
	ours := 0
	for _, s := range es.Found {
		if !sameEndpoint(s.URL, env) {
			continue
		}
		ours++
		id := "subscription " + s.ID
		var problems []string
		if !sameURL(s.URL, es.ExpectedURL) {
			problems = append(problems, fmt.Sprintf("delivers to %s, not %s (public_url)", s.URL, es.ExpectedURL))
		}
		if !s.Active {
			problems = append(problems, "is disabled (active: false)")
		}
		if s.TemporarilyDisabled {
			problems = append(problems, "was temporarily disabled by PagerDuty after failed deliveries")
		}
		var missing []string
		for _, ev := range es.ExpectedEvents {
			if !slices.Contains(s.Events, ev) {
				missing = append(missing, ev)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, "does not send "+strings.Join(missing, ", "))
		}
		scope := scopeOf(s)
		if len(problems) == 0 {
			working = append(working, s)
			b.add(SectionCoverage, subj, fmt.Sprintf("%s (%s) delivers every event type Nova handles to %s, active", id, scope, s.URL), "", "")
			continue
		}
		b.add(SectionCoverage, subj, fmt.Sprintf("%s (%s) %s", id, scope, strings.Join(problems, "; ")), "",
			"re-enable or correct it in PagerDuty, or delete it once a working subscription replaces it")
	}
	if len(working) == 0 {
		finding := fmt.Sprintf("no active subscription delivers %s's incident events to %s", env, es.ExpectedURL)
		if ours > 0 {
			finding += fmt.Sprintf(" (%s pointing at Nova, none working: see above)", plural(int64(ours), "subscription", "subscriptions"))
		}
		b.add(SectionCoverage, subj, finding, RecFix, setup)
		return
	}
	// A service-scoped subscription covers one service; the account and
	// team scopes cover the rest (a team's services are not read here).
	broad := slices.ContainsFunc(working, func(s Subscription) bool { return s.FilterType != "service_reference" })
	if broad {
		return
	}
	for _, svc := range b.services() {
		st, _ := b.state(svc)
		if svc.Environment != env || st.Mode == nova.ModeOff {
			continue
		}
		if !slices.ContainsFunc(working, func(s Subscription) bool { return s.FilterID == svc.ID }) {
			b.add(SectionCoverage, subject(svc), "no working webhook subscription covers it: "+env+"'s subscriptions are scoped to other services", RecFix,
				setup+fmt.Sprintf(" with --scope service --scope-id %s, or one with account scope", svc.ID))
		}
	}
}

func scopeOf(s Subscription) string {
	switch s.FilterType {
	case "account_reference":
		return "account scope"
	case "service_reference":
		return "service " + s.FilterID
	case "team_reference":
		return "team " + s.FilterID
	}
	return "scope " + s.FilterType
}

// sameEndpoint reports whether a subscription URL is Nova's webhook
// endpoint for env, on whatever host.
func sameEndpoint(u, env string) bool {
	return strings.HasSuffix(strings.TrimRight(u, "/"), "/webhooks/pagerduty/"+env)
}

func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}
