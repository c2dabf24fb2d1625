package triage_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/novasre/nova/triage"
)

// TestCalibrationIsFittedOnDev refits the confidence map and the abstention
// threshold on the development split, and only on it, and checks that they
// are what the engine ships: calibration_data.go is regenerated with
// `go run ./cmd/nova-eval -fit triage/calibration_data.go` after any rule
// change, and never sees the held-out cases.
func TestCalibrationIsFittedOnDev(t *testing.T) {
	var dev []triage.Case
	for _, c := range loadCorpus(t) {
		if c.Split == "dev" {
			dev = append(dev, c)
		}
	}
	cal, choice := triage.FitCalibration(dev, triage.Options{})
	src, err := triage.CalibrationSource(cal, choice.Threshold)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := triage.CalibrationSource(triage.DefaultCalibration(), triage.DefaultAbstainBelow)
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != string(shipped) {
		t.Errorf("calibration_data.go is stale: refit with go run ./cmd/nova-eval -fit triage/calibration_data.go\nfit:\n%s\nshipped:\n%s", src, shipped)
	}
}

func TestFitIsotonic(t *testing.T) {
	var points []triage.CalibrationPoint
	// Right one time in four below 0.5, three times in four above.
	for i := 0; i < 40; i++ {
		score := float64(i) / 40
		right := (score < 0.5 && i%4 == 0) || (score >= 0.5 && i%4 != 0)
		points = append(points, triage.CalibrationPoint{Score: score, Right: right})
	}
	cal := triage.FitIsotonic(points)
	if len(cal.Scores) < 2 || len(cal.Scores) != len(cal.Confidences) {
		t.Fatalf("fit = %+v", cal)
	}
	for i := 1; i < len(cal.Confidences); i++ {
		if cal.Confidences[i] <= cal.Confidences[i-1] || cal.Scores[i] <= cal.Scores[i-1] {
			t.Errorf("not strictly increasing: %+v", cal)
		}
	}
	if lo, hi := cal.Confidences[0], cal.Confidences[len(cal.Confidences)-1]; math.Abs(lo-0.25) > 0.12 || math.Abs(hi-0.75) > 0.12 {
		t.Errorf("fit %+v: want about 25%% at the bottom and 75%% at the top", cal)
	}
	// Deterministic: the same points in another order give the same map.
	rev := append([]triage.CalibrationPoint(nil), points...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if again := triage.FitIsotonic(rev); !reflect.DeepEqual(again, cal) {
		t.Errorf("fit depends on the order of points:\n%+v\n%+v", again, cal)
	}
	if empty := triage.FitIsotonic(nil); len(empty.Scores) != 0 {
		t.Errorf("fit of nothing = %+v, want the identity", empty)
	}
}

func TestChooseAbstainBelow(t *testing.T) {
	outcomes := []triage.Outcome{
		{Confidence: 0.2, AbstainOK: true}, {Confidence: 0.25, AbstainOK: true}, {Confidence: 0.3, Right: false},
		{Confidence: 0.5, Right: true}, {Confidence: 0.8, Right: true}, {Confidence: 0.9, Right: true},
	}
	c := triage.ChooseAbstainBelow(outcomes)
	if c.Threshold <= 0.25 || c.Threshold > 0.5 || c.Recall.Hits != 2 || c.Right.Hits != 5 {
		t.Errorf("choice = %+v, want a threshold above 0.25 and at most 0.5, both abstentions caught, 5 right", c)
	}
}

func TestRaiseConfident(t *testing.T) {
	cal := triage.Calibration{Scores: []float64{0.3, 0.5, 0.7, 1}, Confidences: []float64{0.25, 0.5, 0.85, 0.95}}
	if got := triage.RaiseConfident(cal, 0); !reflect.DeepEqual(got, cal) {
		t.Errorf("zero margin changed the map: %+v", got)
	}
	got := triage.RaiseConfident(cal, 0.1)
	want := triage.Calibration{Scores: []float64{0.3, 0.6, 0.7, 1}, Confidences: []float64{0.25, 0.5, 0.85, 0.95}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("margin 0.1 = %+v, want %+v", got, want)
	}
	if cal.Scores[1] != 0.5 {
		t.Errorf("RaiseConfident changed its argument: %+v", cal)
	}
	// A margin past the first confident step swallows it.
	got = triage.RaiseConfident(cal, 0.25)
	want = triage.Calibration{Scores: []float64{0.3, 0.75, 1}, Confidences: []float64{0.25, 0.5, 0.95}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("margin 0.25 = %+v, want %+v", got, want)
	}
	// A score in the margin is no longer confident.
	shipped := triage.DefaultCalibration()
	for i, c := range shipped.Confidences {
		if c >= triage.ConfidentAt && i > 0 {
			if z := shipped.Scores[i-1] - 0.001; shipped.Confidence(z) >= triage.ConfidentAt {
				t.Errorf("score %.3f just under the confident step reads %.3f", z, shipped.Confidence(z))
			}
			break
		}
	}
}

// TestFitCalibrationCrossValidates checks the fit on the development split:
// the confident step is chosen on confidences from maps that never saw the
// case's postmortem, and keeps cross-validated wrong-but-confident, with
// 95% confidence, at 5% or under.
func TestFitCalibrationCrossValidates(t *testing.T) {
	var dev []triage.Case
	for _, c := range loadCorpus(t) {
		if c.Split == "dev" {
			dev = append(dev, c)
		}
	}
	fit := triage.FitCalibrationCV(dev, triage.Options{})
	t.Logf("margin %.2f, abstain below %.2f, cross-validated wrong but confident %s, abstention recall %s, precision %s",
		fit.Margin, fit.Abstain.Threshold, fit.WrongConfident, fit.Abstain.Recall, fit.Abstain.Precision)
	if fit.Folds < 2 || fit.WrongConfident.Of != len(dev) {
		t.Fatalf("fit = %+v: want every dev case scored out of fold", fit)
	}
	if up := triage.WilsonUpper(fit.WrongConfident, 1.645); up > 0.05 {
		t.Errorf("cross-validated wrong but confident %s (95%% upper bound %.1f%%), want the bound <= 5%%", fit.WrongConfident, 100*up)
	}
	if got := triage.WilsonUpper(triage.Ratio{Hits: 3, Of: 149}, 1.645); math.Abs(got-0.0493) > 0.001 {
		t.Errorf("WilsonUpper(3/149) = %.4f, want about 0.0493", got)
	}
}
