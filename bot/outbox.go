package bot

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/inbox"
	"github.com/novasre/nova/bot/writeback"
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
	// eventSlackOutbox is the inbox event type of a poke; its ID is the
	// outbox record's id.
	eventSlackOutbox nova.EventType = "nova.slack_outbox"

	outboxHypothesis = "hypothesis"
	outboxApproval   = "approval"
	outboxRefresh    = "refresh"

	// slackStormThreshold is how many hypothesis messages may wait for one
	// channel before they are summarised instead of posted one by one.
	slackStormThreshold = 5
	// slackStormQuiet ends a storm summary: a channel this long without new
	// incidents gets one message per incident again.
	slackStormQuiet = 5 * time.Minute
	// slackStormListMax bounds the incidents a summary lists by name.
	slackStormListMax = 200
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
func (a *App) queueSlack(ctx context.Context, env, channel string, it outboxItem) error {
	it.At = a.now()
	_, err := store.Update(ctx, a.store, store.KindMeta, store.OutboxID(env, channel), func(ob *slackOutbox, _ bool) error {
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
		return err
	}
	return a.pokeOutbox(ctx, env, channel)
}

// pokeOutbox enqueues a drain of a channel's outbox. Pokes are not
// deduplicated: one more than needed finds an empty outbox and costs a read.
func (a *App) pokeOutbox(ctx context.Context, env, channel string) error {
	id := store.OutboxID(env, channel)
	return a.inbox.Enqueue(ctx, nova.Event{ID: id, Type: eventSlackOutbox, Environment: env}, id)
}

// queueHypothesisMessage queues the incident's Slack message (both modes).
func (a *App) queueHypothesisMessage(ctx context.Context, svc nova.Service, rec *nova.IncidentRecord, mode nova.Mode) error {
	if svc.SlackChannel == "" {
		if mode == nova.ModeReadOnly {
			return a.writer.MarkVisible(ctx, svc, rec) // stored and served by the API
		}
		return nil
	}
	if _, err := a.cfg.Envs.Chat(svc.Environment); nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	} else if err != nil {
		return err
	}
	if rec.SlackTS != "" {
		return nil // posted already (this is a redelivery)
	}
	return a.queueSlack(ctx, svc.Environment, svc.SlackChannel, outboxItem{Kind: outboxHypothesis, Incident: rec.ID, Service: svc.ID})
}

// queueApprovalMessage queues an action request's Slack message; it is
// posted in the thread of the incident's message once that exists.
func (a *App) queueApprovalMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
	channel := rec.SlackChannel
	if channel == "" {
		channel = svc.SlackChannel
	}
	if channel == "" {
		return nil
	}
	if _, err := a.cfg.Envs.Chat(svc.Environment); err != nil {
		return nil
	}
	return a.queueSlack(ctx, svc.Environment, channel, outboxItem{Kind: outboxApproval, Incident: rec.ID, Service: svc.ID, Approval: req.ID})
}

// drainOutbox posts what waits in one channel's outbox, one Slack call at
// a time, within the claimed poke's deadline; what remains is handed to a
// fresh poke.
func (a *App) drainOutbox(ctx context.Context, id string, log logrus.FieldLogger) error {
	for step := 0; ; step++ {
		ob, _, err := store.Load[slackOutbox](ctx, a.store, store.KindMeta, id)
		if nova.IsCode(err, nova.ENOTFOUND) {
			return nil
		}
		if err != nil {
			return err
		}
		if step > 0 && (step >= outboxStepsPerClaim || !hasTime(ctx, outboxStepTime)) {
			return a.pokeOutbox(ctx, ob.Environment, ob.Channel)
		}
		done, err := a.outboxStep(ctx, id, ob, log)
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
func (a *App) outboxStep(ctx context.Context, id string, ob slackOutbox, log logrus.FieldLogger) (bool, error) {
	now := a.now()
	waiting := 0
	for _, it := range ob.Pending {
		if it.Kind == outboxHypothesis {
			waiting++
		}
	}
	if s := ob.Storm; s != nil && s.settled() && now.Sub(s.LastFold) >= slackStormQuiet && waiting <= slackStormThreshold {
		return false, a.endStorm(ctx, id, s.ID)
	}
	if ob.Storm != nil || waiting > slackStormThreshold {
		if a.foldable(ob) {
			return false, a.foldStorm(ctx, id, ob)
		}
		if s := ob.Storm; s.TS == "" || s.Synced < s.Version {
			return false, a.syncStorm(ctx, id, ob)
		}
		if len(ob.Storm.Unlinked) > 0 {
			return false, a.linkStorm(ctx, id, ob)
		}
	}
	if len(ob.Pending) == 0 {
		return true, nil
	}
	it := ob.Pending[0]
	if err := a.sendOutboxItem(ctx, ob, it); err != nil {
		if inbox.Retryable(err) || ctx.Err() != nil {
			return false, err
		}
		// Refused for good (the channel is gone, the message invalid): the
		// failure is audited by the write; drop it so the channel moves on.
		log.WithError(err).WithField("incident_id", it.Incident).WithField("kind", it.Kind).Warn("Slack write refused; dropped from the outbox")
	}
	return false, a.removeItem(ctx, id, it)
}

func (a *App) removeItem(ctx context.Context, id string, it outboxItem) error {
	_, err := store.Update(ctx, a.store, store.KindMeta, id, func(ob *slackOutbox, _ bool) error {
		ob.Pending = slices.DeleteFunc(ob.Pending, it.same)
		return nil
	})
	return err
}

// sendOutboxItem performs one queued write with its channel's lane.
func (a *App) sendOutboxItem(ctx context.Context, ob slackOutbox, it outboxItem) error {
	svc, ok := a.settings().Services[it.Service]
	if !ok {
		return nil // no longer declared
	}
	svc.SlackChannel = ob.Channel // where it was queued, even if the config moved since
	rec, err := a.Incident(ctx, it.Incident)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	switch it.Kind {
	case outboxHypothesis:
		mode, err := a.rollout.Mode(ctx, svc)
		if err != nil {
			return err
		}
		if mode == nova.ModeOff {
			return nil // disabled meanwhile: a demotion wins
		}
		return a.postHypothesisMessage(ctx, svc, &rec, mode)
	case outboxApproval:
		req, _, err := store.Load[nova.ApprovalRequest](ctx, a.store, store.KindApproval, it.Approval)
		if nova.IsCode(err, nova.ENOTFOUND) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.SlackChannel == "" {
			rec.SlackChannel = ob.Channel // no incident message: post at the top level
		}
		return a.actions.PostMessage(ctx, svc, rec, req)
	case outboxRefresh:
		if rec.SlackTS == "" || rec.SlackSummarised {
			return nil // nothing of its own to update (summaries are refreshed by folding)
		}
		return a.updateMessage(ctx, svc, rec)
	}
	return nil
}

// foldable reports whether pending items can be folded into the storm:
// hypothesis messages, and refreshes of incidents the summary lists.
func (a *App) foldable(ob slackOutbox) bool {
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
func (a *App) foldStorm(ctx context.Context, id string, ob slackOutbox) error {
	// An incident whose message was posted already (before the storm, or
	// queued again by a redelivery) keeps that message.
	posted := map[string]bool{}
	for _, it := range ob.Pending {
		if it.Kind != outboxHypothesis {
			continue
		}
		if rec, err := a.Incident(ctx, it.Incident); err == nil && rec.SlackTS != "" {
			posted[it.Incident] = true
		} else if err != nil && !nova.IsCode(err, nova.ENOTFOUND) {
			return err
		}
	}
	now := a.now()
	started := false
	_, err := store.Update(ctx, a.store, store.KindMeta, id, func(ob *slackOutbox, _ bool) error {
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
		a.metrics.stormSummaries.Inc()
		a.log.WithField("channel", ob.Channel).WithField("environment", ob.Environment).
			Warn("incident storm on one Slack channel: summarising its incidents in one message")
	}
	return err
}

// syncStorm posts the storm summary, or updates it to its latest version.
func (a *App) syncStorm(ctx context.Context, id string, ob slackOutbox) error {
	s := ob.Storm
	chat, err := a.cfg.Envs.Chat(ob.Environment)
	if err != nil {
		return err
	}
	m := a.stormMessage(ctx, ob)
	ts := s.TS
	if ts == "" {
		key := store.StormPostKey(ob.Environment, ob.Channel, s.ID)
		var auditID string
		ts, auditID, err = a.writer.Post(ctx, chat, writeback.SlackPost{
			Key: key, Channel: ob.Channel, Oldest: s.Started.Add(-time.Minute),
			Message:  func() nova.Message { return m },
			Metadata: map[string]string{"storm_id": s.ID},
		})
		err = a.writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: ob.Environment,
			Action: "slack.post.storm_summary", Detail: "channel " + ob.Channel + " ts " + ts + " storm " + s.ID})
		if err != nil {
			return err
		}
	} else {
		if err := a.writer.Update(ctx, chat, ob.Channel, ts, m); err != nil {
			return err
		}
	}
	_, err = store.Update(ctx, a.store, store.KindMeta, id, func(cur *slackOutbox, _ bool) error {
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
func (a *App) linkStorm(ctx context.Context, id string, ob slackOutbox) error {
	s := ob.Storm
	var linked []string
	for _, incID := range s.Unlinked {
		if err := a.linkToStorm(ctx, ob, incID); err != nil {
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
	_, err := store.Update(ctx, a.store, store.KindMeta, id, func(cur *slackOutbox, _ bool) error {
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

func (a *App) linkToStorm(ctx context.Context, ob slackOutbox, incID string) error {
	s := ob.Storm
	rec, err := a.Incident(ctx, incID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	key := store.HypothesisPostKey(ob.Environment, incID)
	ts, auditID, _, err := a.once.Do(ctx, key, store.OnceOp{
		Write: func(context.Context, string) (string, error) { return s.TS, nil },
	})
	if err != nil {
		return err
	}
	if ts != s.TS {
		return nil // it has a message of its own
	}
	err = a.writer.Record(ctx, "slack_post", nil, nova.AuditEntry{ID: auditID, Environment: ob.Environment,
		Service: rec.ServiceID, Incident: incID, Action: "slack.post.hypothesis",
		Detail: "channel " + ob.Channel + " ts " + ts + " (listed in the storm summary " + s.ID + ")"})
	if err != nil {
		return err
	}
	updated, err := a.writer.UpdateIncident(ctx, incID, func(r *nova.IncidentRecord, _ bool) error {
		r.SlackChannel, r.SlackTS, r.SlackSummarised = ob.Channel, ts, true
		return nil
	})
	if err != nil {
		return err
	}
	if svc, ok := a.settings().Services[rec.ServiceID]; ok {
		return a.writer.MarkVisible(ctx, svc, &updated)
	}
	return nil
}

// endStorm closes a settled, quiet storm: later incidents get their own
// messages again.
func (a *App) endStorm(ctx context.Context, id, stormID string) error {
	_, err := store.Update(ctx, a.store, store.KindMeta, id, func(cur *slackOutbox, _ bool) error {
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
func (a *App) outboxSweepLoop(ctx context.Context) {
	t := time.NewTicker(outboxSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.sweepOutboxes(ctx)
	}
}

func (a *App) sweepOutboxes(ctx context.Context) {
	stale := a.now().Add(-max(2*a.cfg.Visibility, outboxSweepEvery))
	after := store.OutboxPrefix
	for range 100 { // 10,000 channels at most
		items, err := a.store.List(ctx, store.KindMeta, after, 100)
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
				if err := a.pokeOutbox(ctx, ob.Environment, ob.Channel); err != nil {
					a.log.WithError(err).WithField("channel", ob.Channel).Warn("could not poke a stranded Slack outbox")
				}
			}
		}
	}
}
