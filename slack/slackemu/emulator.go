// Package slackemu is an in-process Slack for tests and the local sandbox.
// It serves the Web API methods Nova uses (checking tokens, channels, Block
// Kit limits and the per-channel posting rate), the response_urls it hands
// out, and Socket Mode; and it drives Nova the way Slack does, with signed
// slash commands and button clicks. Anything it does not model is refused
// with 404 unknown_method and recorded in Unexpected, so tests fail loudly.
package slackemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Options configure an Emulator; zero values take the defaults noted.
type Options struct {
	// Addr is where Start listens; default "127.0.0.1:0", a free loopback
	// port. The local sandbox sets a fixed one so people can bookmark it.
	Addr string
	// Nova, when set, lets a person drive Nova from the sandbox through
	// POST /_slackemu/command and /_slackemu/click.
	Nova *NovaEndpoints
	// BotToken is the accepted bot token; default "xoxb-slackemu".
	BotToken string
	// AppToken is the accepted app-level token for Socket Mode; default "xapp-slackemu".
	AppToken string
	// TeamID, BotUserID, BotID and AppID name the workspace and the app.
	TeamID, BotUserID, BotID, AppID string
	// PostInterval and PostBurst shape chat.postMessage per channel, as
	// Slack does (about 1/s with a small burst); defaults 1s and 3.
	PostInterval time.Duration
	PostBurst    int
	// PingInterval is how often Socket Mode connections are pinged; default 2s.
	PingInterval time.Duration
	// Now is the emulator's clock (timestamps, response_url expiry).
	Now func() time.Time
	// HTTPClient sends the requests that drive Nova.
	HTTPClient *http.Client
}

// Emulator is a fake Slack workspace. It is safe for concurrent use.
type Emulator struct {
	opts Options
	srv  *http.Server
	base string

	mu           sync.Mutex
	tokens       map[string]bool
	channels     map[string]*channel
	users        map[string]string
	groups       map[string][]string
	ephemerals   []Ephemeral
	responses    []Response
	responseURLs map[string]*responseURL
	requests     []Request
	unexpected   []string
	rateLimited  int
	lose         []*AnswerLoss
	seq          int64
	lastSec      int64
	socket       socketHub
	oidc         oidcState
}

type channel struct {
	id, name string
	private  bool
	member   bool
	bucket   bucket
	messages []*Message
}

// New returns an Emulator with opts; call Start to serve it.
func New(opts Options) *Emulator {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&opts.BotToken, "xoxb-slackemu")
	def(&opts.AppToken, "xapp-slackemu")
	def(&opts.TeamID, "T0SLACKEMU")
	def(&opts.BotUserID, "U0NOVABOT")
	def(&opts.BotID, "B0NOVABOT")
	def(&opts.AppID, "A0NOVA")
	if opts.PostInterval <= 0 {
		opts.PostInterval = time.Second
	}
	if opts.PostBurst <= 0 {
		opts.PostBurst = 3
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Emulator{
		opts:         opts,
		tokens:       map[string]bool{opts.BotToken: true},
		channels:     map[string]*channel{},
		users:        map[string]string{},
		groups:       map[string][]string{},
		responseURLs: map[string]*responseURL{},
		socket:       newSocketHub(),
	}
}

// Start serves the emulator (on a free loopback port unless Options.Addr
// says otherwise) and returns its base URL; the Web API is at base+"/api/".
func (e *Emulator) Start() (string, error) {
	addr := e.opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	e.base = "http://" + ln.Addr().String()
	e.srv = &http.Server{Handler: e.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := e.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.recordUnexpected("serve: " + err.Error())
		}
	}()
	return e.base, nil
}

// URL is the base URL Start returned.
func (e *Emulator) URL() string { return e.base }

// APIURL is the Web API base to give Nova's client.
func (e *Emulator) APIURL() string { return e.base + "/api/" }

// BotToken is the bot token the emulator accepts.
func (e *Emulator) BotToken() string { return e.opts.BotToken }

// AppToken is the app-level token the emulator accepts for Socket Mode.
func (e *Emulator) AppToken() string { return e.opts.AppToken }

// Close stops serving and drops Socket Mode connections.
func (e *Emulator) Close() error {
	e.socket.closeAll()
	if e.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return e.srv.Shutdown(ctx)
}

func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", e.serveAPI)
	mux.HandleFunc("/response/", e.serveResponse)
	mux.HandleFunc("GET /_slackemu/messages", e.serveInspect)
	mux.HandleFunc("GET /_slackemu/socket", e.serveSocket)
	mux.HandleFunc("POST /_slackemu/command", e.serveSandboxCommand)
	mux.HandleFunc("POST /_slackemu/click", e.serveSandboxClick)
	e.oidcRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		e.recordUnexpected(r.Method + " " + r.URL.Path)
		writeJSON(w, http.StatusNotFound, apiError("unknown_method"))
	})
	return mux
}

// AddChannel creates a public channel the bot is a member of.
func (e *Emulator) AddChannel(id, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.channels[id] = &channel{id: id, name: name, member: true,
		bucket: bucket{interval: e.opts.PostInterval, burst: float64(e.opts.PostBurst)}}
}

// AddPrivateChannel creates a private channel; member says whether the bot
// has been invited (posting without it fails with not_in_channel).
func (e *Emulator) AddPrivateChannel(id, name string, member bool) {
	e.AddChannel(id, name)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.channels[id].private, e.channels[id].member = true, member
}

// AddUser adds a workspace member.
func (e *Emulator) AddUser(id, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.users[id] = name
}

// AddGroup adds a user group with its members.
func (e *Emulator) AddGroup(id string, members ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.groups[id] = append([]string(nil), members...)
}

// AddBotToken accepts another bot token, as during a rotation.
func (e *Emulator) AddBotToken(token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.tokens[token] = true
}

// RevokeBotToken stops accepting token.
func (e *Emulator) RevokeBotToken(token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tokens, token)
}

// nextTS returns a unique, increasing message timestamp, even if the
// test clock goes backwards. Caller holds mu.
func (e *Emulator) nextTS() string {
	e.seq++
	e.lastSec = max(e.opts.Now().Unix(), e.lastSec)
	return fmt.Sprintf("%d.%06d", e.lastSec, e.seq%1_000_000)
}
