package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunReportsBothSplits: make eval prints the held-out and development
// splits, each with its reliability table and its abstention signals.
func TestRunReportsBothSplits(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, filepath.Join("..", "..", "triage", "testdata", "cases"), "", false); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	held, dev := strings.Index(s, "held-out split"), strings.Index(s, "development split")
	if held < 0 || dev < held {
		t.Fatalf("splits missing or out of order:\n%s", s)
	}
	for _, part := range []string{s[held:dev], s[dev:]} {
		for _, want := range []string{"wrong but confident", "confidence   cases", "0.8-1.0", "abstention signal", "thin evidence", "top two close"} {
			if !strings.Contains(part, want) {
				t.Errorf("split section lacks %q:\n%s", want, part)
			}
		}
	}
}

// TestWriteFitReportsCrossValidation: -fit writes Go source and says what
// cross-validation chose.
func TestWriteFitReportsCrossValidation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "calibration_data.go")
	var out bytes.Buffer
	if err := writeFit(&out, filepath.Join("..", "..", "triage", "testdata", "cases"), path); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "cross-validated by postmortem") || !strings.Contains(out.String(), "confident step raised by") {
		t.Errorf("fit report: %s", out.String())
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join("..", "..", "triage", "calibration_data.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, shipped) {
		t.Errorf("refit differs from the shipped calibration_data.go:\n%s", src)
	}
}
