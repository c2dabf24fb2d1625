package pdemu

import (
	"net/http"
	"slices"
)

// listIncidents is GET /incidents over the token's environment: filtered by
// service_ids[], statuses[] and the creation time in [since, until) (one
// month back by default, at most six months wide), classic pagination,
// sorted by created_at (ascending unless sort_by says otherwise).
func (e *Emulator) listIncidents(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "limit", "offset", "total", "service_ids[]", "statuses[]", "since", "until", "sort_by", "time_zone") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	q := r.URL.Query()
	c := callOf(r)
	if tz := q.Get("time_zone"); tz != "" && tz != "UTC" {
		e.unexpectedf(c.rec, "time_zone %q not modelled", tz)
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "pdemu: not modelled: time_zone other than UTC")
		return
	}
	desc := false
	switch q.Get("sort_by") {
	case "", "created_at", "created_at:asc":
	case "created_at:desc":
		desc = true
	default:
		e.unexpectedf(c.rec, "sort_by %q not modelled", q.Get("sort_by"))
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "pdemu: not modelled: sort_by "+q.Get("sort_by"))
		return
	}
	for _, s := range q["statuses[]"] {
		if s != "triggered" && s != "acknowledged" && s != "resolved" {
			writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "statuses must be triggered, acknowledged or resolved")
			return
		}
	}
	since, ok1 := utcParam(r, "since")
	until, ok2 := utcParam(r, "until")
	if !ok1 || !ok2 {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			"since and until must be ISO-8601 times, e.g. 2020-07-17T08:42:58Z")
		return
	}
	now := e.opts.Now().UTC()
	if until.IsZero() {
		until = now
	}
	if since.IsZero() {
		since = until.AddDate(0, -1, 0)
	}
	if until.After(since.AddDate(0, 6, 0)) {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided",
			"The maximum range between since and until is 6 months")
		return
	}
	services := q["service_ids[]"]
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range services {
		if s, ok := e.services[id]; ok && s.env != c.env {
			c.rec.CrossEnvironment = s.env
			e.logf("cross-environment: %s %s with a %q token names a %q service", r.Method, r.URL.Path, c.env, s.env)
		}
	}
	var matched []*incident
	for _, id := range e.incidentOrder {
		inc := e.incidents[id]
		switch {
		case inc.service.env != c.env,
			len(services) > 0 && !slices.Contains(services, inc.service.ID),
			len(q["statuses[]"]) > 0 && !slices.Contains(q["statuses[]"], inc.status),
			inc.createdAt.Before(since), !inc.createdAt.Before(until):
			continue
		}
		matched = append(matched, inc)
	}
	slices.SortStableFunc(matched, func(a, b *incident) int {
		if desc {
			return b.createdAt.Compare(a.createdAt)
		}
		return a.createdAt.Compare(b.createdAt)
	})
	out := make([]obj, 0, len(matched))
	for _, inc := range matched {
		out = append(out, inc.restJSON())
	}
	writeJSON(w, http.StatusOK, paged(r, "incidents", out, offset, limit))
}
