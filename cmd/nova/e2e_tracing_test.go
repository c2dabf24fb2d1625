package main

import (
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// With tracing on, one incident's trigger is one trace from the webhook
// request through its processing to the PagerDuty note, and an approval
// click is one trace from the Slack request to the executor's request.
func TestTracingFollowsWebhookToNoteAndClickToExecutor(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	h := newHarness(t, harnessOptions{Spans: spans})
	in := h.start()
	inc, req := h.proposeRollback("v7.7.7")
	h.click(in, "prod", "U0ALICE", req, "approve")
	h.eventually(15*time.Second, "the run", func() bool { return len(h.receiver.Runs()) == 1 })
	h.eventually(15*time.Second, "the run span", func() bool {
		_, ok := findSpan(spans.GetSpans(), "nova.run rollback", "nova.incident_id", inc)
		return ok
	})
	all := spans.GetSpans()

	// Webhook → processing → note.
	process, ok := findSpan(all, "nova.process incident.triggered", "nova.incident_id", inc)
	if !ok {
		t.Fatalf("no processing span for %s among %d spans", inc, len(all))
	}
	trigger := inTrace(all, process.SpanContext.TraceID())
	server, ok := byID(trigger, process.Parent.SpanID())
	if !ok || server.Name != "POST /webhooks/pagerduty/{environment}" || server.SpanKind != trace.SpanKindServer || !process.Parent.IsRemote() {
		t.Fatalf("the processing span's parent is not the webhook request's span: %+v", process.Parent)
	}
	var note, evidence bool
	for _, s := range trigger {
		path := attr(s, "url.path")
		if s.Name == "POST pagerduty" && path == "/incidents/"+inc+"/notes" && descends(trigger, s, process) {
			note = true
		}
		if s.Name == "GET pagerduty" && strings.HasPrefix(path, "/incidents/"+inc+"/") && descends(trigger, s, process) {
			evidence = true
		}
	}
	if !note || !evidence {
		t.Errorf("trigger trace: note span %v, evidence spans %v; spans: %v", note, evidence, names(trigger))
	}

	// Click → run → executor.
	run, _ := findSpan(all, "nova.run rollback", "nova.incident_id", inc)
	click := inTrace(all, run.SpanContext.TraceID())
	var root, exec bool
	for _, s := range click {
		if s.Name == "POST /slack/interactions" && !s.Parent.IsValid() && descends(click, run, s) {
			root = true
		}
		if s.Name == "POST executor" && s.SpanKind == trace.SpanKindClient && descends(click, s, run) {
			exec = true
		}
	}
	if !root || !exec {
		t.Errorf("click trace: from the Slack request %v, to the executor %v; spans: %v", root, exec, names(click))
	}
}

func findSpan(spans tracetest.SpanStubs, name, key, value string) (tracetest.SpanStub, bool) {
	for _, s := range spans {
		if s.Name == name && attr(s, key) == value {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

func inTrace(spans tracetest.SpanStubs, id trace.TraceID) tracetest.SpanStubs {
	var out tracetest.SpanStubs
	for _, s := range spans {
		if s.SpanContext.TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

func byID(spans tracetest.SpanStubs, id trace.SpanID) (tracetest.SpanStub, bool) {
	for _, s := range spans {
		if s.SpanContext.SpanID() == id {
			return s, true
		}
	}
	return tracetest.SpanStub{}, false
}

// descends reports whether s is ancestor or a descendant of it.
func descends(spans tracetest.SpanStubs, s, ancestor tracetest.SpanStub) bool {
	for i := 0; i < 64; i++ {
		if s.SpanContext.SpanID() == ancestor.SpanContext.SpanID() {
			return true
		}
		parent, ok := byID(spans, s.Parent.SpanID())
		if !ok {
			return false
		}
		s = parent
	}
	return false
}

func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == attribute.Key(key) {
			return kv.Value.Emit()
		}
	}
	return ""
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
