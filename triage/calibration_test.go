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
