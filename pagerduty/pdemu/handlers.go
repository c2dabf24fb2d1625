package pdemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/novasre/nova"
)

// incidentFor finds incident id. An unknown id, or one
// of another environment, is answered 404 as PagerDuty answers for another
// account's incident; the latter is also recorded as a cross-environment
// violation. The caller holds e.mu.
func (e *Emulator) incidentFor(w http.ResponseWriter, r *http.Request, id string) (*incident, bool) {
	c := callOf(r)
	inc, ok := e.incidents[id]
	if !ok {
		notFound(w)
		return nil, false
	}
	if inc.service.env != c.env {
		c.rec.CrossEnvironment = inc.service.env
		e.logf("cross-environment: %s %s with a %q token touches a %q incident", r.Method, r.URL.Path, c.env, inc.service.env)
		notFound(w)
		return nil, false
	}
	return inc, true
}

// fromUser returns the user named by the From header, which PagerDuty
// requires on writes made with an account key. The caller holds e.mu.
func (e *Emulator) fromUser(w http.ResponseWriter, r *http.Request) (*user, bool) {
	c := callOf(r)
	if c.from == "" {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			`You must specify a user's email address in the "From" header to perform this action`)
		return nil, false
	}
	u := e.userByEmail(c.env, c.from)
	if u == nil {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			`The email address in the "From" header does not belong to a user of this account`)
		return nil, false
	}
	return u, true
}

// checkQuery refuses query parameters the route does not model, so that a
// filter Nova relies on is never silently ignored.
func (e *Emulator) checkQuery(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			c := callOf(r)
			e.unexpectedf(c.rec, "query parameter %q not modelled", k)
			writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
				fmt.Sprintf("pdemu: not modelled: query parameter %q on %s %s", k, r.Method, r.URL.Path))
			return false
		}
	}
	return true
}

// badBody answers a body the emulator cannot take: malformed JSON is a
// client error, unknown fields are something the emulator does not model.
func (e *Emulator) badBody(w http.ResponseWriter, r *http.Request, err error) {
	if strings.Contains(err.Error(), "unknown field") {
		e.unexpectedf(callOf(r).rec, "body: %v", err)
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "pdemu: not modelled: "+err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", err.Error())
}

func (e *Emulator) getIncident(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if inc, ok := e.incidentFor(w, r, r.PathValue("id")); ok {
		writeJSON(w, http.StatusOK, obj{"incident": inc.restJSON()})
	}
}

// incidentUpdate is the part of PUT /incidents[/{id}] bodies the emulator
// models: a status change, with the optional resolution text.
type incidentUpdate struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	Resolution string `json:"resolution"`
}

// apply performs one update as u; the caller holds e.mu.
func (e *Emulator) apply(w http.ResponseWriter, r *http.Request, inc *incident, u *user, up incidentUpdate) bool {
	if up.Type != "incident_reference" && up.Type != "incident" {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "type must be incident_reference")
		return false
	}
	var f *failure
	switch up.Status {
	case nova.StatusAcknowledged:
		f = e.ackLocked(inc, u, "api")
	case nova.StatusResolved:
		f = e.resolveLocked(inc, u, "api")
	default:
		e.unexpectedf(callOf(r).rec, "status %q not modelled", up.Status)
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			fmt.Sprintf("pdemu: not modelled: status %q", up.Status))
		return false
	}
	if f != nil {
		f.write(w)
		return false
	}
	return true
}

func (e *Emulator) putIncident(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	var body struct {
		Incident incidentUpdate `json:"incident"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		e.badBody(w, r, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	u, ok := e.fromUser(w, r)
	if !ok {
		return
	}
	if e.apply(w, r, inc, u, body.Incident) {
		writeJSON(w, http.StatusOK, obj{"incident": inc.restJSON()})
	}
}

// putIncidents is the bulk update go-pagerduty's ManageIncidents sends.
func (e *Emulator) putIncidents(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	var body struct {
		Incidents []incidentUpdate `json:"incidents"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		e.badBody(w, r, err)
		return
	}
	if len(body.Incidents) > 250 {
		writeError(w, http.StatusRequestEntityTooLarge, 2001, "Invalid Input Provided", "at most 250 incidents per request")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Look every incident up first, so a cross-environment id changes nothing.
	incs := make([]*incident, 0, len(body.Incidents))
	for _, up := range body.Incidents {
		inc, ok := e.incidentFor(w, r, up.ID)
		if !ok {
			return
		}
		incs = append(incs, inc)
	}
	u, ok := e.fromUser(w, r)
	if !ok {
		return
	}
	out := make([]obj, 0, len(incs))
	for i, inc := range incs {
		if !e.apply(w, r, inc, u, body.Incidents[i]) {
			return
		}
		out = append(out, inc.restJSON())
	}
	writeJSON(w, http.StatusOK, obj{"incidents": out})
}

func (e *Emulator) getNotes(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	notes := make([]obj, 0, len(inc.notes))
	for _, n := range inc.notes {
		notes = append(notes, n.restJSON())
	}
	writeJSON(w, http.StatusOK, obj{"notes": notes})
}

func (e *Emulator) postNote(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	var body struct {
		Note struct {
			Content string `json:"content"`
			// go-pagerduty sends the From address here too; PagerDuty
			// takes the author from the From header only.
			User json.RawMessage `json:"user"`
		} `json:"note"`
	}
	if err := decodeStrict(r.Body, &body); err != nil {
		e.badBody(w, r, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	u, ok := e.fromUser(w, r)
	if !ok {
		return
	}
	n, f := e.noteLocked(inc, u, body.Note.Content, "api")
	if f != nil {
		f.write(w)
		return
	}
	writeJSON(w, e.opts.NoteStatus, obj{"note": n.restJSON()})
}

// page reads classic offset pagination: limit defaults to 25 and is capped
// at 100, and offset+limit may not pass 10000 (PagerDuty answers 400).
func page(r *http.Request, defaultLimit int) (offset, limit int, f *failure) {
	q := r.URL.Query()
	limit, offset = defaultLimit, 0
	bad := func(name string) *failure {
		return &failure{status: http.StatusBadRequest, code: 2001, message: "Invalid Input Provided",
			details: []string{name + " must be a non-negative integer"}}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, 0, bad("limit")
		}
		limit = min(n, 100)
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, 0, bad("offset")
		}
		offset = n
	}
	if offset+limit > 10000 {
		return 0, 0, &failure{status: http.StatusBadRequest, code: 2001, message: "Invalid Input Provided",
			details: []string{"Offset + limit must be at most 10000"}}
	}
	return offset, limit, nil
}

// paged cuts items to one page and adds PagerDuty's paging fields under key.
func paged[T any](r *http.Request, key string, items []T, offset, limit int) obj {
	end := min(offset+limit, len(items))
	start := min(offset, end)
	var total any
	if r.URL.Query().Get("total") == "true" {
		total = len(items)
	}
	return obj{key: items[start:end], "limit": limit, "offset": offset, "more": end < len(items), "total": total}
}
