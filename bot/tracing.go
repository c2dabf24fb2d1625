package bot

import "context"

// Tracer starts spans around the application's own work: each inbox
// event's processing and each action run. cmd/nova puts OpenTelemetry
// behind it; nil (the default) traces nothing.
type Tracer interface {
	// Start begins a span named name: a child of the span in ctx or, when
	// traceparent (W3C) is set, of that remote parent. The returned
	// function records err, if any, and ends the span.
	Start(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(err error))
}

// span is the inbox's and the approval flow's Span port.
func (a *App) span(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(error)) {
	if a.cfg.Tracer == nil {
		return ctx, func(error) {}
	}
	return a.cfg.Tracer.Start(ctx, name, traceparent, attrs)
}
