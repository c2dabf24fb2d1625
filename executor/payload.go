package executor

import (
	"encoding/json"
	"strings"

	"github.com/novasre/nova"
)

// PayloadVersion is the version of the JSON body; it changes only when a
// field changes meaning or disappears, never when one is added.
const PayloadVersion = 1

// Run is one approved action to execute.
type Run = nova.ActionRun

// Payload is the JSON body of an action webhook, as documented in
// docs/action-webhooks.md; receivers written in Go may decode into it.
type Payload struct {
	Version        int               `json:"version"`
	RequestID      string            `json:"request_id"`
	IdempotencyKey string            `json:"idempotency_key"`
	Action         string            `json:"action"`
	Title          string            `json:"title"`
	Environment    string            `json:"environment"`
	ServiceID      string            `json:"service_id"`
	IncidentID     string            `json:"incident_id"`
	Params         map[string]string `json:"params"`
	ApprovedBy     []string          `json:"approved_by"`
}

// validateRun rejects runs a receiver could not act on safely.
func validateRun(r Run) error {
	for _, f := range []struct{ name, value string }{
		{"request id", r.RequestID}, {"idempotency key", r.IdempotencyKey}, {"action", r.Action},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nova.Errorf(nova.EINVALID, "cannot run an action without %s", f.name)
		}
	}
	if strings.ContainsAny(r.IdempotencyKey, "\r\n") {
		return nova.Errorf(nova.EINVALID, "the idempotency key must be a single line")
	}
	return nil
}

// runBody encodes r once, so that every attempt sends the same bytes. Params
// and ApprovedBy are always an object and an array, never null, so that
// receivers need no special case.
func runBody(r Run) ([]byte, error) {
	p := Payload{
		Version: PayloadVersion, RequestID: r.RequestID, IdempotencyKey: r.IdempotencyKey,
		Action: r.Action, Title: r.Title, Environment: r.Environment,
		ServiceID: r.ServiceID, IncidentID: r.IncidentID,
		Params: r.Params, ApprovedBy: r.ApprovedBy,
	}
	if p.Params == nil {
		p.Params = map[string]string{}
	}
	if p.ApprovedBy == nil {
		p.ApprovedBy = []string{}
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, nova.WrapError(nova.EINTERNAL, err, "encode the action webhook body")
	}
	return b, nil
}
