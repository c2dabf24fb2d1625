package config

import (
	"net/url"
)

// TracingConfig turns on OpenTelemetry tracing (off by default): spans for
// every HTTP request Nova serves and makes, each event's processing and each
// action run, exported over OTLP/HTTP.
type TracingConfig struct {
	// OTLPEndpoint is the collector's OTLP/HTTP traces URL, e.g.
	// http://otel-collector:4318/v1/traces. Empty means tracing is off.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// SampleRatio is the share of new traces recorded, in (0, 1]; default 1.
	// Traces started elsewhere (a traceparent header) follow their parent.
	SampleRatio float64 `yaml:"sample_ratio"`
	// ServiceName is service.name on every span; default "nova".
	ServiceName string `yaml:"service_name"`
}

// Enabled reports whether traces are exported.
func (t TracingConfig) Enabled() bool { return t.OTLPEndpoint != "" }

func (c *Config) validateTracing() []string {
	var p problems
	t := &c.Tracing
	if t.ServiceName == "" {
		t.ServiceName = "nova"
	}
	if t.SampleRatio == 0 {
		t.SampleRatio = 1
	}
	if t.OTLPEndpoint != "" {
		u, err := url.Parse(t.OTLPEndpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			p.add("tracing.otlp_endpoint", "%q is not an http(s) URL (e.g. http://otel-collector:4318/v1/traces)", t.OTLPEndpoint)
		} else if u.User != nil {
			p.add("tracing.otlp_endpoint", "must not carry credentials")
		}
	}
	if t.SampleRatio < 0 || t.SampleRatio > 1 {
		p.add("tracing.sample_ratio", "must be in (0, 1]")
	}
	return p
}
