package pdemu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/novasre/nova"
)

// IncidentSpec describes an incident to create.
type IncidentSpec struct {
	ServiceID string
	Title     string
	// Urgency is high or low; "" means high.
	Urgency string
	// Priority is a priority name such as "P1"; "" means none.
	Priority string
	// IncidentKey deduplicates alerts in PagerDuty; "" means a random one.
	IncidentKey string
	// Alerts grouped into the incident; none means one alert titled Title.
	Alerts []AlertSpec
	// Assignees are user ids.
	Assignees []string
	// CreatedAt defaults to now.
	CreatedAt time.Time
}

// AlertSpec describes one alert of an incident.
type AlertSpec struct {
	Summary  string
	Severity string // critical, error, warning or info; "" means critical
	Source   string
	// Details are the alert's custom details (body.details and
	// cef_details.details), nested as the monitoring tool sent them.
	Details map[string]any
}

type incident struct {
	id, title, status, urgency, priority, key string
	number                                    int
	service                                   *service
	createdAt, updatedAt, statusAt, resolved  time.Time
	// reopened is when a resolved incident was last reopened (zero if never).
	reopened  time.Time
	statusBy  agent
	assignees []*user
	acks      []ack
	alerts    []*alert
	notes     []*note
	log       []*logEntry
	related   []relation
	past      []pastLink
	changes   []correlation
	outlier   *OutlierSpec
}

type ack struct {
	at time.Time
	by *user
}

type alert struct {
	id, summary, severity, source, status string
	details                               map[string]any
	createdAt                             time.Time
}

type note struct {
	id, content string
	by          *user
	createdAt   time.Time
}

type logEntry struct {
	id, typ, summary, channel string
	at                        time.Time
	agent                     agent
}

// agent is who did something: a user, or a service for automatic triggers.
type agent struct{ id, typ, summary string }

func userAgent(u *user) agent { return agent{id: u.id, typ: "user_reference", summary: u.name} }

// failure is an error the emulator answers with PagerDuty's error body.
type failure struct {
	status, code int
	message      string
	details      []string
}

// Error implements error, for the test helpers that return a failure.
func (f *failure) Error() string { return fmt.Sprintf("%d %s (code %d)", f.status, f.message, f.code) }

func (f *failure) write(w http.ResponseWriter) {
	writeError(w, f.status, f.code, f.message, f.details...)
}

// CreateIncident triggers an incident on a service (which must exist) and
// sends incident.triggered to the environment's webhook subscriptions.
func (e *Emulator) CreateIncident(s IncidentSpec) nova.Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.createLocked(s)
	e.emitLocked(inc, "incident.triggered", nil, inc.webhookJSON())
	return inc.nova()
}

// createLocked builds and stores an incident; the caller holds e.mu.
func (e *Emulator) createLocked(s IncidentSpec) *incident {
	svc, ok := e.services[s.ServiceID]
	if !ok {
		panic(fmt.Sprintf("pdemu: CreateIncident: unknown service %q (AddService first)", s.ServiceID))
	}
	at := s.CreatedAt
	if at.IsZero() {
		at = e.opts.Now()
	}
	at = at.UTC().Truncate(time.Second)
	e.number++
	inc := &incident{
		id: e.newID("Q"), number: e.number, title: s.Title, status: nova.StatusTriggered,
		urgency: s.Urgency, priority: s.Priority, key: s.IncidentKey, service: svc,
		createdAt: at, updatedAt: at, statusAt: at,
		statusBy: agent{id: svc.ID, typ: "service_reference", summary: svc.Name},
	}
	if inc.urgency == "" {
		inc.urgency = nova.UrgencyHigh
	}
	if inc.key == "" {
		inc.key = randomHex(16)
	}
	for _, id := range s.Assignees {
		inc.assignees = append(inc.assignees, e.mustUser(id))
	}
	alerts := s.Alerts
	if len(alerts) == 0 {
		alerts = []AlertSpec{{Summary: s.Title}}
	}
	for _, a := range alerts {
		sev := a.Severity
		if sev == "" {
			sev = "critical"
		}
		inc.alerts = append(inc.alerts, &alert{
			id: e.newID("A"), summary: a.Summary, severity: sev, source: a.Source,
			status: nova.StatusTriggered, details: a.Details, createdAt: at,
		})
	}
	inc.log = append(inc.log, &logEntry{
		id: e.newID("R"), typ: "trigger_log_entry", summary: "Triggered through the API",
		channel: "api", at: at, agent: inc.statusBy,
	})
	e.incidents[inc.id] = inc
	e.incidentOrder = append(e.incidentOrder, inc.id)
	return inc
}

// Acknowledge acknowledges an incident as a person would in PagerDuty's UI.
func (e *Emulator) Acknowledge(incidentID, userID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.personAction(incidentID, userID, e.ackLocked)
}

// Resolve resolves an incident as a person would in PagerDuty's UI.
func (e *Emulator) Resolve(incidentID, userID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.personAction(incidentID, userID, e.resolveLocked)
}

// Reopen reopens a resolved incident as a person would (PagerDuty reopens
// a resolved incident whose status is set to triggered): it is triggered
// again, reopened_at is set and incident.reopened is sent.
func (e *Emulator) Reopen(incidentID, userID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.personAction(incidentID, userID, e.reopenLocked)
}

func (e *Emulator) reopenLocked(inc *incident, u *user, _ string) *failure {
	if inc.status != nova.StatusResolved {
		return &failure{status: http.StatusBadRequest, code: 2001, message: "Invalid Input Provided",
			details: []string{"Only a resolved incident can be reopened."}}
	}
	now := e.opts.Now().UTC()
	inc.status, inc.updatedAt, inc.statusAt, inc.reopened, inc.statusBy = nova.StatusTriggered, now, now, now, userAgent(u)
	inc.resolved = time.Time{}
	e.emitLocked(inc, "incident.reopened", u, inc.webhookJSON())
	return nil
}

// AddNote adds a note as a person would in PagerDuty's UI.
func (e *Emulator) AddNote(incidentID, userID, text string) (nova.Note, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidents[incidentID]
	if !ok {
		return nova.Note{}, fmt.Errorf("pdemu: unknown incident %q", incidentID)
	}
	n, err := e.noteLocked(inc, e.mustUser(userID), text, "website")
	if err != nil {
		return nova.Note{}, err
	}
	return n.nova(), nil
}

func (e *Emulator) personAction(incidentID, userID string, act func(*incident, *user, string) *failure) error {
	inc, ok := e.incidents[incidentID]
	if !ok {
		return fmt.Errorf("pdemu: unknown incident %q", incidentID)
	}
	if f := act(inc, e.mustUser(userID), "website"); f != nil {
		return f
	}
	return nil
}

// ackLocked acknowledges inc as u. Acknowledging twice is fine and changes
// nothing; acknowledging a resolved incident is PagerDuty's error 1001.
func (e *Emulator) ackLocked(inc *incident, u *user, channel string) *failure {
	switch inc.status {
	case nova.StatusResolved:
		return &failure{status: http.StatusBadRequest, code: 1001, message: "Incident Already Resolved"}
	case nova.StatusAcknowledged:
		return nil
	}
	now := e.opts.Now().UTC()
	inc.status, inc.updatedAt, inc.statusAt, inc.statusBy = nova.StatusAcknowledged, now, now, userAgent(u)
	inc.acks = append(inc.acks, ack{at: now, by: u})
	inc.log = append(inc.log, &logEntry{
		id: e.newID("R"), typ: "acknowledge_log_entry", summary: "Acknowledged by " + u.name,
		channel: channel, at: now, agent: userAgent(u),
	})
	e.emitLocked(inc, "incident.acknowledged", u, inc.webhookJSON())
	return nil
}

// resolveLocked resolves inc as u.
func (e *Emulator) resolveLocked(inc *incident, u *user, channel string) *failure {
	if inc.status == nova.StatusResolved {
		return &failure{status: http.StatusBadRequest, code: 1001, message: "Incident Already Resolved"}
	}
	now := e.opts.Now().UTC()
	inc.status, inc.updatedAt, inc.statusAt, inc.resolved, inc.statusBy = nova.StatusResolved, now, now, now, userAgent(u)
	for _, a := range inc.alerts {
		a.status = nova.StatusResolved
	}
	inc.log = append(inc.log, &logEntry{
		id: e.newID("R"), typ: "resolve_log_entry", summary: "Resolved by " + u.name,
		channel: channel, at: now, agent: userAgent(u),
	})
	e.emitLocked(inc, "incident.resolved", u, inc.webhookJSON())
	return nil
}

// noteLocked adds a note by u, up to PagerDuty's limit per incident.
func (e *Emulator) noteLocked(inc *incident, u *user, content, channel string) (*note, *failure) {
	if content == "" {
		return nil, &failure{status: http.StatusBadRequest, code: 2001, message: "Invalid Input Provided",
			details: []string{"Content cannot be empty."}}
	}
	if len(inc.notes) >= e.opts.MaxNotes {
		return nil, &failure{status: http.StatusBadRequest, code: 2001, message: "Invalid Input Provided",
			details: []string{fmt.Sprintf("An incident may have at most %d notes.", e.opts.MaxNotes)}}
	}
	now := e.opts.Now().UTC()
	n := &note{id: e.newID("N"), content: content, by: u, createdAt: now}
	inc.notes = append(inc.notes, n)
	inc.updatedAt = now
	inc.log = append(inc.log, &logEntry{
		id: e.newID("R"), typ: "annotate_log_entry", summary: "Note added",
		channel: channel, at: now, agent: userAgent(u),
	})
	e.emitLocked(inc, "incident.annotated", u, map[string]any{
		"incident": inc.refJSON("incident_reference"),
		"id":       n.id,
		"content":  n.content,
		"trimmed":  false,
		"type":     "incident_note",
	})
	return n, nil
}

// Notes returns an incident's notes, oldest first.
func (e *Emulator) Notes(incidentID string) []nova.Note {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidents[incidentID]
	if !ok {
		return nil
	}
	return inc.novaNotes()
}

// Incident returns an incident as Nova sees it.
func (e *Emulator) Incident(id string) (nova.Incident, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidents[id]
	if !ok {
		return nova.Incident{}, false
	}
	return inc.nova(), true
}

// LogEntries returns an incident's timeline, oldest first.
func (e *Emulator) LogEntries(incidentID string) []nova.LogEntry {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidents[incidentID]
	if !ok {
		return nil
	}
	out := make([]nova.LogEntry, 0, len(inc.log))
	for _, l := range inc.log {
		a := nova.Ref{ID: l.agent.id, Type: l.agent.typ, Summary: l.agent.summary}
		out = append(out, nova.LogEntry{ID: l.id, Type: l.typ, Summary: l.summary, CreatedAt: l.at, Agent: &a, Channel: l.channel})
	}
	return out
}

func (inc *incident) nova() nova.Incident {
	out := nova.Incident{
		ID: inc.id, Number: inc.number, Title: inc.title, Status: inc.status, Urgency: inc.urgency,
		Priority: inc.priority, HTMLURL: webURL("incidents", inc.id), IncidentKey: inc.key,
		CreatedAt: inc.createdAt, Service: inc.service.ref(),
	}
	for _, u := range inc.assignees {
		out.Assignees = append(out.Assignees, nova.Ref{ID: u.id, Type: "user_reference", Summary: u.name})
	}
	return out
}

func (inc *incident) novaNotes() []nova.Note {
	out := make([]nova.Note, 0, len(inc.notes))
	for _, n := range inc.notes {
		out = append(out, n.nova())
	}
	return out
}

func (n *note) nova() nova.Note {
	return nova.Note{ID: n.id, Content: n.content, CreatedAt: n.createdAt,
		User: nova.Ref{ID: n.by.id, Type: "user_reference", Summary: n.by.name, HTMLURL: webURL("users", n.by.id)}}
}

func (s *service) ref() nova.Ref {
	return nova.Ref{ID: s.ID, Type: "service_reference", Summary: s.Name, HTMLURL: webURL("service-directory", s.ID)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
