package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `make run` in one test: the sandbox starts the emulators, runs the real
// nova binary as a child, and shows the hypothesis Nova wrote for the
// signed sample incident; the nova binary itself contains no emulator.
func TestSandboxShowsTheHypothesisNote(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the nova binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "nova")
	if out, err := exec.Command("go", "build", "-o", bin, "../nova").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"--nova", bin, "--once", "--listen", "127.0.0.1:0", "--dir", filepath.Join(dir, "sandbox")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("sandbox: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"Hypothesis posted to the PagerDuty timeline", "Nova hypothesis:", "audit nova-", "Where to look:", "on payments (read-only"} {
		if !strings.Contains(out, want) {
			t.Errorf("sandbox output lacks %q:\n%s", want, out)
		}
	}
}

func TestSandboxNeedsTheNovaBinary(t *testing.T) {
	err := run(context.Background(), []string{"--nova", filepath.Join(t.TempDir(), "missing"), "--once", "--dir", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "start nova") {
		t.Fatalf("a missing binary: %v", err)
	}
}
