// Package backtest replays a service's resolved PagerDuty incidents through
// the same evidence gathering and triage engine as live incidents, each as
// of its trigger time, and compares what Nova would have said with what
// actually happened. It only reads: the view it hands the gatherer has no
// way to write, and every list it returns is cut at the trigger time.
package backtest

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/novasre/nova"
)

// Reader is the read side of one environment's scoped PagerDuty client:
// the view calls a backtest needs, and nothing that writes.
type Reader interface {
	GetIncident(ctx context.Context, id string) (nova.Incident, error)
	ListIncidents(ctx context.Context, f nova.IncidentFilter) ([]nova.Incident, error)
	ListAlerts(ctx context.Context, id string) ([]nova.Alert, error)
	ListNotes(ctx context.Context, id string) ([]nova.Note, error)
	ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error)
	RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error)
	ServiceChangeEvents(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error)
	PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error)
	RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error)
	OutlierIncident(ctx context.Context, id string) (nova.Outlier, error)
}

// DefaultGrace is how long after the trigger an alert still counts as part
// of the trigger: live triage reads the alerts a few seconds after the
// trigger, so those grouped in that time are what it saw.
const DefaultGrace = 10 * time.Second

// Resolutions remembers when incidents were resolved, so that a past
// incident is used only if it was resolved before the trigger. It is shared
// by the views of one backtest: a resolved incident's time does not change.
type Resolutions struct {
	pd Reader
	mu sync.Mutex
	at map[string]time.Time // zero: not resolved when asked
}

// NewResolutions returns an empty memo over pd.
func NewResolutions(pd Reader) *Resolutions {
	return &Resolutions{pd: pd, at: map[string]time.Time{}}
}

// Remember records incidents already read (from the incident list), so
// they cost no request.
func (r *Resolutions) Remember(incs ...nova.Incident) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, inc := range incs {
		if inc.Status == nova.StatusResolved && !inc.ResolvedAt.IsZero() {
			r.at[inc.ID] = inc.ResolvedAt
		}
	}
}

// resolvedAt returns when id was resolved, zero if it is not (yet).
func (r *Resolutions) resolvedAt(ctx context.Context, id string) (time.Time, error) {
	r.mu.Lock()
	t, ok := r.at[id]
	r.mu.Unlock()
	if ok {
		return t, nil
	}
	inc, err := r.pd.GetIncident(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	if inc.Status != nova.StatusResolved {
		return time.Time{}, nil // it may still resolve; ask again next time
	}
	r.mu.Lock()
	r.at[id] = inc.ResolvedAt
	r.mu.Unlock()
	return inc.ResolvedAt, nil
}

// View is PagerDuty as it stood when one incident triggered. Every list is
// filtered by its items' own timestamps, whatever the request asked for and
// whatever PagerDuty answered, so nothing created after the trigger can
// reach triage: alerts created up to the grace window after it, change
// events strictly before it, notes and log entries up to it, past incidents
// resolved before it, related incidents created before it. Items without a
// timestamp are dropped: they cannot be shown to predate the trigger.
//
// It cannot write: AddNote and Acknowledge refuse with EFORBIDDEN.
type View struct {
	pd       Reader
	incident nova.Incident // as of the trigger
	at       time.Time
	grace    time.Duration
	res      *Resolutions
}

// AsOf returns the view of inc at its trigger time. grace <= 0 means
// DefaultGrace; res may be shared between views of one backtest.
func AsOf(pd Reader, inc nova.Incident, grace time.Duration, res *Resolutions) (*View, error) {
	if inc.CreatedAt.IsZero() {
		return nil, nova.Errorf(nova.EINVALID, "incident %s has no trigger time to replay it at", inc.ID)
	}
	if grace <= 0 {
		grace = DefaultGrace
	}
	if res == nil {
		res = NewResolutions(pd)
	}
	return &View{pd: pd, incident: Triggered(inc), at: inc.CreatedAt, grace: grace, res: res}, nil
}

// Triggered is inc as it was when it triggered: triggered, not resolved,
// with no resolve reason.
func Triggered(inc nova.Incident) nova.Incident {
	inc.Status, inc.ResolvedAt, inc.ResolveReason = nova.StatusTriggered, time.Time{}, ""
	return inc
}

// At is the trigger time the view is cut at.
func (v *View) At() time.Time { return v.at }

// Incident is the incident as it was at its trigger.
func (v *View) Incident() nova.Incident { return v.incident }

// GetIncident returns the replayed incident as it was at its trigger, and
// any other incident only if it existed then, as triggered unless it was
// resolved before the trigger.
func (v *View) GetIncident(ctx context.Context, id string) (nova.Incident, error) {
	if id == v.incident.ID {
		return v.incident, nil
	}
	inc, err := v.pd.GetIncident(ctx, id)
	if err != nil {
		return nova.Incident{}, err
	}
	if inc.CreatedAt.IsZero() || !inc.CreatedAt.Before(v.at) {
		return nova.Incident{}, nova.Errorf(nova.ENOTFOUND, "incident %s did not exist yet at %s", id, v.at.Format(time.RFC3339))
	}
	if inc.ResolvedAt.IsZero() || !inc.ResolvedAt.Before(v.at) {
		return Triggered(inc), nil
	}
	return inc, nil
}

// ListAlerts returns the alerts created before the trigger plus the grace
// window, each as triggered.
func (v *View) ListAlerts(ctx context.Context, id string) ([]nova.Alert, error) {
	alerts, err := v.pd.ListAlerts(ctx, id)
	if err != nil {
		return nil, err
	}
	cut := v.at.Add(v.grace)
	out := make([]nova.Alert, 0, len(alerts))
	for _, a := range alerts {
		if a.CreatedAt.IsZero() || a.CreatedAt.After(cut) {
			continue
		}
		a.Status = nova.StatusTriggered
		out = append(out, a)
	}
	return out, nil
}

// ListNotes returns the notes written up to the trigger.
func (v *View) ListNotes(ctx context.Context, id string) ([]nova.Note, error) {
	notes, err := v.pd.ListNotes(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]nova.Note, 0, len(notes))
	for _, n := range notes {
		if !n.CreatedAt.IsZero() && !n.CreatedAt.After(v.at) {
			out = append(out, n)
		}
	}
	return out, nil
}

// ListLogEntries returns the timeline up to the trigger.
func (v *View) ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error) {
	entries, err := v.pd.ListLogEntries(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]nova.LogEntry, 0, len(entries))
	for _, l := range entries {
		if !l.CreatedAt.IsZero() && !l.CreatedAt.After(v.at) {
			out = append(out, l)
		}
	}
	return out, nil
}

// RelatedChangeEvents returns the correlated changes made before the trigger.
func (v *View) RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error) {
	changes, err := v.pd.RelatedChangeEvents(ctx, id)
	if err != nil {
		return nil, err
	}
	return v.before(changes), nil
}

// ServiceChangeEvents returns a service's changes in [since, until), cut
// at the trigger: the request asks no later than the trigger, and the
// answer is filtered again.
func (v *View) ServiceChangeEvents(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error) {
	if until.IsZero() || until.After(v.at) {
		until = v.at
	}
	if !since.IsZero() && !since.Before(until) {
		return []nova.ChangeEvent{}, nil
	}
	changes, err := v.pd.ServiceChangeEvents(ctx, serviceID, since, until)
	if err != nil {
		return nil, err
	}
	return v.before(changes), nil
}

func (v *View) before(changes []nova.ChangeEvent) []nova.ChangeEvent {
	out := make([]nova.ChangeEvent, 0, len(changes))
	for _, c := range changes {
		if !c.Timestamp.IsZero() && c.Timestamp.Before(v.at) {
			out = append(out, c)
		}
	}
	return out
}

// pastHeadroom is how many more past incidents the view asks for than the
// caller, since PagerDuty's list today also holds later incidents, which
// the view drops.
const pastHeadroom = 20

// PastIncidents returns up to limit similar incidents resolved before the
// trigger, best first. Their notes, read through ListNotes, are cut at the
// trigger too.
func (v *View) PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error) {
	if limit <= 0 {
		limit = 5
	}
	past, err := v.pd.PastIncidents(ctx, id, min(limit+pastHeadroom, 999))
	if err != nil {
		return nil, err
	}
	sort.SliceStable(past, func(i, j int) bool { return past[i].Score > past[j].Score })
	out := []nova.PastIncident{}
	for _, p := range past {
		if len(out) == limit {
			break
		}
		if p.ID == v.incident.ID || p.CreatedAt.IsZero() || !p.CreatedAt.Before(v.at) {
			continue
		}
		resolved, err := v.res.resolvedAt(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if resolved.IsZero() || !resolved.Before(v.at) {
			continue
		}
		p.Resolution, p.Category = "", "" // only what the notes said by then (ListNotes)
		out = append(out, p)
	}
	return out, nil
}

// RelatedIncidents returns the related incidents created before the
// trigger, each with its status then (resolved only if it was resolved
// before the trigger, else triggered).
func (v *View) RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error) {
	rel, err := v.pd.RelatedIncidents(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]nova.RelatedIncident, 0, len(rel))
	for _, r := range rel {
		if r.CreatedAt.IsZero() || !r.CreatedAt.Before(v.at) {
			continue
		}
		r.Status = nova.StatusTriggered
		if resolved, err := v.res.resolvedAt(ctx, r.ID); err != nil {
			return nil, err
		} else if !resolved.IsZero() && resolved.Before(v.at) {
			r.Status = nova.StatusResolved
		}
		out = append(out, r)
	}
	return out, nil
}

// OutlierIncident is refused: PagerDuty classifies an incident against
// everything it knows today, later incidents included, and cannot be asked
// as of a past time. Triage lists the source as not checked.
func (v *View) OutlierIncident(context.Context, string) (nova.Outlier, error) {
	return nova.Outlier{}, nova.Errorf(nova.EUNAVAILABLE, "PagerDuty's outlier classification cannot be seen as of the trigger time")
}

// AddNote refuses: a backtest never writes.
func (v *View) AddNote(_ context.Context, incidentID, _ string) (nova.Note, error) {
	return nova.Note{}, nova.Errorf(nova.EFORBIDDEN, "a backtest never writes to PagerDuty (note on %s refused)", incidentID)
}

// Acknowledge refuses: a backtest never writes.
func (v *View) Acknowledge(_ context.Context, incidentID string) error {
	return nova.Errorf(nova.EFORBIDDEN, "a backtest never writes to PagerDuty (acknowledgement of %s refused)", incidentID)
}
