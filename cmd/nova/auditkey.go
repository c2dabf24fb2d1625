package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/store"
)

// useAuditKey makes the store seal new audit entries with the configured
// audit key (or on the plain chain without one), and records a change of
// key in the log itself, sealed with the new key: from then on the log
// holds a keyed entry, so a log rewritten without the key cannot pass for
// one that never had it. The key is switched only once the head was read:
// on an error the previous key stays in use.
func useAuditKey(ctx context.Context, cfg *config.Config, st store.Store, log logrus.FieldLogger) error {
	key, _ := cfg.AuditKeys()
	head, err := st.AuditHead(ctx)
	if err != nil {
		return fmt.Errorf("audit key unchanged: could not read the audit chain head: %w", err)
	}
	st.SetAuditKey(key)
	newID := ""
	if key != nil {
		newID = key.ID()
	}
	if head.KeyID == newID {
		return nil
	}
	was := "the plain chain"
	if head.KeyID != "" {
		was = "audit key " + head.KeyID
	}
	detail := fmt.Sprintf("new entries are keyed with audit key %s (HMAC-SHA256); entries up to seq %d are on %s", newID, head.Seq, was)
	if key == nil {
		detail = fmt.Sprintf("audit.key was removed: new entries are on the plain chain, after entries keyed with %s up to seq %d; `nova audit verify` reports this downgrade", head.KeyID, head.Seq)
		log.WithField("key_id", head.KeyID).Warn("the audit log is keyed but no audit.key is configured: new entries are on the plain chain")
	}
	e := nova.AuditEntry{Actor: nova.ActorNova, Action: "audit.key", Outcome: nova.OutcomeOK, Detail: detail}
	if _, err := st.AppendAudit(ctx, e); err != nil {
		return fmt.Errorf("new entries use the new audit key, but the change could not be recorded in the log: %w", err)
	}
	log.WithField("key_id", newID).Info("audit chain key changed")
	return nil
}
