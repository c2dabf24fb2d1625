package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/web"
)

// Bounds of what one page reads from the store. The store has no index by
// incident or time, so the pages scan: these keep a page's cost fixed
// whatever the store holds.
const (
	// pageScanRecords bounds the incident and approval records one page reads.
	pageScanRecords = 20000
	// pageScanAudit is how many of the latest audit entries an incident
	// page searches for the incident's own.
	pageScanAudit = 5000
	pageListBatch = 500
)

// signInConfig is Sign in with Slack's configuration as web reads it,
// derived per request from the current configuration (so a reload rotates
// the client secret and the session key).
func (rt *runtime) signInConfig() web.SignInConfig {
	cfg := rt.config()
	w := cfg.Web
	if !w.Enabled() {
		return web.SignInConfig{}
	}
	return web.SignInConfig{
		Issuer: w.OIDC.Issuer, ClientID: w.OIDC.ClientID, ClientSecret: w.OIDC.ClientSecret.Value(), TeamID: w.OIDC.TeamID,
		RedirectURL: strings.TrimRight(cfg.PublicURL, "/") + web.CallbackPath,
		SessionKey:  []byte(w.SessionKey.Value()), SessionTTL: w.SessionTTL.Duration,
		Secure: strings.HasPrefix(cfg.PublicURL, "https://"),
	}
}

// newPages wires the web pages to the store, the configuration and bot.
func newPages(rt *runtime, app *bot.App, st store.Store, now func() time.Time) (*web.Pages, error) {
	return web.NewPages(web.PagesConfig{
		Data:        pageData{rt: rt, app: app, st: st, keys: &decodeCache[incidentKey]{}},
		SignIn:      rt.signInConfig,
		Decider:     webDecider{app: app},
		Postmortems: app,
		Backtests:   webBacktests{app: app},
		Reviews:     webReviews{reviewSource: reviewSource{rt: rt, st: st}, app: app},
		HTTPClient:  &http.Client{Timeout: 10 * time.Second},
		Log:         rt.log,
		Now:         now,
		OnRefused: func(what, reason, client string) {
			app.AuditRefusedRequest("web", what, reason, client)
		},
	})
}

// incidentPage sends browsers following an API link Nova wrote (the "Full
// result" of a note) to the incident's page, when the pages are on.
func (rt *runtime) incidentPage(r *http.Request) string {
	if !rt.config().Web.Enabled() {
		return ""
	}
	return "/incidents/" + url.PathEscape(mux.Vars(r)["id"])
}

// pageData is web.PageData over the store and the current settings.
type pageData struct {
	rt  *runtime
	app *bot.App
	st  store.Store
	// keys caches the list's view of each incident record by version.
	keys *decodeCache[incidentKey]
}

func (d pageData) Incident(ctx context.Context, id string) (nova.IncidentRecord, error) {
	return d.app.Incident(ctx, id)
}

// scan decodes up to pageScanRecords records of kind, calling keep on each
// whose raw JSON holds every one of quoted (as JSON strings): a record that
// does not mention a filter's value anywhere cannot match it, and is not
// decoded at all.
func scan[T any](ctx context.Context, st store.Store, kind string, keep func(T), quoted ...string) error {
	return scanCached(ctx, st, kind, nil, keep, quoted...)
}

// decodeCache keeps what scan decoded from each record at its version, so
// that a record unchanged since the last scan is not decoded again. Each
// scan keeps only the records it saw, so the cache never outgrows the store.
type decodeCache[T any] struct {
	mu   sync.Mutex
	seen map[string]decoded[T]
}

type decoded[T any] struct {
	version int64
	v       T
}

// scanCached is scan with a decode cache (nil: none).
func scanCached[T any](ctx context.Context, st store.Store, kind string, cache *decodeCache[T], keep func(T), quoted ...string) error {
	var prev, next map[string]decoded[T]
	if cache != nil {
		cache.mu.Lock()
		prev = cache.seen
		cache.mu.Unlock()
		next = make(map[string]decoded[T], len(prev))
	}
	complete := false
	defer func() {
		if cache != nil && complete {
			cache.mu.Lock()
			cache.seen = next
			cache.mu.Unlock()
		}
	}()
	var needles [][]byte
	for _, q := range quoted {
		if q != "" {
			b, _ := json.Marshal(q)
			needles = append(needles, b)
		}
	}
	after := ""
	for read := 0; read < pageScanRecords; {
		items, err := st.List(ctx, kind, after, pageListBatch)
		if err != nil {
			return err
		}
	items:
		for _, it := range items {
			for _, n := range needles {
				if !bytes.Contains(it.Value, n) {
					continue items
				}
			}
			if d, ok := prev[it.ID]; ok && d.version == it.Version {
				next[it.ID] = d
				keep(d.v)
				continue
			}
			var v T
			if json.Unmarshal(it.Value, &v) == nil {
				if next != nil {
					next[it.ID] = decoded[T]{version: it.Version, v: v}
				}
				keep(v)
			}
		}
		read += len(items)
		if len(items) < pageListBatch {
			complete = len(needles) == 0
			return nil
		}
		after = items[len(items)-1].ID
	}
	complete = len(needles) == 0
	return nil
}

// incidentKey is the part of an incident record the list filters and
// sorts on; the list decodes whole records only for what it shows.
type incidentKey struct {
	ID          string    `json:"id"`
	Environment string    `json:"environment"`
	ServiceID   string    `json:"service_id"`
	Status      string    `json:"status"`
	TriggeredAt time.Time `json:"triggered_at"`
}

func (d pageData) Incidents(ctx context.Context, f web.IncidentFilter) ([]nova.IncidentRecord, error) {
	var keys []incidentKey
	err := scanCached(ctx, d.st, store.KindIncident, d.keys, func(r incidentKey) {
		if (f.Service == "" || r.ServiceID == f.Service) && (f.Status == "" || r.Status == f.Status) &&
			(f.Environment == "" || r.Environment == f.Environment) {
			keys = append(keys, r)
		}
	}, f.Service, f.Status, f.Environment)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b incidentKey) int { return b.TriggeredAt.Compare(a.TriggeredAt) })
	if f.Limit > 0 && len(keys) > f.Limit {
		keys = keys[:f.Limit]
	}
	out := make([]nova.IncidentRecord, 0, len(keys))
	for _, k := range keys {
		rec, _, err := store.Load[nova.IncidentRecord](ctx, d.st, store.KindIncident, k.ID)
		if nova.IsCode(err, nova.ENOTFOUND) {
			continue // expired since the scan
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

func (d pageData) Requests(ctx context.Context, incidentID string) ([]nova.ApprovalRequest, error) {
	var out []nova.ApprovalRequest
	err := scan(ctx, d.st, store.KindApproval, func(r nova.ApprovalRequest) {
		if r.IncidentID == incidentID {
			out = append(out, r)
		}
	}, incidentID)
	slices.SortFunc(out, func(a, b nova.ApprovalRequest) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, err
}

func (d pageData) IncidentAudit(ctx context.Context, incidentID string) ([]nova.AuditEntry, error) {
	head, err := d.st.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	var out []nova.AuditEntry
	for after := max(head.Seq-pageScanAudit, 0); after < head.Seq; {
		entries, err := d.st.ListAudit(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			if e.Incident == incidentID {
				out = append(out, e)
			}
		}
		after = entries[len(entries)-1].Seq
	}
	return out, nil
}

// pauseRecord is bot's global pause switch as stored (store.KindMeta "pause").
type pauseRecord struct {
	Paused bool      `json:"paused"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

func (d pageData) Overview(ctx context.Context) (web.Overview, error) {
	var ov web.Overview
	for _, svc := range d.rt.settings.Load().Services {
		st, _, err := store.Load[nova.ServiceState](ctx, d.st, store.KindService, svc.ID)
		if nova.IsCode(err, nova.ENOTFOUND) {
			st, err = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode}, nil
		}
		if err != nil {
			return ov, err
		}
		ov.Services = append(ov.Services, web.ServiceStatus{Service: svc, State: st})
	}
	p, _, err := store.Load[pauseRecord](ctx, d.st, store.KindMeta, "pause")
	if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
		return ov, err
	}
	ov.Paused, ov.PausedBy, ov.PausedAt = p.Paused, p.By, p.At
	return ov, nil
}

func (d pageData) Service(id string) (nova.Service, bool) {
	svc, ok := d.rt.settings.Load().Services[id]
	return svc, ok
}

func (d pageData) Action(name string) (nova.Action, bool) { return d.rt.settings.Load().Action(name) }

func (d pageData) Environments() []string { return d.rt.config().EnvironmentNames() }

func (d pageData) Approvers(env string) ([]string, int) {
	e, ok := d.rt.settings.Load().Environments[env]
	if !ok {
		return nil, 0
	}
	return e.Approvals.Approvers, max(e.Approvals.RequiredApprovals, 1)
}

// webDecider takes the web pages' Apply / Approve / Deny through bot's
// Interact, the entry point of Slack's buttons: one policy, one
// compare-and-set, one audit, one PagerDuty status note for both.
type webDecider struct{ app *bot.App }

var webVerbs = map[string]string{web.VerbApprove: render.ActionApprove, web.VerbDeny: render.ActionDeny, web.VerbApply: render.ActionApply}

func (d webDecider) MayDecide(ctx context.Context, user string, req nova.ApprovalRequest) (bool, error) {
	return d.app.MayDecide(ctx, user, req)
}

func (d webDecider) Decide(ctx context.Context, user string, req nova.ApprovalRequest, verb string) (string, error) {
	action, ok := webVerbs[verb]
	if !ok {
		return "", nova.Errorf(nova.EINVALID, "%q is not a decision", verb)
	}
	reply, err := d.app.Interact(ctx, nova.Interaction{UserID: user, ActionID: action, Value: req.ID})
	if err != nil {
		// Bot words its refusals for Slack (mentions, bold): show them as text.
		return "", nova.WrapError(nova.ErrorCode(err), err, "%s", nova.Mrkdwn(nova.ErrorMessage(err)).Plain())
	}
	return reply.Text.Plain(), nil
}

// webReviews serves the review page: the same review as the API and the
// CLI, read by those /nova review admits.
type webReviews struct {
	reviewSource
	app *bot.App
}

func (r webReviews) MayReview(ctx context.Context, user string) (bool, error) {
	return r.app.MayReview(ctx, user)
}

// pageScanAuditWindow is how many of the latest audit entries the audit
// page searches and checks.
const pageScanAuditWindow = 20000

func (d pageData) Audit(ctx context.Context, f web.AuditFilter) (web.AuditWindow, error) {
	var w web.AuditWindow
	head, err := d.st.AuditHead(ctx)
	if err != nil || head.Seq == 0 {
		return w, err
	}
	_, keys := d.rt.config().AuditKeys()
	v := nova.NewChainVerifier(keys, nil)
	w.Keyed = v.Keyed()
	var matched []nova.AuditEntry
	first := true
	for after := max(head.Seq-pageScanAuditWindow, 0); after < head.Seq; {
		page, err := d.st.ListAudit(ctx, after, 1000)
		if err != nil {
			return w, err
		}
		if len(page) == 0 {
			break
		}
		if first {
			// The window's first entry links to one before it, unchecked here
			// (`nova audit verify` checks the whole log).
			v.From(page[0].Seq-1, page[0].PrevHash)
			w.FirstSeq, first = page[0].Seq, false
		}
		if w.Problem == "" {
			if _, why := v.Add(page); why != "" {
				w.Problem = why
			}
		}
		for _, e := range page {
			if (f.Incident == "" || e.Incident == f.Incident) && (f.Actor == "" || e.Actor == f.Actor) &&
				(f.Action == "" || e.Action == f.Action || strings.HasSuffix(f.Action, ".") && strings.HasPrefix(e.Action, f.Action)) &&
				(f.From.IsZero() || !e.Time.Before(f.From)) && (f.To.IsZero() || !e.Time.After(f.To)) {
				matched = append(matched, e)
			}
		}
		w.LastSeq, w.Checked = page[len(page)-1].Seq, w.Checked+int64(len(page))
		after = page[len(page)-1].Seq
	}
	slices.Reverse(matched)
	if f.Limit > 0 && len(matched) > f.Limit {
		matched = matched[:f.Limit]
	}
	w.Entries = matched
	return w, nil
}

// webBacktests is web.Backtests over bot's backtest rows and marks.
type webBacktests struct{ app *bot.App }

func (b webBacktests) BacktestRows(ctx context.Context, user string, svc nova.Service) ([]web.BacktestRow, bool, error) {
	rows, admin, err := b.app.BacktestRows(ctx, user, svc)
	if err != nil {
		return nil, false, err
	}
	out := make([]web.BacktestRow, 0, len(rows))
	for _, r := range rows {
		w := web.BacktestRow{IncidentID: r.Incident.ID, Number: r.Incident.Number, Title: r.Incident.Title, URL: r.Incident.URL,
			TriggeredAt: r.Incident.TriggeredAt, Verdict: r.Verdict, Why: r.Why, Happened: r.Outcome.Resolution}
		if w.Happened == "" {
			w.Happened = r.Outcome.ResolveReason
		}
		if w.Happened == "" && len(r.Outcome.Notes) > 0 {
			w.Happened = r.Outcome.Notes[len(r.Outcome.Notes)-1]
		}
		if r.Result != nil && !r.Result.Abstained && len(r.Result.Hypotheses) > 0 {
			top := r.Result.Top()
			w.Hypothesis = fmt.Sprintf("%s (%s, %.0f%%)", top.Summary, top.Category, 100*top.Confidence)
		}
		if r.Mark != nil {
			w.Mark, w.MarkedBy, w.MarkedAt = r.Mark.Mark, r.Mark.By, r.Mark.At
		}
		out = append(out, w)
	}
	return out, admin, nil
}

func (b webBacktests) MarkBacktest(ctx context.Context, user string, svc nova.Service, incidentID, mark string) (string, error) {
	return b.app.MarkBacktest(ctx, user, svc, incidentID, mark)
}
