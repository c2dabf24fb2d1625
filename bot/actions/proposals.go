package actions

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"text/template"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
)

// proposeActions turns the top hypothesis's catalog suggestions into action
// requests: destructive ones wait for approval in Slack, non-destructive
// ones get an Apply button, or run at once where the catalog says auto_run.
// Nothing outside the catalog is ever proposed.
func (f *Flow) proposeActions(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, log logrus.FieldLogger) error {
	set := f.cfg.Settings()
	top := rec.Triage.Top()
	if top == nil || rec.Triage.Abstained || !set.Tier.Allows(nova.FeatureActions) {
		return nil
	}
	env := set.Environments[svc.Environment]
	for _, sg := range top.Suggestions {
		act, ok := set.Action(sg.Action)
		if sg.Action == "" || !ok || !act.AppliesTo(svc.ID) {
			continue
		}
		req, err := f.propose(ctx, svc, rec, act, *top, env.Approvals)
		if err != nil {
			if nova.IsCode(err, nova.EINVALID) {
				log.WithError(err).WithField("action", act.Name).Warn("action not proposed: the approval policy is unusable")
				continue
			}
			return fmt.Errorf("propose %s: %w", act.Name, err)
		}
		if err := f.cfg.QueueMessage(ctx, svc, rec, req); err != nil {
			return fmt.Errorf("queue the message of request %s: %w", req.ID, err)
		}
		if !act.Destructive && act.AutoRun && req.State == nova.ApprovalPending {
			f.goBackground(ctx, func(ctx context.Context) { f.autoRun(ctx, req.ID, act) })
		}
	}
	return nil
}

// propose creates the request for one action on one incident, once.
func (f *Flow) propose(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, act nova.Action, h nova.Hypothesis, pol approvals.Policy) (nova.ApprovalRequest, error) {
	key := store.ProposalKey(rec.ID, act.Name)
	id, _, created, err := f.cfg.Once.Do(ctx, key, store.OnceOp{Write: func(ctx context.Context, _ string) (string, error) {
		now := f.cfg.Now()
		params, err := renderParams(act.Params, svc, rec)
		if err != nil {
			return "", err
		}
		id := nova.NewID("apr", now)
		req, err := approvals.Propose(approvals.Proposal{
			ID: id, Environment: svc.Environment, ServiceID: svc.ID, IncidentID: rec.ID, Action: act,
			Params: params, Reason: fmt.Sprintf("%s (%s, confidence %s)", h.Summary, h.Category, render.Percent(h.Confidence)),
			Evidence: h.Evidence[:min(5, len(h.Evidence))], IdempotencyKey: "nova-" + id,
		}, pol, now)
		if err != nil {
			return "", err
		}
		if _, err := store.Save(ctx, f.cfg.Store, store.KindApproval, id, req, 0); err != nil {
			return "", err
		}
		return id, f.trackOpen(ctx, id, true)
	}})
	if err != nil {
		return nova.ApprovalRequest{}, err
	}
	req, _, err := store.Load[nova.ApprovalRequest](ctx, f.cfg.Store, store.KindApproval, id)
	if err != nil {
		return req, err
	}
	if created {
		f.approvals.WithLabelValues("proposed").Inc()
		verb := "action.proposed"
		if req.Destructive {
			verb = "approval.requested"
		}
		if err := f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: svc.Environment, Service: svc.ID, Incident: rec.ID,
			Action: verb, Outcome: nova.OutcomeOK, Detail: req.ID + " " + act.Name}); err != nil {
			return req, err
		}
	}
	return req, nil
}

// renderParams fills the catalog's parameter templates from the incident.
func renderParams(params map[string]string, svc nova.Service, rec nova.IncidentRecord) (map[string]string, error) {
	data := map[string]any{
		"Service": svc.Name, "ServiceID": svc.ID, "Environment": svc.Environment,
		"Incident": rec.ID, "IncidentNumber": rec.Number, "IncidentURL": rec.HTMLURL, "Title": rec.Title,
	}
	out := map[string]string{}
	for k, v := range params {
		t, err := template.New(k).Option("missingkey=error").Parse(v)
		if err != nil {
			return nil, nova.Errorf(nova.EINVALID, "action parameter %s is not a valid template: %v", k, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return nil, nova.Errorf(nova.EINVALID, "action parameter %s: %v", k, err)
		}
		out[k] = b.String()
	}
	return out, nil
}

// trackOpen adds or removes a request from the list the sweeper watches.
func (f *Flow) trackOpen(ctx context.Context, id string, open bool) error {
	_, err := store.Update(ctx, f.cfg.Store, store.KindMeta, store.OpenApprovalsID, func(ids *[]string, _ bool) error {
		has := slices.Contains(*ids, id)
		switch {
		case open && !has:
			*ids = append(*ids, id)
		case !open && has:
			*ids = slices.DeleteFunc(*ids, func(s string) bool { return s == id })
		default:
			return store.ErrUnchanged
		}
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update the list of open requests: %w", err)
	}
	return nil
}

// postApprovalMessage posts the request in the incident's Slack thread, once.
func (f *Flow) postApprovalMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) error {
	if rec.SlackChannel == "" {
		return nil
	}
	chat, err := f.cfg.Chat(svc.Environment)
	if err != nil {
		return nil
	}
	key := store.ApprovalPostKey(svc.Environment, req.ID)
	ts, auditID, err := f.cfg.Writer.Post(ctx, chat, writeback.SlackPost{
		Key: key, Channel: rec.SlackChannel, Thread: rec.SlackTS, Oldest: req.CreatedAt.Add(-time.Minute),
		Message:  func() nova.Message { return render.ApprovalMessage(svc, rec, req, f.cfg.Settings().PublicURL) },
		Metadata: map[string]string{"approval_id": req.ID},
	})
	if err := f.cfg.Writer.Record(ctx, "slack_post", err, nova.AuditEntry{ID: auditID, Environment: svc.Environment,
		Service: svc.ID, Incident: rec.ID, Action: "slack.post.approval_request", Detail: req.ID}); err != nil {
		return fmt.Errorf("post the message of request %s: %w", req.ID, err)
	}
	_, err = f.updateRequest(ctx, req.ID, func(r *nova.ApprovalRequest) (bool, error) {
		if r.SlackTS == ts {
			return false, nil
		}
		r.SlackChannel, r.SlackTS = rec.SlackChannel, ts
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("record the message of request %s: %w", req.ID, err)
	}
	return nil
}

// advance applies one pure approvals transition to the stored request with
// compare-and-set. The result is stored whenever the request changed (its
// state, decisions, approvers, quorum or expiry), even when step also
// returns an error: the approvals package returns expired and cancelled
// requests that way, and a click refused under a tightened policy still
// stores the tightened request.
func (f *Flow) advance(ctx context.Context, id string, step func(nova.ApprovalRequest) (nova.ApprovalRequest, error)) (nova.ApprovalRequest, error) {
	return f.updateRequest(ctx, id, func(r *nova.ApprovalRequest) (bool, error) {
		next, err := step(*r)
		changed := requestChanged(*r, next)
		*r = next
		return changed, err
	})
}

// finalRequestTTL is how long a finished request is kept.
const finalRequestTTL = 30 * 24 * time.Hour

// errGone answers a click on a request that is no longer stored.
var errGone = nova.Errorf(nova.ENOTFOUND, "this approval request no longer exists (it may have expired long ago)")

// updateRequest changes a stored request with compare-and-set; fn reports
// whether it changed anything. Final requests expire from the store after
// 30 days and leave the sweeper's list.
func (f *Flow) updateRequest(ctx context.Context, id string, fn func(r *nova.ApprovalRequest) (bool, error)) (nova.ApprovalRequest, error) {
	var ferr error
	req, err := store.UpdateExpiring(ctx, f.cfg.Store, store.KindApproval, id, func(r *nova.ApprovalRequest, exists bool) (time.Duration, error) {
		if !exists {
			return 0, errGone
		}
		var changed bool
		changed, ferr = fn(r)
		if !changed {
			return 0, store.ErrUnchanged
		}
		if r.State.Final() {
			return finalRequestTTL, nil
		}
		return 0, nil
	})
	switch {
	case errors.Is(err, store.ErrUnchanged):
		return req, ferr
	case err != nil:
		return req, err
	}
	if req.State.Final() {
		_ = f.trackOpen(ctx, id, false)
	}
	return req, ferr
}
