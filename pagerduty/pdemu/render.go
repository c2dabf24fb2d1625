package pdemu

import (
	"fmt"
	"time"
)

// The JSON below follows the shapes of PagerDuty's OpenAPI examples in
// shared/fixtures/pagerduty (rest_*.json) and the V3 webhook docs
// (webhook_v3_*.json); the emulator's tests decode both the same way.

const (
	apiBase = "https://api.pagerduty.com"
	webBase = "https://pdemu.pagerduty.com"
)

type obj = map[string]any

func apiURL(kind, id string) string { return apiBase + "/" + kind + "/" + id }
func webURL(kind, id string) string { return webBase + "/" + kind + "/" + id }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tsOrNull renders a zero time as JSON null.
func tsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func userRef(u *user) obj {
	return obj{"id": u.id, "type": "user_reference", "summary": u.name,
		"self": apiURL("users", u.id), "html_url": webURL("users", u.id)}
}

func (a agent) refJSON() obj {
	if a.typ == "service_reference" {
		return obj{"id": a.id, "type": a.typ, "summary": a.summary,
			"self": apiURL("services", a.id), "html_url": webURL("service-directory", a.id)}
	}
	return obj{"id": a.id, "type": a.typ, "summary": a.summary,
		"self": apiURL("users", a.id), "html_url": webURL("users", a.id)}
}

func (s *service) refJSON() obj {
	return obj{"id": s.ID, "type": "service_reference", "summary": s.Name,
		"self": apiURL("services", s.ID), "html_url": webURL("service-directory", s.ID)}
}

func (s *service) policyJSON() obj {
	id := "E" + s.ID
	return obj{"id": id, "type": "escalation_policy_reference", "summary": "Default",
		"self": apiURL("escalation_policies", id), "html_url": webURL("escalation_policies", id)}
}

// restJSON is a service as GET /services and GET /services/{id} show it.
func (s *service) restJSON() obj {
	return obj{
		"id": s.ID, "summary": s.Name, "type": "service", "name": s.Name,
		"self": apiURL("services", s.ID), "html_url": webURL("service-directory", s.ID),
		"auto_resolve_timeout": 14400, "acknowledgement_timeout": 600,
		"created_at": ts(s.createdAt), "status": "active",
		"alert_creation":                      "create_alerts_and_incidents",
		"integrations":                        []obj{},
		"escalation_policy":                   s.policyJSON(),
		"teams":                               []obj{},
		"incident_urgency_rule":               obj{"type": "constant", "urgency": "high"},
		"support_hours":                       nil,
		"scheduled_actions":                   []obj{},
		"alert_grouping_parameters":           obj{"type": nil},
		"auto_pause_notifications_parameters": obj{"enabled": false, "timeout": nil},
	}
}

func (inc *incident) summary() string { return fmt.Sprintf("[#%d] %s", inc.number, inc.title) }

func (inc *incident) refJSON(typ string) obj {
	return obj{"id": inc.id, "type": typ, "summary": inc.title,
		"self": apiURL("incidents", inc.id), "html_url": webURL("incidents", inc.id)}
}

func (inc *incident) priorityJSON() any {
	if inc.priority == "" {
		return nil
	}
	id := "P" + inc.priority
	return obj{"id": id, "type": "priority_reference", "summary": inc.priority,
		"self": apiURL("priorities", id), "html_url": webBase + "/account/incident_priorities"}
}

// restJSON is an incident as GET and PUT /incidents/{id} show it.
func (inc *incident) restJSON() obj {
	assignments := []obj{}
	for _, u := range inc.assignees {
		assignments = append(assignments, obj{"at": ts(inc.createdAt), "assignee": userRef(u)})
	}
	acks := []obj{}
	for _, a := range inc.acks {
		acks = append(acks, obj{"at": ts(a.at), "acknowledger": userRef(a.by)})
	}
	counts := obj{"all": len(inc.alerts), "triggered": 0, "resolved": 0}
	for _, a := range inc.alerts {
		counts[a.status] = counts[a.status].(int) + 1
	}
	first := inc.log[0]
	return obj{
		"id": inc.id, "type": "incident", "summary": inc.summary(),
		"self": apiURL("incidents", inc.id), "html_url": webURL("incidents", inc.id),
		"incident_number": inc.number, "title": inc.title,
		"created_at": ts(inc.createdAt), "updated_at": ts(inc.updatedAt),
		"status": inc.status, "incident_key": inc.key,
		"service":               inc.service.refJSON(),
		"assignments":           assignments,
		"assigned_via":          "escalation_policy",
		"last_status_change_at": ts(inc.statusAt),
		"last_status_change_by": inc.statusBy.refJSON(),
		"resolved_at":           tsOrNull(inc.resolved),
		"first_trigger_log_entry": obj{
			"id": first.id, "type": "trigger_log_entry_reference", "summary": first.summary,
			"self":     apiURL("log_entries", first.id) + "?incident_id=" + inc.id,
			"html_url": webURL("incidents", inc.id) + "/log_entries/" + first.id,
		},
		"alert_counts": counts,
		"alert_grouping": obj{"grouping_type": nil, "started_at": nil, "ended_at": nil,
			"alert_grouping_active": false},
		"is_mergeable":         true,
		"incident_type":        obj{"name": "incident_default"},
		"escalation_policy":    inc.service.policyJSON(),
		"teams":                []obj{},
		"pending_actions":      []obj{},
		"acknowledgements":     acks,
		"priority":             inc.priorityJSON(),
		"resolve_reason":       nil,
		"conference_bridge":    nil,
		"incidents_responders": []obj{},
		"responder_requests":   []obj{},
		"urgency":              inc.urgency,
		"custom_fields":        []obj{},
	}
}

// webhookJSON is an incident as V3 webhooks carry it in event.data: smaller
// than the REST shape, with number and assignees instead of
// incident_number and assignments.
func (inc *incident) webhookJSON() obj {
	assignees := []obj{}
	for _, u := range inc.assignees {
		assignees = append(assignees, userRef(u))
	}
	return obj{
		"id": inc.id, "type": "incident",
		"self": apiURL("incidents", inc.id), "html_url": webURL("incidents", inc.id),
		"number": inc.number, "status": inc.status, "incident_key": inc.key,
		"created_at": ts(inc.createdAt), "reopened_at": tsOrNull(inc.reopened), "title": inc.title,
		"incident_type":     obj{"name": "incident_default"},
		"service":           inc.service.refJSON(),
		"assignees":         assignees,
		"escalation_policy": inc.service.policyJSON(),
		"teams":             []obj{},
		"priority":          inc.priorityJSON(),
		"urgency":           inc.urgency,
		"conference_bridge": nil,
		"resolve_reason":    nil,
	}
}

func (inc *incident) alertJSON(a *alert) obj {
	details := a.details
	if details == nil {
		details = obj{}
	}
	integration := "Events API V2"
	if a.source != "" {
		integration = a.source
	}
	intID := "I" + inc.service.ID
	return obj{
		"id": a.id, "type": "alert", "summary": a.summary,
		"self":       apiURL("incidents", inc.id) + "/alerts/" + a.id,
		"html_url":   webURL("alerts", a.id),
		"created_at": ts(a.createdAt), "status": a.status, "alert_key": inc.key,
		"service": inc.service.refJSON(),
		"body": obj{
			"type": "alert_body", "contexts": []obj{}, "details": details,
			"cef_details": obj{
				"contexts": []obj{}, "description": a.summary, "details": details,
				"message": a.summary, "severity": a.severity, "source_origin": a.source, "version": "1.0",
			},
		},
		"incident":   obj{"id": inc.id, "type": "incident_reference"},
		"suppressed": false,
		"severity":   a.severity,
		"integration": obj{
			"id": intID, "type": "events_api_v2_inbound_integration_reference", "summary": integration,
			"self":     apiURL("services", inc.service.ID) + "/integrations/" + intID,
			"html_url": webURL("services", inc.service.ID) + "/integrations/" + intID,
		},
	}
}

func (n *note) restJSON() obj {
	return obj{
		"id": n.id, "user": userRef(n.by),
		"channel": obj{"summary": "The PagerDuty website or APIs"},
		"content": n.content, "created_at": ts(n.createdAt), "updated_at": ts(n.createdAt),
	}
}

func (inc *incident) logEntryJSON(l *logEntry) obj {
	details := obj{}
	if l.typ == "trigger_log_entry" {
		details["description"] = inc.title
	}
	return obj{
		"id": l.id, "type": l.typ, "summary": l.summary,
		"self":       apiURL("log_entries", l.id) + "?incident_id=" + inc.id,
		"html_url":   webURL("incidents", inc.id) + "/log_entries/" + l.id,
		"created_at": ts(l.at),
		"agent":      l.agent.refJSON(),
		"channel":    obj{"type": l.channel},
		"incident": obj{"id": inc.id, "type": "incident_reference", "summary": inc.summary(),
			"self": apiURL("incidents", inc.id), "html_url": webURL("incidents", inc.id)},
		"teams":         []obj{},
		"contexts":      []obj{},
		"event_details": details,
	}
}

func (c *changeEvent) restJSON() obj {
	links := []obj{}
	for _, l := range c.Links {
		links = append(links, obj{"href": l.Href, "text": l.Text})
	}
	details := c.Details
	if details == nil {
		details = obj{}
	}
	return obj{
		"summary": c.Summary, "id": c.id, "timestamp": ts(c.Timestamp), "type": "change_event",
		"source":         c.Source,
		"integration":    obj{"id": "I" + c.service.ID, "type": "inbound_integration_reference"},
		"services":       []obj{{"id": c.service.ID, "type": "service_reference"}},
		"custom_details": details,
		"links":          links,
	}
}

// shortJSON is the incident summary that past, related and outlier
// incidents carry.
func (inc *incident) shortJSON() obj {
	return obj{"id": inc.id, "created_at": ts(inc.createdAt), "self": apiURL("incidents", inc.id), "title": inc.title}
}
