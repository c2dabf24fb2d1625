package triage

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestFeedbackShift(t *testing.T) {
	tests := []struct {
		f          Feedback
		lo, hi     float64
		explainHas string
	}{
		{Feedback{}, 0, 0, ""},
		{Feedback{Wrong: 2}, 0, 0, ""}, // too few verdicts
		{Feedback{Helpful: 7, Wrong: 3}, 0, 0, ""},
		{Feedback{Helpful: 2, Wrong: 3}, -0.1, -0.05, "3 of the 5 rated hypotheses on this service were judged wrong (by responders or by how the incident was resolved)"},
		{Feedback{Wrong: 200}, -maxFeedbackDrop, -maxFeedbackDrop, "lowered by 15 points"},
		{Feedback{Helpful: 200}, maxFeedbackRise, maxFeedbackRise, "raised by 5 points: 200 of the 200"},
		{Feedback{Helpful: -4, Wrong: 9}, 0, 0, ""},
	}
	for _, tt := range tests {
		shift, why := FeedbackShift(tt.f)
		if shift < tt.lo-1e-9 || shift > tt.hi+1e-9 || !strings.Contains(why, tt.explainHas) || (tt.explainHas == "") != (why == "") {
			t.Errorf("%+v: shift %.3f %q, want in [%.2f, %.2f] saying %q", tt.f, shift, why, tt.lo, tt.hi, tt.explainHas)
		}
	}
}

// TestFeedbackAdjustsTheHypothesis: a service whose hypotheses keep being
// marked wrong gets lower confidence, said in the evidence, ranks unchanged.
func TestFeedbackAdjustsTheHypothesis(t *testing.T) {
	in := Input{Incident: incidentOn("checkout: TLS failures"), Service: checkoutService(),
		Alerts:  []nova.Alert{alertAt("A1", "checkout: TLS failures", map[string]string{"error": "x509: certificate has expired or is not yet valid"})},
		Changes: []nova.ChangeEvent{changeOn("C1", "Deploy checkout 7.3.0", svcCheckout, 40*time.Minute)}}
	plain := Analyze(in, Options{AbstainBelow: -1}, now0)
	in.Feedback = &Feedback{Helpful: 1, Wrong: 6}
	adjusted := Analyze(in, Options{AbstainBelow: -1}, now0)
	if len(plain.Hypotheses) != len(adjusted.Hypotheses) {
		t.Fatalf("feedback changed the hypotheses: %d vs %d", len(plain.Hypotheses), len(adjusted.Hypotheses))
	}
	for i := range plain.Hypotheses {
		p, a := plain.Hypotheses[i], adjusted.Hypotheses[i]
		if p.Category != a.Category || a.Confidence >= p.Confidence || p.Confidence-a.Confidence > maxFeedbackDrop+0.001 {
			t.Errorf("hypothesis %d: %s %.3f -> %s %.3f", i, p.Category, p.Confidence, a.Category, a.Confidence)
		}
	}
	found := false
	for _, e := range adjusted.Hypotheses[0].Evidence {
		found = found || (e.Kind == nova.EvidenceFeedback && strings.Contains(e.Summary, "6 of the 7 rated hypotheses"))
	}
	if !found {
		t.Errorf("the adjustment is not explained: %+v", adjusted.Hypotheses[0].Evidence)
	}
}

// TestFeedbackExplainsOnlyWhatItMoved: a raise on a hypothesis already at
// the ceiling moves nothing, and the note must not claim it did; a raise
// that the ceiling cut short says by how much it really moved.
func TestFeedbackExplainsOnlyWhatItMoved(t *testing.T) {
	in := Input{Incident: incidentOn("checkout: TLS failures"), Service: checkoutService(),
		Alerts: []nova.Alert{alertAt("A1", "checkout: TLS failures", map[string]string{"error": "x509: certificate has expired or is not yet valid"})}}
	in.Feedback = &Feedback{Helpful: 20, Wrong: 0}
	shift, _ := FeedbackShift(*in.Feedback)
	if shift <= 0 {
		t.Fatalf("20 helpful verdicts give shift %v, want a raise", shift)
	}
	for _, calib := range []Calibration{{Scores: []float64{0, 1}, Confidences: []float64{maxConfidence, maxConfidence}}, {Scores: []float64{0, 1}, Confidences: []float64{0.93, 0.93}}} {
		calib := calib
		res := Analyze(in, Options{AbstainBelow: -1, Calibration: &calib}, now0)
		top := res.Hypotheses[0]
		var why string
		for _, e := range top.Evidence {
			if e.Kind == nova.EvidenceFeedback {
				why = e.Summary
			}
		}
		moved := int(math.Round((top.Confidence - calib.Confidences[0]) * 100))
		switch {
		case moved == 0 && why != "":
			t.Errorf("at %.2f the confidence did not move, yet the note says %q", calib.Confidences[0], why)
		case moved > 0 && !strings.Contains(why, fmt.Sprintf("raised by %d points", moved)):
			t.Errorf("at %.2f the confidence moved %d points, the note says %q", calib.Confidences[0], moved, why)
		}
	}
}
