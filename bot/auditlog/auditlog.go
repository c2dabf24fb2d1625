// Package auditlog is how bot writes Nova's audit log: every act as one
// entry (with its id, time and actor filled in), refusals within a bound per
// kind and minute so that a flood of refused requests can neither grow the
// log without limit nor drown it, and the chain head that notes witness in
// PagerDuty's timeline.
package auditlog

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/internal/metric"
)

// Store is the part of the audit log store this package uses.
type Store interface {
	AppendAudit(ctx context.Context, e nova.AuditEntry) (nova.AuditEntry, error)
	AuditHead(ctx context.Context) (nova.AuditHead, error)
}

// Log appends to the audit log.
type Log struct {
	store Store
	log   logrus.FieldLogger
	now   func() time.Time
	// refusals rate-limits audit entries for refusals, per kind.
	refusals  refusalBudget
	unaudited *prometheus.CounterVec
}

// New returns a Log over st; now is the clock of entries. Its metric
// (refusals beyond the budget) is registered with reg.
func New(st Store, log logrus.FieldLogger, now func() time.Time, reg prometheus.Registerer) (*Log, error) {
	unaudited, err := metric.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_refusals_unaudited_total", Help: "Refusals beyond the audit log's per-minute budget, counted into the next entry of their kind.",
	}, []string{"kind"}))
	if err != nil {
		return nil, err
	}
	return &Log{store: st, log: log, now: now, unaudited: unaudited}, nil
}

// Head reads the audit chain's head for a note to witness; the zero
// head (no anchor line) when the store cannot say, since the note matters
// more than its anchor.
func (l *Log) Head(ctx context.Context) nova.AuditHead {
	h, err := l.store.AuditHead(ctx)
	if err != nil {
		l.log.WithError(err).Warn("could not read the audit chain head; this note carries no anchor")
		return nova.AuditHead{}
	}
	return h
}

// Append appends an entry to the audit log. An entry for an act that already
// happened must not be lost, so the error is returned for the caller to
// retry (the store appends an id only once).
func (l *Log) Append(ctx context.Context, e nova.AuditEntry) error {
	if e.ID == "" {
		e.ID = nova.NewAuditID(l.now())
	}
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	if e.Actor == "" {
		e.Actor = nova.ActorNova
	}
	if _, err := l.store.AppendAudit(ctx, e); err != nil {
		l.log.WithError(err).WithField("audit_id", e.ID).Error("could not append to the audit log")
		return err
	}
	l.auditMilestone(e)
	return nil
}

// Refusals are audited within bounds, so that a flood of refused requests
// (forged signatures, 60 kB commands, guessed API keys) can neither grow the
// log without limit nor drown it: each entry's detail is cut to
// refusalDetailMax bytes, and each kind of refusal (commands, clicks, and
// each kind of refused request or call) gets refusalAuditBurst entries a
// minute; the rest are counted into the kind's next entry.
const (
	refusalDetailMax  = 512
	refusalAuditBurst = 30
)

// refusalBudget counts refusal audit entries per kind and minute.
type refusalBudget struct {
	sync.Mutex
	kinds map[string]*refusalWindow
}

type refusalWindow struct {
	start             time.Time
	count, suppressed int
}

// take reports whether a refusal of kind may be audited now, and how many
// were left out since the last one that was.
func (b *refusalBudget) take(kind string, now time.Time) (bool, int) {
	b.Lock()
	defer b.Unlock()
	if b.kinds == nil {
		b.kinds = map[string]*refusalWindow{}
	}
	w, ok := b.kinds[kind]
	if !ok {
		w = &refusalWindow{}
		b.kinds[kind] = w
	}
	if now.Sub(w.start) >= time.Minute {
		w.start, w.count = now, 0
	}
	w.count++
	if w.count > refusalAuditBurst {
		w.suppressed++
		return false, 0
	}
	suppressed := w.suppressed
	w.suppressed = 0
	return true, suppressed
}

// Refusal records a refusal, within the bounds above; failures are
// logged, not returned, since the refusal already happened and its answer
// must not wait.
func (l *Log) Refusal(ctx context.Context, e nova.AuditEntry) {
	kind := e.Action
	if prefix, _, _ := strings.Cut(kind, "."); prefix == "command" || prefix == "click" {
		kind = prefix // one budget for all commands (and one for all clicks)
	}
	ok, suppressed := l.refusals.take(kind, l.now())
	if !ok {
		l.unaudited.WithLabelValues(kind).Inc()
		return
	}
	suffix := ""
	if suppressed > 0 {
		suffix = fmt.Sprintf(" (and %d more %s refusals not audited one by one)", suppressed, kind)
	}
	e.Detail = clipBytes(e.Detail, refusalDetailMax-len(suffix)) + suffix
	e.Outcome = nova.OutcomeRefused
	_ = l.Append(context.WithoutCancel(ctx), e)
}

// clipBytes cuts s to at most n bytes on a character boundary, marking the cut.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// RefusedCall records a PagerDuty call refused by the client's
// allow-list (wired as the client's OnRefused hook).
func (l *Log) RefusedCall(env, method, path string) {
	l.Refusal(context.Background(), nova.AuditEntry{
		Environment: env, Action: "pagerduty.call", Detail: "refused by the allow-list: " + method + " " + path,
	})
}

// RefusedRequest records a request refused before it reached Nova
// (bad or stale signature, replay, guessed API keys), wired as the
// handlers' OnRefused.
func (l *Log) RefusedRequest(source, kind, reason, remote string) {
	l.Refusal(context.Background(), nova.AuditEntry{Action: source + ".request",
		Detail: fmt.Sprintf("%s %s from %s refused: %s", source, kind, remote, reason)})
}
