package pdemu

import (
	"net/http"
	"time"

	"github.com/novasre/nova"
)

// Request is one REST request the emulator received.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	// Token holds the last four characters of the API key only: enough to
	// tell keys apart in a test, never enough to use one.
	Token string `json:"token,omitempty"`
	// Environment is the token's environment ("" for an unknown token).
	Environment string    `json:"environment,omitempty"`
	From        string    `json:"from,omitempty"`
	Body        string    `json:"body,omitempty"`
	Status      int       `json:"status"` // 0 when the connection was dropped
	At          time.Time `json:"at"`
	// Unexpected says why the emulator refused the request as something it
	// does not model ("" for a modelled request).
	Unexpected string `json:"unexpected,omitempty"`
	// CrossEnvironment names the environment of a resource the request
	// touched with another environment's token ("" when none).
	CrossEnvironment string `json:"cross_environment,omitempty"`
}

func (e *Emulator) record(rec *Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, *rec)
	if rec.Unexpected != "" {
		e.unexpected = append(e.unexpected, *rec)
	}
	if rec.CrossEnvironment != "" {
		e.cross = append(e.cross, *rec)
	}
}

// Requests returns every REST request received so far, in arrival order.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.requests...)
}

// Unexpected returns the requests the emulator refused because it does not
// model them; a test of Nova should expect none.
func (e *Emulator) Unexpected() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.unexpected...)
}

// CrossEnvironment returns the requests that touched a resource of another
// environment than their token's (answered 404, like PagerDuty does for
// another account's resource). A test of Nova should expect none.
func (e *Emulator) CrossEnvironment() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Request(nil), e.cross...)
}

// NonGET counts requests other than GET made with environment's tokens:
// zero proves a read-only rollout wrote nothing.
func (e *Emulator) NonGET(environment string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, r := range e.requests {
		if r.Environment == environment && r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// RateLimited counts the requests answered 429.
func (e *Emulator) RateLimited() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rateLimited
}

// ResetRequests forgets the recorded requests (and the unexpected,
// cross-environment and 429 counts), e.g. after a test's setup phase.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests, e.unexpected, e.cross, e.rateLimited = nil, nil, nil, 0
}

// serveInspection answers GET /_pdemu/requests and /_pdemu/incidents for
// people watching the sandbox; it needs no token and is not recorded.
func (e *Emulator) serveInspection(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 2100, "pdemu: inspection endpoints are GET only")
		return
	}
	switch r.URL.Path {
	case "/_pdemu/requests":
		writeJSON(w, http.StatusOK, map[string]any{
			"requests":          e.Requests(),
			"unexpected":        e.Unexpected(),
			"cross_environment": e.CrossEnvironment(),
			"rate_limited":      e.RateLimited(),
			"deliveries":        e.Deliveries(),
		})
	case "/_pdemu/incidents":
		type view struct {
			nova.Incident
			Environment string      `json:"environment"`
			Notes       []nova.Note `json:"notes"`
		}
		e.mu.Lock()
		out := make([]view, 0, len(e.incidentOrder))
		for _, id := range e.incidentOrder {
			inc := e.incidents[id]
			out = append(out, view{Incident: inc.nova(), Environment: inc.service.env, Notes: inc.novaNotes()})
		}
		e.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
	default:
		writeError(w, http.StatusNotFound, 2100, "pdemu: try /_pdemu/requests or /_pdemu/incidents")
	}
}
