package bot

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/novasre/nova"
)

// auditIDPattern finds Nova's audit ids in text.
var auditIDPattern = regexp.MustCompile(`nova-[0-9A-HJKMNP-TV-Z]{26}`)

func containsAuditID(s string) bool { return auditIDPattern.MatchString(s) }

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

// auditRefusal records a refused request; failures are logged, not returned,
// since the refusal already happened and its answer must not wait.
func (a *App) auditRefusal(ctx context.Context, e nova.AuditEntry) {
	e.Outcome = nova.OutcomeRefused
	_ = a.audit(context.WithoutCancel(ctx), e)
}

// AuditRefusedCall records a PagerDuty call refused by the client's
// allow-list (wired as the client's OnRefused hook).
func (a *App) AuditRefusedCall(env, method, path string) {
	a.auditRefusal(context.Background(), nova.AuditEntry{
		Environment: env, Action: "pagerduty.call", Detail: "refused by the allow-list: " + method + " " + path,
	})
}

// refusalAuditBurst bounds how many refused requests per minute get an
// audit entry each, so that a flood of forged requests cannot flood the log;
// the rest are counted into the next entry.
const refusalAuditBurst = 30

// AuditRefusedRequest records a Slack request refused before it reached
// Nova (bad or stale signature, replay), wired as the handler's OnRefused.
func (a *App) AuditRefusedRequest(source, kind, reason, remote string) {
	a.refusals.Lock()
	now := a.now()
	if now.Sub(a.refusals.window) >= time.Minute {
		a.refusals.window, a.refusals.count = now, 0
	}
	a.refusals.count++
	if a.refusals.count > refusalAuditBurst {
		a.refusals.suppressed++
		a.refusals.Unlock()
		return
	}
	suppressed := a.refusals.suppressed
	a.refusals.suppressed = 0
	a.refusals.Unlock()
	detail := fmt.Sprintf("%s %s from %s refused: %s", source, kind, remote, reason)
	if suppressed > 0 {
		detail += fmt.Sprintf(" (and %d more refusals not audited one by one)", suppressed)
	}
	a.auditRefusal(context.Background(), nova.AuditEntry{Action: source + ".request", Detail: detail})
}
