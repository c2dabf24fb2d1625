package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot"
	"github.com/novasre/nova/config"
	"github.com/novasre/nova/pagerduty"
	"github.com/novasre/nova/slack"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/store/bolt"
	"github.com/novasre/nova/store/redis"

	goredis "github.com/redis/go-redis/v9"
)

// webhookSink hands verified PagerDuty events to the bot's ingest, with the
// delivery's trace so that processing continues it, and counts the events
// ignored for their service for the rollout review.
type webhookSink struct {
	app  *bot.App
	tr   *tracing
	seen *sightings
}

func (s webhookSink) Accept(ctx context.Context, ev nova.Event) (pagerduty.Disposition, error) {
	ev.TraceParent = s.tr.traceparent(ctx)
	r, err := s.app.Ingest(ctx, ev)
	if err == nil && r == bot.IngestIgnoredService && s.seen != nil {
		s.seen.saw(ctx, ev.Environment, ev.ServiceID)
	}
	return pagerduty.Disposition(r), err
}

// responder posts late replies to a response_url with the Slack client of
// the environment whose API host it is on (Slack's own hosts work with any).
type responder struct{ rt *runtime }

func (r responder) Respond(ctx context.Context, responseURL string, reply nova.Reply) error {
	u, err := url.Parse(responseURL)
	if err != nil {
		return nova.Errorf(nova.EINVALID, "response_url is not a URL")
	}
	var fallback *slack.Client
	for _, env := range r.rt.config().EnvironmentNames() {
		c, err := r.rt.slackClient(env)
		if err != nil {
			continue
		}
		if fallback == nil {
			fallback = c
		}
		if api, err := url.Parse(r.rt.config().Environments[env].Slack.APIURL); err == nil && api.Host == u.Host {
			return c.Respond(ctx, responseURL, reply)
		}
	}
	if fallback == nil {
		return nova.Errorf(nova.ENOTFOUND, "no Slack app is configured")
	}
	return fallback.Respond(ctx, responseURL, reply)
}

// replayGuard remembers Slack request signatures in the store, so a replay
// is refused on every replica.
type replayGuard struct{ st store.Store }

func (g replayGuard) FirstSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	sum := sha256.Sum256([]byte(key))
	_, err := g.st.Put(ctx, store.KindMeta, store.SlackReplayID(hex.EncodeToString(sum[:16])), []byte("1"), 0, ttl)
	if nova.IsCode(err, nova.ECONFLICT) {
		return false, nil
	}
	return err == nil, err
}

func openBolt(cfg *config.Config) (store.Store, error) {
	return bolt.Open(cfg.Store.Path, bolt.Options{})
}

func openRedis(ctx context.Context, cfg *config.Config, log logrus.FieldLogger) (store.Store, error) {
	goredis.SetLogger(redisLogger{log.WithField("component", "redis")})
	return redis.Open(ctx, redis.Options{
		URL: cfg.Store.URL.Value(), Addrs: cfg.Store.Addrs, MasterName: cfg.Store.MasterName, Prefix: cfg.Store.Prefix,
	})
}

// redisLogger sends go-redis's own messages (reconnect attempts) to the
// structured log instead of stderr.
type redisLogger struct{ log logrus.FieldLogger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Warnf(format, v...)
}

// startSocketMode runs Slack Socket Mode for environments that use it.
func startSocketMode(ctx context.Context, rt *runtime, app *bot.App, log logrus.FieldLogger) <-chan struct{} {
	done := make(chan struct{})
	cfg := rt.config()
	var envs []string
	var token, apiURL string
	for _, name := range cfg.EnvironmentNames() {
		e := cfg.Environments[name]
		if e.Slack.SocketMode {
			envs = append(envs, name)
			token, apiURL = e.Slack.AppToken.Value(), e.Slack.APIURL
		}
	}
	if len(envs) == 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		err := slack.RunSocketMode(ctx, slack.SocketModeConfig{
			AppToken: token, APIURL: apiURL, Environments: envs, App: app, Responder: responder{rt}, Log: log,
		})
		if err != nil && ctx.Err() == nil {
			log.WithError(err).Error("Slack Socket Mode stopped")
		}
	}()
	return done
}
