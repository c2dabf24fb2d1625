package rollout

import (
	"testing"

	"github.com/novasre/nova"
)

func TestAckSavingSummary(t *testing.T) {
	st := nova.ServiceState{NovaAcks: 3, NovaAckSeconds: 30, PersonAcks: 1, PersonAckSeconds: 250}
	if got := ackSaving(st); got != "Nova made 75% of first acks; its acks came 4m0s sooner than people's on average" {
		t.Errorf("ackSaving = %q", got)
	}
	if ackSaving(nova.ServiceState{NovaAcks: 2, NovaAckSeconds: 4}) != "" {
		t.Error("no comparison is possible without people's acks")
	}
}
