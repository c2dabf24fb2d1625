// Package writeback is every write Nova makes outside itself, exactly once:
// PagerDuty notes and acks, Slack posts and updates. Each write goes through
// store.Once under an idempotency key (store/keys.go), carries its audit id
// so that a crash between the write and its record is resolved by finding
// the write again, is counted (nova_writes_total) and audited. Writes to
// PagerDuty stop while Nova is paused. It also keeps Nova's record of an
// incident (compare-and-set) and when a hypothesis first became visible.
package writeback

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/store"
)

// ErrPaused stops PagerDuty writes and action runs while Nova is paused.
var ErrPaused = nova.Errorf(nova.EFORBIDDEN, "Nova is paused: no PagerDuty writes or actions until /nova resume")

// PagerDuty is one environment's PagerDuty client, as far as writes go.
type PagerDuty interface {
	AddNote(ctx context.Context, incidentID, content string) (nova.Note, error)
	ListNotes(ctx context.Context, id string) ([]nova.Note, error)
	Acknowledge(ctx context.Context, incidentID string) error
	ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error)
}

// Chat is one environment's Slack client, as far as posts go.
type Chat interface {
	Post(ctx context.Context, channel, threadTS string, m nova.Message) (string, error)
	Update(ctx context.Context, channel, ts string, m nova.Message) error
	// FindByMetadata looks for a message Nova posted since oldest whose
	// metadata has key = value: in the channel's top level when threadTS is
	// empty, else in that thread.
	FindByMetadata(ctx context.Context, channel, threadTS, key, value string, oldest time.Time) (string, bool, error)
}

// Auditor records acts in the audit log and reads its head.
type Auditor interface {
	Append(ctx context.Context, e nova.AuditEntry) error
	Head(ctx context.Context) nova.AuditHead
}

// Config is what New needs.
type Config struct {
	Store store.Records
	Once  *store.Once
	// PagerDuty returns env's client.
	PagerDuty func(env string) (PagerDuty, error)
	// BotUserID is the configured bot user of env ("" to learn it).
	BotUserID func(env string) string
	// Paused reads the pause switch (rollout).
	Paused func(ctx context.Context) (bool, error)
	// UpdateStats changes a service's counters (rollout).
	UpdateStats func(ctx context.Context, svc nova.Service, fn func(*nova.ServiceState)) error
	Audit       Auditor
	Log         logrus.FieldLogger
	Now         func() time.Time
	Registerer  prometheus.Registerer
}

// Writer makes Nova's external writes.
type Writer struct {
	cfg              Config
	writes           *prometheus.CounterVec
	timeToHypothesis prometheus.Histogram
	// botUsers memoises the bot user id learned per environment.
	botUsers sync.Map
}

// New returns a Writer and registers its metrics.
func New(cfg Config) (*Writer, error) {
	w := &Writer{cfg: cfg}
	var err error
	if w.writes, err = metric.Register(cfg.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_writes_total", Help: "External writes, by target and result.",
	}, []string{"target", "result"})); err != nil {
		return nil, err
	}
	if w.timeToHypothesis, err = metric.Register(cfg.Registerer, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "nova_time_to_hypothesis_seconds", Help: "From incident trigger to Nova's first posted hypothesis.",
		Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300},
	})); err != nil {
		return nil, err
	}
	return w, nil
}

// pdFor returns env's PagerDuty client unless Nova is paused.
func (w *Writer) pdFor(ctx context.Context, env string) (PagerDuty, error) {
	if paused, err := w.cfg.Paused(ctx); err != nil {
		return nil, fmt.Errorf("read the pause switch: %w", err)
	} else if paused {
		return nil, ErrPaused
	}
	return w.cfg.PagerDuty(env)
}

// Note posts one note on an incident exactly once per purpose, ending with
// its audit id and the audit chain's head, and records it in the audit log
// with the note's id.
func (w *Writer) Note(ctx context.Context, svc nova.Service, incidentID, purpose, auditAction string, note func(auditID string) string) (string, error) {
	pd, err := w.pdFor(ctx, svc.Environment)
	if err != nil {
		return "", err
	}
	noteID, auditID, _, err := w.cfg.Once.Do(ctx, store.NoteKey(svc.Environment, incidentID, purpose), store.OnceOp{
		Write: func(ctx context.Context, auditID string) (string, error) {
			n, err := pd.AddNote(ctx, incidentID, render.WithAuditHead(note(auditID), w.cfg.Audit.Head(ctx)))
			if err != nil {
				return "", err
			}
			w.learnBotUser(ctx, svc.Environment, n.User.ID)
			return n.ID, nil
		},
		Find: func(ctx context.Context, auditID string) (string, bool, error) {
			notes, err := pd.ListNotes(ctx, incidentID)
			if err != nil {
				return "", false, err
			}
			for _, n := range notes {
				if strings.Contains(n.Content, auditID) {
					return n.ID, true, nil
				}
			}
			return "", false, nil
		},
	})
	err = w.Record(ctx, "pagerduty_note", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: incidentID, Action: auditAction, PagerDutyRef: noteID})
	if err != nil {
		return "", fmt.Errorf("%s note on %s: %w", purpose, incidentID, err)
	}
	return noteID, nil
}

// Record counts an external write and audits it: as the act itself, under
// the audit id the write carried, when writeErr is nil; as a failure with
// the error's message otherwise (writeErr is returned as is).
func (w *Writer) Record(ctx context.Context, target string, writeErr error, e nova.AuditEntry) error {
	if writeErr != nil {
		w.writes.WithLabelValues(target, "failed").Inc()
		e.ID, e.Outcome, e.Detail, e.PagerDutyRef = "", nova.OutcomeFailed, nova.ErrorMessage(writeErr), ""
		_ = w.cfg.Audit.Append(context.WithoutCancel(ctx), e)
		return writeErr
	}
	w.writes.WithLabelValues(target, "ok").Inc()
	e.Outcome = nova.OutcomeOK
	return w.cfg.Audit.Append(ctx, e)
}

// Ack acknowledges an incident as the bot user, exactly once.
func (w *Writer) Ack(ctx context.Context, svc nova.Service, incidentID string) error {
	pd, err := w.pdFor(ctx, svc.Environment)
	if err != nil {
		return err
	}
	bot := w.BotUserID(ctx, svc.Environment)
	ref, auditID, _, err := w.cfg.Once.Do(ctx, store.AckKey(svc.Environment, incidentID), store.OnceOp{
		Write: func(ctx context.Context, _ string) (string, error) {
			if err := pd.Acknowledge(ctx, incidentID); err != nil {
				return "", err
			}
			return ackLogEntry(ctx, pd, incidentID, bot), nil
		},
		Find: func(ctx context.Context, _ string) (string, bool, error) {
			id := ackLogEntry(ctx, pd, incidentID, bot)
			return id, id != "", nil
		},
	})
	err = w.Record(ctx, "pagerduty_ack", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: incidentID, Action: "pagerduty.acknowledge", PagerDutyRef: ref})
	if err != nil {
		return fmt.Errorf("acknowledge %s: %w", incidentID, err)
	}
	return nil
}

// ackLogEntry finds the bot user's acknowledge log entry, so the audit entry
// can name it; "" when it cannot be found (the ack still happened).
func ackLogEntry(ctx context.Context, pd PagerDuty, incidentID, botUser string) string {
	entries, err := pd.ListLogEntries(ctx, incidentID)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Type, "acknowledge") && e.Agent != nil && (botUser == "" || e.Agent.ID == botUser) {
			return e.ID
		}
	}
	return ""
}

// SlackPost is one Slack message Nova posts exactly once.
type SlackPost struct {
	// Key is the post's idempotency key (store/keys.go).
	Key     string
	Channel string
	// Thread is the ts of the message to reply under ("" for the channel).
	Thread string
	// Message builds the message when it is written.
	Message func() nova.Message
	// Metadata is added to the message's, with the audit id.
	Metadata map[string]string
	// Oldest bounds how far back an earlier attempt is looked for.
	Oldest time.Time
}

// Post posts p exactly once and returns the message's ts and the audit id it
// carries; the caller records the write (Record) with what it knows of it.
func (w *Writer) Post(ctx context.Context, chat Chat, p SlackPost) (ts, auditID string, err error) {
	ts, auditID, _, err = w.cfg.Once.Do(ctx, p.Key, store.OnceOp{
		Write: func(ctx context.Context, auditID string) (string, error) {
			m := p.Message()
			m.Metadata = map[string]string{"nova_audit_id": auditID}
			for k, v := range p.Metadata {
				m.Metadata[k] = v
			}
			return chat.Post(ctx, p.Channel, p.Thread, m)
		},
		Find: func(ctx context.Context, auditID string) (string, bool, error) {
			// Look where the post went: in the thread when it is a reply.
			return chat.FindByMetadata(ctx, p.Channel, p.Thread, "nova_audit_id", auditID, p.Oldest)
		},
	})
	return ts, auditID, err
}

// Update changes a posted Slack message in place. Updates are counted, not
// audited: they only restate.
func (w *Writer) Update(ctx context.Context, chat Chat, channel, ts string, m nova.Message) error {
	if err := chat.Update(ctx, channel, ts, m); err != nil {
		w.writes.WithLabelValues("slack_update", "failed").Inc()
		return fmt.Errorf("update Slack message %s in %s: %w", ts, channel, err)
	}
	w.writes.WithLabelValues("slack_update", "ok").Inc()
	return nil
}

// BotUserID is the PagerDuty user Nova writes as: configured, or learned
// from the author of Nova's first note.
func (w *Writer) BotUserID(ctx context.Context, env string) string {
	if id := w.cfg.BotUserID(env); id != "" {
		return id
	}
	if id, ok := w.botUsers.Load(env); ok {
		return id.(string)
	}
	id, _, err := store.Load[string](ctx, w.cfg.Store, store.KindMeta, store.BotUserID(env))
	if err != nil {
		return ""
	}
	w.botUsers.Store(env, id) // a learned id never changes: read it once per process
	return id
}

func (w *Writer) learnBotUser(ctx context.Context, env, userID string) {
	if userID == "" || w.BotUserID(ctx, env) == userID {
		return
	}
	if _, err := store.Save(ctx, w.cfg.Store, store.KindMeta, store.BotUserID(env), userID, store.AnyVersion); err != nil {
		w.cfg.Log.WithError(err).Warn("could not remember the bot user id")
		return
	}
	w.botUsers.Store(env, userID)
}

// UpdateIncident changes Nova's record of an incident with compare-and-set
// (see store.Update; fn may return store.ErrUnchanged).
func (w *Writer) UpdateIncident(ctx context.Context, id string, fn func(r *nova.IncidentRecord, exists bool) error) (nova.IncidentRecord, error) {
	rec, err := store.Update(ctx, w.cfg.Store, store.KindIncident, id, fn)
	if err != nil {
		return rec, fmt.Errorf("update the record of incident %s: %w", id, err)
	}
	return rec, nil
}

// MarkVisible records the first time a hypothesis became visible (in a
// note, a Slack message, or Nova's API for a read-only service without a
// channel): time to hypothesis, per service and overall.
func (w *Writer) MarkVisible(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord) error {
	first := false
	updated, err := w.UpdateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		if r.HypothesisAt.IsZero() {
			first = true
			r.HypothesisAt = w.cfg.Now()
		}
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	if first {
		tth := rec.TimeToHypothesis().Seconds()
		w.timeToHypothesis.Observe(tth)
		_ = w.cfg.UpdateStats(ctx, svc, func(st *nova.ServiceState) {
			st.Hypotheses++
			st.HypothesisSeconds += tth
		})
	}
	return nil
}
