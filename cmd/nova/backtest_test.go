package main

import (
	"strings"
	"testing"
)

func TestBacktestCommandLinesExit2(t *testing.T) {
	for _, args := range [][]string{
		{"backtest"},
		{"backtest", "--service", "checkout", "--since", "2y"},
		{"backtest", "--service", "checkout", "--since", "200d"},
		{"backtest", "--service", "checkout", "--since", "30m"},
		{"backtest", "--service", "checkout", "--limit", "0"},
		{"backtest", "--service", "checkout", "--limit", "5000"},
		{"backtest", "--service", "checkout", "--format", "html"},
		{"backtest", "--service", "checkout", "extra"},
	} {
		if code, _, errOut := runSplit(t, args...); code != exitUsage || !strings.Contains(errOut, "nova backtest:") {
			t.Errorf("nova %s: exit %d, stderr %q; want 2 with the reason", strings.Join(args, " "), code, errOut)
		}
	}
}

func TestParseDays(t *testing.T) {
	for in, want := range map[string]string{"90d": "2160h0m0s", "36h": "36h0m0s", "1d": "24h0m0s"} {
		if d, err := parseDays(in); err != nil || d.String() != want {
			t.Errorf("parseDays(%q) = %s, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"d", "x1d", "ninety"} {
		if _, err := parseDays(in); err == nil {
			t.Errorf("parseDays(%q) accepted", in)
		}
	}
}
