package pagerduty

import (
	"context"
	"net/http"
	"slices"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/novasre/nova"
)

// maxListRange is the longest since..until PagerDuty accepts on GET /incidents.
const maxListRange = 180 * 24 * time.Hour

// maxListOffset is PagerDuty's bound on offset+limit in classic pagination.
const maxListOffset = 10000

// ListIncidents lists incidents of the filter's services, newest first,
// page by page until PagerDuty has no more, f.Limit is reached or the page
// cap is. It is a view call (GET /incidents) like every other read.
func (c *Client) ListIncidents(ctx context.Context, f nova.IncidentFilter) ([]nova.Incident, error) {
	if len(f.ServiceIDs) == 0 {
		return nil, nova.Errorf(nova.EINVALID, "listing incidents needs at least one service id")
	}
	for _, id := range f.ServiceIDs {
		if err := checkID("service", id); err != nil {
			return nil, err
		}
	}
	for _, s := range f.Statuses {
		if !slices.Contains([]string{nova.StatusTriggered, nova.StatusAcknowledged, nova.StatusResolved}, s) {
			return nil, nova.Errorf(nova.EINVALID, "%q is not an incident status (triggered, acknowledged, resolved)", s)
		}
	}
	if f.Limit < 0 {
		return nil, nova.Errorf(nova.EINVALID, "incident list limit must not be negative")
	}
	until := f.Until
	if until.IsZero() {
		until = time.Now()
	}
	if f.Since.IsZero() || !f.Since.Before(until) {
		return nil, nova.Errorf(nova.EINVALID, "listing incidents needs a since before until")
	}
	if until.Sub(f.Since) > maxListRange {
		return nil, nova.Errorf(nova.EINVALID, "PagerDuty lists incidents over at most 180 days; %s to %s is longer",
			f.Since.UTC().Format(time.DateOnly), until.UTC().Format(time.DateOnly))
	}
	opts := gopd.ListIncidentsOptions{
		Limit: pageSize, ServiceIDs: f.ServiceIDs, Statuses: f.Statuses,
		Since: f.Since.UTC().Format(time.RFC3339), Until: until.UTC().Format(time.RFC3339),
		SortBy: "created_at:desc", TimeZone: "UTC",
	}
	name := "list incidents of services " + joinIDs(f.ServiceIDs)
	out := []nova.Incident{}
	for page := 0; ; page++ {
		if page == c.cfg.MaxPages || int(opts.Offset)+pageSize > maxListOffset {
			c.log.WithField("op", name).WithField("items", len(out)).Warn("PagerDuty list truncated at the page cap")
			return out, nil
		}
		var items []nova.Incident
		var more bool
		err := c.do(ctx, apiCall{name: name, method: http.MethodGet,
			run: func(ctx context.Context, pd *gopd.Client) error {
				resp, err := pd.ListIncidentsWithContext(ctx, opts)
				if err != nil {
					return err
				}
				items = make([]nova.Incident, 0, len(resp.Incidents))
				for i := range resp.Incidents {
					items = append(items, incidentFrom(&resp.Incidents[i]))
				}
				more = resp.More
				return nil
			}})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if f.Limit > 0 && len(out) >= f.Limit {
			return out[:f.Limit], nil
		}
		if !more || len(items) == 0 {
			return out, nil
		}
		opts.Offset += uint(len(items))
	}
}

func joinIDs(ids []string) string {
	if len(ids) > 3 {
		return ids[0] + ", " + ids[1] + ", " + ids[2] + " and others"
	}
	s := ""
	for i, id := range ids {
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}

type priorityKey struct{}

// Background marks ctx's PagerDuty calls as background work (a backtest):
// they wait until the credential's bucket holds at least half its burst, so
// live triage, notes and acknowledgements always find room first.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, priorityKey{}, true)
}

func isBackground(ctx context.Context) bool {
	b, _ := ctx.Value(priorityKey{}).(bool)
	return b
}

// backgroundReserve is the headroom background reads leave in the bucket:
// half the burst, and always more than live reads leave.
func (c *Client) backgroundReserve() int {
	return max(c.rate.Burst/2, min(c.reserve+1, c.rate.Burst-1))
}
