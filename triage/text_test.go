package triage

import (
	"math"
	"reflect"
	"testing"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"HighRequestErrorRate on checkout", []string{"request", "checkout"}},
		{"OOMKilled: container restarted", []string{"oomkill", "restart"}},
		{"see https://grafana.example.com/d/abc for details", []string{"see", "detail"}},
		{"Deploy checkout v2.3.1", []string{"checkout"}},
		{"certificate expired; certificates expire", []string{"certificat", "expir"}},
		{"loadGeneratorFloodHomepage", []string{"load", "generator", "flood", "homepag"}},
	}
	for _, tt := range tests {
		if got := tokens(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOverlapIgnoresWordsEveryChangeCarries(t *testing.T) {
	alert := tokens("coredns pods crash looping, dns lookups failing")
	docs := [][]string{
		tokens("upgrade coredns to 1.8.4"),
		tokens("upgrade billing to 4.2"),
		tokens("upgrade frontend to 2.0"),
	}
	w := newIDF(docs)
	hit, shared := overlap(docs[0], alert, nil, w)
	miss, _ := overlap(docs[1], alert, nil, w)
	if hit <= 0.5 || miss != 0 {
		t.Errorf("overlap: coredns change %.2f (shared %v), billing change %.2f; want > 0.5 and 0", hit, shared, miss)
	}
}

func TestOverlapMeetsOnTopics(t *testing.T) {
	// No shared word, but both are about memory.
	got, shared := overlap(tokens("raise heap limit for the JVM"), tokens("container OOMKilled"), nil, newIDF(nil))
	if got <= 0 || !reflect.DeepEqual(shared, []string{"#memory"}) {
		t.Errorf("overlap = %.2f %v, want > 0 via #memory", got, shared)
	}
}

func TestNoisyOr(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.5}, 0.5},
		{[]float64{0.5, 0.5}, 0.75},
		{[]float64{2, math.NaN(), -1}, 1},
		{[]float64{math.NaN()}, 0},
	}
	for _, tt := range tests {
		if got := noisyOr(tt.in...); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("noisyOr(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("  a   b  c ", 10); got != "a b c" {
		t.Errorf("truncate squashes spaces: %q", got)
	}
	if got := truncate("ééééé", 3); got != "éé…" {
		t.Errorf("truncate counts runes: %q", got)
	}
}
