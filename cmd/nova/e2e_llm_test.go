package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novasre/nova/pagerduty/pdemu"
)

// An OpenAI-compatible endpoint may phrase the summary; when it is slow
// the deterministic hypothesis is posted, on time.
func TestLLMSummaryAndFallback(t *testing.T) {
	var slow atomic.Bool
	var calls atomic.Int32
	llm := newLoopbackServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer llm-key-e2e-0123" {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		if slow.Load() {
			time.Sleep(10 * time.Second) // far beyond Nova's 1 s timeout
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{
			"message": map[string]any{"role": "assistant", "content": "The 5xx spike began right after the checkout deploy; rolling it back is the fastest check."}}}})
	}))
	defer llm.Close()
	h := newHarness(t, harnessOptions{Triage: "  llm: { base_url: \"" + llm.URL + "/v1\", model: test-model, api_key: \"llm-key-e2e-0123\", timeout: 1s }\n"})
	h.start()
	h.pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PCHECKOUT", Summary: "Deploy checkout v9: new payment client", Timestamp: time.Now().Add(-5 * time.Minute)})
	panicAlert := pdemu.AlertSpec{Summary: "checkout-api: panic: nil pointer dereference in payment client", Source: "prometheus"}
	phrased := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5%", panicAlert)
	h.eventually(15*time.Second, "the phrased note", func() bool { return len(h.novaNotes(phrased)) == 1 })
	if n := h.novaNotes(phrased)[0].Content; !strings.Contains(n, "rolling it back is the fastest check") {
		t.Errorf("the LLM's summary is not in the note:\n%s", n)
	}
	slow.Store(true)
	start := time.Now()
	fallback := h.trigger("PCHECKOUT", "checkout-api: 5xx error rate above 5% (2)", panicAlert)
	h.eventually(15*time.Second, "the deterministic note", func() bool { return len(h.novaNotes(fallback)) == 1 })
	if n := h.novaNotes(fallback)[0].Content; strings.Contains(n, "fastest check") || !strings.HasPrefix(n, "Nova hypothesis:") {
		t.Errorf("a slow LLM was waited for:\n%s", n)
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("the note took %s with a slow LLM; the 1 s timeout should bound it", took)
	}
	if calls.Load() < 2 {
		t.Errorf("the LLM was called %d times", calls.Load())
	}
}
