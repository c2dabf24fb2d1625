package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store/bolt"
)

func quiet() logrus.FieldLogger {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func TestRequireKey(t *testing.T) {
	keys := func() []APIKey {
		return []APIKey{{Name: "dash", Key: "read-key-0123456789", Scope: ScopeRead}, {Name: "ops", Key: "admin-key-0123456789", Scope: ScopeAdmin}}
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	cases := []struct {
		name, scope, header string
		want                int
	}{
		{"read key, read route", ScopeRead, "Bearer read-key-0123456789", 204},
		{"admin key, read route", ScopeRead, "Bearer admin-key-0123456789", 204},
		{"admin key, admin route", ScopeAdmin, "Bearer admin-key-0123456789", 204},
		{"read key, admin route", ScopeAdmin, "Bearer read-key-0123456789", 403},
		{"scheme is case-insensitive", ScopeRead, "bearer read-key-0123456789", 204},
		{"no header", ScopeRead, "", 401},
		{"basic auth", ScopeRead, "Basic cmVhZDprZXk=", 401},
		{"prefix of a key", ScopeRead, "Bearer read-key-01234", 401},
		{"key plus junk", ScopeRead, "Bearer read-key-0123456789x", 401},
		{"empty bearer", ScopeRead, "Bearer ", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			w := httptest.NewRecorder()
			RequireKey(keys, c.scope, nil, quiet(), ok).ServeHTTP(w, r)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, c.want, w.Body)
			}
			if strings.Contains(w.Body.String(), "key-0123456789") {
				t.Fatal("an answer repeats a key")
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

type incidents map[string]nova.IncidentRecord

func (m incidents) Incident(_ context.Context, id string) (nova.IncidentRecord, error) {
	r, ok := m[id]
	if !ok {
		return r, nova.Errorf(nova.ENOTFOUND, "Nova has no record of incident %s", id)
	}
	return r, nil
}

func TestIncidentHandlerFlattensTheTriageResult(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	src := incidents{
		"Q1": {ID: "Q1", ServiceID: "P1", TriggeredAt: at, HypothesisAt: at.Add(4 * time.Second), Triage: &nova.TriageResult{
			Hypotheses: []nova.Hypothesis{{Rank: 1, Summary: "deploy", Category: nova.CategoryChange, Confidence: 0.7,
				Evidence: []nova.Evidence{{Kind: "change", ID: "C1", Summary: "deploy"}}}},
			Checked: []string{"alerts"}, Elapsed: 1500 * time.Millisecond}},
		"Q2": {ID: "Q2", ServiceID: "P1"},
	}
	r := mux.NewRouter()
	r.Handle("/api/v1/incidents/{id}", IncidentHandler(src))
	get := func(id string) (int, map[string]any) {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/incidents/"+id, nil))
		var body map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	code, body := get("Q1")
	if code != 200 || body["abstained"] != false || body["elapsed_ms"] != float64(1500) || body["triage_status"] != "done" ||
		body["time_to_hypothesis_ms"] != float64(4000) || body["service_id"] != "P1" {
		t.Fatalf("Q1: %d %v", code, body)
	}
	ev := body["hypotheses"].([]any)[0].(map[string]any)["evidence"].([]any)[0].(map[string]any)
	if _, has := ev["at"]; has {
		t.Errorf("a zero evidence time is rendered: %v", ev)
	}
	if _, nested := body["triage"]; nested {
		t.Error("the triage result is nested as well as flattened")
	}
	if code, body = get("Q2"); code != 200 || body["triage_status"] != "pending" || len(body["hypotheses"].([]any)) != 0 {
		t.Fatalf("Q2 before triage: %d %v", code, body)
	}
	if code, body = get("Q404"); code != 404 || !strings.Contains(body["error"].(string), "no record") {
		t.Fatalf("unknown: %d %v", code, body)
	}
	if code, _ = get("Q-1;drop"); code != 400 {
		t.Fatalf("malformed id: %d", code)
	}
}

func TestWriteErrorHidesInternals(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, io.ErrUnexpectedEOF)
	if w.Code != 500 || strings.Contains(w.Body.String(), "EOF") {
		t.Errorf("plain error: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, nova.WrapError(nova.EUNAVAILABLE, io.ErrUnexpectedEOF, "store unavailable"))
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"store unavailable"`) || strings.Contains(w.Body.String(), "EOF") {
		t.Errorf("wrapped error: %d %s", w.Code, w.Body)
	}
	for code, status := range map[string]int{nova.EINVALID: 400, nova.EUNAUTHORIZED: 401, nova.EFORBIDDEN: 403, nova.ENOTFOUND: 404,
		nova.ECONFLICT: 409, nova.ETOOLARGE: 413, nova.ERATELIMITED: 429, nova.EUNAVAILABLE: 503, "unheard-of": 500} {
		if got := StatusCode(code); got != status {
			t.Errorf("StatusCode(%s) = %d, want %d", code, got, status)
		}
	}
}

// TestRedTeam12_AuditAfterOverflow: after=MaxInt64 wrapped to the start of
// the log in the bolt store (after+1 overflowed), serving every entry again.
func TestRedTeam12_AuditAfterOverflow(t *testing.T) {
	st, err := bolt.Open(t.TempDir()+"/nova.db", bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 3 {
		if _, err := st.AppendAudit(context.Background(), nova.AuditEntry{Actor: "nova", Action: "test", Outcome: "ok", Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	h := AuditHandler(st)
	get := func(after string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/v1/audit?after="+after, nil))
		return w.Code, w.Body.String()
	}
	for _, after := range []string{"9223372036854775807", "9223372036854775806", "99999999999999999999999", "-1", "9007199254740992"} {
		code, body := get(after)
		if code != http.StatusBadRequest || !strings.Contains(body, "after must be an audit sequence number between 0 and") {
			t.Errorf("after=%s: %d %s", after, code, body)
		}
	}
	if code, body := get("9007199254740991"); code != 200 || !strings.Contains(body, `"entries":[]`) {
		t.Errorf("after=MaxAuditSeq: %d %s", code, body)
	}
	if code, body := get("1"); code != 200 || strings.Count(body, `"action":"test"`) != 2 {
		t.Errorf("after=1: %d %s", code, body)
	}
	// The store itself no longer wraps either.
	if got, err := st.ListAudit(context.Background(), math.MaxInt64, 10); err != nil || len(got) != 0 {
		t.Errorf("ListAudit(MaxInt64) = %d entries, %v", len(got), err)
	}
}

// TestRedTeam8_AuthLimiter: failed authentication is throttled per client
// address, with Retry-After, one throttle notice per episode, and a bounded
// table; other addresses are not affected.
func TestRedTeam8_AuthLimiter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	var notices []string
	l := &AuthLimiter{PerMinute: 10, Now: func() time.Time { return now },
		OnThrottle: func(client string, n int) { notices = append(notices, fmt.Sprintf("%s:%d", client, n)) }}
	keys := func() []APIKey { return []APIKey{{Name: "ops", Key: "admin-key-0123456789", Scope: ScopeAdmin}} }
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := RequireKey(keys, ScopeRead, l, quiet(), ok)
	call := func(addr, key string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/x", nil)
		r.RemoteAddr = addr
		r.Header.Set("Authorization", "Bearer "+key)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for i := range 10 {
		if w := call("192.0.2.7:1000", fmt.Sprint("guess-", i)); w.Code != 401 {
			t.Fatalf("guess %d: %d", i, w.Code)
		}
	}
	w := call("192.0.2.7:1001", "admin-key-0123456789")
	if w.Code != 429 || w.Header().Get("Retry-After") != "6" {
		t.Fatalf("the right key from a throttled address: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := call("192.0.2.8:1000", "admin-key-0123456789"); w.Code != 204 {
		t.Errorf("another address: %d", w.Code)
	}
	if w := call("[2001:db8::1]:1", "x"); w.Code != 401 {
		t.Errorf("IPv6: %d", w.Code)
	}
	if got := ClientAddress(&http.Request{RemoteAddr: "[2001:db8::1:2:3:4]:55"}); got != "2001:db8::/64" {
		t.Errorf("IPv6 client address = %q", got)
	}
	now = now.Add(6 * time.Second)
	if w := call("192.0.2.7:1002", "admin-key-0123456789"); w.Code != 204 {
		t.Errorf("after Retry-After: %d", w.Code)
	}
	if w := call("192.0.2.7:1003", "guess-again"); w.Code != 401 {
		t.Errorf("one more guess after the wait: %d", w.Code)
	}
	if w := call("192.0.2.7:1004", "guess-again"); w.Code != 429 {
		t.Errorf("and then throttled again: %d", w.Code)
	}
	if len(notices) != 1 || notices[0] != "192.0.2.7:10" {
		t.Errorf("throttle notices = %v, want one for the episode", notices)
	}
	for i := range maxThrottledClients + 50 {
		l.Fail(fmt.Sprintf("198.51.%d.%d", i/256, i%256))
	}
	if n := len(l.clients); n > maxThrottledClients {
		t.Errorf("the limiter keeps %d clients, bound %d", n, maxThrottledClients)
	}
}

// TestRedTeam12_MetricsBearer: RequireBearer needs the configured token.
func TestRedTeam12_MetricsBearer(t *testing.T) {
	token := ""
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := RequireBearer(func() string { return token }, &AuthLimiter{PerMinute: 10}, quiet(), ok)
	get := func(auth string) int {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if get("") != 204 {
		t.Error("no token configured: the endpoint should be open")
	}
	token = "metrics-token-0123456789"
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer metrics-token-012345678": 401, "Bearer " + token: 204} {
		if got := get(auth); got != want {
			t.Errorf("%q: %d, want %d", auth, got, want)
		}
	}
}
