package pdemu

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The REST side of V3 webhook subscriptions (POST and GET
// /webhook_subscriptions, GET /webhook_subscriptions/{id}), as PagerDuty's
// OpenAPI describes them: a subscription has a delivery method (an HTTPS
// URL; the signing secret is in the create response only), the event types
// it wants, and a filter (the account, a service or a team). Deliveries then
// honour both: only the listed event types, only incidents in the filter.

// webhookEventTypes are the V3 event types PagerDuty documents.
var webhookEventTypes = []string{
	"incident.acknowledged", "incident.annotated", "incident.conference_bridge.updated",
	"incident.custom_field_values.updated", "incident.delegated", "incident.escalated",
	"incident.incident_type.changed", "incident.priority_updated", "incident.reassigned",
	"incident.reopened", "incident.resolved", "incident.responder.added", "incident.responder.replied",
	"incident.role.assigned", "incident.service_updated", "incident.status_update_published",
	"incident.task.completed", "incident.task.created", "incident.task.updated", "incident.triggered",
	"incident.unacknowledged", "incident.action_invocation.created", "incident.action_invocation.terminated",
	"incident.action_invocation.updated", "incident.workflow.started", "incident.workflow.completed",
	"service.created", "service.deleted", "service.updated", "service.custom_field_values.updated",
}

// maxSubscriptionsPerScope is PagerDuty's product limit: 10 subscriptions
// per service, per team, and for the account scope.
const maxSubscriptionsPerScope = 10

// team is a PagerDuty team: a team-scoped subscription gets the incidents
// of its services.
type team struct {
	id, name, env string
	services      []string
}

// AddTeam adds a team of environment that owns the given services.
func (e *Emulator) AddTeam(environment, id, name string, serviceIDs ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.teams == nil {
		e.teams = map[string]*team{}
	}
	e.teams[id] = &team{id: id, name: name, env: environment, services: append([]string(nil), serviceIDs...)}
}

// subscriptionRequest is the body of POST /webhook_subscriptions; fields the
// emulator does not model (custom_headers, oauth_client_id) are refused.
type subscriptionRequest struct {
	WebhookSubscription struct {
		Type           string `json:"type"`
		DeliveryMethod struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"delivery_method"`
		Description string   `json:"description"`
		Events      []string `json:"events"`
		Filter      struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"filter"`
		Active *bool `json:"active"`
	} `json:"webhook_subscription"`
}

func (e *Emulator) postSubscription(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	var req subscriptionRequest
	if err := decodeStrict(r.Body, &req); err != nil {
		e.badBody(w, r, err)
		return
	}
	ws := req.WebhookSubscription
	var problems []string
	if ws.Type != "webhook_subscription" {
		problems = append(problems, `webhook_subscription.type must be "webhook_subscription"`)
	}
	if ws.DeliveryMethod.Type != "http_delivery_method" {
		problems = append(problems, `delivery_method.type must be "http_delivery_method"`)
	}
	if u, err := url.Parse(ws.DeliveryMethod.URL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		problems = append(problems, "delivery_method.url must be an http(s) URL")
	}
	if len(ws.Events) == 0 {
		problems = append(problems, "events must list at least one event type")
	}
	for i, ev := range ws.Events {
		if !slices.Contains(webhookEventTypes, ev) {
			problems = append(problems, fmt.Sprintf("events[%d]: %q is not an event type", i, ev))
		}
		if slices.Index(ws.Events, ev) != i {
			problems = append(problems, fmt.Sprintf("events[%d]: %q is listed twice", i, ev))
		}
	}
	c := callOf(r)
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ws.Filter.Type {
	case "account_reference":
		if ws.Filter.ID != "" {
			problems = append(problems, "filter.id is not taken for account_reference")
		}
	case "service_reference":
		if s, ok := e.services[ws.Filter.ID]; !ok || s.env != c.env {
			problems = append(problems, fmt.Sprintf("filter.id: no service %q", ws.Filter.ID))
		}
	case "team_reference":
		if t, ok := e.teams[ws.Filter.ID]; !ok || t.env != c.env {
			problems = append(problems, fmt.Sprintf("filter.id: no team %q", ws.Filter.ID))
		}
	default:
		problems = append(problems, "filter.type must be account_reference, service_reference or team_reference")
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", problems...)
		return
	}
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.subs {
		if s.rest && s.Environment == c.env && s.filterType == ws.Filter.Type && s.filterID == ws.Filter.ID {
			n++
		}
	}
	if n >= maxSubscriptionsPerScope {
		writeError(w, http.StatusBadRequest, 2019, "Product Limit Reached",
			fmt.Sprintf("at most %d webhook subscriptions per scope", maxSubscriptionsPerScope))
		return
	}
	secret := newSigningSecret()
	h.seq++
	s := &subscription{
		Subscription: Subscription{ID: fmt.Sprintf("P%06X", h.seq), Environment: c.env, URL: ws.DeliveryMethod.URL},
		secrets:      []string{secret},
		rest:         true, events: append([]string(nil), ws.Events...),
		filterType: ws.Filter.Type, filterID: ws.Filter.ID, description: ws.Description,
	}
	if ws.Active != nil && !*ws.Active {
		s.inactive = true
	}
	h.subs = append(h.subs, s)
	j := s.restJSON()
	j["delivery_method"].(obj)["secret"] = secret // only in the create response
	writeJSON(w, http.StatusOK, obj{"webhook_subscription": j})
}

// listSubscriptions serves GET /webhook_subscriptions, optionally filtered
// by filter_type (account, service, team) and filter_id.
func (e *Emulator) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r, "filter_type", "filter_id", "limit", "offset", "total") {
		return
	}
	offset, limit, f := page(r, 25)
	if f != nil {
		f.write(w)
		return
	}
	q := r.URL.Query()
	ft, fid := q.Get("filter_type"), q.Get("filter_id")
	if ft != "" && ft != "account" && ft != "service" && ft != "team" {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided", "filter_type must be account, service or team")
		return
	}
	env := callOf(r).env
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := []obj{}
	for _, s := range h.subs {
		if !s.rest || s.Environment != env {
			continue
		}
		if ft != "" && s.filterType != ft+"_reference" {
			continue
		}
		if fid != "" && s.filterID != fid {
			continue
		}
		out = append(out, s.restJSON())
	}
	writeJSON(w, http.StatusOK, paged(r, "webhook_subscriptions", out, offset, limit))
}

func (e *Emulator) getSubscription(w http.ResponseWriter, r *http.Request) {
	if !e.checkQuery(w, r) {
		return
	}
	env := callOf(r).env
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		if s.rest && s.ID == r.PathValue("id") && s.Environment == env {
			writeJSON(w, http.StatusOK, obj{"webhook_subscription": s.restJSON()})
			return
		}
	}
	notFound(w)
}

// restJSON is a subscription as the REST API shows it (no secret).
func (s *subscription) restJSON() obj {
	filter := obj{"type": s.filterType}
	if s.filterID != "" {
		filter["id"] = s.filterID
	}
	return obj{
		"id": s.ID, "type": "webhook_subscription", "active": !s.inactive, "description": s.description,
		"events": s.events, "filter": filter,
		"delivery_method": obj{"id": "D" + strings.TrimPrefix(s.ID, "P"), "type": "http_delivery_method", "url": s.URL,
			"secret": nil, "temporarily_disabled": s.Disabled, "custom_headers": []obj{}},
	}
}

// wants reports whether a REST-created subscription takes eventType for an
// incident on service svc; the caller holds e.mu and h.mu.
func (e *Emulator) wants(s *subscription, eventType string, svc *service) bool {
	if !s.rest {
		return true
	}
	if s.inactive || !slices.Contains(s.events, eventType) {
		return false
	}
	switch s.filterType {
	case "service_reference":
		return s.filterID == svc.ID
	case "team_reference":
		t := e.teams[s.filterID]
		return t != nil && slices.Contains(t.services, svc.ID)
	}
	return true
}

// newSigningSecret is a random secret like the ones PagerDuty issues.
func newSigningSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("pdemu: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}
