package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Admin is a PagerDuty REST client for Nova's operator tools, kept apart
// from Client on purpose: Client is what the service runs with, and its
// allow-list never grows beyond viewing incidents, notes and acks. Admin
// serves `nova setup pagerduty` (create or find a webhook subscription,
// with an admin token that is used once and never stored) and `nova
// doctor` (read-only checks with the configured token). It makes one
// request at a time, with no retries: an operator is watching.
type Admin struct {
	base  string
	token string
	http  *http.Client
}

// NewAdmin returns an Admin for apiURL ("" means DefaultAPIURL), which must
// be https unless it is a loopback address (the emulator).
func NewAdmin(apiURL, token string, hc *http.Client) (*Admin, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return nil, nova.Errorf(nova.EINVALID, "PagerDuty API URL %q must be https (http only for loopback)", apiURL)
	}
	if strings.TrimSpace(token) == "" {
		return nil, nova.Errorf(nova.EINVALID, "no PagerDuty token given")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Admin{base: strings.TrimRight(apiURL, "/"), token: token, http: hc}, nil
}

// User is a PagerDuty user.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// FindUserByEmail returns the account's user with exactly this email.
func (a *Admin) FindUserByEmail(ctx context.Context, email string) (User, bool, error) {
	var page struct {
		Users []User `json:"users"`
	}
	q := url.Values{"query": {email}, "limit": {"100"}}
	if err := a.do(ctx, http.MethodGet, "/users?"+q.Encode(), nil, &page); err != nil {
		return User{}, false, err
	}
	for _, u := range page.Users {
		if strings.EqualFold(u.Email, email) {
			return u, true, nil
		}
	}
	return User{}, false, nil
}

// ServiceName returns a service's name; ENOTFOUND when the account has no
// such service.
func (a *Admin) ServiceName(ctx context.Context, id string) (string, error) {
	if err := checkID("service", id); err != nil {
		return "", err
	}
	var out struct {
		Service struct {
			Name string `json:"name"`
		} `json:"service"`
	}
	if err := a.do(ctx, http.MethodGet, "/services/"+id, nil, &out); err != nil {
		return "", err
	}
	return out.Service.Name, nil
}

// WebhookSubscription is a V3 webhook subscription as the REST API shows it.
type WebhookSubscription struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Active      bool     `json:"active"`
	Events      []string `json:"events"`
	Filter      struct {
		Type string `json:"type"`
		ID   string `json:"id,omitempty"`
	} `json:"filter"`
	DeliveryMethod struct {
		Type                string `json:"type"`
		URL                 string `json:"url"`
		TemporarilyDisabled bool   `json:"temporarily_disabled"`
		// Secret is only in the response that created the subscription.
		Secret string `json:"secret,omitempty"`
	} `json:"delivery_method"`
}

// Scope filter types of a subscription.
const (
	ScopeAccount = "account_reference"
	ScopeService = "service_reference"
	ScopeTeam    = "team_reference"
)

// ListWebhookSubscriptions returns every webhook subscription of the account.
func (a *Admin) ListWebhookSubscriptions(ctx context.Context) ([]WebhookSubscription, error) {
	var all []WebhookSubscription
	for offset := 0; offset < 10000; {
		var page struct {
			Subs []WebhookSubscription `json:"webhook_subscriptions"`
			More bool                  `json:"more"`
		}
		q := url.Values{"limit": {"100"}, "offset": {strconv.Itoa(offset)}}
		if err := a.do(ctx, http.MethodGet, "/webhook_subscriptions?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Subs...)
		if !page.More || len(page.Subs) == 0 {
			break
		}
		offset += len(page.Subs)
	}
	return all, nil
}

// NewWebhookSubscription is what CreateWebhookSubscription creates.
type NewWebhookSubscription struct {
	URL         string
	Description string
	Events      []string
	ScopeType   string // ScopeAccount, ScopeService or ScopeTeam
	ScopeID     string // "" for ScopeAccount
}

// CreateWebhookSubscription creates a subscription; the result carries the
// signing secret, which PagerDuty shows only this once.
func (a *Admin) CreateWebhookSubscription(ctx context.Context, n NewWebhookSubscription) (WebhookSubscription, error) {
	filter := map[string]string{"type": n.ScopeType}
	if n.ScopeID != "" {
		filter["id"] = n.ScopeID
	}
	body := map[string]any{"webhook_subscription": map[string]any{
		"type":            "webhook_subscription",
		"delivery_method": map[string]any{"type": "http_delivery_method", "url": n.URL},
		"description":     n.Description,
		"events":          n.Events,
		"filter":          filter,
	}}
	var out struct {
		Sub WebhookSubscription `json:"webhook_subscription"`
	}
	if err := a.do(ctx, http.MethodPost, "/webhook_subscriptions", body, &out); err != nil {
		return WebhookSubscription{}, err
	}
	if out.Sub.ID == "" {
		return WebhookSubscription{}, nova.Errorf(nova.EINTERNAL, "PagerDuty created a subscription but returned no id")
	}
	return out.Sub, nil
}

// do sends one request and decodes a 2xx answer into out. Failures become
// nova errors that say what PagerDuty said, never the token.
func (a *Admin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Token token="+a.token)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return nova.Errorf(nova.EUNAVAILABLE, "PagerDuty %s %s: %v", method, strings.SplitN(path, "?", 2)[0], redactURLError(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return nova.Errorf(nova.EINTERNAL, "PagerDuty %s %s: undecodable answer: %v", method, path, err)
		}
		return nil
	}
	var e struct {
		Error struct {
			Message string   `json:"message"`
			Code    int      `json:"code"`
			Errors  []string `json:"errors"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &e)
	what := strings.TrimSpace(e.Error.Message)
	if len(e.Error.Errors) > 0 {
		what += " (" + strings.Join(e.Error.Errors, "; ") + ")"
	}
	if what == "" {
		what = http.StatusText(resp.StatusCode)
	}
	code := nova.EINTERNAL
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		code = nova.EUNAUTHORIZED
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusPaymentRequired:
		code = nova.EFORBIDDEN
	case resp.StatusCode == http.StatusNotFound:
		code = nova.ENOTFOUND
	case resp.StatusCode == http.StatusTooManyRequests:
		code = nova.ERATELIMITED
	case resp.StatusCode >= 500:
		code = nova.EUNAVAILABLE
	case resp.StatusCode >= 400:
		code = nova.EINVALID
	}
	return nova.Errorf(code, "PagerDuty answered %s %s with %d: %s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, what)
}

// redactURLError keeps a transport error's cause without the request URL's
// query (which holds nothing secret here, but stays out of messages).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%v", ue.Err)
	}
	return err
}
