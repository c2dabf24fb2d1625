package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// SocketModeConfig is what RunSocketMode needs.
type SocketModeConfig struct {
	// AppToken is the app-level token (xapp-…) with connections:write.
	AppToken string
	// APIURL is the Web API base ending with "/"; default Slack's.
	APIURL string
	// Environments are the environments this Slack app serves. Socket Mode
	// has no signing secret to tell them apart, so they are configured.
	Environments []string
	App          App
	// Responder delivers replies that miss the ack or exceed the 20 KB ack limit.
	Responder    Responder
	Log          logrus.FieldLogger
	Registerer   prometheus.Registerer
	AckTimeout   time.Duration
	ReplyTimeout time.Duration
	HTTPClient   *http.Client
}

// shutdownGrace is how long RunSocketMode waits for replies in flight
// once its context ends.
const shutdownGrace = 10 * time.Second

// RunSocketMode connects to Slack over Socket Mode and feeds slash commands
// and button clicks into the same App as the HTTP handler, acknowledging
// each envelope with the rendered reply. Socket Mode needs no public URL
// and no signature checks: the websocket is authenticated by the app
// token. It returns nil when ctx ends, or the error that made the
// connection give up (such as an invalid token).
func RunSocketMode(ctx context.Context, cfg SocketModeConfig) error {
	switch {
	case !strings.HasPrefix(cfg.AppToken, "xapp-"):
		return errors.New("slack: SocketModeConfig.AppToken must be an app-level token (xapp-…)")
	case cfg.App == nil:
		return errors.New("slack: SocketModeConfig.App is required")
	case cfg.Responder == nil:
		return errors.New("slack: SocketModeConfig.Responder is required")
	case cfg.AckTimeout < 0 || cfg.AckTimeout >= slackAckLimit:
		return errors.New("slack: SocketModeConfig.AckTimeout must be below 3s")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	if cfg.Log == nil {
		cfg.Log = logrus.StandardLogger()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	api := slackgo.New("", slackgo.OptionAppLevelToken(cfg.AppToken),
		slackgo.OptionAPIURL(cfg.APIURL), slackgo.OptionHTTPClient(cfg.HTTPClient))
	m := newHandlerMetrics(cfg.Registerer)
	s := &socketRunner{
		cfg:     cfg,
		client:  socketmode.New(api, socketmode.OptionLog(logOutput{cfg.Log})),
		log:     cfg.Log.WithField("transport", "socket_mode"),
		metrics: m,
		d: &dispatcher{app: cfg.App, responder: cfg.Responder, log: cfg.Log,
			metrics: m, replyTimeout: cfg.ReplyTimeout},
	}
	return s.run(ctx)
}

type socketRunner struct {
	cfg     SocketModeConfig
	client  *socketmode.Client
	log     logrus.FieldLogger
	metrics *handlerMetrics
	d       *dispatcher
}

func (s *socketRunner) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.client.RunContext(ctx) }()
	for {
		select {
		case err := <-done:
			graceCtx, stop := context.WithTimeout(context.Background(), shutdownGrace)
			_ = s.d.wait(graceCtx)
			stop()
			if ctx.Err() != nil {
				return nil
			}
			return mapError("apps.connections.open", err)
		case evt := <-s.client.Events:
			s.handle(ctx, evt)
		}
	}
}

func (s *socketRunner) handle(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.log.Info("slack: Socket Mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage:
		s.log.WithField("event", string(evt.Type)).Warn("slack: Socket Mode trouble; slack-go reconnects")
	case socketmode.EventTypeInvalidAuth:
		s.log.Error("slack: Socket Mode app token refused")
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		// Each envelope in its own goroutine: one slow App call must not
		// hold up the acks of the others. Tracked so shutdown waits for it.
		s.d.background.Add(1)
		go func() {
			defer s.d.background.Done()
			if evt.Type == socketmode.EventTypeSlashCommand {
				s.command(ctx, evt.Request)
			} else {
				s.interaction(ctx, evt.Request)
			}
		}()
	case socketmode.EventTypeEventsAPI:
		// Nova subscribes to no events; ack anyway so Slack does not retry.
		if evt.Request != nil {
			_ = s.client.AckCtx(ctx, evt.Request.EnvelopeID, nil)
		}
	}
}

func (s *socketRunner) command(ctx context.Context, req *socketmode.Request) {
	start := time.Now()
	result := s.answerCommand(ctx, req, start.Add(s.cfg.AckTimeout))
	s.metrics.requests.WithLabelValues(kindCommand, result).Inc()
	s.metrics.latency.WithLabelValues(kindCommand).Observe(time.Since(start).Seconds())
}

func (s *socketRunner) answerCommand(ctx context.Context, req *socketmode.Request, deadline time.Time) string {
	if req == nil {
		return resultInvalid
	}
	cmd, err := parseCommandJSON(req.Payload)
	if err != nil {
		s.log.WithError(err).Warn("slack: malformed Socket Mode slash command")
		_ = s.client.AckCtx(ctx, req.EnvelopeID, nil)
		return resultInvalid
	}
	cmd.Environments = s.cfg.Environments
	reply, result := s.d.command(ctx, deadline, cmd)
	var payload any
	if !emptyReply(reply) {
		payload = newReplyBody(reply)
	}
	if err := s.client.AckCtx(ctx, req.EnvelopeID, payload); err != nil && payload != nil {
		// Slack drops acks of 20 KB or more; send the reply the other way.
		_ = s.client.AckCtx(ctx, req.EnvelopeID, nil)
		if result != resultLate {
			s.d.background.Add(1)
			go func() {
				defer s.d.background.Done()
				s.d.deliver(kindCommand, cmd.ResponseURL, outcome{reply: reply})
			}()
		}
	}
	return result
}

func (s *socketRunner) interaction(ctx context.Context, req *socketmode.Request) {
	start := time.Now()
	result := resultInvalid
	if req != nil {
		// Acknowledge first: the click's answer always goes to response_url.
		_ = s.client.AckCtx(ctx, req.EnvelopeID, nil)
		in, handled, err := parseInteraction(req.Payload)
		switch {
		case err != nil:
			s.log.WithError(err).Warn("slack: malformed Socket Mode interaction")
		case !handled:
			result = resultIgnored
		default:
			in.Environments = s.cfg.Environments
			s.d.interaction(ctx, in)
			result = resultAccepted
		}
	}
	s.metrics.requests.WithLabelValues(kindInteraction, result).Inc()
	s.metrics.latency.WithLabelValues(kindInteraction).Observe(time.Since(start).Seconds())
}

// logOutput lets slack-go's socketmode log through logrus at debug level.
type logOutput struct{ log logrus.FieldLogger }

func (l logOutput) Output(_ int, s string) error {
	l.log.Debug(tokenPattern.ReplaceAllString(strings.TrimSpace(s), "xox…REDACTED"))
	return nil
}
