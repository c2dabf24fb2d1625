package pdemu

import (
	"fmt"
	"time"

	"github.com/novasre/nova"
)

// Seeding history: incidents, acknowledgements, notes and resolutions at
// past times, without webhooks (they happened long ago), and PagerDuty's
// past-incident links between existing incidents.

// SeedIncident creates an incident like CreateIncident but sends no
// webhook; Trigger sends it later, once its evidence is in place.
func (e *Emulator) SeedIncident(s IncidentSpec) nova.Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.createLocked(s).nova()
}

// Trigger sends incident.triggered for an incident made with SeedIncident.
func (e *Emulator) Trigger(incidentID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	e.emitLocked(inc, "incident.triggered", nil, inc.webhookJSON())
}

// LinkPastIncident lists pastID among incidentID's past incidents with
// score, as PagerDuty's Past Incidents would (both must exist, on the same
// service).
func (e *Emulator) LinkPastIncident(incidentID, pastID string, score float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, past := e.mustIncident(incidentID), e.mustIncident(pastID)
	if inc.service != past.service {
		panic(fmt.Sprintf("pdemu: LinkPastIncident: %s and %s are on different services", incidentID, pastID))
	}
	inc.past = append(inc.past, pastLink{incidentID: pastID, score: score})
}

// ResolveAt resolves an incident as userID at a past time, with PagerDuty's
// resolution text in the resolve log entry when resolution is set; for
// seeding history. It sends no webhook: it happened long ago.
func (e *Emulator) ResolveAt(incidentID, userID, resolution string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	u := e.mustUser(userID)
	at = at.UTC().Truncate(time.Second)
	inc.status, inc.updatedAt, inc.statusAt, inc.resolved, inc.statusBy = "resolved", at, at, at, userAgent(u)
	for _, a := range inc.alerts {
		a.status = "resolved"
	}
	summary := "Resolved by " + u.name
	if resolution != "" {
		summary += ": " + resolution
	}
	inc.log = append(inc.log, &logEntry{id: e.newID("R"), typ: "resolve_log_entry", summary: summary,
		channel: "website", at: at, agent: userAgent(u)})
}

// AcknowledgeAt acknowledges an incident as userID at a past time, for
// seeding history. It sends no webhook.
func (e *Emulator) AcknowledgeAt(incidentID, userID string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	u := e.mustUser(userID)
	at = at.UTC().Truncate(time.Second)
	inc.status, inc.updatedAt, inc.statusAt, inc.statusBy = "acknowledged", at, at, userAgent(u)
	inc.acks = append(inc.acks, ack{at: at, by: u})
	inc.log = append(inc.log, &logEntry{id: e.newID("R"), typ: "acknowledge_log_entry", summary: "Acknowledged by " + u.name,
		channel: "website", at: at, agent: userAgent(u)})
}

// AddNoteAt adds a note by userID at a past time, for seeding history. It
// sends no webhook.
func (e *Emulator) AddNoteAt(incidentID, userID, text string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	u := e.mustUser(userID)
	at = at.UTC().Truncate(time.Second)
	inc.notes = append(inc.notes, &note{id: e.newID("N"), content: text, by: u, createdAt: at})
	inc.log = append(inc.log, &logEntry{id: e.newID("R"), typ: "annotate_log_entry", summary: "Note added",
		channel: "website", at: at, agent: userAgent(u)})
}
