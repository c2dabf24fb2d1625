package bot

import (
	"context"
	"regexp"

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
