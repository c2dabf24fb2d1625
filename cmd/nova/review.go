package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/rollout"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/store"
)

// The rollout review's data collection: configuration (intended state),
// store (actual state, incidents, approvals, sightings, audit), PagerDuty
// (webhook subscriptions and Nova's notes, read with the scoped clients)
// and Slack (user-group members). review.Build does the judging.

// reviewEnvs are the per-environment adapters the collection reads with.
type reviewEnvs interface {
	PagerDuty(env string) (bot.PagerDuty, error)
	Chat(env string) (bot.Chat, error)
}

// subscriptionReader is the scoped client's view of webhook subscriptions.
type subscriptionReader interface {
	WebhookSubscriptions(ctx context.Context) ([]pagerduty.WebhookSubscriptionView, error)
}

// maxNoteIncidents bounds how many incidents' notes one review reads from
// PagerDuty; beyond it the incidents are sampled evenly over the period.
const maxNoteIncidents = 40

// handledEventTypes are the webhook event types Nova acts on: what its
// subscriptions must send.
func handledEventTypes() []string {
	var out []string
	for _, t := range []nova.EventType{nova.EventTriggered, nova.EventAcknowledged, nova.EventUnacknowledged, nova.EventResolved,
		nova.EventReopened, nova.EventAnnotated, nova.EventEscalated, nova.EventReassigned, nova.EventPriorityUpdate} {
		if t.Handled() {
			out = append(out, string(t))
		}
	}
	return out
}

// collectReview gathers the review's input for [now-period, now].
func collectReview(ctx context.Context, cfg *config.Config, st store.Store, envs reviewEnvs, now time.Time, period time.Duration) (review.Input, error) {
	minFeedback, minPrecision := cfg.Promotion.Feedback()
	in := review.Input{
		Now: now.UTC(), Since: now.Add(-period).UTC(),
		Services:     cfg.DomainServices(),
		States:       map[string]nova.ServiceState{},
		Access:       map[string]review.Access{},
		GlobalAdmins: cfg.GlobalAdmins,
		Groups:       map[string][]string{},
		GroupErrors:  map[string]string{},
		Promotion:    review.Promotion{MinFeedback: minFeedback, MinPrecision: minPrecision},
	}
	for _, svc := range in.Services {
		s, _, err := store.Load[nova.ServiceState](ctx, st, store.KindService, svc.ID)
		switch {
		case err == nil:
			in.States[svc.ID] = s
		case !nova.IsCode(err, nova.ENOTFOUND):
			return in, fmt.Errorf("read the state of service %s: %w", svc.ID, err)
		}
	}
	p, _, err := store.Load[rollout.Pause](ctx, st, store.KindMeta, store.PauseID)
	if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
		return in, fmt.Errorf("read the pause switch: %w", err)
	}
	in.Pause = review.Pause{Paused: p.Paused, By: p.By, At: p.At}

	for _, name := range cfg.EnvironmentNames() {
		e := cfg.Environments[name]
		in.Access[name] = review.Access{Admins: e.Slack.Admins, Approvers: e.Approvals.Approvers}
	}
	readGroups(ctx, cfg, envs, &in)

	for _, c := range cfg.Credentials(now) {
		age := -1
		if c.AgeDays != nil {
			age = *c.AgeDays
		}
		in.Credentials = append(in.Credentials, review.Credential{Environment: c.Environment, Kind: c.Kind, Name: c.Name,
			Created: c.Created, AgeDays: age, Status: c.Status})
	}

	if err := loadPeriodRecords(ctx, st, &in); err != nil {
		return in, err
	}
	if err := loadVerdicts(ctx, st, &in); err != nil {
		return in, err
	}
	if in.Sightings, err = loadSightings(ctx, st); err != nil {
		return in, fmt.Errorf("read ignored-event counts: %w", err)
	}

	hashes, err := verifyAuditForReview(ctx, cfg, st, &in)
	if err != nil {
		return in, err
	}
	for _, name := range cfg.EnvironmentNames() {
		in.Subscriptions = append(in.Subscriptions, readSubscriptions(ctx, cfg, envs, name))
	}
	matchNotes(ctx, envs, &in, hashes)
	return in, nil
}

// readGroups resolves the Slack user groups named as admins, approvers or
// global admins, through the environment's Slack app.
func readGroups(ctx context.Context, cfg *config.Config, envs reviewEnvs, in *review.Input) {
	want := map[string]string{} // group → environment to read it with
	fallback := cfg.ReviewEnvironment()
	for _, name := range cfg.EnvironmentNames() {
		e := cfg.Environments[name]
		for _, id := range append(append([]string(nil), e.Slack.Admins...), e.Approvals.Approvers...) {
			if strings.HasPrefix(id, "S") && e.Slack.Enabled() {
				want[id] = name
			}
		}
	}
	for _, id := range cfg.GlobalAdmins {
		if _, ok := want[id]; !ok && strings.HasPrefix(id, "S") && fallback != "" {
			want[id] = fallback
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		chat, err := envs.Chat(want[id])
		if err != nil {
			in.GroupErrors[id] = nova.ErrorMessage(err)
			continue
		}
		members, err := chat.GroupMembers(ctx, id)
		if err != nil {
			in.GroupErrors[id] = nova.ErrorMessage(err)
			continue
		}
		in.Groups[id] = members
	}
}

// loadPeriodRecords reads the incidents and approval requests of the period.
func loadPeriodRecords(ctx context.Context, st store.Store, in *review.Input) error {
	inPeriod := func(t time.Time) bool { return !t.Before(in.Since) && !t.After(in.Now) }
	err := eachRecord(ctx, st, store.KindIncident, func(b []byte) error {
		var r nova.IncidentRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		at := r.TriggeredAt
		if at.IsZero() {
			at = r.ReceivedAt
		}
		if inPeriod(at) {
			in.Incidents = append(in.Incidents, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read incident records: %w", err)
	}
	err = eachRecord(ctx, st, store.KindApproval, func(b []byte) error {
		var r nova.ApprovalRequest
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if inPeriod(r.CreatedAt) {
			in.Approvals = append(in.Approvals, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read action requests: %w", err)
	}
	return nil
}

// loadVerdicts reads the per-incident verdicts that calibrate confidence
// (rollout.Calibrate keeps one per incident) of the period's incidents, so
// that the review's quality figures match /nova status.
func loadVerdicts(ctx context.Context, st store.Store, in *review.Input) error {
	in.Verdicts = map[string]nova.IncidentVerdict{}
	for _, r := range in.Incidents {
		v, _, err := store.Load[nova.IncidentVerdict](ctx, st, store.KindMeta, store.VerdictID(r.ID))
		switch {
		case err == nil:
			in.Verdicts[r.ID] = v
		case !nova.IsCode(err, nova.ENOTFOUND):
			return fmt.Errorf("read the verdict on incident %s: %w", r.ID, err)
		}
	}
	return nil
}

func eachRecord(ctx context.Context, st store.Store, kind string, fn func([]byte) error) error {
	after := ""
	for {
		items, err := st.List(ctx, kind, after, 500)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it.Value); err != nil {
				return fmt.Errorf("%s %s: %w", kind, it.ID, err)
			}
		}
		if len(items) < 500 {
			return nil
		}
		after = items[len(items)-1].ID
	}
}

// verifyAuditForReview walks the whole audit log once: it verifies the
// chain with the configured keys, keeps the period's entries, and returns
// every entry's hash by sequence number to check the anchors in notes.
func verifyAuditForReview(ctx context.Context, cfg *config.Config, st store.Store, in *review.Input) (map[int64]string, error) {
	_, keys := cfg.AuditKeys()
	v := nova.NewChainVerifier(keys, nil)
	hashes := map[int64]string{}
	var after int64
	for {
		page, err := st.ListAudit(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		if len(page) == 0 {
			break
		}
		if in.Chain.Problem == "" {
			if i, why := v.Add(page); i >= 0 {
				in.Chain.Problem, in.Chain.EntryID = why, page[i].ID
			}
		}
		for _, e := range page {
			hashes[e.Seq] = e.Hash
			if !e.Time.Before(in.Since) && !e.Time.After(in.Now) {
				in.Audit = append(in.Audit, e)
			}
		}
		after = page[len(page)-1].Seq
	}
	if in.Chain.Problem == "" {
		if why := v.Finish(); why != "" {
			in.Chain.Problem = why
		}
	}
	in.Chain.Entries, in.Chain.Keyed, in.Chain.Head = v.Entries, v.Keyed(), v.Head().Anchor()
	return hashes, nil
}

// readSubscriptions lists an environment's webhook subscriptions with its
// scoped client.
func readSubscriptions(ctx context.Context, cfg *config.Config, envs reviewEnvs, env string) review.EnvSubscriptions {
	out := review.EnvSubscriptions{Environment: env, ExpectedEvents: handledEventTypes()}
	if cfg.PublicURL == "" {
		out.Error = "public_url is not set, so the URL PagerDuty must deliver to is unknown: set public_url"
		return out
	}
	out.ExpectedURL = strings.TrimRight(cfg.PublicURL, "/") + "/webhooks/pagerduty/" + env
	pd, err := envs.PagerDuty(env)
	if err != nil {
		out.Error = nova.ErrorMessage(err)
		return out
	}
	r, ok := pd.(subscriptionReader)
	if !ok {
		out.Error = "this PagerDuty client cannot list webhook subscriptions"
		return out
	}
	subs, err := r.WebhookSubscriptions(ctx)
	if err != nil {
		out.Error = nova.ErrorMessage(err)
		return out
	}
	for _, s := range subs {
		out.Found = append(out.Found, review.Subscription{ID: s.ID, URL: s.DeliveryMethod.URL, Events: s.Events,
			FilterType: s.Filter.Type, FilterID: s.Filter.ID, Active: s.Active, TemporarilyDisabled: s.DeliveryMethod.TemporarilyDisabled})
	}
	return out
}

// noteWrite is one audited note write to check.
type noteWrite struct {
	env, incident string
	entries       []nova.AuditEntry
}

// matchNotes compares the period's audited note writes with the notes
// PagerDuty has (a sample of incidents when there are many), and checks
// the audit chain heads those notes witness against the log.
func matchNotes(ctx context.Context, envs reviewEnvs, in *review.Input, hashes map[int64]string) {
	byIncident := map[string]*noteWrite{}
	var order []string
	for _, e := range in.Audit {
		if !strings.HasPrefix(e.Action, "pagerduty.note.") || e.Outcome != nova.OutcomeOK || e.Incident == "" {
			continue
		}
		in.Notes.Writes++
		k := e.Environment + "\x00" + e.Incident
		if byIncident[k] == nil {
			byIncident[k] = &noteWrite{env: e.Environment, incident: e.Incident}
			order = append(order, k)
		}
		byIncident[k].entries = append(byIncident[k].entries, e)
	}
	picked := order
	if len(order) > maxNoteIncidents {
		in.Notes.Sampled = true
		picked = nil
		for i := 0; i < maxNoteIncidents; i++ {
			picked = append(picked, order[i*(len(order)-1)/(maxNoteIncidents-1)])
		}
	}
	var head int64
	for seq := range hashes {
		head = max(head, seq)
	}
	for _, k := range picked {
		w := byIncident[k]
		pd, err := envs.PagerDuty(w.env)
		if err != nil {
			in.Notes.Errors = append(in.Notes.Errors, fmt.Sprintf("%s incident %s: %s", w.env, w.incident, nova.ErrorMessage(err)))
			continue
		}
		notes, err := pd.ListNotes(ctx, w.incident)
		if err != nil {
			in.Notes.Errors = append(in.Notes.Errors, fmt.Sprintf("%s incident %s: %s", w.env, w.incident, nova.ErrorMessage(err)))
			continue
		}
		byID := map[string]nova.Note{}
		for _, n := range notes {
			byID[n.ID] = n
			a, ok := render.AuditAnchorInNote(n.Content, fmt.Sprintf("PagerDuty note %s on %s incident %s", n.ID, w.env, w.incident))
			if !ok || in.Chain.Problem != "" {
				continue
			}
			switch h, found := hashes[a.Seq]; {
			case !found && a.Seq > head:
				in.Chain.Problem = fmt.Sprintf("the log ends at seq %d, but anchor %s witnessed seq %d: the log was truncated", head, a, a.Seq)
			case found && !strings.HasPrefix(h, a.Hash):
				in.Chain.Problem = fmt.Sprintf("entry at seq %d has hash %.16s…, but anchor %s witnessed %s: the log was rewritten since", a.Seq, h, a, a.Hash)
			}
		}
		for _, e := range w.entries {
			in.Notes.Checked++
			mm := review.NoteMismatch{AuditID: e.ID, Environment: w.env, Incident: w.incident, NoteID: e.PagerDutyRef}
			n, found := byID[e.PagerDutyRef]
			switch {
			case e.PagerDutyRef == "":
				mm.Problem = "the audit entry names no PagerDuty note"
			case !found:
				mm.Problem = "PagerDuty has no note " + e.PagerDutyRef + " on the incident (deleted, or never written)"
			case !strings.Contains(n.Content, e.ID):
				mm.Problem = "PagerDuty's note " + e.PagerDutyRef + " does not carry audit id " + e.ID
			default:
				continue
			}
			in.Notes.Mismatches = append(in.Notes.Mismatches, mm)
		}
	}
}

// reviewSource builds reviews for the API from the running configuration.
type reviewSource struct {
	rt *runtime
	st store.Store
}

func (s reviewSource) Review(ctx context.Context, period time.Duration) (review.Report, error) {
	now := time.Now
	if s.rt.now != nil {
		now = s.rt.now
	}
	in, err := collectReview(ctx, s.rt.config(), s.st, s.rt, now(), period)
	if err != nil {
		return review.Report{}, err
	}
	return review.Build(in), nil
}

// cmdReview runs the rollout review from the command line: exit 0 when
// nothing needs action, 1 when something does.
func cmdReview(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("review")
	path := configFlag(fs)
	sinceArg := fs.String("since", "90d", "period to review, ending now: days (90d) or a duration (2160h)")
	format := fs.String("format", "md", "output format: md or json")
	at := fs.String("at", "", "review as of this time (RFC 3339) instead of now, to reproduce an earlier review")
	reconcile := fs.String("reconcile", "", "config: bring actual modes to intended; store: record actual modes as intended in the config file")
	apply := fs.Bool("apply", false, "with --reconcile: make the change (default: a dry run that changes nothing)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (see 'nova help review')", rest[0])}
	}
	period, err := review.ParsePeriod(*sinceArg)
	if err != nil {
		return usageError{"--since: " + err.Error()}
	}
	if *format != "md" && *format != "json" {
		return usageError{"--format must be md or json"}
	}
	if *reconcile != "" && *reconcile != "config" && *reconcile != "store" {
		return usageError{"--reconcile must be config (actual → intended) or store (intended ← actual)"}
	}
	if *apply && *reconcile == "" {
		return usageError{"--apply needs --reconcile=config or --reconcile=store"}
	}
	now := time.Now().UTC()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageError{fmt.Sprintf("--at %q is not an RFC 3339 time", *at)}
		}
	}
	cfg, st, err := openConfigStore(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	if *reconcile != "" {
		return reconcileModes(ctx, cfg, *path, st, now, *reconcile, *apply, stdout)
	}
	rt := newRuntime(cfg, st, quietLogger(), prometheus.NewRegistry())
	rt.onRefused = func(string, string, string) {} // the review only reads
	in, err := collectReview(ctx, cfg, st, rt, now, period)
	if err != nil {
		return err
	}
	rep := review.Build(in)
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(stdout, rep.Markdown())
	}
	if rep.NeedsAction {
		return exitError(1)
	}
	return nil
}

const reviewDetail = `Compares what the configuration intends with what the store, the audit log, PagerDuty and
Slack show happened over the period (default 90 days, ending now or --at), under the headings
Mode drift, Coverage drift, Access drift, Key age, Quality and Integrity, each finding with what
to do, and the recommendations: fix, rotate, demote, check (these need action: exit 1) and promote
(exit 0). It reads the store: on bolt, stop Nova first, or use GET /api/v1/review.
--reconcile=config brings the actual modes to the intended ones; --reconcile=store records the
actual modes as intended in the config file. Both are dry runs until --apply, which audits each
change (store: the old file is kept as FILE.bak).`
