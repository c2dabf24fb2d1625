package pagerduty

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/novasre/nova"
)

// Limits on flattened custom details: alert payloads are written by
// monitoring tools and may be large or deeply nested.
const (
	maxDetailKeys  = 200
	maxDetailDepth = 6
	maxDetailValue = 2048
)

func pdTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func refFrom(o gopd.APIObject) nova.Ref {
	return nova.Ref{ID: o.ID, Type: o.Type, Summary: o.Summary, HTMLURL: o.HTMLURL}
}

func incidentFrom(i *gopd.Incident) nova.Incident {
	out := nova.Incident{
		ID: i.ID, Number: int(i.IncidentNumber), Title: i.Title, Status: i.Status, Urgency: i.Urgency,
		HTMLURL: i.HTMLURL, IncidentKey: i.IncidentKey, CreatedAt: pdTime(i.CreatedAt),
		Service: refFrom(i.Service), ResolveReason: i.ResolveReason.Type,
		ResolvedAt: pdTime(i.ResolvedAt),
	}
	if i.Priority != nil {
		out.Priority = i.Priority.Summary
		if out.Priority == "" {
			out.Priority = i.Priority.Name
		}
	}
	for _, a := range i.Assignments {
		out.Assignees = append(out.Assignees, refFrom(a.Assignee))
	}
	for _, t := range i.Teams {
		out.Teams = append(out.Teams, refFrom(t))
	}
	return out
}

func alertFrom(a gopd.IncidentAlert) nova.Alert {
	out := nova.Alert{
		ID: a.ID, Summary: a.Summary, Severity: a.Severity, Status: a.Status,
		CreatedAt: pdTime(a.CreatedAt), HTMLURL: a.HTMLURL, Source: a.Integration.Summary,
	}
	details := map[string]string{}
	flattenDetails("", a.Body["details"], details, 0)
	if cef, ok := a.Body["cef_details"].(map[string]any); ok {
		// The Events API v2 copy; keys already seen in details win.
		more := map[string]string{}
		flattenDetails("", cef["details"], more, 0)
		for k, v := range more {
			if _, seen := details[k]; !seen && len(details) < maxDetailKeys {
				details[k] = v
			}
		}
		if src, ok := cef["source_origin"].(string); ok && src != "" {
			out.Source = src
		}
	}
	if len(details) > 0 {
		out.Details = details
	}
	return out
}

func noteFrom(n gopd.IncidentNote) nova.Note {
	return nova.Note{ID: n.ID, Content: n.Content, CreatedAt: pdTime(n.CreatedAt), User: refFrom(n.User)}
}

func logEntryFrom(l gopd.LogEntry) nova.LogEntry {
	out := nova.LogEntry{ID: l.ID, Type: l.Type, Summary: l.Summary, CreatedAt: pdTime(l.CreatedAt), Channel: l.Channel.Type}
	if l.Agent.ID != "" {
		a := refFrom(gopd.APIObject(l.Agent))
		out.Agent = &a
	}
	return out
}

// flattenDetails writes v's leaves into out under dotted keys ("labels.pod",
// "hosts.0"). A string details value (email integrations send one) lands
// under "details".
func flattenDetails(prefix string, v any, out map[string]string, depth int) {
	if len(out) >= maxDetailKeys || v == nil {
		return
	}
	key := prefix
	if key == "" {
		key = "details"
	}
	switch x := v.(type) {
	case map[string]any:
		if depth >= maxDetailDepth {
			out[key] = clipDetail(compactJSON(x))
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a stable choice when the key cap cuts
		for _, k := range keys {
			flattenDetails(detailKey(prefix, k), x[k], out, depth+1)
		}
	case []any:
		if depth >= maxDetailDepth {
			out[key] = clipDetail(compactJSON(x))
			return
		}
		for i, e := range x {
			flattenDetails(detailKey(prefix, strconv.Itoa(i)), e, out, depth+1)
		}
	case string:
		out[key] = clipDetail(x)
	case float64:
		out[key] = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		out[key] = strconv.FormatBool(x)
	default:
		out[key] = clipDetail(compactJSON(x))
	}
}

func detailKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func clipDetail(s string) string {
	if len(s) > maxDetailValue {
		return s[:maxDetailValue] + "…"
	}
	return s
}

// Wire shapes of the endpoints go-pagerduty lacks.

type wireRef struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	HTMLURL string `json:"html_url"`
}

func (r wireRef) nova() nova.Ref {
	return nova.Ref{ID: r.ID, Type: r.Type, Summary: r.Summary, HTMLURL: r.HTMLURL}
}

type wireChangeList struct {
	ChangeEvents []struct {
		ID            string      `json:"id"`
		Summary       string      `json:"summary"`
		Timestamp     string      `json:"timestamp"`
		Source        string      `json:"source"`
		HTMLURL       string      `json:"html_url"`
		Services      []wireRef   `json:"services"`
		Links         []nova.Link `json:"links"`
		CustomDetails any         `json:"custom_details"`
		Correlation   *struct {
			Reason string `json:"reason"`
		} `json:"correlation_reason"`
	} `json:"change_events"`
	More bool `json:"more"`
}

func (w wireChangeList) nova() []nova.ChangeEvent {
	out := make([]nova.ChangeEvent, 0, len(w.ChangeEvents))
	for _, c := range w.ChangeEvents {
		e := nova.ChangeEvent{ID: c.ID, Summary: c.Summary, Timestamp: pdTime(c.Timestamp), Source: c.Source,
			Links: c.Links, HTMLURL: c.HTMLURL}
		for _, s := range c.Services {
			e.Services = append(e.Services, s.nova())
		}
		details := map[string]string{}
		flattenDetails("", c.CustomDetails, details, 0)
		if len(details) > 0 {
			e.Details = details
		}
		if c.Correlation != nil {
			e.CorrelationReason = c.Correlation.Reason
		}
		out = append(out, e)
	}
	return out
}

// wireIncident is the short incident of past, related and outlier answers.
type wireIncident struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	CreatedAt string  `json:"created_at"`
	HTMLURL   string  `json:"html_url"`
	Status    string  `json:"status"`
	Service   wireRef `json:"service"`
}

type wirePastIncidents struct {
	PastIncidents []struct {
		Incident wireIncident `json:"incident"`
		Score    float64      `json:"score"`
	} `json:"past_incidents"`
}

func (w wirePastIncidents) nova() []nova.PastIncident {
	out := make([]nova.PastIncident, 0, len(w.PastIncidents))
	for _, p := range w.PastIncidents {
		out = append(out, nova.PastIncident{ID: p.Incident.ID, Title: p.Incident.Title,
			CreatedAt: pdTime(p.Incident.CreatedAt), HTMLURL: p.Incident.HTMLURL, Score: p.Score})
	}
	return out
}

type wireRelatedIncidents struct {
	RelatedIncidents []struct {
		Incident      wireIncident `json:"incident"`
		Relationships []struct {
			Type string `json:"type"`
		} `json:"relationships"`
	} `json:"related_incidents"`
}

func (w wireRelatedIncidents) nova() []nova.RelatedIncident {
	out := make([]nova.RelatedIncident, 0, len(w.RelatedIncidents))
	for _, r := range w.RelatedIncidents {
		ri := nova.RelatedIncident{ID: r.Incident.ID, Title: r.Incident.Title, Status: r.Incident.Status,
			CreatedAt: pdTime(r.Incident.CreatedAt), HTMLURL: r.Incident.HTMLURL, Service: r.Incident.Service.nova()}
		if len(r.Relationships) > 0 {
			ri.Relationship = r.Relationships[0].Type
		}
		out = append(out, ri)
	}
	return out
}

type wireOutlier struct {
	OutlierIncident struct {
		Incident struct {
			Occurrence struct {
				Count    int    `json:"count"`
				Category string `json:"category"`
			} `json:"occurrence"`
		} `json:"incident"`
		Template struct {
			MinedText string `json:"mined_text"`
		} `json:"incident_template"`
	} `json:"outlier_incident"`
}

func (w wireOutlier) nova() nova.Outlier {
	o := w.OutlierIncident
	return nova.Outlier{Category: o.Incident.Occurrence.Category, Count: o.Incident.Occurrence.Count, Template: o.Template.MinedText}
}
