package config

import (
	"strings"
	"testing"
)

func TestTracingConfig(t *testing.T) {
	c, err := Parse([]byte(minimal(baseEnv)), lookupFrom(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Tracing.Enabled() || c.Tracing.ServiceName != "nova" || c.Tracing.SampleRatio != 1 {
		t.Errorf("default tracing = %+v, want off, nova, 1", c.Tracing)
	}
	c, err = Parse([]byte(minimal(baseEnv+"tracing: {otlp_endpoint: \"http://otel-collector:4318/v1/traces\", sample_ratio: 0.25}\n")), lookupFrom(nil))
	if err != nil || !c.Tracing.Enabled() || c.Tracing.SampleRatio != 0.25 {
		t.Fatalf("tracing on: %v %+v", err, c.Tracing)
	}
	for doc, want := range map[string]string{
		"tracing: {otlp_endpoint: \"otel:4318\"}\n":                         "tracing.otlp_endpoint",
		"tracing: {otlp_endpoint: \"https://u:p@otel.example.com/\"}\n":     "must not carry credentials",
		"tracing: {otlp_endpoint: \"http://otel:4318\", sample_ratio: 2}\n": "tracing.sample_ratio",
		"tracing: {otlp_endpont: \"http://otel:4318\"}\n":                   "did you mean otlp_endpoint?",
	} {
		if _, err := Parse([]byte(minimal(baseEnv+doc)), lookupFrom(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
}
