package slack

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipPlain(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "restart checkout", 75, "restart checkout"},
		{"exact", "abcde", 5, "abcde"},
		{"cut", "abcdefgh", 5, "abcd…"},
		{"trailing space trimmed", "ab   cdefgh", 5, "ab…"},
		{"runes not bytes", "ééééééé", 5, "éééé…"},
		// 😀 is one rune but two UTF-16 units, as Slack's clients count it.
		{"astral counted as two", "😀😀😀😀", 5, "😀😀…"},
		{"invalid utf-8 repaired", "ab\xffcdefgh", 5, "ab\uFFFDc…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clipPlain(tt.in, tt.max)
			if got != tt.want {
				t.Fatalf("clipPlain(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if !utf8.ValidString(got) || textLen(got) > tt.max {
				t.Fatalf("result %q invalid or too long", got)
			}
		})
	}
}

func TestClipMrkdwn(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name, in, url string
		max           int
		want          string
	}{
		{"fits", "short", "https://nova/i/1", 30, "short"},
		{"more link", long + long, "https://n/1", 50, strings.Repeat("x", 29) + " … <https://n/1|more>"},
		{"no url", long, "", 30, strings.Repeat("x", 28) + " …"},
		{"never splits a link", strings.Repeat("y", 20) + " <https://example.com/a|a link> tail", "", 30, strings.Repeat("y", 20) + " …"},
		{"never splits an entity", strings.Repeat("z", 26) + "&amp; tail", "", 30, strings.Repeat("z", 26) + " …"},
		{"overlong url falls back to ellipsis", long, strings.Repeat("u", 50), 30, strings.Repeat("x", 28) + " …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clipMrkdwn(tt.in, tt.max, tt.url)
			if got != tt.want {
				t.Fatalf("clipMrkdwn = %q, want %q", got, tt.want)
			}
			if textLen(got) > tt.max {
				t.Fatalf("%q is %d long, over %d", got, textLen(got), tt.max)
			}
		})
	}
}

func TestCutKeepsValuesVerbatim(t *testing.T) {
	if got := cut("appr-123", 2000); got != "appr-123" {
		t.Fatalf("cut changed a short value: %q", got)
	}
	if got := cut(strings.Repeat("v", 2100), 2000); len(got) != 2000 || strings.Contains(got, "…") {
		t.Fatalf("cut = %d chars, ellipsis=%v", len(got), strings.Contains(got, "…"))
	}
}
