// Package postmortems drafts an incident's postmortem when it is resolved
// and records whether Nova's hypothesis was right. It gathers the inputs
// (PagerDuty log entries and notes through the scoped client, view calls
// only; Nova's audit entries and approval requests from the store), lets
// the pure postmortem package assemble the draft, stores one version per
// resolution, and announces it: a PagerDuty note linking the draft (action
// mode, once per incident) and a reply in the incident's Slack thread
// (both modes, through the channel's outbox; later versions update it in
// place). People's Yes / Partly / No answers feed the service's counters.
//
// Both also calibrate the service's confidence: each incident contributes
// one verdict, the latest a person gave (an answer here, right as helpful
// and wrong as wrong, partly as neither; or a Slack Helpful / Wrong button)
// or, when no person judged it, the resolution's (matched as helpful, not
// matched as wrong; undecided and no hypothesis count nothing).
package postmortems

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/postmortem"
	"github.com/novasre/nova/store"
)

// MaxAuditScan bounds how many of the newest audit entries are read for a
// draft's timeline.
const MaxAuditScan = 200_000

// PagerDuty is one environment's PagerDuty client, as far as drafts go:
// view calls only.
type PagerDuty interface {
	GetIncident(ctx context.Context, id string) (nova.Incident, error)
	ListNotes(ctx context.Context, id string) ([]nova.Note, error)
	ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error)
}

// Store is what drafts need of the store: records and the audit log.
type Store interface {
	store.Records
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]nova.AuditEntry, error)
	AuditHead(ctx context.Context) (nova.AuditHead, error)
}

// Auditor records acts in the audit log.
type Auditor interface {
	Append(ctx context.Context, e nova.AuditEntry) error
}

// Config is what New needs.
type Config struct {
	Store    Store
	Settings func() *settings.Settings
	Writer   *writeback.Writer
	Audit    Auditor
	// PagerDuty returns env's client.
	PagerDuty func(env string) (PagerDuty, error)
	// Chat returns env's Slack client (ENOTFOUND without one).
	Chat func(env string) (writeback.Chat, error)
	// Mode reads a service's mode (rollout).
	Mode func(ctx context.Context, svc nova.Service) (nova.Mode, error)
	// UpdateStats changes a service's counters (rollout).
	UpdateStats func(ctx context.Context, svc nova.Service, fn func(*nova.ServiceState)) error
	// Calibrate updates an incident's verdict for the service's
	// calibration and moves its counters by the difference
	// (rollout.Rollout.Calibrate); nil calibrates nothing.
	Calibrate func(ctx context.Context, svc nova.Service, incidentID string, fn func(*nova.IncidentVerdict)) error
	// QueueMessage queues the draft's Slack reply in the channel's outbox.
	QueueMessage func(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error
	Log          logrus.FieldLogger
	Now          func() time.Time
}

// Drafts drafts postmortems and records the answers about them.
type Drafts struct{ cfg Config }

// New returns Drafts.
func New(cfg Config) *Drafts { return &Drafts{cfg: cfg} }

// record is what the store keeps under KindPostmortem: the latest version
// of the draft and how far it was announced.
type record struct {
	postmortem.Draft
	// AuditID is the id of the postmortem.draft audit entry of this version
	// (appends are idempotent by id, so a redelivery audits it once).
	AuditID string `json:"audit_id"`
	// Counted is set once the incident was counted in the service's
	// resolved incidents.
	Counted bool `json:"counted,omitempty"`
	// SlackChannel and SlackTS locate the Slack reply; SlackVersion is the
	// version it shows.
	SlackChannel string `json:"slack_channel,omitempty"`
	SlackTS      string `json:"slack_ts,omitempty"`
	SlackVersion int    `json:"slack_version,omitempty"`
}

// Get returns the latest version of an incident's draft.
func (p *Drafts) Get(ctx context.Context, incidentID string) (postmortem.Draft, error) {
	r, _, err := store.Load[record](ctx, p.cfg.Store, store.KindPostmortem, incidentID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return postmortem.Draft{}, nova.Errorf(nova.ENOTFOUND, "Nova has no postmortem draft for incident %s (drafts are written when an incident of an enabled service is resolved, on the enterprise tier)", incidentID)
	}
	return r.Draft, err
}

// Enabled reports whether svc gets drafts: the enterprise tier, and the
// service not off.
func (p *Drafts) Enabled(ctx context.Context, svc nova.Service) (nova.Mode, bool, error) {
	if !p.cfg.Settings().Tier.Allows(nova.FeaturePostmortem) {
		return "", false, nil
	}
	mode, err := p.cfg.Mode(ctx, svc)
	if err != nil {
		return "", false, err
	}
	return mode, mode != nova.ModeOff, nil
}

// OnResolved drafts the postmortem of a resolved incident (a new version
// when it was resolved before and reopened), stores it once per version,
// and announces it. Every step is idempotent: a redelivered resolve event
// changes nothing that was done.
func (p *Drafts) OnResolved(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) error {
	mode, ok, err := p.Enabled(ctx, svc)
	if err != nil || !ok {
		return err
	}
	if rec.ResolvedAt.IsZero() {
		return nil
	}
	in, err := p.gather(ctx, svc, rec, log)
	if err != nil {
		return err
	}
	now := p.cfg.Now()
	r, err := store.Update(ctx, p.cfg.Store, store.KindPostmortem, rec.ID, func(r *record, exists bool) error {
		var prev *postmortem.Draft
		if exists {
			prev = &r.Draft
		}
		d, created, err := postmortem.Build(in, prev, now)
		if err != nil {
			return err
		}
		if !created {
			return store.ErrUnchanged
		}
		r.Draft, r.AuditID = d, nova.NewAuditID(now)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrUnchanged) {
		return err
	}
	if errors.Is(err, store.ErrUnchanged) {
		if r, _, err = store.Load[record](ctx, p.cfg.Store, store.KindPostmortem, rec.ID); err != nil {
			return err
		}
	}
	if r.Version == 0 {
		return nil
	}
	if err := p.cfg.Audit.Append(ctx, nova.AuditEntry{ID: r.AuditID, Time: r.GeneratedAt, Environment: svc.Environment,
		Service: svc.ID, Incident: rec.ID, Actor: nova.ActorNova, Action: "postmortem.draft", Outcome: nova.OutcomeOK,
		Detail: fmt.Sprintf("%s version %d, verdict %s", r.ID, r.Version, r.Outcome.Verdict)}); err != nil {
		return err
	}
	if err := p.count(ctx, svc, r); err != nil {
		return err
	}
	if err := p.calibrate(ctx, svc, rec.ID, func(v *nova.IncidentVerdict) { v.Resolution = resolutionVerdict(r.Outcome.Verdict) }); err != nil {
		return err
	}
	// The Slack reply goes to the channel's outbox first, so that a failing
	// note does not hold it back.
	if r.SlackVersion < r.Version {
		if err := p.cfg.QueueMessage(ctx, svc, rec); err != nil {
			return fmt.Errorf("queue the postmortem reply: %w", err)
		}
	}
	if mode != nova.ModeAction {
		return nil
	}
	// One note per incident: its link always serves the latest version.
	link := postmortem.Link(p.cfg.Settings().PublicURL, rec.ID)
	_, err = p.cfg.Writer.Note(ctx, svc, rec.ID, store.PostmortemNotePurpose, "pagerduty.note.postmortem", func(auditID string) string {
		return render.PostmortemNote(postmortem.NoteBody(r.Draft, link), auditID)
	})
	if err != nil && !errors.Is(err, writeback.ErrPaused) {
		return fmt.Errorf("post the postmortem note: %w", err)
	}
	return nil
}

// count adds the incident to the service's resolved incidents once.
func (p *Drafts) count(ctx context.Context, svc nova.Service, r record) error {
	if r.Counted {
		return nil
	}
	first := false
	_, err := store.Update(ctx, p.cfg.Store, store.KindPostmortem, r.IncidentID, func(v *record, exists bool) error {
		if !exists || v.Counted {
			return store.ErrUnchanged
		}
		v.Counted, first = true, true
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrUnchanged) {
		return err
	}
	if !first {
		return nil
	}
	abstained := r.Hypothesis.Top == nil
	return p.cfg.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
		st.Resolved++
		if abstained {
			st.ResolvedAbstained++
		}
	})
}

// calibrate passes news about an incident's verdict on, when calibration
// is wired.
func (p *Drafts) calibrate(ctx context.Context, svc nova.Service, incidentID string, fn func(*nova.IncidentVerdict)) error {
	if p.cfg.Calibrate == nil {
		return nil
	}
	return p.cfg.Calibrate(ctx, svc, incidentID, fn)
}

// resolutionVerdict is how a resolution's verdict counts for calibration:
// matched as helpful, not matched as wrong, the rest not at all.
func resolutionVerdict(v string) string {
	switch v {
	case postmortem.VerdictMatched:
		return nova.FeedbackHelpful
	case postmortem.VerdictNotMatched:
		return nova.FeedbackWrong
	}
	return ""
}

// answerVerdict is how a person's answer counts for calibration: right as
// helpful, wrong as wrong, partly as itself (neither, but a person's word).
func answerVerdict(a string) string {
	switch a {
	case postmortem.AnswerRight:
		return nova.FeedbackHelpful
	case postmortem.AnswerWrong:
		return nova.FeedbackWrong
	}
	return a
}

// gather reads the draft's inputs. PagerDuty reads that fail for good
// (the incident is gone, access was revoked) leave their part out; a
// passing failure is returned so the event is retried.
func (p *Drafts) gather(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) (postmortem.Input, error) {
	in := postmortem.Input{Record: rec, ServiceName: svc.Name, BotUserID: p.cfg.Writer.BotUserID(ctx, svc.Environment)}
	if pd, err := p.cfg.PagerDuty(svc.Environment); err != nil {
		log.WithError(err).Warn("postmortem: no PagerDuty client; drafting without PagerDuty's timeline")
	} else {
		if inc, err := pd.GetIncident(ctx, rec.ID); err == nil {
			in.Incident = &inc
		} else if nova.IsRetryable(err) {
			return in, err
		}
		if in.LogEntries, err = pd.ListLogEntries(ctx, rec.ID); err != nil {
			if nova.IsRetryable(err) {
				return in, err
			}
			log.WithError(err).Warn("postmortem: drafting without PagerDuty's log entries")
		}
		if in.Notes, err = pd.ListNotes(ctx, rec.ID); err != nil {
			if nova.IsRetryable(err) {
				return in, err
			}
			log.WithError(err).Warn("postmortem: drafting without the incident's notes")
		}
	}
	var err error
	if in.Audit, err = p.auditOf(ctx, rec); err != nil {
		return in, err
	}
	if in.Approvals, err = p.approvalsOf(ctx, rec.ID); err != nil {
		return in, err
	}
	return in, nil
}

// auditOf returns the incident's audit entries among the newest MaxAuditScan.
func (p *Drafts) auditOf(ctx context.Context, rec nova.IncidentRecord) ([]nova.AuditEntry, error) {
	head, err := p.cfg.Store.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	after := max(head.Seq-MaxAuditScan, 0)
	var out []nova.AuditEntry
	for {
		page, err := p.cfg.Store.ListAudit(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if e.Incident == rec.ID && (e.Environment == "" || e.Environment == rec.Environment) {
				out = append(out, e)
			}
		}
		if len(page) < 1000 {
			return out, nil
		}
		after = page[len(page)-1].Seq
	}
}

// approvalsOf returns the incident's action requests, found through their
// proposal keys (store.ProposalKey).
func (p *Drafts) approvalsOf(ctx context.Context, incidentID string) ([]nova.ApprovalRequest, error) {
	prefix := store.ProposalKey(incidentID, "")
	var out []nova.ApprovalRequest
	after := prefix
	for {
		items, err := p.cfg.Store.List(ctx, store.KindOnce, after, 100)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if !strings.HasPrefix(it.ID, prefix) {
				return out, nil
			}
			after = it.ID
			o, _, err := store.Load[store.OnceRecord](ctx, p.cfg.Store, store.KindOnce, it.ID)
			if err != nil || o.State != store.OnceDone || o.Result == "" {
				continue
			}
			req, _, err := store.Load[nova.ApprovalRequest](ctx, p.cfg.Store, store.KindApproval, o.Result)
			if nova.IsCode(err, nova.ENOTFOUND) {
				continue // expired
			}
			if err != nil {
				return nil, err
			}
			out = append(out, req)
		}
		if len(items) < 100 {
			return out, nil
		}
	}
}

// PostMessage posts the draft's reply in the incident's Slack thread, or
// updates it in place with a later version (called by the outbox).
func (p *Drafts) PostMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	r, _, err := store.Load[record](ctx, p.cfg.Store, store.KindPostmortem, rec.ID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil || r.SlackVersion >= r.Version {
		return err
	}
	chat, err := p.cfg.Chat(svc.Environment)
	if err != nil {
		return nil // no Slack app for this environment
	}
	link := postmortem.Link(p.cfg.Settings().PublicURL, rec.ID)
	msg := postmortem.SlackMessage(r.Draft, link)
	channel, ts := r.SlackChannel, r.SlackTS
	if ts != "" {
		if err := p.cfg.Writer.Update(ctx, chat, channel, ts, msg); err != nil {
			return err
		}
	} else {
		channel = rec.SlackChannel
		if channel == "" {
			channel = svc.SlackChannel
		}
		if channel == "" {
			return nil
		}
		var auditID string
		ts, auditID, err = p.cfg.Writer.Post(ctx, chat, writeback.SlackPost{
			Key: store.PostmortemPostKey(svc.Environment, rec.ID), Channel: channel, Thread: rec.SlackTS,
			Oldest: rec.ResolvedAt.Add(-time.Minute), Message: func() nova.Message { return msg },
			Metadata: map[string]string{"postmortem": r.ID},
		})
		if err := p.cfg.Writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
			Service: svc.ID, Incident: rec.ID, Action: "slack.post.postmortem", Detail: "channel " + channel + " ts " + ts}); err != nil {
			return err
		}
	}
	version := r.Version
	_, err = store.Update(ctx, p.cfg.Store, store.KindPostmortem, rec.ID, func(v *record, exists bool) error {
		if !exists || (v.SlackTS == ts && v.SlackVersion >= version) {
			return store.ErrUnchanged
		}
		v.SlackChannel, v.SlackTS, v.SlackVersion = channel, ts, max(v.SlackVersion, version)
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	return err
}

// Answer records one person's answer to "Was Nova's hypothesis right?" on
// the incident's draft (a second answer replaces theirs), keeps the
// service's counters in step (the answer becomes the incident's verdict for
// calibration when it is the latest a person gave) and audits it. The caller checks that the
// person may see the service.
func (p *Drafts) Answer(ctx context.Context, svc nova.Service, incidentID, user, answer string) (nova.Reply, error) {
	var before, given string
	var at time.Time
	now := p.cfg.Now()
	r, err := store.Update(ctx, p.cfg.Store, store.KindPostmortem, incidentID, func(r *record, exists bool) error {
		if !exists || r.ServiceID != svc.ID || r.Environment != svc.Environment {
			return nova.Errorf(nova.ENOTFOUND, "Nova has no postmortem draft for incident %s here", render.Truncate(incidentID, 32))
		}
		d, b, err := postmortem.RecordAnswer(r.Draft, user, answer, now)
		if err != nil {
			return err
		}
		r.Draft, before = d, b
		last := d.Answers[len(d.Answers)-1]
		given, at = last.Answer, last.At
		return nil
	})
	if err != nil {
		return nova.Reply{}, err
	}
	if before != given {
		err := p.cfg.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
			bump(st, before, -1)
			bump(st, given, +1)
		})
		if err != nil {
			return nova.Reply{}, err
		}
	}
	if err := p.calibrate(ctx, svc, incidentID, func(v *nova.IncidentVerdict) {
		v.JudgedBy(nova.VerdictByPostmortem, answerVerdict(given), at)
	}); err != nil {
		return nova.Reply{}, err
	}
	if err := p.cfg.Audit.Append(ctx, nova.AuditEntry{Time: now, Environment: svc.Environment, Service: svc.ID,
		Incident: incidentID, Actor: nova.SlackActor(user), Action: "postmortem.outcome", Outcome: nova.OutcomeOK,
		Detail: fmt.Sprintf("%s version %d: %s", r.ID, r.Version, given)}); err != nil {
		return nova.Reply{}, err
	}
	words := map[string]string{postmortem.AnswerRight: "right", postmortem.AnswerPartly: "partly right", postmortem.AnswerWrong: "wrong"}[given]
	return nova.Reply{Message: render.Text("Thanks — recorded that Nova's hypothesis for %s was *%s*.", incidentID, words)}, nil
}

func bump(st *nova.ServiceState, answer string, by int64) {
	switch answer {
	case postmortem.AnswerRight:
		st.AnswersRight += by
	case postmortem.AnswerPartly:
		st.AnswersPartly += by
	case postmortem.AnswerWrong:
		st.AnswersWrong += by
	}
}
