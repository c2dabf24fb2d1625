package triage

import (
	"reflect"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestAbstentionSignals(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want []string
	}{
		{
			name: "a 5xx spike and a deploy minutes before: thin, and timing only",
			in: Input{
				Incident: incidentOn("checkout: 5xx rate 6%"),
				Alerts:   []nova.Alert{alertAt("A1", "checkout: 5xx rate 6%", map[string]string{"http_5xx_pct": "6"})},
				Changes:  []nova.ChangeEvent{changeOn("C1", "Deploy checkout 2.4.0 (new footer)", svcCheckout, 4*time.Minute)},
				Service:  checkoutService(),
			},
			want: []string{SignalThin, SignalTimingOnly},
		},
		{
			name: "an OOM kill after a memory limit change: none",
			in: Input{
				Incident: incidentOn("checkout OOMKilled"),
				Alerts: []nova.Alert{alertAt("A1", "checkout container OOMKilled",
					map[string]string{"reason": "OOMKilled", "exit_code": "137"})},
				Changes: []nova.ChangeEvent{changeOn("C1", "checkout: memory limit 512Mi -> 256Mi", svcCheckout, 10*time.Minute)},
				Service: checkoutService(),
			},
			want: nil,
		},
		{
			name: "the same title resolved two ways before: thin, a tie, past incidents disagree and are all there is",
			in: Input{
				Incident: incidentOn("checkout degraded"),
				Alerts:   []nova.Alert{alertAt("A1", "checkout degraded", nil)},
				Past: []nova.PastIncident{
					{ID: "P1", Title: "checkout degraded", Score: 80, Category: nova.CategoryResource},
					{ID: "P2", Title: "checkout degraded", Score: 80, Category: nova.CategoryDependency},
				},
				Service: checkoutService(),
			},
			want: []string{SignalThin, SignalClose, SignalPastDisagree, SignalPastOnly},
		},
	}
	for _, tt := range tests {
		got := AbstentionSignals(tt.in, Options{}, now0)
		if !reflect.DeepEqual(got, tt.want) {
			res := Analyze(tt.in, Options{}, now0)
			t.Errorf("%s: signals %q, want %q (top %s)", tt.name, got, tt.want, describeTop(res))
		}
	}
}
