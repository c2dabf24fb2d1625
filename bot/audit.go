package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// auditIDPattern finds Nova's audit ids in text.
var auditIDPattern = regexp.MustCompile(`nova-[0-9A-HJKMNP-TV-Z]{26}`)

func containsAuditID(s string) bool { return auditIDPattern.MatchString(s) }

// noteAnchorPattern finds the audit chain head Nova wrote into one of its
// notes: only on the line right above the footer that ends the note, so
// that outside text quoted in the note cannot pose as an anchor.
var noteAnchorPattern = regexp.MustCompile(`(?:^|\n)` + regexp.QuoteMeta(auditHeadPrefix) +
	`([0-9]{1,18}:[0-9a-f]{16})\r?\n` + regexp.QuoteMeta(noteFooter("")) + `nova-[0-9A-HJKMNP-TV-Z]{26}\s*$`)

// AuditAnchorInNote returns the audit chain head a note of Nova's
// witnesses, if it carries one.
func AuditAnchorInNote(content, source string) (nova.AuditAnchor, bool) {
	m := noteAnchorPattern.FindStringSubmatch(content)
	if m == nil {
		return nova.AuditAnchor{}, false
	}
	a, err := nova.ParseAuditAnchor(m[1], source)
	return a, err == nil
}

// auditHead reads the audit chain's head for a note to witness; the zero
// head (no anchor line) when the store cannot say, since the note matters
// more than its anchor.
func (a *App) auditHead(ctx context.Context) nova.AuditHead {
	h, err := a.store.AuditHead(ctx)
	if err != nil {
		a.log.WithError(err).Warn("could not read the audit chain head; this note carries no anchor")
		return nova.AuditHead{}
	}
	return h
}

// audit appends an entry to the audit log. An entry for an act that already
// happened must not be lost, so the error is returned for the caller to
// retry (the store appends an id only once).
func (a *App) audit(ctx context.Context, e nova.AuditEntry) error {
	if e.ID == "" {
		e.ID = nova.NewAuditID(a.now())
	}
	if e.Time.IsZero() {
		e.Time = a.now()
	}
	if e.Actor == "" {
		e.Actor = nova.ActorNova
	}
	if _, err := a.store.AppendAudit(ctx, e); err != nil {
		a.log.WithError(err).WithField("audit_id", e.ID).Error("could not append to the audit log")
		return err
	}
	a.auditMilestone(e)
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

// auditRefusal records a refusal, within the bounds above; failures are
// logged, not returned, since the refusal already happened and its answer
// must not wait.
func (a *App) auditRefusal(ctx context.Context, e nova.AuditEntry) {
	kind := e.Action
	if prefix, _, _ := strings.Cut(kind, "."); prefix == "command" || prefix == "click" {
		kind = prefix // one budget for all commands (and one for all clicks)
	}
	ok, suppressed := a.refusals.take(kind, a.now())
	if !ok {
		a.metrics.unaudited.WithLabelValues(kind).Inc()
		return
	}
	suffix := ""
	if suppressed > 0 {
		suffix = fmt.Sprintf(" (and %d more %s refusals not audited one by one)", suppressed, kind)
	}
	e.Detail = clipBytes(e.Detail, refusalDetailMax-len(suffix)) + suffix
	e.Outcome = nova.OutcomeRefused
	_ = a.audit(context.WithoutCancel(ctx), e)
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

// AuditRefusedCall records a PagerDuty call refused by the client's
// allow-list (wired as the client's OnRefused hook).
func (a *App) AuditRefusedCall(env, method, path string) {
	a.auditRefusal(context.Background(), nova.AuditEntry{
		Environment: env, Action: "pagerduty.call", Detail: "refused by the allow-list: " + method + " " + path,
	})
}

// AuditRefusedRequest records a request refused before it reached Nova
// (bad or stale signature, replay, guessed API keys), wired as the
// handlers' OnRefused.
func (a *App) AuditRefusedRequest(source, kind, reason, remote string) {
	a.auditRefusal(context.Background(), nova.AuditEntry{Action: source + ".request",
		Detail: fmt.Sprintf("%s %s from %s refused: %s", source, kind, remote, reason)})
}
