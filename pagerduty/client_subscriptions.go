package pagerduty

import (
	"context"
	"net/url"
	"strconv"

	gopd "github.com/PagerDuty/go-pagerduty"
)

// WebhookSubscriptionView is a V3 webhook subscription as the scoped client
// reads it for the rollout review: where it delivers, which event types,
// its scope, and whether it is active. The signing secret is never part of
// a read.
type WebhookSubscriptionView struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Active      bool     `json:"active"`
	Events      []string `json:"events"`
	Filter      struct {
		// Type is account_reference, service_reference or team_reference.
		Type string `json:"type"`
		ID   string `json:"id,omitempty"`
	} `json:"filter"`
	DeliveryMethod struct {
		Type string `json:"type"`
		URL  string `json:"url"`
		// TemporarilyDisabled is set by PagerDuty after three consecutive
		// dropped deliveries.
		TemporarilyDisabled bool `json:"temporarily_disabled"`
	} `json:"delivery_method"`
}

type wireSubscriptionList struct {
	Subscriptions []WebhookSubscriptionView `json:"webhook_subscriptions"`
	More          bool                      `json:"more"`
}

// WebhookSubscriptions lists the credential's account's V3 webhook
// subscriptions (GET /webhook_subscriptions, a view call; the API key needs
// webhook_subscriptions.read). The scoped client can read them, never
// create, change or delete one.
func (c *Client) WebhookSubscriptions(ctx context.Context) ([]WebhookSubscriptionView, error) {
	return collect(ctx, c, "list webhook subscriptions",
		func(ctx context.Context, pd *gopd.Client, offset int) ([]WebhookSubscriptionView, bool, error) {
			var resp wireSubscriptionList
			q := url.Values{"limit": {strconv.Itoa(pageSize)}, "offset": {strconv.Itoa(offset)}}
			if err := c.getJSON(ctx, pd, "/webhook_subscriptions", q, &resp); err != nil {
				return nil, false, err
			}
			return resp.Subscriptions, resp.More, nil
		})
}
