package slack

import (
	"context"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// App is the bot logic behind /nova and the buttons. The adapter calls it
// after verification and renders what it returns.
type App interface {
	Command(ctx context.Context, req nova.CommandRequest) (nova.Reply, error)
	Interact(ctx context.Context, in nova.Interaction) (nova.Reply, error)
}

// Responder posts a reply to a response_url; *Client is one.
type Responder interface {
	Respond(ctx context.Context, responseURL string, r nova.Reply) error
}

// deliverTimeout bounds one late delivery; Slack keeps a response_url for
// 30 minutes, but a reply that cannot be posted in this time is logged.
const deliverTimeout = 30 * time.Second

// dispatcher runs App under Slack's acknowledgement deadline and delivers
// whatever misses it through the response_url. HTTP and Socket Mode share
// it so that both transports behave alike.
type dispatcher struct {
	app          App
	responder    Responder
	log          logrus.FieldLogger
	metrics      *handlerMetrics
	replyTimeout time.Duration
	background   sync.WaitGroup
}

type outcome struct {
	reply nova.Reply
	err   error
}

// call runs fn in its own goroutine. Its context keeps parent's values but
// not its cancellation: the request ends at the ack, the work may not.
func (d *dispatcher) call(parent context.Context, fn func(context.Context) (nova.Reply, error)) <-chan outcome {
	ch := make(chan outcome, 1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), d.replyTimeout)
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				d.log.WithField("panic", p).Error("slack: App panicked")
				ch <- outcome{err: nova.Errorf(nova.EINTERNAL, "internal error")}
			}
		}()
		reply, err := fn(ctx)
		ch <- outcome{reply: reply, err: err}
	}()
	return ch
}

// command waits for App's answer until deadline and returns the reply to
// acknowledge with. Past the deadline it returns workingReply and hands
// the real reply to the response_url once App finishes.
func (d *dispatcher) command(parent context.Context, deadline time.Time, req nova.CommandRequest) (nova.Reply, string) {
	// Reserved before App starts, so wait cannot return between App
	// finishing and its late delivery starting.
	d.background.Add(1)
	ch := d.call(parent, func(ctx context.Context) (nova.Reply, error) { return d.app.Command(ctx, req) })
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case out := <-ch:
		d.background.Done()
		if out.err != nil {
			d.logAppError(kindCommand, out.err)
			return errorReply(out.err), resultAppError
		}
		return out.reply, resultOK
	case <-timer.C:
		go func() {
			defer d.background.Done()
			d.deliver(kindCommand, req.ResponseURL, <-ch)
		}()
		return workingReply, resultLate
	}
}

// interaction runs App in the background and posts its reply to the
// response_url: Slack ignores the body of a block_actions ack, so the
// click is acknowledged at once and the answer always travels there.
func (d *dispatcher) interaction(parent context.Context, in nova.Interaction) {
	d.background.Add(1)
	ch := d.call(parent, func(ctx context.Context) (nova.Reply, error) { return d.app.Interact(ctx, in) })
	go func() {
		defer d.background.Done()
		d.deliver(kindInteraction, in.ResponseURL, <-ch)
	}()
}

// deliver posts a late reply. It never logs the response_url, which lets
// anyone holding it post into the channel for 30 minutes.
func (d *dispatcher) deliver(kind, responseURL string, out outcome) {
	reply := out.reply
	if out.err != nil {
		d.logAppError(kind, out.err)
		reply = errorReply(out.err)
	}
	if emptyReply(reply) {
		d.metrics.late.WithLabelValues("empty").Inc()
		return
	}
	log := d.log.WithField("kind", kind)
	if responseURL == "" {
		d.metrics.late.WithLabelValues("failed").Inc()
		log.Error("slack: reply lost: the request carried no response_url")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), deliverTimeout)
	defer cancel()
	if err := d.responder.Respond(ctx, responseURL, reply); err != nil {
		d.metrics.late.WithLabelValues("failed").Inc()
		log.WithField("code", nova.ErrorCode(err)).WithError(err).Error("slack: could not deliver reply to response_url")
		return
	}
	d.metrics.late.WithLabelValues("delivered").Inc()
}

func (d *dispatcher) logAppError(kind string, err error) {
	log := d.log.WithFields(logrus.Fields{"kind": kind, "code": nova.ErrorCode(err)}).WithError(err)
	if nova.ErrorCode(err) == nova.EINTERNAL {
		log.Error("slack: App failed")
		return
	}
	log.Info("slack: App refused the request")
}

// wait blocks until background work is done or ctx ends.
func (d *dispatcher) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		d.background.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
