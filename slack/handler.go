package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/web"
)

// ReplayGuard remembers request signatures so that a captured request
// cannot be sent again while its timestamp is still fresh.
type ReplayGuard interface {
	// FirstSeen records key for ttl and reports whether it was new.
	FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Defaults and bounds of HandlerConfig.
const (
	DefaultAckTimeout   = 2500 * time.Millisecond
	DefaultMaxBodyBytes = 64 << 10
	DefaultReplyTimeout = 2 * time.Minute
	// slackAckLimit is when Slack shows the user operation_timeout.
	slackAckLimit = 3 * time.Second
	// replayTTL covers every moment at which a signature's timestamp can
	// still pass the ±5 minute window.
	replayTTL = 2 * SignatureWindow
)

// HandlerConfig is what NewHandler needs.
type HandlerConfig struct {
	// Secrets maps environment to Slack signing secret. It is called on
	// every request so that a rotated secret takes effect at once.
	Secrets func() map[string]string
	App     App
	Replay  ReplayGuard
	// Responder delivers replies that miss the ack; usually the *Client.
	Responder  Responder
	Log        logrus.FieldLogger
	Registerer prometheus.Registerer
	// AckTimeout is how long a slash command waits for App before Nova
	// acknowledges and replies later; default 2.5 s, below Slack's 3 s.
	AckTimeout time.Duration
	// ReplyTimeout bounds App's work on one request, late replies included.
	ReplyTimeout time.Duration
	// Now is the clock for signature timestamps.
	Now func() time.Time
	// OnRefused, when set, is told of every request refused before it
	// reached App (bad or stale signature, replay, oversized body), so the
	// refusal can be audited. It must not block.
	OnRefused    func(kind, reason, remote string)
	MaxBodyBytes int64
}

// Handler answers Slack's slash command and interactivity requests.
type Handler struct {
	cfg     HandlerConfig
	log     logrus.FieldLogger
	metrics *handlerMetrics
	d       *dispatcher
}

// NewHandler validates cfg and returns a Handler.
func NewHandler(cfg HandlerConfig) (*Handler, error) {
	switch {
	case cfg.Secrets == nil:
		return nil, errors.New("slack: HandlerConfig.Secrets is required")
	case cfg.App == nil:
		return nil, errors.New("slack: HandlerConfig.App is required")
	case cfg.Replay == nil:
		return nil, errors.New("slack: HandlerConfig.Replay is required")
	case cfg.Responder == nil:
		return nil, errors.New("slack: HandlerConfig.Responder is required")
	case cfg.AckTimeout < 0 || cfg.AckTimeout >= slackAckLimit:
		return nil, fmt.Errorf("slack: AckTimeout %s must be below Slack's %s", cfg.AckTimeout, slackAckLimit)
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = logrus.StandardLogger()
	}
	m := newHandlerMetrics(cfg.Registerer)
	return &Handler{
		cfg:     cfg,
		log:     cfg.Log,
		metrics: m,
		d: &dispatcher{
			app: cfg.App, responder: cfg.Responder, log: cfg.Log,
			metrics: m, replyTimeout: cfg.ReplyTimeout,
		},
	}, nil
}

// Commands handles POST /slack/commands.
func (h *Handler) Commands() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, kindCommand) })
}

// Interactions handles POST /slack/interactions.
func (h *Handler) Interactions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, kindInteraction) })
}

// Wait blocks until every late reply has been delivered or ctx ends; call
// it on shutdown after the HTTP server stopped accepting requests.
func (h *Handler) Wait(ctx context.Context) error { return h.d.wait(ctx) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, kind string) {
	start := time.Now()
	result := h.handle(w, r, kind, start.Add(h.cfg.AckTimeout))
	h.metrics.requests.WithLabelValues(kind, result).Inc()
	h.metrics.latency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// handle answers one request and returns its result label. Until the
// signature is verified nothing in the body is parsed.
func (h *Handler) handle(w http.ResponseWriter, r *http.Request, kind string, deadline time.Time) string {
	log := h.log.WithFields(logrus.Fields{"kind": kind, "remote": r.RemoteAddr})
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		web.WriteJSON(w, http.StatusMethodNotAllowed, web.ErrorBody{Error: "use POST", Code: nova.EINVALID})
		return resultMethod
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.Warn("slack: refused request: body too large")
			h.refused(kind, "body too large", r.RemoteAddr)
			web.WriteError(w, nova.Errorf(nova.ETOOLARGE, "request body over %d bytes", h.cfg.MaxBodyBytes))
			return resultTooLarge
		}
		web.WriteError(w, nova.WrapError(nova.EINVALID, err, "could not read request body"))
		return resultInvalid
	}
	envs, err := h.verify(r.Header, body)
	if err != nil {
		log.WithField("code", nova.ErrorCode(err)).Warn("slack: refused request: " + nova.ErrorMessage(err))
		h.refused(kind, nova.ErrorMessage(err), r.RemoteAddr)
		web.WriteError(w, err)
		if nova.IsCode(err, nova.EINVALID) {
			return resultInvalid
		}
		return resultUnauthorized
	}
	if result, ok := h.checkReplay(w, r, kind, deadline, log); !ok {
		return result
	}
	if kind == kindCommand {
		return h.command(w, r, body, envs, deadline)
	}
	return h.interaction(w, r, body, envs)
}

func (h *Handler) refused(kind, reason, remote string) {
	if h.cfg.OnRefused != nil {
		h.cfg.OnRefused(kind, reason, remote)
	}
}

// verify returns the environments whose signing secret verified the
// request. When none did it returns the first environment's error, in
// name order so the answer does not depend on map iteration.
func (h *Handler) verify(header http.Header, body []byte) ([]string, error) {
	secrets := h.cfg.Secrets()
	if len(secrets) == 0 {
		h.log.Error("slack: no signing secret configured; refusing every request")
		return nil, nova.Errorf(nova.EUNAUTHORIZED, "no Slack signing secret is configured")
	}
	names := make([]string, 0, len(secrets))
	for env := range secrets {
		names = append(names, env)
	}
	slices.Sort(names)
	now := h.cfg.Now()
	var matched []string
	var firstErr error
	for _, env := range names {
		err := VerifyRequest(secrets[env], header, body, now)
		if err == nil {
			matched = append(matched, env)
		} else if firstErr == nil {
			firstErr = err
		}
	}
	if len(matched) == 0 {
		return nil, firstErr
	}
	return matched, nil
}

func (h *Handler) checkReplay(w http.ResponseWriter, r *http.Request, kind string, deadline time.Time, log logrus.FieldLogger) (string, bool) {
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	first, err := h.cfg.Replay.FirstSeen(ctx, r.Header.Get(HeaderSignature), replayTTL)
	if err != nil {
		// The request is genuine, so its sender gets a readable answer.
		log.WithError(err).Error("slack: replay guard unavailable")
		writeReply(w, errorReply(nova.WrapError(nova.EUNAVAILABLE, err,
			"Nova cannot check this request right now (its store is unavailable); try again in a minute")))
		return resultUnavailable, false
	}
	if !first {
		log.Warn("slack: refused request: replayed signature")
		h.refused(kind, "replayed request", r.RemoteAddr)
		web.WriteError(w, nova.Errorf(nova.EUNAUTHORIZED, "replayed request"))
		return resultReplayed, false
	}
	return "", true
}

func (h *Handler) command(w http.ResponseWriter, r *http.Request, body []byte, envs []string, deadline time.Time) string {
	req, sslCheck, err := parseCommand(body)
	if sslCheck {
		w.WriteHeader(http.StatusOK)
		return resultSSLCheck
	}
	if err != nil {
		web.WriteError(w, err)
		return resultInvalid
	}
	req.Environments = envs
	reply, result := h.d.command(r.Context(), deadline, req)
	writeReply(w, reply)
	return result
}

func (h *Handler) interaction(w http.ResponseWriter, r *http.Request, body []byte, envs []string) string {
	payload, err := interactionFormPayload(body)
	if err != nil {
		web.WriteError(w, err)
		return resultInvalid
	}
	in, handled, err := parseInteraction(payload)
	if err != nil {
		web.WriteError(w, err)
		return resultInvalid
	}
	w.WriteHeader(http.StatusOK)
	if !handled {
		return resultIgnored
	}
	in.Environments = envs
	h.d.interaction(r.Context(), in)
	return resultAccepted
}

// writeReply answers 200 with the rendered reply, or an empty 200 when
// there is nothing to show.
func writeReply(w http.ResponseWriter, reply nova.Reply) {
	if emptyReply(reply) {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := json.Marshal(newReplyBody(reply))
	if err != nil {
		// Unreachable with slack-go's block types; plain text still reaches the user.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, FallbackText(reply.Message))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
