// Package pdemu emulates the part of PagerDuty's REST API and V3 webhooks
// that Nova uses, for tests and for the `make run` sandbox.
//
// Like a real account it checks tokens, environments, From headers and the
// per-token rate limit, and it sends signed webhooks when incidents change.
// Unlike a lenient fake it refuses and records every request it does not
// model (Unexpected), so a test fails loudly instead of passing on a request
// that the real PagerDuty would have treated differently.
package pdemu

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Options configures an Emulator; the zero value behaves like PagerDuty.
type Options struct {
	// RateLimit is how many requests one token may make per RateWindow.
	// Zero means PagerDuty's 960.
	RateLimit int
	// RateWindow is the sliding window RateLimit counts over. Zero means
	// one minute; tests shrink it (96 per 6 s is PagerDuty's rate in a
	// tenth of the time).
	RateWindow time.Duration
	// MaxNotes is how many notes an incident may hold. Zero means 2000.
	MaxNotes int
	// NoteStatus is the status of a successful note POST. Zero means 200,
	// as in PagerDuty's OpenAPI example.
	NoteStatus int
	// WebhookAttempts is how many times a delivery is tried before it is
	// dropped. Zero means 5.
	WebhookAttempts int
	// WebhookBackoff is the delay before the first redelivery; it doubles
	// after each failed attempt. Zero means 20 ms (PagerDuty waits far
	// longer, but tests should not).
	WebhookBackoff time.Duration
	// WebhookTimeout bounds one delivery attempt. Zero means PagerDuty's 5 s.
	WebhookTimeout time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logf, when set, receives a line for every refused or unexpected
	// request and every dropped webhook (pass t.Logf).
	Logf func(format string, args ...any)
}

// Emulator is an in-memory PagerDuty account with several environments.
// It is safe for concurrent use.
type Emulator struct {
	opts    Options
	mux     *http.ServeMux
	limiter *rateLimiter
	hooks   *webhooks

	mu            sync.Mutex
	tokens        map[string]string // token → environment
	services      map[string]*service
	serviceOrder  []string
	users         map[string]*user // by id
	teams         map[string]*team
	incidents     map[string]*incident
	incidentOrder []string
	changes       map[string]*changeEvent
	changeOrder   []string
	business      map[string]*service // business services, by id
	dependencies  []dependency
	noDeps        map[string]bool // environments without service dependencies
	seq           int
	number        int
	latency       time.Duration
	faults        []*faultState
	requests      []Request
	unexpected    []Request
	cross         []Request
	rateLimited   int

	server *httptest.Server
}

// Service is a PagerDuty service seeded into the emulator.
type Service struct {
	ID   string
	Name string
}

type service struct {
	Service
	env       string
	createdAt time.Time
}

type user struct {
	id, email, name, env string
}

// New returns an Emulator with no tokens, services or users.
func New(opts Options) *Emulator {
	if opts.RateLimit <= 0 {
		opts.RateLimit = 960
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = time.Minute
	}
	if opts.MaxNotes <= 0 {
		opts.MaxNotes = 2000
	}
	if opts.NoteStatus == 0 {
		opts.NoteStatus = http.StatusOK
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = 5
	}
	if opts.WebhookBackoff <= 0 {
		opts.WebhookBackoff = 20 * time.Millisecond
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Emulator{
		opts:      opts,
		limiter:   newRateLimiter(opts.RateLimit, opts.RateWindow),
		tokens:    map[string]string{},
		services:  map[string]*service{},
		users:     map[string]*user{},
		incidents: map[string]*incident{},
		changes:   map[string]*changeEvent{},
		business:  map[string]*service{},
		noDeps:    map[string]bool{},
	}
	e.hooks = newWebhooks(e)
	e.mux = e.routes()
	return e
}

// Start serves the emulator on a loopback port and returns its base URL.
func (e *Emulator) Start() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.server == nil {
		e.server = httptest.NewServer(e.Handler())
	}
	return e.server.URL
}

// URL is the base URL of a started emulator, or "" before Start.
func (e *Emulator) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.server == nil {
		return ""
	}
	return e.server.URL
}

// Close stops the server (if started) and the webhook senders.
func (e *Emulator) Close() {
	e.hooks.close()
	e.mu.Lock()
	s := e.server
	e.mu.Unlock()
	if s != nil {
		s.Close()
	}
}

// Handler returns the emulator as an http.Handler, for embedding it in
// another server (the sandbox mounts it next to Nova).
func (e *Emulator) Handler() http.Handler { return http.HandlerFunc(e.serveHTTP) }

// AddToken makes token a valid API key of environment.
func (e *Emulator) AddToken(token, environment string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens[token] = environment
}

// RevokeToken makes token invalid, as disabling a key in PagerDuty does;
// requests carrying it get 401 from then on.
func (e *Emulator) RevokeToken(token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tokens, token)
}

// AddService adds a service to environment. A service belongs to exactly
// one environment; requests for it with another environment's token fail.
func (e *Emulator) AddService(environment string, s Service) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.ID == "" {
		panic("pdemu: AddService needs an ID")
	}
	if s.Name == "" {
		s.Name = s.ID
	}
	if _, ok := e.services[s.ID]; !ok {
		e.serviceOrder = append(e.serviceOrder, s.ID)
	}
	e.services[s.ID] = &service{Service: s, env: environment, createdAt: e.opts.Now().UTC()}
}

// AddUser adds a user (a person or Nova's bot user) to environment. Its
// email is what a From header must carry to write as that user.
func (e *Emulator) AddUser(environment, id, email, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users[id] = &user{id: id, email: email, name: name, env: environment}
}

// userByEmail finds a user of env; the caller holds e.mu.
func (e *Emulator) userByEmail(env, email string) *user {
	for _, u := range e.users {
		if u.env == env && u.email == email {
			return u
		}
	}
	return nil
}

// mustUser finds a user for a test helper, panicking on a test bug.
func (e *Emulator) mustUser(id string) *user {
	u, ok := e.users[id]
	if !ok {
		panic(fmt.Sprintf("pdemu: unknown user %q (AddUser first)", id))
	}
	return u
}

// newID returns a fresh PagerDuty-looking id with the given one-letter prefix;
// the caller holds e.mu.
func (e *Emulator) newID(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s%06X", prefix, e.seq)
}

func (e *Emulator) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf("pdemu: "+format, args...)
	}
}
