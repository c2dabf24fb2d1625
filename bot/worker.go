package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Run drains the inbox with a bounded pool of workers until ctx ends, then
// lets in-flight events finish (each within its own deadline) and returns.
// Events a crashed replica left leased are taken over after the visibility
// timeout.
func (a *App) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i := 0; i < a.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.workLoop(ctx)
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.sweepLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		a.outboxSweepLoop(ctx)
	}()
	wg.Wait()
	a.background.Wait()
	return nil
}

func (a *App) workLoop(ctx context.Context) {
	idle := a.cfg.Poll
	for ctx.Err() == nil {
		d, err := a.store.Claim(ctx, a.cfg.Visibility)
		if err != nil {
			if ctx.Err() == nil {
				a.log.WithError(err).Warn("claim from inbox failed; retrying")
			}
			a.sleep(ctx, time.Second)
			continue
		}
		if d == nil {
			a.sleep(ctx, idle)
			continue
		}
		// Finish the event even if shutdown begins meanwhile.
		a.process(context.WithoutCancel(ctx), d)
	}
}

func (a *App) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-a.wake:
	case <-t.C:
	}
}

// process handles one claimed delivery: it keeps the lease alive while
// working, then acknowledges it, releases it for a retry, or sets it aside.
func (a *App) process(ctx context.Context, d *store.Delivery) {
	var ev nova.Event
	if err := json.Unmarshal(d.Payload, &ev); err != nil {
		a.log.WithError(err).WithField("seq", d.Seq).Error("undecodable inbox item; dropping it")
		a.metrics.deadLetters.Inc()
		_ = a.store.Ack(ctx, d)
		return
	}
	log := a.log.WithFields(logrus.Fields{
		"event_id": ev.ID, "webhook_id": ev.WebhookID, "event_type": ev.Type,
		"incident_id": ev.IncidentID, "service_id": ev.ServiceID, "environment": ev.Environment, "attempt": d.Attempts,
	})
	if d.Attempts > a.cfg.MaxAttempts {
		log.Error("event failed too many times; set aside as a dead letter")
		a.metrics.deadLetters.Inc()
		a.deadLetter(ctx, ev, d)
		_ = a.store.Ack(ctx, d)
		return
	}
	workCtx, cancel := context.WithTimeout(ctx, a.cfg.Visibility*9/10)
	workCtx, endSpan := a.span(workCtx, "nova.process "+string(ev.Type), ev.TraceParent, map[string]string{
		"nova.incident_id": ev.IncidentID, "nova.event_id": ev.ID, "nova.environment": ev.Environment})
	stop := a.keepLease(workCtx, d, log)
	var err error
	if ev.Type == eventSlackOutbox {
		err = a.drainOutbox(workCtx, ev.ID, log)
	} else {
		err = a.handle(workCtx, ev, log)
	}
	endSpan(err)
	stop()
	cancel()
	result := "ok"
	switch {
	case err == nil:
		if aerr := a.store.Ack(ctx, d); aerr != nil {
			log.WithError(aerr).Warn("ack of processed event failed; it will be processed again (writes are idempotent)")
		}
	case retryable(err):
		result = "retry"
		delay := backoff(d.Attempts)
		log.WithError(err).WithField("retry_in", delay.String()).Warn("event processing failed; will retry")
		if rerr := a.store.Release(ctx, d, delay); rerr != nil {
			log.WithError(rerr).Warn("release failed; the lease will expire instead")
		}
	default:
		result = "failed"
		log.WithError(err).Error("event processing failed permanently")
		a.deadLetter(ctx, ev, d)
		_ = a.store.Ack(ctx, d)
	}
	a.metrics.events.WithLabelValues(string(ev.Type), result).Inc()
}

// keepLease extends the delivery's lease while work goes on.
func (a *App) keepLease(ctx context.Context, d *store.Delivery, log logrus.FieldLogger) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(a.cfg.Visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.store.Extend(ctx, d, a.cfg.Visibility); err != nil && ctx.Err() == nil {
					log.WithError(err).Warn("could not extend the event's lease")
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

func retryable(err error) bool {
	switch nova.ErrorCode(err) {
	case nova.EUNAVAILABLE, nova.ERATELIMITED, nova.ECONFLICT:
		return true
	}
	return err == context.DeadlineExceeded
}

func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 6)
	return min(d, time.Minute)
}

// deadLetter keeps a failed event for inspection.
func (a *App) deadLetter(ctx context.Context, ev nova.Event, d *store.Delivery) {
	b, _ := json.Marshal(struct {
		Event    nova.Event `json:"event"`
		Attempts int        `json:"attempts"`
		At       time.Time  `json:"at"`
	}{ev, d.Attempts, a.now()})
	id := fmt.Sprintf("deadletter:%s", ev.ID)
	if _, err := a.store.Put(ctx, store.KindMeta, id, b, store.AnyVersion, 30*24*time.Hour); err != nil {
		a.log.WithError(err).Error("could not keep the dead letter")
	}
}
