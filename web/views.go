package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/novasre/nova"
)

var (
	slackUserID      = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	suggestionIDRule = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,80}$`)
	filterValue      = regexp.MustCompile(`^[A-Za-z0-9_.-]{0,64}$`)
)

// maxListed bounds the incident list.
const maxListed = 200

// serviceRow is one line of the services page.
type serviceRow struct {
	Service   nova.Service
	State     nova.ServiceState
	SinceAgo  string
	Watching  string
	Precision string
	// Promotion is the promotion rule's own count (responders' buttons
	// and backtest marks), shown when it differs from Precision's.
	Promotion string
	AckShare  string
	Saved     string
	MeanHyp   string
}

type overviewView struct {
	Overview
	Rows []serviceRow
	// Review links the rollout review, for those who may read it.
	Review bool
}

func (pg *Pages) overview(r *http.Request, s Session) (string, view, error) {
	ov, err := pg.cfg.Data.Overview(r.Context())
	if err != nil {
		return "", view{}, err
	}
	now := pg.now()
	v := overviewView{Overview: ov}
	// Only a link: failing to ask (Slack unreachable) hides it and
	// leaves the services page up.
	if ok, err := pg.mayReview(r.Context(), s); err != nil {
		pg.log.WithError(err).Warn("could not tell whether the user may read the rollout review")
	} else {
		v.Review = ok
	}
	for _, s := range ov.Services {
		row := serviceRow{Service: s.Service, State: s.State}
		if !s.State.Since.IsZero() {
			row.SinceAgo = span(now.Sub(s.State.Since)) + " ago"
		}
		if s.State.Mode == nova.ModeReadOnly && s.Service.WatchDays > 0 && !s.State.ReadOnlySince.IsZero() {
			watched := now.Sub(s.State.ReadOnlySince)
			need := time.Duration(s.Service.WatchDays) * 24 * time.Hour
			if watched >= need {
				row.Watching = fmt.Sprintf("watching period done (%d days): ready for promotion", s.Service.WatchDays)
			} else {
				row.Watching = fmt.Sprintf("%s of %d days watched", span(watched), s.Service.WatchDays)
			}
		}
		row.Precision, row.Promotion = precision(s.State)
		if s.State.Hypotheses > 0 {
			row.MeanHyp = fmt.Sprintf("%.1f s", s.State.HypothesisSeconds/float64(s.State.Hypotheses))
		}
		if n := s.State.NovaAcks + s.State.PersonAcks; n > 0 {
			row.AckShare = fmt.Sprintf("%.0f%% (%d of %d)", 100*float64(s.State.NovaAcks)/float64(n), s.State.NovaAcks, n)
		}
		if s.State.NovaAcks > 0 && s.State.PersonAcks > 0 {
			saved := s.State.PersonAckSeconds/float64(s.State.PersonAcks) - s.State.NovaAckSeconds/float64(s.State.NovaAcks)
			row.Saved = (time.Duration(saved * float64(time.Second))).Round(time.Second).String() + " per ack"
		}
		v.Rows = append(v.Rows, row)
	}
	sort.Slice(v.Rows, func(i, j int) bool { return v.Rows[i].Service.Name < v.Rows[j].Service.Name })
	return "overview", view{Title: "Services", Nav: "services", Data: v}, nil
}

// precision renders the verdicts that calibrate a service's confidence,
// one per incident (a person's latest verdict, else how the incident was
// resolved; and backtest marks), as /nova status does: "72% helpful (18 of
// 25 incidents judged; 7 by resolution)". promotion is the count the
// promotion rule reads, when it differs.
func precision(st nova.ServiceState) (precision, promotion string) {
	helpful, wrong, byResolution := st.Verdicts()
	if t := helpful + wrong; t > 0 {
		judged := "incidents judged"
		if t == 1 {
			judged = "incident judged"
		}
		precision = fmt.Sprintf("%.0f%% helpful (%d of %d %s", 100*float64(helpful)/float64(t), helpful, t, judged)
		if byResolution > 0 {
			precision += fmt.Sprintf("; %d by resolution", byResolution)
		}
		precision += ")"
	}
	if st.Helpful != helpful || st.Wrong != wrong {
		promotion = fmt.Sprintf("%d helpful, %d wrong (responders' Helpful / Wrong buttons and backtest marks)", st.Helpful, st.Wrong)
	}
	return precision, promotion
}

type incidentsView struct {
	Filter       IncidentFilter
	Incidents    []incidentRow
	Services     []nova.Service
	Environments []string
	Statuses     []string
	Limit        int
}

type incidentRow struct {
	Rec      nova.IncidentRecord
	Service  string
	Top      string
	Abstain  bool
	Pending  bool
	Received string
}

func (pg *Pages) incidents(r *http.Request, _ Session) (string, view, error) {
	q := r.URL.Query()
	f := IncidentFilter{Service: q.Get("service"), Status: q.Get("status"), Environment: q.Get("environment"), Limit: 100}
	for _, v := range []string{f.Service, f.Status, f.Environment} {
		if !filterValue.MatchString(v) {
			return "", view{}, nova.Errorf(nova.EINVALID, "filters take a service id, a status or an environment name")
		}
	}
	if f.Status != "" && !slices.Contains([]string{nova.StatusTriggered, nova.StatusAcknowledged, nova.StatusResolved}, f.Status) {
		return "", view{}, nova.Errorf(nova.EINVALID, "status must be triggered, acknowledged or resolved")
	}
	recs, err := pg.cfg.Data.Incidents(r.Context(), f)
	if err != nil {
		return "", view{}, err
	}
	v := incidentsView{Filter: f, Environments: pg.cfg.Data.Environments(), Limit: f.Limit,
		Statuses: []string{nova.StatusTriggered, nova.StatusAcknowledged, nova.StatusResolved}}
	ov, err := pg.cfg.Data.Overview(r.Context())
	if err != nil {
		return "", view{}, err
	}
	for _, s := range ov.Services {
		v.Services = append(v.Services, s.Service)
	}
	sort.Slice(v.Services, func(i, j int) bool { return v.Services[i].Name < v.Services[j].Name })
	for _, rec := range recs[:min(len(recs), maxListed)] {
		row := incidentRow{Rec: rec, Service: rec.ServiceID, Pending: rec.Triage == nil, Received: stamp(rec.TriggeredAt)}
		if svc, ok := pg.cfg.Data.Service(rec.ServiceID); ok {
			row.Service = svc.Name
		}
		if t := rec.Triage; t != nil {
			row.Abstain = t.Abstained
			if top := t.Top(); top != nil && !t.Abstained {
				row.Top = top.Summary
			}
		}
		v.Incidents = append(v.Incidents, row)
	}
	return "incidents", view{Title: "Incidents", Nav: "incidents", Data: v}, nil
}

type incidentView struct {
	Rec         nova.IncidentRecord
	Service     nova.Service
	HasService  bool
	Triage      *nova.TriageResult
	Top         *nova.Hypothesis
	RunnersUp   []nova.Hypothesis
	Requests    []requestRow
	Audit       []nova.AuditEntry
	PDURL       string
	SlackURL    string
	TTH         string
	Triggered   string
	Suggestions []suggestionLink
}

type requestRow struct {
	Req        nova.ApprovalRequest
	Tally      string
	Decisions  []decisionRow
	Suggestion string
}

type decisionRow struct {
	UserID  string
	Approve bool
	At      string
}

type suggestionLink struct {
	S       nova.Suggestion
	Href    string
	Request *nova.ApprovalRequest
}

func (pg *Pages) loadIncident(r *http.Request) (nova.IncidentRecord, error) {
	id := mux.Vars(r)["id"]
	if !incidentIDPattern.MatchString(id) {
		return nova.IncidentRecord{}, nova.Errorf(nova.EINVALID, "%q is not a PagerDuty incident id", truncateForError(id))
	}
	return pg.cfg.Data.Incident(r.Context(), id)
}

func (pg *Pages) incident(r *http.Request, _ Session) (string, view, error) {
	rec, err := pg.loadIncident(r)
	if err != nil {
		return "", view{}, err
	}
	reqs, err := pg.cfg.Data.Requests(r.Context(), rec.ID)
	if err != nil {
		return "", view{}, err
	}
	audit, err := pg.cfg.Data.IncidentAudit(r.Context(), rec.ID)
	if err != nil {
		return "", view{}, err
	}
	v := incidentView{Rec: rec, Triage: rec.Triage, Audit: audit, Triggered: stamp(rec.TriggeredAt)}
	v.Service, v.HasService = pg.cfg.Data.Service(rec.ServiceID)
	if u, ok := nova.SafeURL(rec.HTMLURL); ok {
		v.PDURL = u
	}
	v.SlackURL = slackChannelURL(rec.SlackChannel)
	if d := rec.TimeToHypothesis(); d > 0 {
		v.TTH = d.Round(100 * time.Millisecond).String()
	}
	if t := rec.Triage; t != nil && len(t.Hypotheses) > 0 {
		v.Top = &t.Hypotheses[0]
		v.RunnersUp = t.Hypotheses[1:]
	}
	for _, req := range reqs {
		v.Requests = append(v.Requests, requestRowOf(req, rec))
	}
	if v.Top != nil && !rec.Triage.Abstained {
		for _, s := range v.Top.Suggestions {
			v.Suggestions = append(v.Suggestions, suggestionLink{S: s, Href: suggestionHref(rec.ID, s.ID), Request: requestFor(reqs, s)})
		}
	}
	return "incident", view{Title: incidentName(rec), Nav: "incidents", Data: v}, nil
}

func requestRowOf(req nova.ApprovalRequest, rec nova.IncidentRecord) requestRow {
	row := requestRow{Req: req}
	have := 0
	for _, d := range req.Decisions {
		row.Decisions = append(row.Decisions, decisionRow{UserID: d.UserID, Approve: d.Approve, At: stamp(d.At)})
		if d.Approve {
			have++
		}
	}
	need := max(req.RequiredApprovals, 1)
	row.Tally = fmt.Sprintf("%d of %d approvals", min(have, need), need)
	if t := rec.Triage; t != nil {
		for _, h := range t.Hypotheses {
			for _, s := range h.Suggestions {
				if s.Action == req.Action && row.Suggestion == "" {
					row.Suggestion = suggestionHref(rec.ID, s.ID)
				}
			}
		}
	}
	return row
}

// requestFor finds the newest action request behind a suggestion.
func requestFor(reqs []nova.ApprovalRequest, s nova.Suggestion) *nova.ApprovalRequest {
	if s.Action == "" {
		return nil
	}
	var found *nova.ApprovalRequest
	for i := range reqs {
		if reqs[i].Action == s.Action && (found == nil || reqs[i].CreatedAt.After(found.CreatedAt)) {
			found = &reqs[i]
		}
	}
	return found
}

type suggestionView struct {
	Rec        nova.IncidentRecord
	S          nova.Suggestion
	Hypothesis nova.Hypothesis
	Action     *nova.Action
	Params     []param
	Runbook    string
	Request    *requestRow
	Approvers  []string
	Required   int
	Pre        []string
	IncHref    string
	Buttons    decisionButtons
	// ServiceName names the incident's service (its id when unknown).
	ServiceName string
}

type param struct{ Key, Value string }

func (pg *Pages) suggestion(r *http.Request, s Session) (string, view, error) {
	rec, err := pg.loadIncident(r)
	if err != nil {
		return "", view{}, err
	}
	sid := mux.Vars(r)["suggestion"]
	if !suggestionIDRule.MatchString(sid) {
		return "", view{}, nova.Errorf(nova.EINVALID, "%q is not a suggestion id", truncateForError(sid))
	}
	v := suggestionView{Rec: rec, IncHref: "/incidents/" + url.PathEscape(rec.ID), ServiceName: rec.ServiceID}
	if svc, ok := pg.cfg.Data.Service(rec.ServiceID); ok {
		v.ServiceName = svc.Name
	}
	found := false
	if t := rec.Triage; t != nil {
		for _, h := range t.Hypotheses {
			for _, s := range h.Suggestions {
				if s.ID == sid && !found {
					v.S, v.Hypothesis, found = s, h, true
				}
			}
		}
	}
	if !found {
		return "", view{}, nova.Errorf(nova.ENOTFOUND, "incident %s has no suggestion %s", rec.ID, sid)
	}
	if u, ok := nova.SafeURL(v.S.RunbookURL); ok {
		v.Runbook = u
	}
	if v.S.Action != "" {
		if act, ok := pg.cfg.Data.Action(v.S.Action); ok {
			v.Action = &act
		}
		reqs, err := pg.cfg.Data.Requests(r.Context(), rec.ID)
		if err != nil {
			return "", view{}, err
		}
		if req := requestFor(reqs, v.S); req != nil {
			row := requestRowOf(*req, rec)
			v.Request = &row
			confirm := r.URL.Query().Get("confirm") == VerbApprove
			if v.Buttons, err = pg.buttons(r.Context(), s, *req, confirm, suggestionHref(rec.ID, v.S.ID)); err != nil {
				return "", view{}, err
			}
			v.Approvers, v.Required = req.Approvers, max(req.RequiredApprovals, 1)
			for k, val := range req.Params {
				v.Params = append(v.Params, param{k, val})
			}
		} else {
			v.Approvers, v.Required = pg.cfg.Data.Approvers(rec.Environment)
			if v.Action != nil {
				for k, val := range v.Action.Params {
					v.Params = append(v.Params, param{k, val})
				}
			}
		}
		sort.Slice(v.Params, func(i, j int) bool { return v.Params[i].Key < v.Params[j].Key })
		v.Pre = []string{
			"Nova is not paused.",
			"The service is in action mode.",
			"PagerDuty confirms, just before the run, that the incident is still open.",
			"The request has not expired and every approver is still allowed by the current approvals policy.",
		}
	}
	return "suggestion", view{Title: v.S.Title, Nav: "incidents", Data: v}, nil
}

// slackChannelURL opens a Slack channel by id (Slack's app_redirect).
func slackChannelURL(channel string) string {
	if channel == "" || !regexp.MustCompile(`^[CGD][A-Z0-9]{2,20}$`).MatchString(channel) {
		return ""
	}
	return "https://slack.com/app_redirect?channel=" + channel
}

func suggestionHref(incident, suggestion string) string {
	return "/incidents/" + url.PathEscape(incident) + "/suggestions/" + url.PathEscape(suggestion)
}

func incidentName(rec nova.IncidentRecord) string {
	if rec.Number > 0 {
		return fmt.Sprintf("#%d %s", rec.Number, rec.Title)
	}
	return rec.ID + " " + rec.Title
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func span(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func splitComma(h string) []string {
	var out []string
	for _, p := range strings.Split(h, ",") {
		p, _, _ = strings.Cut(p, ";")
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}
