package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/store"
)

// DefaultAPIURL is PagerDuty's REST API.
const DefaultAPIURL = "https://api.pagerduty.com"

// ClientConfig configures a Client: one environment, one credential.
type ClientConfig struct {
	// Environment names the credential's environment (staging, prod, ...);
	// it labels logs and metrics.
	Environment string
	// APIURL is the REST API's base URL; "" means DefaultAPIURL. It must be
	// https unless it is a loopback address (the emulator).
	APIURL string
	// Token returns the API key. It is called for every request, so a
	// rotated key is picked up without a restart.
	Token func() string
	// From is the bot user's email, sent as the From header on writes.
	From string
	// Limiter paces requests per credential, shared by every replica.
	Limiter store.Limiter
	// RatePerMinute is the pace the Limiter keeps; 0 means 900, under
	// PagerDuty's 960 per key so that a manual call or a clock skew
	// between replicas does not tip the key into 429s.
	RatePerMinute int
	// Burst is how many requests may go at once; 0 means 20.
	Burst int
	// ReadReserve is the burst headroom reads must leave so writes (notes,
	// acks) go first when the bucket runs short; 0 means a tenth of Burst,
	// negative means none.
	ReadReserve int
	// Timeout bounds one attempt; 0 means 10 s.
	Timeout time.Duration
	// MaxElapsed bounds a call with all its retries; 0 means 30 s.
	MaxElapsed time.Duration
	// RetryBase is the first backoff after a 5xx or network error, doubled
	// (with jitter) on each retry; 0 means 250 ms.
	RetryBase time.Duration
	// MaxPages caps the pages read from a paginated endpoint; 0 means 20
	// (2000 items).
	MaxPages int
	// HTTPClient supplies the base transport (tests); nil means
	// http.DefaultTransport. The allow-list always wraps it.
	HTTPClient *http.Client
	// OnRefused is told about every request the allow-list refuses, for
	// the audit log.
	OnRefused func(method, path string)
	// Log receives retries, failures and refusals; nil means logrus's
	// standard logger. It never receives the token.
	Log logrus.FieldLogger
	// Registerer, when set, gets nova_pagerduty_requests_total.
	Registerer prometheus.Registerer
}

// Client is Nova's scoped PagerDuty REST client: it can view incidents and
// their evidence, add notes and acknowledge, and nothing else.
type Client struct {
	cfg      ClientConfig
	endpoint string
	http     *http.Client
	rate     store.Rate
	reserve  int
	log      logrus.FieldLogger
	requests *prometheus.CounterVec
	// limiterWait observes time spent waiting for the rate limit.
	limiterWait *prometheus.HistogramVec

	mu        sync.Mutex
	heldUntil map[string]time.Time // per limiter key, after a 429
}

// NewClient validates cfg, fills in its defaults and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	invalid := func(format string, args ...any) (*Client, error) {
		return nil, nova.Errorf(nova.EINVALID, "PagerDuty client: "+format, args...)
	}
	if cfg.Environment == "" {
		return invalid("environment is required")
	}
	if cfg.Token == nil {
		return invalid("a token source is required for environment %s", cfg.Environment)
	}
	if !strings.Contains(cfg.From, "@") {
		return invalid("From must be the bot user's email address, got %q", cfg.From)
	}
	if cfg.Limiter == nil {
		return invalid("a rate limiter is required")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	base, err := url.Parse(cfg.APIURL)
	if err != nil || base.Host == "" || base.User != nil || base.RawQuery != "" || base.Fragment != "" {
		return invalid("API URL %q must be a plain http(s) URL", cfg.APIURL)
	}
	if base.Scheme != "https" && !(base.Scheme == "http" && isLoopbackHost(base.Hostname())) {
		return invalid("API URL %q must use https (http only for loopback)", cfg.APIURL)
	}
	applyClientDefaults(&cfg)
	switch {
	case cfg.RatePerMinute < 0 || cfg.RatePerMinute > 960:
		return invalid("rate %d/min is outside 1..960, PagerDuty's limit per key", cfg.RatePerMinute)
	case cfg.Burst < 1:
		return invalid("burst must be positive")
	case cfg.ReadReserve >= cfg.Burst:
		return invalid("read reserve %d must be below the burst %d", cfg.ReadReserve, cfg.Burst)
	case cfg.Timeout < 0 || cfg.MaxElapsed < 0 || cfg.RetryBase < 0 || cfg.MaxPages < 0:
		return invalid("durations and page caps must not be negative")
	}
	c := &Client{
		cfg:      cfg,
		endpoint: strings.TrimSuffix(base.String(), "/"),
		rate:     store.Rate{Limit: cfg.RatePerMinute, Period: time.Minute, Burst: cfg.Burst},
		reserve:  max(cfg.ReadReserve, 0),
		log:      cfg.Log.WithFields(logrus.Fields{"component": "pagerduty", "environment": cfg.Environment}),
	}
	transport := http.DefaultTransport
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		transport = cfg.HTTPClient.Transport
	}
	c.http = &http.Client{
		Transport: newAllowList(transport, base, cfg.OnRefused, c.log),
		// A redirect would be a request nobody chose; never follow one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cfg.Registerer != nil {
		if c.requests, err = registerRequests(cfg.Registerer); err != nil {
			return nil, nova.WrapError(nova.EINTERNAL, err, "PagerDuty client: register metrics")
		}
		if c.limiterWait, err = registerLimiterWait(cfg.Registerer); err != nil {
			return nil, nova.WrapError(nova.EINTERNAL, err, "PagerDuty client: register metrics")
		}
	}
	return c, nil
}

func applyClientDefaults(cfg *ClientConfig) {
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = nova.DefaultRatePerMinute
	}
	if cfg.Burst == 0 {
		cfg.Burst = 20
	}
	if cfg.ReadReserve == 0 {
		cfg.ReadReserve = cfg.Burst / 10
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxElapsed == 0 {
		cfg.MaxElapsed = 30 * time.Second
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = 250 * time.Millisecond
	}
	if cfg.MaxPages == 0 {
		cfg.MaxPages = 20
	}
	if cfg.Log == nil {
		cfg.Log = logrus.StandardLogger()
	}
}

// registerRequests registers the request counter, sharing it with other
// clients (one per environment) on the same registry.
func registerRequests(r prometheus.Registerer) (*prometheus.CounterVec, error) {
	return metric.Register(r, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_pagerduty_requests_total",
		Help: "PagerDuty REST requests by environment, method and outcome.",
	}, []string{"environment", "method", "outcome"}))
}

// api returns a go-pagerduty client for one attempt. It is cheap, and
// building it per attempt is what lets a rotated token take effect at once.
func (c *Client) api(token string) *gopd.Client {
	pd := gopd.NewClient(token, gopd.WithAPIEndpoint(c.endpoint))
	pd.HTTPClient = c.http
	return pd
}

// limiterKey names the credential's rate-limit bucket: a hash prefix, so
// the token itself never reaches the store.
func limiterKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "pagerduty:" + hex.EncodeToString(sum[:])[:12]
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
