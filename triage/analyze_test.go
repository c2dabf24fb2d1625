package triage

import (
	"reflect"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestAbstainsWhenNothingIsConvincing(t *testing.T) {
	in := Input{
		Incident:   incidentOn("Pingdom: shop.example.org is DOWN"),
		Alerts:     []nova.Alert{alertAt("A1", "Pingdom: shop.example.org is DOWN", nil)},
		Changes:    []nova.ChangeEvent{changeOn("C1", "Deploy billing 4.1.0", svcBilling, 3*time.Hour)},
		Service:    checkoutService(),
		Checked:    []string{"alerts", "change_events"},
		NotChecked: []string{"past_incidents: timed out"},
	}
	res := Analyze(in, Options{}, now0)
	if !res.Abstained {
		t.Fatalf("did not abstain: %v", describeTop(res))
	}
	if !reflect.DeepEqual(res.Checked, in.Checked) || !reflect.DeepEqual(res.NotChecked, in.NotChecked) {
		t.Errorf("checked %v / not checked %v not passed through", res.Checked, res.NotChecked)
	}
	for _, h := range res.Hypotheses {
		if h.Confidence >= DefaultAbstainBelow {
			t.Errorf("abstained with a candidate at %.2f", h.Confidence)
		}
	}
}

func TestEmptyInputAbstains(t *testing.T) {
	res := Analyze(Input{}, Options{}, now0)
	if !res.Abstained || len(res.Hypotheses) != 0 {
		t.Fatalf("empty input: %+v", res)
	}
}

func TestNegativeAbstainBelowNeverAbstains(t *testing.T) {
	in := Input{Incident: incidentOn("checkout latency p99 above 2s")}
	if res := Analyze(in, Options{AbstainBelow: -1}, now0); res.Abstained {
		t.Fatalf("abstained with AbstainBelow < 0: %v", describeTop(res))
	}
}

func TestOneHypothesisPerCategoryRankedInOrder(t *testing.T) {
	in := Input{
		Incident: incidentOn("checkout OOMKilled"),
		Alerts: []nova.Alert{
			alertAt("A1", "checkout OOMKilled", nil),
			alertAt("A2", "checkout memory usage 98%", nil),
			alertAt("A3", "checkout connection refused to payments", nil),
		},
		Changes: []nova.ChangeEvent{changeOn("C1", "Deploy checkout 2.4.0", svcCheckout, 15*time.Minute),
			changeOn("C2", "Deploy payments 7.0", svcPayments, 25*time.Minute)},
		Past:    []nova.PastIncident{{ID: "P1", Title: "checkout OOMKilled", Score: 80, Category: nova.CategoryResource}},
		Service: checkoutService(),
	}
	res := Analyze(in, Options{}, now0)
	seen := map[nova.Category]bool{}
	for i, h := range res.Hypotheses {
		if h.Rank != i+1 {
			t.Errorf("hypothesis %d has rank %d", i, h.Rank)
		}
		if seen[h.Category] {
			t.Errorf("two hypotheses for %s", h.Category)
		}
		seen[h.Category] = true
		if i > 0 && h.Confidence > res.Hypotheses[i-1].Confidence {
			t.Errorf("rank %d (%.3f) above rank %d (%.3f)", h.Rank, h.Confidence, h.Rank-1, res.Hypotheses[i-1].Confidence)
		}
		if len(h.Evidence) == 0 || h.Summary == "" {
			t.Errorf("hypothesis %s without evidence or summary", h.Category)
		}
	}
	// The resource hypothesis merges the OOM signature, the memory alert and
	// the past incident.
	for _, h := range res.Hypotheses {
		if h.Category != nova.CategoryResource {
			continue
		}
		kinds := map[string]bool{}
		for _, e := range h.Evidence {
			kinds[e.Kind] = true
		}
		if !kinds[nova.EvidenceSignature] || !kinds[nova.EvidencePastIncident] {
			t.Errorf("resource evidence kinds = %v, want signature and past incident merged", kinds)
		}
	}
}

func TestAnalyzeIsDeterministic(t *testing.T) {
	in := suggestInput()
	in.Related = stormInput(4, 3, "lookup api: no such host").Related
	a := Analyze(in, Options{}, now0)
	for i := 0; i < 20; i++ {
		if b := Analyze(in, Options{}, now0); !reflect.DeepEqual(a, b) {
			t.Fatalf("run %d differs:\n%+v\n%+v", i, a, b)
		}
	}
}

func TestTriggerTimeFallsBackToAlertsThenNow(t *testing.T) {
	in := Input{Alerts: []nova.Alert{alertAt("A1", "x", nil)}}
	in.Alerts[0].CreatedAt = trigger0.Add(-time.Minute)
	if got := in.triggerTime(now0); !got.Equal(trigger0.Add(-time.Minute)) {
		t.Errorf("trigger = %v, want the first alert", got)
	}
	if got := (Input{}).triggerTime(now0); !got.Equal(now0) {
		t.Errorf("trigger = %v, want now", got)
	}
}
