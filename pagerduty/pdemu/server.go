package pdemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// acceptV2 is the version header PagerDuty's REST API v2 expects.
const acceptV2 = "application/vnd.pagerduty+json;version=2"

// call is what the handlers know about the request being served.
type call struct {
	env   string
	token string
	from  string
	rec   *Request
}

type callKey struct{}

func callOf(r *http.Request) *call { return r.Context().Value(callKey{}).(*call) }

// routes is the table of everything the emulator models; anything else is
// refused as "not modelled".
func (e *Emulator) routes() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /incidents", e.listIncidents)
	m.HandleFunc("GET /incidents/{id}", e.getIncident)
	m.HandleFunc("PUT /incidents/{id}", e.putIncident)
	m.HandleFunc("PUT /incidents", e.putIncidents)
	m.HandleFunc("GET /incidents/{id}/alerts", e.getAlerts)
	m.HandleFunc("GET /incidents/{id}/notes", e.getNotes)
	m.HandleFunc("POST /incidents/{id}/notes", e.postNote)
	m.HandleFunc("GET /incidents/{id}/log_entries", e.getLogEntries)
	m.HandleFunc("GET /incidents/{id}/related_change_events", e.getRelatedChanges)
	m.HandleFunc("GET /incidents/{id}/past_incidents", e.getPastIncidents)
	m.HandleFunc("GET /incidents/{id}/related_incidents", e.getRelatedIncidents)
	m.HandleFunc("GET /incidents/{id}/outlier_incident", e.getOutlier)
	m.HandleFunc("GET /services/{id}", e.getService)
	m.HandleFunc("GET /services/{id}/change_events", e.getServiceChanges)
	m.HandleFunc("GET /services", e.listServices)
	m.HandleFunc("GET /service_dependencies/technical_services/{id}", e.getServiceDependencies)
	m.HandleFunc("GET /users", e.listUsers)
	m.HandleFunc("GET /webhook_subscriptions", e.listSubscriptions)
	m.HandleFunc("POST /webhook_subscriptions", e.postSubscription)
	m.HandleFunc("GET /webhook_subscriptions/{id}", e.getSubscription)
	return m
}

func (e *Emulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_pdemu/") {
		e.serveInspection(w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		From:   r.Header.Get("From"),
		Body:   string(body),
		At:     e.opts.Now().UTC(),
	}
	sw := &statusWriter{ResponseWriter: w}
	// Recorded in a defer so that a dropped connection (a panic with
	// http.ErrAbortHandler) is recorded too, with Status 0.
	defer func() { rec.Status = sw.status; e.record(rec) }()

	e.mu.Lock()
	latency := e.latency
	e.mu.Unlock()
	sleepCtx(r.Context(), latency)

	token, env, ok := e.authenticate(r)
	rec.Token, rec.Environment = lastFour(token), env
	if !ok {
		e.logf("401 for %s %s: unknown or missing token", r.Method, r.URL.Path)
		writeError(sw, http.StatusUnauthorized, 2006, "Authentication failed")
		return
	}
	if r.Header.Get("Accept") != acceptV2 {
		e.unexpectedf(rec, "missing Accept: %s", acceptV2)
		writeError(sw, http.StatusNotAcceptable, 2001,
			fmt.Sprintf("pdemu: requests must carry Accept: %s", acceptV2))
		return
	}
	if !e.rateLimit(sw, token) {
		return
	}
	if clean := path.Clean(r.URL.Path); clean != r.URL.Path || r.URL.RawPath != "" {
		e.notModelled(sw, rec)
		return
	}
	if _, pattern := e.mux.Handler(r); pattern == "" {
		e.notModelled(sw, rec)
		return
	}
	c := &call{env: env, token: token, from: rec.From, rec: rec}
	r = r.WithContext(context.WithValue(r.Context(), callKey{}, c))
	if f := e.takeFault(r.Method, r.URL.Path); f != nil {
		e.serveFault(sw, r, f)
		return
	}
	e.mux.ServeHTTP(sw, r)
}

// authenticate accepts only PagerDuty's API-key form of Authorization.
func (e *Emulator) authenticate(r *http.Request) (token, env string, ok bool) {
	token, found := strings.CutPrefix(r.Header.Get("Authorization"), "Token token=")
	if !found || token == "" {
		return "", "", false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	env, ok = e.tokens[token]
	return token, env, ok
}

// rateLimit counts the request against token's window and sets the
// ratelimit-* headers; it answers 429 and returns false when over.
func (e *Emulator) rateLimit(w http.ResponseWriter, token string) bool {
	remaining, reset, ok := e.limiter.take(token, e.opts.Now())
	h := w.Header()
	h.Set("ratelimit-limit", strconv.Itoa(e.opts.RateLimit))
	h.Set("ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("ratelimit-reset", strconv.Itoa(reset))
	if ok {
		return true
	}
	e.mu.Lock()
	e.rateLimited++
	e.mu.Unlock()
	writeError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
	return false
}

func (e *Emulator) notModelled(w http.ResponseWriter, rec *Request) {
	msg := fmt.Sprintf("pdemu: not modelled: %s %s", rec.Method, rec.Path)
	e.unexpectedf(rec, "not modelled")
	writeError(w, http.StatusNotFound, 2100, msg)
}

// unexpectedf marks rec as something the emulator does not model; it is
// recorded in Unexpected once the request ends.
func (e *Emulator) unexpectedf(rec *Request, format string, args ...any) {
	rec.Unexpected = fmt.Sprintf(format, args...)
	e.logf("unexpected %s %s: %s", rec.Method, rec.Path, rec.Unexpected)
}

// apiError is PagerDuty's error body.
type apiError struct {
	Error apiErrorObject `json:"error"`
}

type apiErrorObject struct {
	Message string   `json:"message"`
	Code    int      `json:"code"`
	Errors  []string `json:"errors,omitempty"`
}

func writeError(w http.ResponseWriter, status, code int, message string, details ...string) {
	writeJSON(w, status, apiError{Error: apiErrorObject{Message: message, Code: code, Errors: details}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter) { writeError(w, http.StatusNotFound, 2100, "Not Found") }

// statusWriter remembers the status written, for the request record.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func lastFour(token string) string {
	if len(token) <= 4 {
		return token
	}
	return token[len(token)-4:]
}

// sleepCtx waits d or until ctx ends, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// decodeStrict decodes a JSON body and refuses unknown fields, so a request
// that sets something the emulator would silently ignore fails instead.
func decodeStrict(body io.Reader, v any) error {
	d := json.NewDecoder(body)
	d.DisallowUnknownFields()
	return d.Decode(v)
}
