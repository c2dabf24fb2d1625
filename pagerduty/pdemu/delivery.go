package pdemu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// deliver tries o until it is accepted, permanently refused, or out of
// attempts. Like PagerDuty: 2xx is success; 429, 5xx, timeouts and
// connection errors are retried; any other 4xx is dropped at once. Three
// consecutive drops disable the subscription.
func (h *webhooks) deliver(o *outgoing) {
	opts := h.e.opts
	backoff := opts.WebhookBackoff
	for attempt := 1; ; attempt++ {
		h.mu.Lock()
		disabled := o.sub.Disabled
		h.mu.Unlock()
		if disabled || h.ctx.Err() != nil {
			h.finish(o, attempt, 0, "subscription disabled or emulator closed", OutcomeDropped)
			return
		}
		status, err := h.post(o.sub, o.webhookID, o.body, nil)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		switch {
		case err == nil && status >= 200 && status < 300:
			h.finish(o, attempt, status, "", OutcomeDelivered)
			return
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			h.finish(o, attempt, status, "permanent failure", OutcomeDropped)
			return
		case attempt >= opts.WebhookAttempts:
			h.finish(o, attempt, status, errText, OutcomeDropped)
			return
		}
		h.finish(o, attempt, status, errText, OutcomeRetrying)
		select {
		case <-time.After(backoff):
		case <-h.ctx.Done():
		}
		backoff *= 2
	}
}

// finish records an attempt and keeps the subscription's drop count.
func (h *webhooks) finish(o *outgoing, attempt, status int, errText, outcome string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deliveries = append(h.deliveries, Delivery{
		SubscriptionID: o.sub.ID, WebhookID: o.webhookID, EventID: o.eventID, EventType: o.eventType,
		IncidentID: o.incidentID, Attempt: attempt, Status: status, Error: errText, Outcome: outcome,
		At: h.e.opts.Now().UTC(), Body: string(o.body),
	})
	switch outcome {
	case OutcomeDelivered:
		o.sub.drops = 0
	case OutcomeDropped:
		h.e.logf("webhook %s (%s) to %s dropped after %d attempts: %d %s", o.webhookID, o.eventType, o.sub.URL, attempt, status, errText)
		o.sub.drops++
		if o.sub.drops >= 3 && !o.sub.Disabled {
			o.sub.Disabled = true
			h.e.logf("subscription %s disabled after 3 consecutive dropped webhooks", o.sub.ID)
		}
	}
}

// post sends one webhook request with PagerDuty's headers, then applies
// override (a header set to no values is removed).
func (h *webhooks) post(s *subscription, webhookID string, body []byte, override http.Header) (int, error) {
	ctx, cancel := context.WithTimeout(h.ctx, h.e.opts.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PagerDuty-Webhook/V3.0")
	req.Header.Set("X-Webhook-Id", webhookID)
	req.Header.Set("X-Webhook-Subscription", s.ID)
	req.Header.Set("X-PagerDuty-Signature", sign(s.secrets, body))
	for k, v := range override {
		if len(v) == 0 {
			req.Header.Del(k)
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// SendRaw posts body to a subscription's URL at once, outside the ordered
// queue and without retries, for duplicate and tamper tests. It signs body
// with the subscription's secrets and sets a fresh X-Webhook-Id, then
// applies override: e.g. a stale X-PagerDuty-Signature, a repeated
// X-Webhook-Id, or an empty value to remove a header.
func (e *Emulator) SendRaw(subscriptionID string, body []byte, override http.Header) (int, error) {
	h := e.hooks
	h.mu.Lock()
	var s *subscription
	for _, x := range h.subs {
		if x.ID == subscriptionID {
			s = x
		}
	}
	h.mu.Unlock()
	if s == nil {
		return 0, fmt.Errorf("pdemu: unknown subscription %q", subscriptionID)
	}
	id := randomUUID()
	if v := override.Get("X-Webhook-Id"); v != "" {
		id = v
	}
	status, err := h.post(s, id, body, override)
	d := Delivery{SubscriptionID: s.ID, WebhookID: id, Attempt: 1, Status: status, Outcome: OutcomeRaw,
		At: e.opts.Now().UTC(), Body: string(body)}
	if err != nil {
		d.Error = err.Error()
	}
	h.mu.Lock()
	h.deliveries = append(h.deliveries, d)
	h.mu.Unlock()
	return status, err
}

// randomUUID returns a random version-4 UUID, the form of PagerDuty's
// event ids.
func randomUUID() string {
	b := []byte(randomHex(16))
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}
