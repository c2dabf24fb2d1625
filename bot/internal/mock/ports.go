package mock

import (
	"context"
	"sync"
	"time"

	"github.com/novasre/nova"
)

// unmodelled is the answer of a fake to a call the test did not expect.
func unmodelled(what string) error {
	return nova.Errorf(nova.EINTERNAL, "mock: unexpected call of %s", what)
}

// PagerDuty is one environment's PagerDuty client. Calls are counted by name.
type PagerDuty struct {
	GetIncidentFn         func(ctx context.Context, id string) (nova.Incident, error)
	ListAlertsFn          func(ctx context.Context, id string) ([]nova.Alert, error)
	ListNotesFn           func(ctx context.Context, id string) ([]nova.Note, error)
	ListLogEntriesFn      func(ctx context.Context, id string) ([]nova.LogEntry, error)
	RelatedChangeEventsFn func(ctx context.Context, id string) ([]nova.ChangeEvent, error)
	ServiceChangeEventsFn func(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error)
	PastIncidentsFn       func(ctx context.Context, id string, limit int) ([]nova.PastIncident, error)
	RelatedIncidentsFn    func(ctx context.Context, id string) ([]nova.RelatedIncident, error)
	OutlierIncidentFn     func(ctx context.Context, id string) (nova.Outlier, error)
	// SupportingServicesFn nil answers as an account without service
	// dependencies does (EFORBIDDEN), so tests that do not care need not
	// model it.
	SupportingServicesFn func(ctx context.Context, serviceID string) ([]nova.Ref, error)
	AddNoteFn            func(ctx context.Context, incidentID, content string) (nova.Note, error)
	AcknowledgeFn        func(ctx context.Context, incidentID string) error

	Calls Counter
}

func (p *PagerDuty) GetIncident(ctx context.Context, id string) (nova.Incident, error) {
	p.Calls.add("GetIncident")
	if p.GetIncidentFn == nil {
		return nova.Incident{}, unmodelled("GetIncident")
	}
	return p.GetIncidentFn(ctx, id)
}

func (p *PagerDuty) ListAlerts(ctx context.Context, id string) ([]nova.Alert, error) {
	p.Calls.add("ListAlerts")
	if p.ListAlertsFn == nil {
		return nil, unmodelled("ListAlerts")
	}
	return p.ListAlertsFn(ctx, id)
}

func (p *PagerDuty) ListNotes(ctx context.Context, id string) ([]nova.Note, error) {
	p.Calls.add("ListNotes")
	if p.ListNotesFn == nil {
		return nil, unmodelled("ListNotes")
	}
	return p.ListNotesFn(ctx, id)
}

func (p *PagerDuty) ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error) {
	p.Calls.add("ListLogEntries")
	if p.ListLogEntriesFn == nil {
		return nil, unmodelled("ListLogEntries")
	}
	return p.ListLogEntriesFn(ctx, id)
}

func (p *PagerDuty) RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error) {
	p.Calls.add("RelatedChangeEvents")
	if p.RelatedChangeEventsFn == nil {
		return nil, unmodelled("RelatedChangeEvents")
	}
	return p.RelatedChangeEventsFn(ctx, id)
}

func (p *PagerDuty) ServiceChangeEvents(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error) {
	p.Calls.add("ServiceChangeEvents")
	if p.ServiceChangeEventsFn == nil {
		return nil, unmodelled("ServiceChangeEvents")
	}
	return p.ServiceChangeEventsFn(ctx, serviceID, since, until)
}

func (p *PagerDuty) PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error) {
	p.Calls.add("PastIncidents")
	if p.PastIncidentsFn == nil {
		return nil, unmodelled("PastIncidents")
	}
	return p.PastIncidentsFn(ctx, id, limit)
}

func (p *PagerDuty) RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error) {
	p.Calls.add("RelatedIncidents")
	if p.RelatedIncidentsFn == nil {
		return nil, unmodelled("RelatedIncidents")
	}
	return p.RelatedIncidentsFn(ctx, id)
}

func (p *PagerDuty) OutlierIncident(ctx context.Context, id string) (nova.Outlier, error) {
	p.Calls.add("OutlierIncident")
	if p.OutlierIncidentFn == nil {
		return nova.Outlier{}, unmodelled("OutlierIncident")
	}
	return p.OutlierIncidentFn(ctx, id)
}

func (p *PagerDuty) SupportingServices(ctx context.Context, serviceID string) ([]nova.Ref, error) {
	p.Calls.add("SupportingServices")
	if p.SupportingServicesFn == nil {
		return nil, nova.Errorf(nova.EFORBIDDEN, "mock: no service dependencies on this account")
	}
	return p.SupportingServicesFn(ctx, serviceID)
}

func (p *PagerDuty) AddNote(ctx context.Context, incidentID, content string) (nova.Note, error) {
	p.Calls.add("AddNote")
	if p.AddNoteFn == nil {
		return nova.Note{}, unmodelled("AddNote")
	}
	return p.AddNoteFn(ctx, incidentID, content)
}

func (p *PagerDuty) Acknowledge(ctx context.Context, incidentID string) error {
	p.Calls.add("Acknowledge")
	if p.AcknowledgeFn == nil {
		return unmodelled("Acknowledge")
	}
	return p.AcknowledgeFn(ctx, incidentID)
}

// Chat is one environment's Slack client.
type Chat struct {
	PostFn           func(ctx context.Context, channel, threadTS string, m nova.Message) (string, error)
	UpdateFn         func(ctx context.Context, channel, ts string, m nova.Message) error
	PostEphemeralFn  func(ctx context.Context, channel, user string, m nova.Message) error
	RespondFn        func(ctx context.Context, responseURL string, r nova.Reply) error
	FindByMetadataFn func(ctx context.Context, channel, threadTS, key, value string, oldest time.Time) (string, bool, error)
	GroupMembersFn   func(ctx context.Context, groupID string) ([]string, error)

	Calls Counter
}

func (c *Chat) Post(ctx context.Context, channel, threadTS string, m nova.Message) (string, error) {
	c.Calls.add("Post")
	if c.PostFn == nil {
		return "", unmodelled("Post")
	}
	return c.PostFn(ctx, channel, threadTS, m)
}

func (c *Chat) Update(ctx context.Context, channel, ts string, m nova.Message) error {
	c.Calls.add("Update")
	if c.UpdateFn == nil {
		return unmodelled("Update")
	}
	return c.UpdateFn(ctx, channel, ts, m)
}

func (c *Chat) PostEphemeral(ctx context.Context, channel, user string, m nova.Message) error {
	c.Calls.add("PostEphemeral")
	if c.PostEphemeralFn == nil {
		return unmodelled("PostEphemeral")
	}
	return c.PostEphemeralFn(ctx, channel, user, m)
}

func (c *Chat) Respond(ctx context.Context, responseURL string, r nova.Reply) error {
	c.Calls.add("Respond")
	if c.RespondFn == nil {
		return unmodelled("Respond")
	}
	return c.RespondFn(ctx, responseURL, r)
}

func (c *Chat) FindByMetadata(ctx context.Context, channel, threadTS, key, value string, oldest time.Time) (string, bool, error) {
	c.Calls.add("FindByMetadata")
	if c.FindByMetadataFn == nil {
		return "", false, unmodelled("FindByMetadata")
	}
	return c.FindByMetadataFn(ctx, channel, threadTS, key, value, oldest)
}

func (c *Chat) GroupMembers(ctx context.Context, groupID string) ([]string, error) {
	c.Calls.add("GroupMembers")
	if c.GroupMembersFn == nil {
		return nil, unmodelled("GroupMembers")
	}
	return c.GroupMembersFn(ctx, groupID)
}

// Counter counts calls by name; safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *Counter) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

// N returns how often name was called.
func (c *Counter) N(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}
