package llm

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/triage"
)

const testKey = "sk-test-SECRET-0123456789"

func fixture() (triage.Input, nova.TriageResult) {
	in := triage.Input{
		Incident: nova.Incident{ID: "Q1", Title: "checkout: 5xx error rate above 5%"},
		Alerts: []nova.Alert{{ID: "A1", Summary: "checkout: 5xx error rate above 5%",
			Details: map[string]string{"db_password": "hunter2"}}},
		Service: nova.Service{ID: "PCHK", Name: "checkout", Runbooks: []nova.Runbook{{Title: "Secret runbook", URL: "https://rb/internal"}}},
		Actions: []nova.Action{
			{Name: "rollback-deploy", Title: "Roll back", Destructive: true, Services: []string{"*"}},
			{Name: "failover-db", Title: "Fail over the database", Destructive: true, Services: []string{"*"}},
		},
	}
	r := nova.TriageResult{
		Hypotheses: []nova.Hypothesis{{
			Rank: 1, Category: nova.CategoryChange, Confidence: 0.71,
			Summary:     "Likely caused by deploy 'checkout v2.3.1' 12 min before the incident (same service)",
			Evidence:    []nova.Evidence{{Kind: nova.EvidenceChange, ID: "C1", Summary: "Deploy 'checkout v2.3.1', 12 min before the incident"}},
			Suggestions: []nova.Suggestion{{ID: "action:rollback-deploy", Title: "Roll back", Action: "rollback-deploy", Destructive: true}},
		}, {Rank: 2, Category: nova.CategoryDependency, Confidence: 0.2, Summary: "Possibly a failing dependency"}},
		Checked: []string{"alerts", "change_events"},
	}
	return in, r
}

// chat answers like an OpenAI-compatible endpoint with content.
func chat(content string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"message": map[string]string{"role": "assistant", "content": content}}}})
	}
}

func newTest(t *testing.T, h http.Handler, timeout time.Duration) *Summariser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s, err := New(Config{BaseURL: srv.URL + "/v1/", Model: "test-model", APIKey: testKey, Timeout: timeout}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSummariseSuccess(t *testing.T) {
	var got struct {
		path, auth string
		body       chatRequest
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path, got.auth = r.URL.Path, r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got.body)
		chat("  The deploy of checkout v2.3.1 twelve minutes earlier\n\nis the likely cause (change, 71%).  ")(w, r)
	})
	s := newTest(t, h, time.Second)
	in, r := fixture()
	text, err := s.Summarise(context.Background(), in, r)
	if err != nil {
		t.Fatal(err)
	}
	if text != "The deploy of checkout v2.3.1 twelve minutes earlier is the likely cause (change, 71%)." {
		t.Errorf("text = %q", text)
	}
	if got.path != "/v1/chat/completions" || got.auth != "Bearer "+testKey || got.body.Model != "test-model" || got.body.Temperature != 0 {
		t.Errorf("request: path %q auth %q model %q temperature %v", got.path, got.auth, got.body.Model, got.body.Temperature)
	}
	prompt := got.body.Messages[0].Content + got.body.Messages[1].Content
	for _, want := range []string{"checkout v2.3.1", "0.71", "change_events", "checkout: 5xx error rate"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("prompt lacks %q", want)
		}
	}
	// Only evidence and the result: no alert details, no catalog, no runbooks, no key.
	for _, leak := range []string{"hunter2", "failover-db", "rollback-deploy", "https://rb/internal", testKey} {
		if strings.Contains(prompt, leak) {
			t.Errorf("prompt contains %q", leak)
		}
	}
}

func TestSummariseFailures(t *testing.T) {
	long := strings.Repeat("word ", MaxSummary)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		code    string
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "internal error; your key was "+testKey, http.StatusInternalServerError)
		}, nova.EUNAVAILABLE},
		{"429", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }, nova.ERATELIMITED},
		{"garbage JSON", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "<html>"+testKey) }, nova.EINTERNAL},
		{"no choices", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"choices":[]}`) }, nova.EINTERNAL},
		{"empty answer", chat("   \n "), nova.EINTERNAL},
		{"oversized summary", chat(long), nova.ETOOLARGE},
		{"oversized body", func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"choices":[{"message":{"content":"`+strings.Repeat("a", 2<<20)+`"}}]}`)
		}, nova.ETOOLARGE},
		{"names an action triage did not suggest", chat("Likely the deploy; consider failover-db."), nova.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTest(t, tt.handler, 2*time.Second)
			in, r := fixture()
			text, err := s.Summarise(context.Background(), in, r)
			if err == nil {
				t.Fatalf("accepted %q", text)
			}
			if nova.ErrorCode(err) != tt.code {
				t.Errorf("code %s, want %s (%v)", nova.ErrorCode(err), tt.code, err)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(nova.ErrorMessage(err), testKey) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestSummariseMayNameTheSuggestedAction(t *testing.T) {
	s := newTest(t, chat("The deploy is the likely cause; rollback-deploy is among the suggestions."), time.Second)
	in, r := fixture()
	if _, err := s.Summarise(context.Background(), in, r); err != nil {
		t.Fatal(err)
	}
}

func TestSummariseTimesOut(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // lets the server notice the client going away
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	s := newTest(t, h, 50*time.Millisecond)
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	in, r := fixture()
	start := time.Now()
	_, err := s.Summarise(context.Background(), in, r)
	if err == nil || nova.ErrorCode(err) != nova.EUNAVAILABLE {
		t.Fatalf("err = %v, want unavailable", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s, want about the 50ms timeout", el)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("error leaks the key: %v", err)
	}
}

func TestSummariseRefusesAbstainedResults(t *testing.T) {
	called := false
	s := newTest(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }), time.Second)
	in, r := fixture()
	r.Abstained = true
	if _, err := s.Summarise(context.Background(), in, r); err == nil || called {
		t.Fatalf("err = %v, called = %v: want a refusal without a request", err, called)
	}
	if _, err := s.Summarise(context.Background(), in, nova.TriageResult{}); err == nil {
		t.Fatal("summarised an empty result")
	}
}

func TestUnreachableEndpointErrorHasNoSecrets(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	s, err := New(Config{BaseURL: url, Model: "m", APIKey: testKey, Timeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, r := fixture()
	_, err = s.Summarise(context.Background(), in, r)
	if err == nil || nova.ErrorCode(err) != nova.EUNAVAILABLE || strings.Contains(err.Error(), testKey) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no URL", Config{Model: "m"}},
		{"not http", Config{BaseURL: "ftp://x", Model: "m"}},
		{"no host", Config{BaseURL: "https://", Model: "m"}},
		{"credentials in URL", Config{BaseURL: "https://user:" + testKey + "@llm.example/v1", Model: "m"}},
		{"key in query", Config{BaseURL: "https://llm.example/v1?key=" + testKey, Model: "m"}},
		{"no model", Config{BaseURL: "https://llm.example/v1"}},
		{"negative timeout", Config{BaseURL: "https://llm.example/v1", Model: "m", Timeout: -time.Second}},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg, nil)
		if err == nil || nova.ErrorCode(err) != nova.EINVALID {
			t.Errorf("%s: err = %v, want invalid", tt.name, err)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: error leaks the key: %v", tt.name, err)
		}
	}
	s, err := New(Config{BaseURL: "https://llm.example/v1/", Model: "m"}, nil)
	if err != nil || s.cfg.Timeout != DefaultTimeout || s.endpoint != "https://llm.example/v1/chat/completions" {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
}
