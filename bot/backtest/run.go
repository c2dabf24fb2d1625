package backtest

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Engine is live triage: it gathers evidence about inc through pd, within
// the live budget and with the live options and calibration, and runs the
// triage engine. The backtest hands it the as-of view, never the client.
type Engine interface {
	Triage(ctx context.Context, svc nova.Service, inc nova.Incident, pd *View) nova.TriageResult
}

// EngineFunc adapts a function to Engine.
type EngineFunc func(ctx context.Context, svc nova.Service, inc nova.Incident, pd *View) nova.TriageResult

// Triage implements Engine.
func (f EngineFunc) Triage(ctx context.Context, svc nova.Service, inc nova.Incident, pd *View) nova.TriageResult {
	return f(ctx, svc, inc, pd)
}

// Defaults and bounds of a run.
const (
	DefaultSince = 90 * 24 * time.Hour
	MaxSince     = 180 * 24 * time.Hour // PagerDuty lists at most 6 months
	DefaultLimit = 200
	MaxLimit     = 2000
	// cacheTTL keeps a replayed incident this long: a rerun within it
	// costs no PagerDuty request for that incident.
	cacheTTL = 90 * 24 * time.Hour
	// outcomeLookback is how far before the trigger the changes a note may
	// name are read.
	outcomeLookback = 24 * time.Hour
)

// Config is what a Runner needs.
type Config struct {
	// PagerDuty reads the service's environment; cmd/nova passes the
	// scoped client at background priority.
	PagerDuty Reader
	Engine    Engine
	// PageURL is the web page of the service's latest backtest, where
	// admins mark undecided rows ("" when the pages are off).
	PageURL string
	// Store caches each incident's replay; nil means no cache.
	Store store.Records
	// Fingerprint identifies the engine's options and calibration: a cached
	// replay made under another fingerprint is made again.
	Fingerprint string
	// Grace is how long after the trigger alerts still count; 0 means
	// DefaultGrace.
	Grace time.Duration
	Now   func() time.Time
	// Progress, when set, is told after every incident.
	Progress func(Progress)
}

// Options bound one run.
type Options struct {
	Service nova.Service
	// Since is how far back incidents are listed; 0 means DefaultSince.
	Since time.Duration
	// Limit is how many resolved incidents, newest first; 0 means DefaultLimit.
	Limit int
}

// Progress is where a run stands.
type Progress struct {
	Done, Total int
	// Calls is the PagerDuty requests made so far; Cached the incidents
	// answered from the cache.
	Calls, Cached int
	Elapsed       time.Duration
	// Left estimates the time left at the current pace (0 when unknown).
	Left time.Duration
}

// Runner runs backtests.
type Runner struct{ cfg Config }

// New checks cfg and returns a Runner.
func New(cfg Config) (*Runner, error) {
	if cfg.PagerDuty == nil || cfg.Engine == nil {
		return nil, nova.Errorf(nova.EINVALID, "backtest: a PagerDuty reader and an engine are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runner{cfg: cfg}, nil
}

// Run replays the service's resolved incidents and returns the report. A
// cancelled run returns what it finished, with Partial set; everything
// finished is cached, so the next run resumes there.
func (r *Runner) Run(ctx context.Context, o Options) (Report, error) {
	if o.Service.ID == "" {
		return Report{}, nova.Errorf(nova.EINVALID, "backtest: a service is required")
	}
	if o.Since == 0 {
		o.Since = DefaultSince
	}
	if o.Limit == 0 {
		o.Limit = DefaultLimit
	}
	if o.Since < 0 || o.Since > MaxSince {
		return Report{}, nova.Errorf(nova.EINVALID, "--since must be between 1h and 180d (PagerDuty lists at most 6 months), got %s", o.Since)
	}
	if o.Limit < 0 || o.Limit > MaxLimit {
		return Report{}, nova.Errorf(nova.EINVALID, "--limit must be between 1 and %d, got %d", MaxLimit, o.Limit)
	}
	start := r.cfg.Now()
	pd := &counting{Reader: r.cfg.PagerDuty}
	rep := Report{Service: o.Service.ID, ServiceName: o.Service.Name, Environment: o.Service.Environment,
		Since: start.Add(-o.Since).UTC(), Until: start.UTC(), Limit: o.Limit, Fingerprint: r.cfg.Fingerprint, PageURL: r.cfg.PageURL}
	list, err := pd.ListIncidents(ctx, nova.IncidentFilter{ServiceIDs: []string{o.Service.ID},
		Statuses: []string{nova.StatusResolved}, Since: rep.Since, Until: rep.Until, Limit: o.Limit})
	if err != nil {
		return rep, err
	}
	res := NewResolutions(pd)
	res.Remember(list...)
	cached := 0
	for i, inc := range list {
		if ctx.Err() != nil {
			rep.Partial = true
			break
		}
		row, hit := r.cached(ctx, o.Service, inc)
		if hit {
			cached++
		} else {
			row = r.replay(ctx, pd, res, o.Service, inc)
			if ctx.Err() != nil {
				// Stopped mid-incident: its evidence may be cut short, so
				// the row is neither kept nor cached; the next run redoes it.
				rep.Partial = true
				break
			}
			if row.Error == "" && !cutShort(row.Result) {
				r.save(ctx, o.Service, row)
			}
		}
		rep.Rows = append(rep.Rows, row)
		if r.cfg.Progress != nil {
			p := Progress{Done: i + 1, Total: len(list), Calls: int(pd.calls.Load()), Cached: cached,
				Elapsed: r.cfg.Now().Sub(start)}
			if fresh := i + 1 - cached; fresh > 0 {
				p.Left = time.Duration(float64(p.Elapsed) / float64(fresh) * float64(len(list)-i-1))
			}
			r.cfg.Progress(p)
		}
	}
	rep.Calls, rep.Cached = int(pd.calls.Load()), cached
	rep.Elapsed = r.cfg.Now().Sub(start)
	rep.Totals = totals(rep.Rows)
	r.saveIndex(ctx, o.Service, rep.Rows)
	return rep, nil
}

// replay triages one incident as of its trigger and reads what happened.
func (r *Runner) replay(ctx context.Context, pd Reader, res *Resolutions, svc nova.Service, inc nova.Incident) Row {
	row := Row{Incident: brief(inc)}
	view, err := AsOf(pd, inc, r.cfg.Grace, res)
	if err != nil {
		row.Error = nova.ErrorMessage(err)
		return row
	}
	result := r.cfg.Engine.Triage(ctx, svc, view.Incident(), view)
	row.Result = &result
	row.Leaks = leaks(result, view.At().Add(view.grace))
	notes, err := pd.ListNotes(ctx, inc.ID)
	if err == nil {
		var log []nova.LogEntry
		if log, err = pd.ListLogEntries(ctx, inc.ID); err == nil {
			end := inc.ResolvedAt
			if end.IsZero() {
				end = r.cfg.Now()
			}
			var changes []nova.ChangeEvent
			if changes, err = pd.ServiceChangeEvents(ctx, svc.ID, inc.CreatedAt.Add(-outcomeLookback), end.Add(time.Minute)); err == nil {
				row.Outcome = Happened(inc, notes, log, changes)
			}
		}
	}
	if err != nil {
		row.Result, row.Leaks = nil, nil
		row.Error = "reading what happened: " + nova.ErrorMessage(err)
		return row
	}
	row.Verdict, row.Why = Judge(result, row.Outcome)
	return row
}

// cutShort reports whether some evidence was missing for a passing reason
// (the triage budget ran out, or the rate limit): such a row is reported
// but not cached, so the next run tries it again.
func cutShort(res *nova.TriageResult) bool {
	if res == nil {
		return true
	}
	for _, s := range res.NotChecked {
		if strings.Contains(s, "triage budget") || strings.Contains(s, "request budget") || strings.Contains(s, "rate limiter") {
			return true
		}
	}
	return false
}

// leaks lists the evidence a result cites from after cut; it is always
// empty (the view lets nothing later through) and the report says so loudly
// if it ever is not.
func leaks(res nova.TriageResult, cut time.Time) []string {
	var out []string
	for _, h := range res.Hypotheses {
		for _, e := range h.Evidence {
			if e.At.After(cut) {
				out = append(out, e.Kind+" "+e.ID+" at "+e.At.UTC().Format(time.RFC3339))
			}
		}
	}
	return out
}

func brief(inc nova.Incident) IncidentRef {
	return IncidentRef{ID: inc.ID, Number: inc.Number, Title: inc.Title, URL: inc.HTMLURL,
		TriggeredAt: inc.CreatedAt, ResolvedAt: inc.ResolvedAt}
}

func (r *Runner) cacheKey(svc nova.Service, incidentID string) string {
	return rowKey(svc, incidentID, r.cfg.Fingerprint)
}

func rowKey(svc nova.Service, incidentID, fingerprint string) string {
	return "backtest:" + svc.Environment + ":" + svc.ID + ":" + incidentID + ":" + fingerprint
}

func (r *Runner) cached(ctx context.Context, svc nova.Service, inc nova.Incident) (Row, bool) {
	if r.cfg.Store == nil {
		return Row{}, false
	}
	row, _, err := store.Load[Row](ctx, r.cfg.Store, store.KindMeta, r.cacheKey(svc, inc.ID))
	if err != nil || row.Incident.ID != inc.ID || !row.Incident.ResolvedAt.Equal(inc.ResolvedAt) {
		return Row{}, false // missing, unreadable, or reopened and resolved again since
	}
	row.Cached = true
	return row, true
}

func (r *Runner) save(ctx context.Context, svc nova.Service, row Row) {
	if r.cfg.Store == nil {
		return
	}
	b, err := json.Marshal(row)
	if err != nil {
		return
	}
	// A failed save only costs the next run a replay.
	_, _ = r.cfg.Store.Put(ctx, store.KindMeta, r.cacheKey(svc, row.Incident.ID), b, store.AnyVersion, cacheTTL)
}

// counting counts the requests a run makes.
type counting struct {
	Reader
	calls atomic.Int64
}

func (c *counting) GetIncident(ctx context.Context, id string) (nova.Incident, error) {
	c.calls.Add(1)
	return c.Reader.GetIncident(ctx, id)
}

func (c *counting) ListIncidents(ctx context.Context, f nova.IncidentFilter) ([]nova.Incident, error) {
	c.calls.Add(1)
	return c.Reader.ListIncidents(ctx, f)
}

func (c *counting) ListAlerts(ctx context.Context, id string) ([]nova.Alert, error) {
	c.calls.Add(1)
	return c.Reader.ListAlerts(ctx, id)
}

func (c *counting) ListNotes(ctx context.Context, id string) ([]nova.Note, error) {
	c.calls.Add(1)
	return c.Reader.ListNotes(ctx, id)
}

func (c *counting) ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error) {
	c.calls.Add(1)
	return c.Reader.ListLogEntries(ctx, id)
}

func (c *counting) RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error) {
	c.calls.Add(1)
	return c.Reader.RelatedChangeEvents(ctx, id)
}

func (c *counting) ServiceChangeEvents(ctx context.Context, id string, since, until time.Time) ([]nova.ChangeEvent, error) {
	c.calls.Add(1)
	return c.Reader.ServiceChangeEvents(ctx, id, since, until)
}

func (c *counting) PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error) {
	c.calls.Add(1)
	return c.Reader.PastIncidents(ctx, id, limit)
}

func (c *counting) RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error) {
	c.calls.Add(1)
	return c.Reader.RelatedIncidents(ctx, id)
}

func (c *counting) OutlierIncident(ctx context.Context, id string) (nova.Outlier, error) {
	c.calls.Add(1)
	return c.Reader.OutlierIncident(ctx, id)
}
