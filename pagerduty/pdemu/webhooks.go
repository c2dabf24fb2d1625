package pdemu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Subscription is a V3 webhook subscription of one environment.
type Subscription struct {
	ID          string `json:"id"`
	Environment string `json:"environment"`
	URL         string `json:"url"`
	// Disabled is set after three consecutive dropped deliveries, as
	// PagerDuty disables a subscription for 24 hours; Enable clears it.
	Disabled bool `json:"disabled"`
}

// Delivery is one attempt to deliver a webhook.
type Delivery struct {
	SubscriptionID string    `json:"subscription_id"`
	WebhookID      string    `json:"webhook_id"`
	EventID        string    `json:"event_id"`
	EventType      string    `json:"event_type"`
	IncidentID     string    `json:"incident_id"`
	Attempt        int       `json:"attempt"`
	Status         int       `json:"status"` // 0 when no answer came
	Error          string    `json:"error,omitempty"`
	Outcome        string    `json:"outcome"` // delivered, retrying, dropped or raw
	At             time.Time `json:"at"`
	Body           string    `json:"body"`
}

// Delivery outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetrying  = "retrying"
	OutcomeDropped   = "dropped"
	OutcomeRaw       = "raw"
)

type subscription struct {
	Subscription
	secrets []string
	drops   int // consecutive dropped deliveries
	// rest marks a subscription created through POST /webhook_subscriptions:
	// it gets only its events, for incidents in its filter.
	rest                 bool
	events               []string
	filterType, filterID string
	description          string
	inactive             bool
}

// outgoing is one webhook: the same X-Webhook-Id and body on every attempt
// and every redelivery.
type outgoing struct {
	sub                                       *subscription
	webhookID, eventID, eventType, incidentID string
	body                                      []byte
}

type queueKey struct{ sub, incident string }

type webhooks struct {
	e      *Emulator
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// client has its own transport (no proxy, no shared idle connections)
	// so the emulator never reaches anything but the subscribed URLs.
	client *http.Client

	mu         sync.Mutex
	seq        int
	subs       []*subscription
	queues     map[queueKey][]*outgoing
	sent       map[string]*outgoing
	pending    int
	deliveries []Delivery
}

func newWebhooks(e *Emulator) *webhooks {
	ctx, cancel := context.WithCancel(context.Background())
	return &webhooks{e: e, ctx: ctx, cancel: cancel, client: &http.Client{Transport: &http.Transport{}}, queues: map[queueKey][]*outgoing{}, sent: map[string]*outgoing{}}
}

// Subscribe sends environment's incident events to url, signed with each
// of secrets (several during a rotation), and returns the subscription id.
func (e *Emulator) Subscribe(environment, url string, secrets []string) string {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	s := &subscription{Subscription: Subscription{ID: fmt.Sprintf("W%06X", h.seq), Environment: environment, URL: url},
		secrets: append([]string(nil), secrets...)}
	h.subs = append(h.subs, s)
	return s.ID
}

// Enable re-enables a subscription disabled after dropped deliveries.
func (e *Emulator) Enable(subscriptionID string) {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		if s.ID == subscriptionID {
			s.Disabled, s.drops = false, 0
		}
	}
}

// Subscriptions lists the webhook subscriptions.
func (e *Emulator) Subscriptions() []Subscription {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Subscription, 0, len(h.subs))
	for _, s := range h.subs {
		out = append(out, s.Subscription)
	}
	return out
}

// Deliveries returns every delivery attempt so far, in order.
func (e *Emulator) Deliveries() []Delivery {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.deliveries...)
}

// WaitIdle waits until no webhook is queued or being delivered, and
// reports whether that happened within timeout.
func (e *Emulator) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		e.hooks.mu.Lock()
		n := e.hooks.pending
		e.hooks.mu.Unlock()
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Redeliver queues the webhook with webhookID again, with the same
// X-Webhook-Id and body, as PagerDuty's at-least-once delivery may.
func (e *Emulator) Redeliver(webhookID string) error {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	o, ok := h.sent[webhookID]
	if !ok {
		return fmt.Errorf("pdemu: no webhook %q was sent", webhookID)
	}
	h.enqueueLocked(o)
	return nil
}

// Sign returns the X-PagerDuty-Signature value a subscription's secrets
// give body: one v1=<hex HMAC-SHA256> per secret, comma-separated.
func (e *Emulator) Sign(subscriptionID string, body []byte) string {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		if s.ID == subscriptionID {
			return sign(s.secrets, body)
		}
	}
	return ""
}

func sign(secrets []string, body []byte) string {
	sigs := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		sigs = append(sigs, "v1="+hex.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, ",")
}

// emitLocked sends a V3 event about inc to every active subscription of its
// environment. The caller holds e.mu, so events are queued in the order the
// changes happened; who is zero for automation (agent null).
func (e *Emulator) emitLocked(inc *incident, eventType string, who *user, data obj) {
	var agentJSON any
	if who != nil {
		agentJSON = userRef(who)
	} else if eventType == "incident.triggered" {
		agentJSON = inc.service.refJSON()
	}
	eventID := randomUUID()
	body, err := json.Marshal(obj{"event": obj{
		"id":            eventID,
		"event_type":    eventType,
		"resource_type": "incident",
		"occurred_at":   e.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"agent":         agentJSON,
		"client":        obj{"name": "PagerDuty"},
		"data":          data,
	}})
	if err != nil {
		panic(fmt.Sprintf("pdemu: encode webhook: %v", err))
	}
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.subs {
		if s.Environment != inc.service.env || s.Disabled || !e.wants(s, eventType, inc.service) {
			continue
		}
		o := &outgoing{sub: s, webhookID: randomUUID(), eventID: eventID, eventType: eventType, incidentID: inc.id, body: body}
		h.sent[o.webhookID] = o
		h.enqueueLocked(o)
	}
}

// enqueueLocked appends o to its (subscription, incident) queue and starts
// a sender for the queue if none runs: deliveries for one incident go out
// one at a time, in order, and a retried one holds back those behind it.
func (h *webhooks) enqueueLocked(o *outgoing) {
	if h.ctx.Err() != nil {
		return
	}
	k := queueKey{o.sub.ID, o.incidentID}
	q, running := h.queues[k]
	h.queues[k] = append(q, o)
	h.pending++
	if !running {
		h.wg.Add(1)
		go h.drain(k)
	}
}

func (h *webhooks) drain(k queueKey) {
	defer h.wg.Done()
	for {
		h.mu.Lock()
		q := h.queues[k]
		if len(q) == 0 {
			delete(h.queues, k)
			h.mu.Unlock()
			return
		}
		o := q[0]
		h.mu.Unlock()
		h.deliver(o)
		h.mu.Lock()
		h.queues[k] = h.queues[k][1:]
		h.pending--
		h.mu.Unlock()
	}
}

func (h *webhooks) close() {
	h.cancel()
	h.wg.Wait()
	h.client.CloseIdleConnections()
}
