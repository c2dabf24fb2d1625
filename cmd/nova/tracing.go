package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/config"
)

// tracing is Nova's OpenTelemetry set-up: off (nil) unless the
// configuration names an OTLP endpoint. Every method works on nil.
//
// Spans: one server span per routed HTTP request (a new trace: Nova does
// not continue traceparent headers from PagerDuty, Slack or anyone who can
// reach its public routes), one client span per request Nova makes to
// PagerDuty, Slack and action executors (executors also get a traceparent
// header), one span per inbox event processed, continuing the trace of the
// webhook that delivered it, and one per action run.
type tracing struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	prop     propagation.TraceContext
}

// startTracing builds the tracer provider. exporter replaces the OTLP
// exporter (tests pass an in-memory one, which also turns tracing on).
func startTracing(ctx context.Context, cfg *config.Config, exporter sdktrace.SpanExporter) (*tracing, error) {
	t := cfg.Tracing
	var opts []sdktrace.TracerProviderOption
	switch {
	case exporter != nil:
		opts = append(opts, sdktrace.WithSyncer(exporter))
	case t.Enabled():
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(t.OTLPEndpoint))
		if err != nil {
			return nil, fmt.Errorf("tracing.otlp_endpoint: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	default:
		return nil, nil
	}
	name, ratio := t.ServiceName, t.SampleRatio
	if name == "" {
		name = "nova"
	}
	if ratio <= 0 {
		ratio = 1
	}
	bi := readBuildInfo()
	opts = append(opts,
		sdktrace.WithResource(resource.NewSchemaless(
			attribute.String("service.name", name), attribute.String("service.version", bi.Version))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	tp := sdktrace.NewTracerProvider(opts...)
	return &tracing{provider: tp, tracer: tp.Tracer("github.com/novasre/nova")}, nil
}

// shutdown flushes and stops the exporter.
func (t *tracing) shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// routes returns the middleware that gives each routed request a server
// span named by its route template.
func (t *tracing) routes() mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		if t == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			route := r.URL.Path
			if cur := mux.CurrentRoute(r); cur != nil {
				if tpl, err := cur.GetPathTemplate(); err == nil {
					route = tpl
				}
			}
			ctx, span := t.tracer.Start(r.Context(), r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithNewRoot(), trace.WithAttributes(
					attribute.String("http.request.method", r.Method), attribute.String("http.route", route)))
			defer span.End()
			sw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
			next.ServeHTTP(sw, r.WithContext(ctx))
			span.SetAttributes(attribute.Int("http.response.status_code", sw.code))
			if sw.code >= 500 {
				span.SetStatus(codes.Error, http.StatusText(sw.code))
			}
		})
	}
}

// client returns an HTTP client for requests to peer, traced when tracing
// is on; inject also sends the traceparent header (to executors, which may
// continue the trace; never to PagerDuty or Slack). nil when tracing is off,
// so the adapters keep their defaults.
func (t *tracing) client(peer string, inject bool, timeout time.Duration) *http.Client {
	if t == nil {
		return nil
	}
	return &http.Client{Timeout: timeout, Transport: &tracedTransport{base: http.DefaultTransport, t: t, peer: peer, inject: inject}}
}

type tracedTransport struct {
	base   http.RoundTripper
	t      *tracing
	peer   string
	inject bool
}

func (tt *tracedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := tt.t.tracer.Start(req.Context(), req.Method+" "+tt.peer, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("peer.service", tt.peer), attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()), attribute.String("url.path", req.URL.Path)))
	defer span.End()
	out := req.WithContext(ctx)
	if tt.inject {
		out = req.Clone(ctx)
		tt.t.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))
	}
	resp, err := tt.base.RoundTrip(out)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "request failed")
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}

// traceparent returns the W3C traceparent of ctx's span, or "".
func (t *tracing) traceparent(ctx context.Context) string {
	if t == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	t.prop.Inject(ctx, carrier)
	return carrier.Get("traceparent")
}

// botTracer is the bot's view of tracing (nil when off).
func (t *tracing) botTracer() bot.Tracer {
	if t == nil {
		return nil
	}
	return botTracer{t}
}

type botTracer struct{ t *tracing }

func (b botTracer) Start(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(error)) {
	if traceparent != "" {
		ctx = b.t.prop.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
	}
	kv := make([]attribute.KeyValue, 0, len(attrs))
	for k, v := range attrs {
		kv = append(kv, attribute.String(k, v))
	}
	ctx, span := b.t.tracer.Start(ctx, name, trace.WithAttributes(kv...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "failed")
		}
		span.End()
	}
}
