package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/settings"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/internal/metric"
	"github.com/novasre/nova/store"
)

// The Slack outbox keeps Slack off the path of PagerDuty write-back.
//
// Slack takes about one message per second per channel. Workers used to
// post the hypothesis message themselves, so in a storm on one channel
// every worker waited in that channel's lane before it could write the next
// incident's PagerDuty note. Now a worker only records what is to be posted
// in the channel's outbox (a record in the store) and enqueues a "poke" in
// the inbox under the channel's key, behind every PagerDuty event in
// priority. Whichever worker claims the poke drains the outbox: the inbox
// lets one worker at a time hold a channel, on every replica, and a poke
// whose worker died is redelivered after the visibility timeout. Each post
// still goes through store.Once under the same idempotency keys as before,
// so a drain that is repeated after a crash never posts twice, and nothing
// recorded in the outbox is lost.
//
// In a storm the outbox coalesces: when more than slackStormThreshold hypothesis
// messages wait for one channel, they are folded into one storm summary
// message listing the incidents, which later incidents and status changes
// update in place, until the channel has been quiet for slackStormQuiet.

const (
	// EventType is the inbox event type of a poke; its ID is the outbox
	// record's id.
	EventType nova.EventType = "nova.slack_outbox"

	outboxHypothesis = "hypothesis"
	outboxApproval   = "approval"
	outboxRefresh    = "refresh"
	outboxPostmortem = "postmortem"

	// slackStormThreshold is how many hypothesis messages may wait for one
	// channel before they are summarised instead of posted one by one.
	slackStormThreshold = 5
	// slackStormQuiet ends a storm summary: a channel this long without new
	// incidents gets one message per incident again.
	slackStormQuiet = 5 * time.Minute
	// maxOutboxPending bounds one channel's outbox; beyond it queueing
	// fails (EUNAVAILABLE) and the event is retried later.
	maxOutboxPending = 5000
	// outboxStepTime is the time a drain keeps in hand for one more Slack
	// call after its first; with less left it hands over to a fresh poke.
	outboxStepTime = 2 * time.Second
	// outboxStepsPerClaim bounds the Slack calls of one claimed poke.
	outboxStepsPerClaim = 20
	// outboxSweepEvery is how often outboxes nobody drains are poked again
	// (after a poke was set aside as a dead letter, for instance).
	outboxSweepEvery = time.Minute
)

// Approvals posts an approval request's message (the approval flow).
type Approvals interface {
	PostMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error
}

// Postmortems posts a postmortem draft's thread reply, or updates it
// (bot/postmortems).
type Postmortems interface {
	PostMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error
}

// Config is what New needs.
type Config struct {
	Store    store.Records
	Once     *store.Once
	Settings func() *settings.Settings
	Writer   *writeback.Writer
	// Chat returns env's Slack client (ENOTFOUND without one).
	Chat func(env string) (writeback.Chat, error)
	// Mode reads a service's mode, uncached (rollout).
	Mode      func(ctx context.Context, svc nova.Service) (nova.Mode, error)
	Approvals Approvals
	// Postmortems may be nil (no drafts).
	Postmortems Postmortems
	// Poke enqueues an event for the workers under an ordering key (inbox).
	Poke       func(ctx context.Context, ev nova.Event, key string) error
	Log        logrus.FieldLogger
	Now        func() time.Time
	Visibility time.Duration
	Registerer prometheus.Registerer
}

// Outbox queues and posts Nova's Slack messages, one channel at a time.
type Outbox struct {
	cfg            Config
	stormSummaries prometheus.Counter
}

// New returns an Outbox and registers its metric.
func New(cfg Config) (*Outbox, error) {
	o := &Outbox{cfg: cfg}
	var err error
	if o.stormSummaries, err = metric.Register(cfg.Registerer, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "nova_slack_storm_summaries_total", Help: "Storm summary messages started: a channel's backlog of hypothesis messages summarised in one message.",
	})); err != nil {
		return nil, err
	}
	return o, nil
}

// QueueHypothesis queues the incident's Slack message (both modes); a
// read-only service without a channel shows it in Nova's API only.
func (o *Outbox) QueueHypothesis(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error {
	return o.queueHypothesisMessage(ctx, svc, rec, mode)
}

// QueueApproval queues an action request's Slack message.
func (o *Outbox) QueueApproval(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
	return o.queueApprovalMessage(ctx, svc, rec, req)
}

// QueueRefresh queues an update of the incident's message.
func (o *Outbox) QueueRefresh(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	return o.refreshMessage(ctx, svc, rec)
}

// QueuePostmortem queues the reply announcing the incident's postmortem
// draft (or its update for a later version) in the incident's thread.
func (o *Outbox) QueuePostmortem(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	channel := rec.SlackChannel
	if channel == "" {
		channel = svc.SlackChannel
	}
	if channel == "" || o.cfg.Postmortems == nil {
		return nil
	}
	if _, err := o.cfg.Chat(svc.Environment); err != nil {
		return nil
	}
	return o.queueSlack(ctx, svc.Environment, channel, outboxItem{Kind: outboxPostmortem, Incident: rec.ID, Service: svc.ID})
}

// Drain posts what waits in the outbox a poke names (the poke's event id).
func (o *Outbox) Drain(ctx context.Context, id string, log logrus.FieldLogger) error {
	return o.drainOutbox(ctx, id, log)
}

// SweepLoop pokes stranded outboxes until ctx ends.
func (o *Outbox) SweepLoop(ctx context.Context) { o.outboxSweepLoop(ctx) }

// incident returns Nova's record of an incident.
func (o *Outbox) incident(ctx context.Context, id string) (nova.IncidentRecord, error) {
	rec, _, err := store.Load[nova.IncidentRecord](ctx, o.cfg.Store, store.KindIncident, id)
	return rec, err
}

// stormMessage renders the channel's storm summary from the records of the
// incidents it lists.
func (o *Outbox) stormMessage(ctx context.Context, ob slackOutbox) nova.Message {
	records := map[string]nova.IncidentRecord{}
	for _, id := range ob.Storm.Incidents {
		if rec, err := o.incident(ctx, id); err == nil {
			records[id] = rec
		}
	}
	return render.StormMessage(ob.Storm.Started, ob.Storm.Incidents, records)
}

// slackOutbox is one channel's outbox.
type slackOutbox struct {
	Environment string       `json:"environment"`
	Channel     string       `json:"channel"`
	Pending     []outboxItem `json:"pending,omitempty"`
	Storm       *slackStorm  `json:"storm,omitempty"`
}

// outboxItem is one Slack write waiting for its channel.
type outboxItem struct {
	Kind     string    `json:"kind"`
	Incident string    `json:"incident"`
	Service  string    `json:"service"`
	Approval string    `json:"approval,omitempty"`
	At       time.Time `json:"at"`
}

func (it outboxItem) same(o outboxItem) bool {
	return it.Kind == o.Kind && it.Incident == o.Incident && it.Approval == o.Approval
}

// slackStorm is a channel's storm summary message and what it lists.
type slackStorm struct {
	ID       string    `json:"id"`
	Started  time.Time `json:"started"`
	LastFold time.Time `json:"last_fold"`
	// TS is the summary message's ts once posted.
	TS        string   `json:"ts,omitempty"`
	Incidents []string `json:"incidents"`
	// Version counts changes to what the summary shows; Synced is the
	// version Slack last received.
	Version int `json:"version"`
	Synced  int `json:"synced"`
	// Unlinked are listed incidents whose records do not point at the
	// summary yet.
	Unlinked []string `json:"unlinked,omitempty"`
}

func (s *slackStorm) settled() bool {
	return s.TS != "" && s.Synced >= s.Version && len(s.Unlinked) == 0
}

// queueSlack records a Slack write for channel and pokes the channel's
// poster. Queueing the same write twice (a redelivered event) keeps one.
func (o *Outbox) queueSlack(ctx context.Context, env, channel string, it outboxItem) error {
	it.At = o.cfg.Now()
	_, err := store.Update(ctx, o.cfg.Store, store.KindMeta, store.OutboxID(env, channel), func(ob *slackOutbox, _ bool) error {
		ob.Environment, ob.Channel = env, channel
		if slices.ContainsFunc(ob.Pending, it.same) {
			return store.ErrUnchanged
		}
		if len(ob.Pending) >= maxOutboxPending {
			return nova.Errorf(nova.EUNAVAILABLE, "the Slack outbox of channel %s is full (%d messages waiting)", channel, len(ob.Pending))
		}
		ob.Pending = append(ob.Pending, it)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrUnchanged) {
		return fmt.Errorf("queue a %s message for %s: %w", it.Kind, channel, err)
	}
	return o.pokeOutbox(ctx, env, channel)
}

// pokeOutbox enqueues a drain of a channel's outbox. Pokes are not
// deduplicated: one more than needed finds an empty outbox and costs a read.
func (o *Outbox) pokeOutbox(ctx context.Context, env, channel string) error {
	id := store.OutboxID(env, channel)
	return o.cfg.Poke(ctx, nova.Event{ID: id, Type: EventType, Environment: env}, id)
}

// queueHypothesisMessage queues the incident's Slack message (both modes).
func (o *Outbox) queueHypothesisMessage(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error {
	if svc.SlackChannel == "" {
		if mode == nova.ModeReadOnly {
			return o.cfg.Writer.MarkVisible(ctx, svc, rec) // stored and served by the API
		}
		return nil
	}
	if _, err := o.cfg.Chat(svc.Environment); nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	} else if err != nil {
		return err
	}
	if rec.SlackTS != "" {
		return nil // posted already (this is a redelivery)
	}
	return o.queueSlack(ctx, svc.Environment, svc.SlackChannel, outboxItem{Kind: outboxHypothesis, Incident: rec.ID, Service: svc.ID})
}

// queueApprovalMessage queues an action request's Slack message; it is
// posted in the thread of the incident's message once that exists.
func (o *Outbox) queueApprovalMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
	channel := rec.SlackChannel
	if channel == "" {
		channel = svc.SlackChannel
	}
	if channel == "" {
		return nil
	}
	if _, err := o.cfg.Chat(svc.Environment); err != nil {
		return nil
	}
	return o.queueSlack(ctx, svc.Environment, channel, outboxItem{Kind: outboxApproval, Incident: rec.ID, Service: svc.ID, Approval: req.ID})
}

// drainOutbox posts what waits in one channel's outbox, one Slack call at
// a time, within the claimed poke's deadline; what remains is handed to a
// fresh poke.
func (o *Outbox) drainOutbox(ctx context.Context, id string, log logrus.FieldLogger) error {
	for step := 0; ; step++ {
		ob, _, err := store.Load[slackOutbox](ctx, o.cfg.Store, store.KindMeta, id)
		if nova.IsCode(err, nova.ENOTFOUND) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read outbox %s: %w", id, err)
		}
		if step > 0 && (step >= outboxStepsPerClaim || !hasTime(ctx, outboxStepTime)) {
			return o.pokeOutbox(ctx, ob.Environment, ob.Channel)
		}
		done, err := o.outboxStep(ctx, id, ob, log)
		if err != nil || done {
			return err
		}
	}
}

func hasTime(ctx context.Context, need time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= need
}

// outboxStep does the next thing the outbox needs; done means nothing is left.
func (o *Outbox) outboxStep(ctx context.Context, id string, ob slackOutbox, log logrus.FieldLogger) (bool, error) {
	now := o.cfg.Now()
	waiting := 0
	for _, it := range ob.Pending {
		if it.Kind == outboxHypothesis {
			waiting++
		}
	}
	if s := ob.Storm; s != nil && s.settled() && now.Sub(s.LastFold) >= slackStormQuiet && waiting <= slackStormThreshold {
		return false, o.endStorm(ctx, id, s.ID)
	}
	if ob.Storm != nil || waiting > slackStormThreshold {
		if o.foldable(ob) {
			return false, o.foldStorm(ctx, id, ob)
		}
		if s := ob.Storm; s.TS == "" || s.Synced < s.Version {
			return false, o.syncStorm(ctx, id, ob)
		}
		if len(ob.Storm.Unlinked) > 0 {
			return false, o.linkStorm(ctx, id, ob)
		}
	}
	if len(ob.Pending) == 0 {
		return true, nil
	}
	it := ob.Pending[0]
	if err := o.sendOutboxItem(ctx, ob, it); err != nil {
		if nova.IsRetryable(err) || ctx.Err() != nil {
			return false, err
		}
		// Refused for good (the channel is gone, the message invalid): the
		// failure is audited by the write; drop it so the channel moves on.
		log.WithError(err).WithField("incident_id", it.Incident).WithField("kind", it.Kind).Warn("Slack write refused; dropped from the outbox")
	}
	return false, o.removeItem(ctx, id, it)
}

func (o *Outbox) removeItem(ctx context.Context, id string, it outboxItem) error {
	_, err := store.Update(ctx, o.cfg.Store, store.KindMeta, id, func(ob *slackOutbox, _ bool) error {
		ob.Pending = slices.DeleteFunc(ob.Pending, it.same)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove a sent item from outbox %s: %w", id, err)
	}
	return nil
}

// sendOutboxItem performs one queued write with its channel's lane.
func (o *Outbox) sendOutboxItem(ctx context.Context, ob slackOutbox, it outboxItem) error {
	svc, ok := o.cfg.Settings().Services[it.Service]
	if !ok {
		return nil // no longer declared
	}
	svc.SlackChannel = ob.Channel // where it was queued, even if the config moved since
	rec, err := o.incident(ctx, it.Incident)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	switch it.Kind {
	case outboxHypothesis:
		mode, err := o.cfg.Mode(ctx, svc)
		if err != nil {
			return err
		}
		if mode == nova.ModeOff {
			return nil // disabled meanwhile: a demotion wins
		}
		return o.postHypothesisMessage(ctx, svc, &rec, mode)
	case outboxApproval:
		req, _, err := store.Load[nova.ApprovalRequest](ctx, o.cfg.Store, store.KindApproval, it.Approval)
		if nova.IsCode(err, nova.ENOTFOUND) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.SlackChannel == "" {
			rec.SlackChannel = ob.Channel // no incident message: post at the top level
		}
		return o.cfg.Approvals.PostMessage(ctx, svc, rec, req)
	case outboxPostmortem:
		if rec.SlackChannel == "" {
			rec.SlackChannel = ob.Channel
		}
		return o.cfg.Postmortems.PostMessage(ctx, svc, rec)
	case outboxRefresh:
		if rec.SlackTS == "" || rec.SlackSummarised {
			return nil // nothing of its own to update (summaries are refreshed by folding)
		}
		return o.updateMessage(ctx, svc, rec)
	}
	return nil
}

// foldable reports whether pending items can be folded into the storm:
// hypothesis messages, and refreshes of incidents the summary lists.
func (o *Outbox) foldable(ob slackOutbox) bool {
	for _, it := range ob.Pending {
		if it.Kind == outboxHypothesis || (it.Kind == outboxRefresh && ob.Storm != nil && slices.Contains(ob.Storm.Incidents, it.Incident)) {
			return true
		}
	}
	return false
}

// foldStorm moves waiting hypothesis messages into the storm summary
// (starting one if needed) and turns refreshes of listed incidents into one
// update of the summary.
func (o *Outbox) foldStorm(ctx context.Context, id string, ob slackOutbox) error {
	// An incident whose message was posted already (before the storm, or
	// queued again by a redelivery) keeps that message.
	posted := map[string]bool{}
	for _, it := range ob.Pending {
		if it.Kind != outboxHypothesis {
			continue
		}
		if rec, err := o.incident(ctx, it.Incident); err == nil && rec.SlackTS != "" {
			posted[it.Incident] = true
		} else if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
			return err
		}
	}
	now := o.cfg.Now()
	started := false
	_, err := store.Update(ctx, o.cfg.Store, store.KindMeta, id, func(ob *slackOutbox, _ bool) error {
		started = false
		fresh := slices.ContainsFunc(ob.Pending, func(it outboxItem) bool { return it.Kind == outboxHypothesis && !posted[it.Incident] })
		if ob.Storm == nil && fresh {
			ob.Storm = &slackStorm{ID: nova.NewID("storm", now), Started: now}
			started = true
		}
		if ob.Storm == nil { // only messages posted already: drop them
			ob.Pending = slices.DeleteFunc(ob.Pending, func(it outboxItem) bool { return it.Kind == outboxHypothesis && posted[it.Incident] })
			return nil
		}
		s := ob.Storm
		changed := false
		ob.Pending = slices.DeleteFunc(ob.Pending, func(it outboxItem) bool {
			switch {
			case it.Kind == outboxHypothesis && posted[it.Incident]:
				return true
			case it.Kind == outboxHypothesis:
				if !slices.Contains(s.Incidents, it.Incident) {
					s.Incidents = append(s.Incidents, it.Incident)
					s.Unlinked = append(s.Unlinked, it.Incident)
				}
				s.LastFold, changed = now, true
				return true
			case it.Kind == outboxRefresh && slices.Contains(s.Incidents, it.Incident):
				changed = true
				return true
			}
			return false
		})
		if changed {
			s.Version++
		}
		return nil
	})
	if err == nil && started {
		o.stormSummaries.Inc()
		o.cfg.Log.WithField("channel", ob.Channel).WithField("environment", ob.Environment).
			Warn("incident storm on one Slack channel: summarising its incidents in one message")
	}
	return err
}

// syncStorm posts the storm summary, or updates it to its latest version.
func (o *Outbox) syncStorm(ctx context.Context, id string, ob slackOutbox) error {
	s := ob.Storm
	chat, err := o.cfg.Chat(ob.Environment)
	if err != nil {
		return fmt.Errorf("storm summary for %s: %w", ob.Channel, err)
	}
	m := o.stormMessage(ctx, ob)
	ts := s.TS
	if ts == "" {
		key := store.StormPostKey(ob.Environment, ob.Channel, s.ID)
		var auditID string
		ts, auditID, err = o.cfg.Writer.Post(ctx, chat, writeback.SlackPost{
			Key: key, Channel: ob.Channel, Oldest: s.Started.Add(-time.Minute),
			Message:  func() nova.Message { return m },
			Metadata: map[string]string{"storm_id": s.ID},
		})
		err = o.cfg.Writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: ob.Environment,
			Action: "slack.post.storm_summary", Detail: "channel " + ob.Channel + " ts " + ts + " storm " + s.ID})
		if err != nil {
			return fmt.Errorf("post the storm summary of %s: %w", ob.Channel, err)
		}
	} else {
		if err := o.cfg.Writer.Update(ctx, chat, ob.Channel, ts, m); err != nil {
			return err
		}
	}
	_, err = store.Update(ctx, o.cfg.Store, store.KindMeta, id, func(cur *slackOutbox, _ bool) error {
		if cur.Storm == nil || cur.Storm.ID != s.ID {
			return store.ErrUnchanged
		}
		cur.Storm.TS = ts
		cur.Storm.Synced = max(cur.Storm.Synced, s.Version)
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	return err
}

// linkStorm points the records of newly listed incidents at the summary and
// audits each as posted, exactly once, under the key its own message would
// have used (so it is never posted on its own as well).
func (o *Outbox) linkStorm(ctx context.Context, id string, ob slackOutbox) error {
	s := ob.Storm
	var linked []string
	for _, incID := range s.Unlinked {
		if err := o.linkToStorm(ctx, ob, incID); err != nil {
			if len(linked) == 0 {
				return err
			}
			break
		}
		linked = append(linked, incID)
		if !hasTime(ctx, time.Second) {
			break
		}
	}
	_, err := store.Update(ctx, o.cfg.Store, store.KindMeta, id, func(cur *slackOutbox, _ bool) error {
		if cur.Storm == nil || cur.Storm.ID != s.ID {
			return store.ErrUnchanged
		}
		cur.Storm.Unlinked = slices.DeleteFunc(cur.Storm.Unlinked, func(i string) bool { return slices.Contains(linked, i) })
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	return err
}

func (o *Outbox) linkToStorm(ctx context.Context, ob slackOutbox, incID string) error {
	s := ob.Storm
	rec, err := o.incident(ctx, incID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	key := store.HypothesisPostKey(ob.Environment, incID)
	ts, auditID, _, err := o.cfg.Once.Do(ctx, key, store.OnceOp{
		Write: func(context.Context, string) (string, error) { return s.TS, nil },
	})
	if err != nil {
		return err
	}
	if ts != s.TS {
		return nil // it has a message of its own
	}
	err = o.cfg.Writer.Record(ctx, "slack_post", nil, nova.AuditEntry{ID: auditID, Environment: ob.Environment,
		Service: rec.ServiceID, Incident: incID, Action: "slack.post.hypothesis",
		Detail: "channel " + ob.Channel + " ts " + ts + " (listed in the storm summary " + s.ID + ")"})
	if err != nil {
		return err
	}
	updated, err := o.cfg.Writer.UpdateIncident(ctx, incID, func(r *nova.IncidentRecord, _ bool) error {
		r.SlackChannel, r.SlackTS, r.SlackSummarised = ob.Channel, ts, true
		return nil
	})
	if err != nil {
		return err
	}
	if svc, ok := o.cfg.Settings().Services[rec.ServiceID]; ok {
		return o.cfg.Writer.MarkVisible(ctx, svc, &updated)
	}
	return nil
}

// endStorm closes a settled, quiet storm: later incidents get their own
// messages again.
func (o *Outbox) endStorm(ctx context.Context, id, stormID string) error {
	_, err := store.Update(ctx, o.cfg.Store, store.KindMeta, id, func(cur *slackOutbox, _ bool) error {
		if cur.Storm == nil || cur.Storm.ID != stormID || !cur.Storm.settled() {
			return store.ErrUnchanged
		}
		cur.Storm = nil
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	return err
}

// outboxSweepLoop pokes outboxes whose oldest write has waited longer than
// a drain should take, so that nothing queued is stranded by a lost poke.
func (o *Outbox) outboxSweepLoop(ctx context.Context) {
	t := time.NewTicker(outboxSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		o.sweepOutboxes(ctx)
	}
}

func (o *Outbox) sweepOutboxes(ctx context.Context) {
	stale := o.cfg.Now().Add(-max(2*o.cfg.Visibility, outboxSweepEvery))
	after := store.OutboxPrefix
	for range 100 { // 10,000 channels at most
		items, err := o.cfg.Store.List(ctx, store.KindMeta, after, 100)
		if err != nil || len(items) == 0 {
			return
		}
		for _, it := range items {
			if !strings.HasPrefix(it.ID, store.OutboxPrefix) {
				return
			}
			after = it.ID
			var ob slackOutbox
			if json.Unmarshal(it.Value, &ob) != nil {
				continue
			}
			if (len(ob.Pending) > 0 && ob.Pending[0].At.Before(stale)) || (ob.Storm != nil && !ob.Storm.settled() && ob.Storm.LastFold.Before(stale)) {
				if err := o.pokeOutbox(ctx, ob.Environment, ob.Channel); err != nil {
					o.cfg.Log.WithError(err).WithField("channel", ob.Channel).Warn("could not poke a stranded Slack outbox")
				}
			}
		}
	}
}

// postHypothesisMessage posts the Slack message exactly once (both modes);
// the channel's outbox calls it (queueHypothesisMessage queues it).
func (o *Outbox) postHypothesisMessage(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error {
	if svc.SlackChannel == "" {
		if mode == nova.ModeReadOnly {
			return o.cfg.Writer.MarkVisible(ctx, svc, rec) // stored and served by the API
		}
		return nil
	}
	chat, err := o.cfg.Chat(svc.Environment)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	oldest := rec.ReceivedAt.Add(-time.Hour)
	key := store.HypothesisPostKey(svc.Environment, rec.ID)
	ts, auditID, err := o.cfg.Writer.Post(ctx, chat, writeback.SlackPost{
		Key: key, Channel: svc.SlackChannel, Oldest: oldest,
		Message:  func() nova.Message { return render.HypothesisMessage(svc, *rec, mode) },
		Metadata: map[string]string{"incident_id": rec.ID},
	})
	err = o.cfg.Writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: rec.ID, Action: "slack.post.hypothesis", Detail: "channel " + svc.SlackChannel + " ts " + ts})
	if err != nil {
		return err
	}
	updated, err := o.cfg.Writer.UpdateIncident(ctx, rec.ID, func(r *nova.IncidentRecord, _ bool) error {
		r.SlackChannel, r.SlackTS = svc.SlackChannel, ts
		return nil
	})
	if err != nil {
		return err
	}
	*rec = updated
	return o.cfg.Writer.MarkVisible(ctx, svc, rec)
}

// refreshMessage queues an update of the hypothesis message (status, acks,
// feedback) in the channel's outbox, so that no event waits for Slack.
// Updates are not audited acts of their own: they only restate.
func (o *Outbox) refreshMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	if rec.SlackTS == "" || rec.SlackChannel == "" {
		return nil
	}
	return o.queueSlack(ctx, svc.Environment, rec.SlackChannel, outboxItem{Kind: outboxRefresh, Incident: rec.ID, Service: svc.ID})
}

// updateMessage updates the hypothesis message in place (the outbox's refresh).
func (o *Outbox) updateMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord) error {
	chat, err := o.cfg.Chat(svc.Environment)
	if err != nil {
		return nil
	}
	mode := rec.Mode
	if m, err := o.cfg.Mode(ctx, svc); err == nil {
		mode = m
	}
	return o.cfg.Writer.Update(ctx, chat, rec.SlackChannel, rec.SlackTS, render.HypothesisMessage(svc, rec, mode))
}
