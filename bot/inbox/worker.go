package inbox

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/store"
)

// Store is the part of the store the inbox uses: the inbox itself, and
// records (incidents, to route events that name only their incident; dead
// letters).
type Store interface {
	store.Inbox
	store.Records
}

// Config is what New needs.
type Config struct {
	Store    Store
	Settings func() *settings.Settings
	// IngressMode is a service's mode as ingress reads it (rollout).
	IngressMode func(ctx context.Context, svc nova.Service) (nova.Mode, error)
	// Handle processes one event; an error is retried when nova.IsRetryable.
	Handle func(ctx context.Context, ev nova.Event, log logrus.FieldLogger) error
	// Span, when set, traces each event's processing (a child of the
	// webhook's trace); it returns the function that ends the span.
	Span func(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(error))
	Log  logrus.FieldLogger
	Now  func() time.Time
	// Workers, Visibility (a claimed event's lease), DedupTTL (how long
	// webhook and event ids are remembered), MaxAttempts (before a dead
	// letter) and Poll (idle workers' pace) are bot.Config's.
	Workers     int
	Visibility  time.Duration
	DedupTTL    time.Duration
	MaxAttempts int
	Poll        time.Duration
	Registerer  prometheus.Registerer
}

// Inbox ingests events and runs the workers.
type Inbox struct {
	cfg         Config
	wake        chan struct{}
	events      *prometheus.CounterVec
	deadLetters prometheus.Counter
}

// New returns an Inbox and registers its metrics (events processed, dead
// letters, inbox depth). cfg's durations and counts must be set (bot.New
// fills in the defaults).
func New(cfg Config) (*Inbox, error) {
	in := &Inbox{cfg: cfg, wake: make(chan struct{}, 1)}
	var err error
	if in.events, err = metric.Register(cfg.Registerer, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nova_events_processed_total", Help: "Inbox events processed, by type and result.",
	}, []string{"type", "result"})); err != nil {
		return nil, err
	}
	if in.deadLetters, err = metric.Register(cfg.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "nova_dead_letters_total", Help: "Events set aside after too many failed attempts.",
	})); err != nil {
		return nil, err
	}
	if _, err = metric.Register(cfg.Registerer, prometheus.Collector(inboxDepth{st: cfg.Store})); err != nil {
		return nil, err
	}
	return in, nil
}

// Run drains the inbox with a bounded pool of workers until ctx ends, then
// lets in-flight events finish (each within its own deadline) and returns.
// Events a crashed replica left leased are taken over after the visibility
// timeout.
func (in *Inbox) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < in.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.workLoop(ctx)
		}()
	}
	wg.Wait()
}

func (in *Inbox) workLoop(ctx context.Context) {
	idle := in.cfg.Poll
	for ctx.Err() == nil {
		d, err := in.cfg.Store.Claim(ctx, in.cfg.Visibility)
		if err != nil {
			if ctx.Err() == nil {
				in.cfg.Log.WithError(err).Warn("claim from inbox failed; retrying")
			}
			in.sleep(ctx, time.Second)
			continue
		}
		if d == nil {
			in.sleep(ctx, idle)
			continue
		}
		// Finish the event even if shutdown begins meanwhile.
		in.process(context.WithoutCancel(ctx), d)
	}
}

func (in *Inbox) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-in.wake:
	case <-t.C:
	}
}

// process handles one claimed delivery: it keeps the lease alive while
// working, then acknowledges it, releases it for a retry, or sets it aside.
func (in *Inbox) process(ctx context.Context, d *store.Delivery) {
	var ev nova.Event
	if err := json.Unmarshal(d.Payload, &ev); err != nil {
		in.cfg.Log.WithError(err).WithField("seq", d.Seq).Error("undecodable inbox item; dropping it")
		in.deadLetters.Inc()
		_ = in.cfg.Store.Ack(ctx, d)
		return
	}
	log := in.cfg.Log.WithFields(logrus.Fields{
		"event_id": ev.ID, "webhook_id": ev.WebhookID, "event_type": ev.Type,
		"incident_id": ev.IncidentID, "service_id": ev.ServiceID, "environment": ev.Environment, "attempt": d.Attempts,
	})
	if d.Attempts > in.cfg.MaxAttempts {
		log.Error("event failed too many times; set aside as a dead letter")
		in.deadLetters.Inc()
		in.deadLetter(ctx, ev, d)
		_ = in.cfg.Store.Ack(ctx, d)
		return
	}
	workCtx, cancel := context.WithTimeout(ctx, in.cfg.Visibility*9/10)
	workCtx, endSpan := in.span(workCtx, "nova.process "+string(ev.Type), ev.TraceParent, map[string]string{
		"nova.incident_id": ev.IncidentID, "nova.event_id": ev.ID, "nova.environment": ev.Environment})
	stop := in.keepLease(workCtx, d, log)
	err := in.cfg.Handle(workCtx, ev, log)
	endSpan(err)
	stop()
	cancel()
	result := "ok"
	switch {
	case err == nil:
		if aerr := in.cfg.Store.Ack(ctx, d); aerr != nil {
			log.WithError(aerr).Warn("ack of processed event failed; it will be processed again (writes are idempotent)")
		}
	case nova.IsRetryable(err):
		result = "retry"
		delay := backoff(d.Attempts)
		log.WithError(err).WithField("retry_in", delay.String()).Warn("event processing failed; will retry")
		if rerr := in.cfg.Store.Release(ctx, d, delay); rerr != nil {
			log.WithError(rerr).Warn("release failed; the lease will expire instead")
		}
	default:
		result = "failed"
		log.WithError(err).Error("event processing failed permanently")
		in.deadLetter(ctx, ev, d)
		_ = in.cfg.Store.Ack(ctx, d)
	}
	in.events.WithLabelValues(string(ev.Type), result).Inc()
}

// keepLease extends the delivery's lease while work goes on.
func (in *Inbox) keepLease(ctx context.Context, d *store.Delivery, log logrus.FieldLogger) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(in.cfg.Visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := in.cfg.Store.Extend(ctx, d, in.cfg.Visibility); err != nil && ctx.Err() == nil {
					log.WithError(err).Warn("could not extend the event's lease")
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 6)
	return min(d, time.Minute)
}

// deadLetter keeps a failed event for inspection.
func (in *Inbox) deadLetter(ctx context.Context, ev nova.Event, d *store.Delivery) {
	b, _ := json.Marshal(struct {
		Event    nova.Event `json:"event"`
		Attempts int        `json:"attempts"`
		At       time.Time  `json:"at"`
	}{ev, d.Attempts, in.cfg.Now()})
	if _, err := in.cfg.Store.Put(ctx, store.KindMeta, store.DeadLetterID(ev.ID), b, store.AnyVersion, 30*24*time.Hour); err != nil {
		in.cfg.Log.WithError(err).Error("could not keep the dead letter")
	}
}

func (in *Inbox) span(ctx context.Context, name, traceparent string, attrs map[string]string) (context.Context, func(error)) {
	if in.cfg.Span == nil {
		return ctx, func(error) {}
	}
	return in.cfg.Span(ctx, name, traceparent, attrs)
}

// inboxDepth reports the inbox's depth at every scrape, and whether the
// store answered: when it does not, there is no depth sample (never a
// sentinel value) and nova_store_up is 0.
type inboxDepth struct {
	st interface {
		InboxDepth(ctx context.Context) (int64, error)
	}
}

var (
	inboxDepthDesc = prometheus.NewDesc("nova_inbox_depth",
		"Events stored in the inbox (ready, leased or delayed); absent while the store is unreachable.", nil, nil)
	storeUpDesc = prometheus.NewDesc("nova_store_up",
		"1 when the store answered the last scrape's inbox depth query, 0 when it did not.", nil, nil)
)

func (d inboxDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- inboxDepthDesc
	ch <- storeUpDesc
}

func (d inboxDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := d.st.InboxDepth(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(inboxDepthDesc, prometheus.GaugeValue, float64(n))
}
