package pdemu

import (
	"fmt"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// ChangeEventSpec describes a change event (a deploy, build or config
// change) sent to a service.
type ChangeEventSpec struct {
	ServiceID string
	Summary   string
	Source    string
	// Timestamp defaults to now.
	Timestamp time.Time
	Details   map[string]any
	Links     []nova.Link
}

type changeEvent struct {
	ChangeEventSpec
	id      string
	service *service
}

type correlation struct{ changeID, reason string }

type relation struct{ incidentID, relationship string }

type pastLink struct {
	incidentID string
	score      float64
}

// PastIncidentSpec describes an earlier, resolved incident of the same
// service that PagerDuty's Past Incidents finds similar.
type PastIncidentSpec struct {
	Title     string
	CreatedAt time.Time
	Score     float64
	// ResolutionNotes are added to the past incident by ResolvedBy, as the
	// responders wrote them while fixing it.
	ResolutionNotes []string
	// ResolvedBy is a user id; it must be set when there are notes.
	ResolvedBy string
}

// OutlierSpec is PagerDuty's Outlier Incident classification.
type OutlierSpec struct {
	Category  string // frequent, rare or anomaly
	Count     int
	Frequency float64
	Template  string // the mined text, e.g. "disk full on <*>"
	Since     time.Time
	Until     time.Time
}

// AddChangeEvent stores a change event and returns its id.
func (e *Emulator) AddChangeEvent(s ChangeEventSpec) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	svc, ok := e.services[s.ServiceID]
	if !ok {
		panic(fmt.Sprintf("pdemu: AddChangeEvent: unknown service %q", s.ServiceID))
	}
	if s.Timestamp.IsZero() {
		s.Timestamp = e.opts.Now()
	}
	s.Timestamp = s.Timestamp.UTC().Truncate(time.Second)
	// Change events carry ULID-like ids in PagerDuty's examples.
	id := "01" + strings.ToUpper(randomHex(12))
	e.changes[id] = &changeEvent{ChangeEventSpec: s, id: id, service: svc}
	e.changeOrder = append(e.changeOrder, id)
	return id
}

// CorrelateChange makes a change event appear in an incident's related
// change events with reason most_recent, related_service or intelligent.
func (e *Emulator) CorrelateChange(incidentID, changeID, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	if _, ok := e.changes[changeID]; !ok {
		panic(fmt.Sprintf("pdemu: CorrelateChange: unknown change event %q", changeID))
	}
	inc.changes = append(inc.changes, correlation{changeID: changeID, reason: reason})
}

// AddPastIncident creates a resolved incident of the same service, with its
// resolution notes, and lists it in incidentID's past incidents with score.
// It sends no webhooks: it happened long ago.
func (e *Emulator) AddPastIncident(incidentID string, s PastIncidentSpec) nova.Incident {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	past := e.createLocked(IncidentSpec{ServiceID: inc.service.ID, Title: s.Title, CreatedAt: s.CreatedAt})
	at := past.createdAt.Add(10 * time.Minute)
	for _, text := range s.ResolutionNotes {
		u := e.mustUser(s.ResolvedBy)
		past.notes = append(past.notes, &note{id: e.newID("N"), content: text, by: u, createdAt: at})
	}
	past.status, past.resolved, past.statusAt, past.updatedAt = nova.StatusResolved, at, at, at
	for _, a := range past.alerts {
		a.status = nova.StatusResolved
	}
	inc.past = append(inc.past, pastLink{incidentID: past.id, score: s.Score})
	return past.nova()
}

// AddRelatedIncident lists relatedID among incidentID's related incidents;
// relationship is machine_learning_inferred or service_dependency.
func (e *Emulator) AddRelatedIncident(incidentID, relatedID, relationship string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	e.mustIncident(relatedID)
	inc.related = append(inc.related, relation{incidentID: relatedID, relationship: relationship})
}

// SetOutlier sets an incident's Outlier Incident classification.
func (e *Emulator) SetOutlier(incidentID string, o OutlierSpec) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inc := e.mustIncident(incidentID)
	inc.outlier = &o
}

func (e *Emulator) mustIncident(id string) *incident {
	inc, ok := e.incidents[id]
	if !ok {
		panic(fmt.Sprintf("pdemu: unknown incident %q", id))
	}
	return inc
}
