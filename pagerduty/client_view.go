package pagerduty

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/novasre/nova"
)

// pageSize is PagerDuty's largest page.
const pageSize = 100

// GetIncident returns an incident.
func (c *Client) GetIncident(ctx context.Context, id string) (nova.Incident, error) {
	if err := checkID("incident", id); err != nil {
		return nova.Incident{}, err
	}
	var out nova.Incident
	err := c.do(ctx, apiCall{name: "get incident " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			inc, err := pd.GetIncidentWithContext(ctx, id)
			if err == nil {
				out = incidentFrom(inc)
			}
			return err
		}})
	return out, err
}

// ListAlerts returns an incident's alerts, their custom details flattened
// to dotted keys.
func (c *Client) ListAlerts(ctx context.Context, id string) ([]nova.Alert, error) {
	if err := checkID("incident", id); err != nil {
		return nil, err
	}
	return collect(ctx, c, "list alerts of incident "+id,
		func(ctx context.Context, pd *gopd.Client, offset int) ([]nova.Alert, bool, error) {
			resp, err := pd.ListIncidentAlertsWithContext(ctx, id, gopd.ListIncidentAlertsOptions{Limit: pageSize, Offset: uint(offset)})
			if err != nil {
				return nil, false, err
			}
			out := make([]nova.Alert, 0, len(resp.Alerts))
			for _, a := range resp.Alerts {
				out = append(out, alertFrom(a))
			}
			return out, resp.More, nil
		})
}

// ListNotes returns an incident's notes (the endpoint does not page).
func (c *Client) ListNotes(ctx context.Context, id string) ([]nova.Note, error) {
	if err := checkID("incident", id); err != nil {
		return nil, err
	}
	var out []nova.Note
	err := c.do(ctx, apiCall{name: "list notes of incident " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			notes, err := pd.ListIncidentNotesWithContext(ctx, id)
			if err != nil {
				return err
			}
			out = make([]nova.Note, 0, len(notes))
			for _, n := range notes {
				out = append(out, noteFrom(n))
			}
			return nil
		}})
	return out, err
}

// ListLogEntries returns an incident's timeline as PagerDuty orders it.
func (c *Client) ListLogEntries(ctx context.Context, id string) ([]nova.LogEntry, error) {
	if err := checkID("incident", id); err != nil {
		return nil, err
	}
	return collect(ctx, c, "list log entries of incident "+id,
		func(ctx context.Context, pd *gopd.Client, offset int) ([]nova.LogEntry, bool, error) {
			resp, err := pd.ListIncidentLogEntriesWithContext(ctx, id, gopd.ListIncidentLogEntriesOptions{Limit: pageSize, Offset: uint(offset)})
			if err != nil {
				return nil, false, err
			}
			out := make([]nova.LogEntry, 0, len(resp.LogEntries))
			for _, l := range resp.LogEntries {
				out = append(out, logEntryFrom(l))
			}
			return out, resp.More, nil
		})
}

// RelatedChangeEvents returns the change events PagerDuty correlates with
// an incident, each with its correlation reason.
func (c *Client) RelatedChangeEvents(ctx context.Context, id string) ([]nova.ChangeEvent, error) {
	if err := checkID("incident", id); err != nil {
		return nil, err
	}
	var out []nova.ChangeEvent
	err := c.do(ctx, apiCall{name: "list change events related to incident " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			var resp wireChangeList
			q := url.Values{"limit": {strconv.Itoa(pageSize)}}
			if err := c.getJSON(ctx, pd, "/incidents/"+id+"/related_change_events", q, &resp); err != nil {
				return err
			}
			out = resp.nova()
			return nil
		}})
	return out, err
}

// ServiceChangeEvents returns a service's change events in [since, until);
// a zero time leaves that end open. PagerDuty takes only UTC times there.
func (c *Client) ServiceChangeEvents(ctx context.Context, serviceID string, since, until time.Time) ([]nova.ChangeEvent, error) {
	if err := checkID("service", serviceID); err != nil {
		return nil, err
	}
	q := url.Values{"limit": {strconv.Itoa(pageSize)}}
	if !since.IsZero() {
		q.Set("since", since.UTC().Format(time.RFC3339))
	}
	if !until.IsZero() {
		q.Set("until", until.UTC().Format(time.RFC3339))
	}
	return collect(ctx, c, "list change events of service "+serviceID,
		func(ctx context.Context, pd *gopd.Client, offset int) ([]nova.ChangeEvent, bool, error) {
			page := url.Values{}
			for k, v := range q {
				page[k] = v
			}
			page.Set("offset", strconv.Itoa(offset))
			var resp wireChangeList
			if err := c.getJSON(ctx, pd, "/services/"+serviceID+"/change_events", page, &resp); err != nil {
				return nil, false, err
			}
			return resp.nova(), resp.More, nil
		})
}

// PastIncidents returns up to limit (1..999; 0 means PagerDuty's 5) earlier
// incidents of the same service that PagerDuty finds similar, best first.
// Their Resolution is left empty: reading each one's notes costs a request
// apiece, which the caller decides to spend (ListNotes).
func (c *Client) PastIncidents(ctx context.Context, id string, limit int) ([]nova.PastIncident, error) {
	if err := checkID("incident", id); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 5
	}
	limit = min(limit, 999)
	var out []nova.PastIncident
	err := c.do(ctx, apiCall{name: "list past incidents of incident " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			var resp wirePastIncidents
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if err := c.getJSON(ctx, pd, "/incidents/"+id+"/past_incidents", q, &resp); err != nil {
				return err
			}
			out = resp.nova()
			return nil
		}})
	return out, err
}

// RelatedIncidents returns the concurrent incidents PagerDuty relates to
// this one (machine-learning inferred or via service dependencies).
func (c *Client) RelatedIncidents(ctx context.Context, id string) ([]nova.RelatedIncident, error) {
	if err := checkID("incident", id); err != nil {
		return nil, err
	}
	var out []nova.RelatedIncident
	err := c.do(ctx, apiCall{name: "list incidents related to incident " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			var resp wireRelatedIncidents
			// Without additional_details the related incidents lack status and service.
			q := url.Values{"additional_details[]": {"incident"}}
			if err := c.getJSON(ctx, pd, "/incidents/"+id+"/related_incidents", q, &resp); err != nil {
				return err
			}
			out = resp.nova()
			return nil
		}})
	return out, err
}

// OutlierIncident returns PagerDuty's classification of how usual the
// incident is. ENOTFOUND means PagerDuty has none (no AIOps, or no data).
func (c *Client) OutlierIncident(ctx context.Context, id string) (nova.Outlier, error) {
	if err := checkID("incident", id); err != nil {
		return nova.Outlier{}, err
	}
	var out nova.Outlier
	err := c.do(ctx, apiCall{name: "get outlier classification of incident " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			var resp wireOutlier
			if err := c.getJSON(ctx, pd, "/incidents/"+id+"/outlier_incident", nil, &resp); err != nil {
				return err
			}
			out = resp.nova()
			return nil
		}})
	return out, err
}

// GetService returns a reference to a service.
func (c *Client) GetService(ctx context.Context, id string) (nova.Ref, error) {
	if err := checkID("service", id); err != nil {
		return nova.Ref{}, err
	}
	var out nova.Ref
	err := c.do(ctx, apiCall{name: "get service " + id, method: http.MethodGet,
		run: func(ctx context.Context, pd *gopd.Client) error {
			s, err := pd.GetServiceWithContext(ctx, id, nil)
			if err == nil {
				out = nova.Ref{ID: s.ID, Type: "service_reference", Summary: s.Name, HTMLURL: s.HTMLURL}
				if out.Summary == "" {
					out.Summary = s.Summary
				}
			}
			return err
		}})
	return out, err
}

// collect reads a paginated endpoint page by page (each page retried on
// its own), until PagerDuty says there is no more or MaxPages is reached.
func collect[T any](ctx context.Context, c *Client, name string,
	fetch func(ctx context.Context, pd *gopd.Client, offset int) ([]T, bool, error)) ([]T, error) {
	out := []T{}
	offset := 0
	for page := 0; ; page++ {
		if page == c.cfg.MaxPages {
			c.log.WithField("op", name).WithField("items", len(out)).Warn("PagerDuty list truncated at the page cap")
			return out, nil
		}
		var items []T
		var more bool
		err := c.do(ctx, apiCall{name: name, method: http.MethodGet,
			run: func(ctx context.Context, pd *gopd.Client) error {
				var err error
				items, more, err = fetch(ctx, pd, offset)
				return err
			}})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if !more || len(items) == 0 {
			return out, nil
		}
		offset += len(items)
	}
}

// checkID refuses ids that could change the request's path.
func checkID(kind, id string) error {
	if !idSegment.MatchString(id) {
		return nova.Errorf(nova.EINVALID, "%q is not a PagerDuty %s id", id, kind)
	}
	return nil
}
