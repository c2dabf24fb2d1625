package executor

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Defaults and bounds of WebhookConfig.
const (
	DefaultTimeout     = nova.DefaultActionTimeout
	DefaultMaxAttempts = 3
	DefaultBackoff     = time.Second
	// MaxAttemptsLimit bounds retries: a destructive action hammered at a
	// broken receiver helps nobody.
	MaxAttemptsLimit = 10
	// MinSecretLen rejects secrets short enough to guess.
	MinSecretLen = 16
)

// WebhookConfig configures a Webhook executor.
type WebhookConfig struct {
	// URL receives the POSTs. It must be https, except on a loopback host
	// (127.0.0.0/8, ::1, localhost), which tests and local relays use.
	URL string
	// Secret signs every request (see docs/action-webhooks.md).
	Secret string
	// Timeout bounds each attempt, including reading the answer; 0 means
	// DefaultTimeout. The caller's context bounds the whole Run.
	Timeout time.Duration
	// MaxAttempts counts the first try; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the wait before the second attempt, doubled before each
	// later one (with jitter, capped at 30s); 0 means DefaultBackoff.
	Backoff time.Duration
	// HTTPClient sends the requests; nil means a new http.Client. It is
	// copied, and the copy never follows redirects.
	HTTPClient *http.Client
	// Now is the clock used for X-Nova-Timestamp; nil means time.Now.
	Now func() time.Time
}

// Webhook runs approved actions by POSTing a signed JSON description of the
// action to the customer's automation (or a relay in front of it).
type Webhook struct {
	url         *url.URL
	shownURL    string // safe to put in errors
	secret      string
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration
	client      *http.Client
	now         func() time.Time
}

// NewWebhook validates cfg and returns an executor. Errors are EINVALID and
// never contain the secret or the URL's credentials, path or query.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, nova.Errorf(nova.EINVALID, "action webhook URL is not an absolute URL such as https://automation.example.com/nova")
	}
	shown := redactURL(u)
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return nil, nova.Errorf(nova.EINVALID, "action webhook URL %s must use https (plain http is only allowed on a loopback address)", shown)
	default:
		return nil, nova.Errorf(nova.EINVALID, "action webhook URL %s must use https", shown)
	}
	if len(cfg.Secret) < MinSecretLen {
		return nil, nova.Errorf(nova.EINVALID, "action webhook secret must be at least %d characters: generate one with `openssl rand -hex 32`", MinSecretLen)
	}
	w := &Webhook{
		url: u, shownURL: shown, secret: cfg.Secret,
		timeout: cfg.Timeout, maxAttempts: cfg.MaxAttempts, backoff: cfg.Backoff, now: cfg.Now,
	}
	switch {
	case cfg.Timeout < 0:
		return nil, nova.Errorf(nova.EINVALID, "action webhook timeout is negative (%s)", cfg.Timeout)
	case cfg.Timeout == 0:
		w.timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxAttempts < 0 || cfg.MaxAttempts > MaxAttemptsLimit:
		return nil, nova.Errorf(nova.EINVALID, "action webhook max attempts is %d: use 1 to %d", cfg.MaxAttempts, MaxAttemptsLimit)
	case cfg.MaxAttempts == 0:
		w.maxAttempts = DefaultMaxAttempts
	}
	switch {
	case cfg.Backoff < 0:
		return nil, nova.Errorf(nova.EINVALID, "action webhook backoff is negative (%s)", cfg.Backoff)
	case cfg.Backoff == 0:
		w.backoff = DefaultBackoff
	}
	if w.now == nil {
		w.now = time.Now
	}
	client := http.Client{}
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	}
	// A redirect would send the signed description of a destructive action
	// somewhere nobody configured; make the receiver's owner fix the URL.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = &client
	return w, nil
}

// String names the executor without revealing its URL's secrets.
func (w *Webhook) String() string { return "webhook " + w.shownURL }

// isLoopback accepts loopback IPs and the name localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL keeps scheme and host only. Automation tools put their
// credentials in the URL: user:password@, ?token= (Jenkins) or the path
// itself (Rundeck webhook tokens), so none of those may reach an error.
func redactURL(u *url.URL) string {
	s := u.Scheme + "://"
	if u.User != nil {
		s += "***@"
	}
	s += u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/***"
	}
	return s
}
