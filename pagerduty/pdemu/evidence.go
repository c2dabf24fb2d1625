package pdemu

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (e *Emulator) getAlerts(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "limit", "offset", "total") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	alerts := make([]obj, 0, len(inc.alerts))
	for _, a := range inc.alerts {
		alerts = append(alerts, inc.alertJSON(a))
	}
	writeJSON(w, http.StatusOK, paged(r, "alerts", alerts, offset, limit))
}

func (e *Emulator) getLogEntries(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "limit", "offset", "total") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	entries := make([]obj, 0, len(inc.log))
	// PagerDuty lists an incident's log entries newest first.
	for i := len(inc.log) - 1; i >= 0; i-- {
		entries = append(entries, inc.logEntryJSON(inc.log[i]))
	}
	writeJSON(w, http.StatusOK, paged(r, "log_entries", entries, offset, limit))
}

func (e *Emulator) getRelatedChanges(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "limit") {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	out := make([]obj, 0, len(inc.changes))
	for _, c := range inc.changes {
		j := e.changes[c.changeID].restJSON()
		j["correlation_reason"] = obj{"reason": c.reason}
		out = append(out, j)
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && n < len(out) {
		out = out[:n]
	}
	writeJSON(w, http.StatusOK, obj{"change_events": out, "limit": nil, "offset": nil, "total": nil, "more": false})
}

func (e *Emulator) getPastIncidents(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "limit", "total") {
		return
	}
	limit := 5
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 999 {
			writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "limit must be between 1 and 999")
			return
		}
		limit = n
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	links := slices.Clone(inc.past)
	slices.SortStableFunc(links, func(a, b pastLink) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	out := []obj{}
	for _, l := range links[:min(limit, len(links))] {
		out = append(out, obj{"incident": e.incidents[l.incidentID].shortJSON(), "score": l.score})
	}
	writeJSON(w, http.StatusOK, obj{"past_incidents": out, "total": len(links), "limit": limit})
}

func (e *Emulator) getRelatedIncidents(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "additional_details[]") {
		return
	}
	detailed := slices.Contains(r.URL.Query()["additional_details[]"], "incident")
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	out := []obj{}
	for _, rel := range inc.related {
		other := e.incidents[rel.incidentID]
		j := other.shortJSON()
		if detailed {
			j["status"], j["html_url"], j["summary"] = other.status, webURL("incidents", other.id), other.summary()
			j["service"], j["urgency"] = other.service.refJSON(), other.urgency
		}
		meta := obj{"grouping_classification": "similar_contents",
			"user_feedback": obj{"positive_feedback_count": 0, "negative_feedback_count": 0}}
		if rel.relationship == "service_dependency" {
			meta = obj{"dependent_services": inc.service.refJSON(), "supporting_services": other.service.refJSON()}
		}
		out = append(out, obj{"incident": j, "relationships": []obj{{"type": rel.relationship, "metadata": meta}}})
	}
	writeJSON(w, http.StatusOK, obj{"related_incidents": out})
}

// getOutlier answers 404 for an incident without a classification, as for
// an account without the AIOps add-on.
func (e *Emulator) getOutlier(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "since", "additional_details[]") {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inc, ok := e.incidentFor(w, r, r.PathValue("id"))
	if !ok {
		return
	}
	o := inc.outlier
	if o == nil {
		notFound(w)
		return
	}
	j := inc.shortJSON()
	j["occurrence"] = obj{"count": o.Count, "frequency": o.Frequency, "category": o.Category,
		"since": tsOrNull(o.Since), "until": tsOrNull(o.Until)}
	writeJSON(w, http.StatusOK, obj{"outlier_incident": obj{
		"incident":          j,
		"incident_template": obj{"id": "T" + inc.id, "cluster_id": "C" + inc.service.ID, "mined_text": o.Template},
	}})
}

// serviceFor finds the service named in the path, like incidentFor.
func (e *Emulator) serviceFor(w http.ResponseWriter, r *http.Request) (*service, bool) {
	c := callOf(r)
	svc, ok := e.services[r.PathValue("id")]
	if !ok {
		notFound(w)
		return nil, false
	}
	if svc.env != c.env {
		c.rec.CrossEnvironment = svc.env
		e.logf("cross-environment: %s %s with a %q token touches a %q service", r.Method, r.URL.Path, c.env, svc.env)
		notFound(w)
		return nil, false
	}
	return svc, true
}

func (e *Emulator) getService(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if svc, ok := e.serviceFor(w, r); ok {
		writeJSON(w, http.StatusOK, obj{"service": svc.restJSON()})
	}
}

// listServices lists the services of the token's environment only.
func (e *Emulator) listServices(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "limit", "offset", "total") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	env := callOf(r).env
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []obj{}
	for _, id := range e.serviceOrder {
		if s := e.services[id]; s.env == env {
			out = append(out, s.restJSON())
		}
	}
	writeJSON(w, http.StatusOK, paged(r, "services", out, offset, limit))
}

// getServiceChanges lists a service's change events newest first, within
// [since, until). PagerDuty takes only UTC ISO-8601 times there.
func (e *Emulator) getServiceChanges(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "since", "until", "limit", "offset", "total") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	since, ok1 := utcParam(r, "since")
	until, ok2 := utcParam(r, "until")
	if !ok1 || !ok2 {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			"since and until must be UTC ISO-8601 times, e.g. 2020-07-17T08:42:58Z")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	svc, ok := e.serviceFor(w, r)
	if !ok {
		return
	}
	var matched []*changeEvent
	for _, id := range e.changeOrder {
		c := e.changes[id]
		if c.service != svc || !since.IsZero() && c.Timestamp.Before(since) || !until.IsZero() && !c.Timestamp.Before(until) {
			continue
		}
		matched = append(matched, c)
	}
	slices.SortStableFunc(matched, func(a, b *changeEvent) int { return b.Timestamp.Compare(a.Timestamp) })
	out := make([]obj, 0, len(matched))
	for _, c := range matched {
		out = append(out, c.restJSON())
	}
	writeJSON(w, http.StatusOK, paged(r, "change_events", out, offset, limit))
}

// utcParam parses an optional time parameter that must be in UTC.
func utcParam(r *http.Request, name string) (time.Time, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return time.Time{}, false
	}
	return t, true
}
