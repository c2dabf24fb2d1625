package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/review"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/triage"
)

// ChangeMode moves a service along the ladder off → read-only → action.
// Promotion to action needs an admin, a finished watching period in
// read-only and earned feedback (settings.Promotion: enough answered
// hypotheses, precise enough), or --force, audited as an override;
// demotion is immediate.
func (r *Rollout) ChangeMode(ctx context.Context, req nova.CommandRequest, name string, to nova.Mode, force, enable bool) (nova.Reply, error) {
	set := r.settings()
	svc, ok := set.ServiceByName(name)
	if !ok {
		return nova.Reply{}, nova.Errorf(nova.ENOTFOUND, "unknown service %q. Services are declared in Nova's config file; `/nova status` lists them.", render.Truncate(name, 64))
	}
	if len(req.Environments) > 0 && !slices.Contains(req.Environments, svc.Environment) {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "this Slack app is not connected to environment %s, where %s lives", svc.Environment, svc.Name)
	}
	admin, err := r.IsAdmin(ctx, svc.Environment, req.UserID)
	if err != nil {
		return nova.Reply{}, err
	}
	if !admin {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "only Nova admins of %s can change modes; ask one of them (see `slack.admins` in the config)", svc.Environment)
	}
	now := r.cfg.Now()
	var from nova.Mode
	var feedback string
	var overridden []string // what --force skipped
	st, err := store.Update(ctx, r.cfg.Store, store.KindService, svc.ID, func(st *nova.ServiceState, exists bool) error {
		if !exists {
			*st = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode, Since: now, ChangedBy: "config"}
		}
		from, overridden = st.Mode, nil
		if st.Mode == to || (enable && st.Mode != nova.ModeOff) {
			return store.ErrUnchanged
		}
		if to == nova.ModeAction {
			if st.Mode != nova.ModeReadOnly {
				return nova.Errorf(nova.ECONFLICT, "%s is %s: enable it in read-only mode first and let Nova be watched for %d days", svc.Name, st.Mode, svc.WatchDays)
			}
			watched := now.Sub(st.ReadOnlySince)
			need := time.Duration(svc.WatchDays) * 24 * time.Hour
			feedback = feedbackSummary(*st)
			earned, why := set.Promotion.Earned(st.Helpful, st.Wrong)
			var missing []string
			if watched < need {
				missing = append(missing, fmt.Sprintf("it has been read-only for %s of its %d-day watching period (%s left)", days(watched), svc.WatchDays, days(need-watched)))
			}
			if !earned {
				missing = append(missing, "its hypotheses have not earned it: "+why)
			}
			if len(missing) > 0 && !force {
				return nova.Errorf(nova.ECONFLICT, "%s cannot be promoted yet: %s. %s. Promotion needs the watching period and at least %d answered hypotheses with precision of at least %s (`promotion` in the config); an admin may override with `--force` (audited).",
					svc.Name, strings.Join(missing, "; and "), feedback, set.Promotion.MinFeedback, review.Percent(set.Promotion.MinPrecision))
			}
			if watched < need {
				overridden = append(overridden, fmt.Sprintf("watching period (%s of %d days)", days(watched), svc.WatchDays))
			}
			if !earned {
				overridden = append(overridden, "feedback bar ("+why+")")
			}
		}
		st.Mode, st.Since, st.ChangedBy = to, now, nova.SlackActor(req.UserID)
		if to == nova.ModeReadOnly {
			st.ReadOnlySince = now // a new watching period begins
		}
		return nil
	})
	if errors.Is(err, store.ErrUnchanged) {
		return nova.Reply{Message: render.Text("%s is already in %s mode.", svc.Name, from)}, nil
	}
	if err != nil {
		return nova.Reply{}, err
	}
	r.modes.Forget(svc.ID)
	detail := fmt.Sprintf("%s: %s → %s", svc.Name, from, to)
	action := "mode.change"
	if len(overridden) > 0 {
		// An override is its own kind of act: the review lists every one.
		action = "mode.override"
		detail += " (--force override of the " + strings.Join(overridden, " and the ") + ")"
	}
	if err := r.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: svc.Environment, Service: svc.ID, Actor: nova.SlackActor(req.UserID),
		Action: action, Outcome: nova.OutcomeOK, Detail: detail}); err != nil {
		return nova.Reply{}, err
	}
	if to.Rank() < from.Rank() && r.cfg.CancelRequests != nil {
		_ = r.cfg.CancelRequests(ctx, svc.ID, fmt.Sprintf("%s was set to %s mode", svc.Name, to))
	}
	msg := fmt.Sprintf("<@%s> set *%s* to *%s* mode (was %s).", req.UserID, svc.Name, st.Mode, from)
	switch to {
	case nova.ModeReadOnly:
		msg += fmt.Sprintf(" Nova will post shadow hypotheses here and write nothing to PagerDuty; promotion is possible after %d days.", svc.WatchDays)
		if enable {
			msg += fmt.Sprintf(" To see at once what Nova would have said on its past incidents, run `/nova backtest %s` (or `nova backtest --service %s`).", svc.ID, svc.ID)
		}
	case nova.ModeAction:
		msg += " Nova will now write its hypotheses to the PagerDuty timeline. " + feedback + "."
		if len(overridden) > 0 {
			msg += " --force override (audited): " + strings.Join(overridden, " and ") + " skipped."
		}
	case nova.ModeOff:
		msg += " Nova will ignore its incidents."
	}
	return nova.Reply{Message: render.Text("%s", nova.Mrkdwn(msg)), InChannel: true}, nil
}

// feedbackSummary shows the verdicts that calibrate the service's
// confidence (one per incident: a person's latest, else the resolution's;
// and backtest marks), where they come from, and the shift they cause.
// When the promotion rule's count (every person's button, and backtest
// marks) differs, it follows.
func feedbackSummary(st nova.ServiceState) string {
	helpful, wrong, byResolution := st.Verdicts()
	total := helpful + wrong
	var s string
	if total == 0 {
		s = "No feedback on its hypotheses yet"
	} else {
		s = fmt.Sprintf("Feedback so far: %d helpful, %d wrong", helpful, wrong)
		if byResolution > 0 {
			s += fmt.Sprintf(" (%d judged by how the incident was resolved, %d by responders)", byResolution, total-byResolution)
		}
		s += fmt.Sprintf(", %.0f%% helpful", 100*float64(helpful)/float64(total))
		if _, why := triage.FeedbackShift(triage.Feedback{Helpful: int(helpful), Wrong: int(wrong)}); why != "" {
			s += ". " + why
		}
	}
	if st.Helpful != helpful || st.Wrong != wrong {
		s += fmt.Sprintf(". Promotion counts responders' Helpful / Wrong buttons and backtest marks: %d helpful, %d wrong", st.Helpful, st.Wrong)
	}
	return s
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

// SetPaused stops or restarts every PagerDuty write and action run, for all
// services, on every replica (the switch is read from the store each time).
// It reaches every environment, so it needs a global admin: listed in
// global_admins, or an admin of every environment.
func (r *Rollout) SetPaused(ctx context.Context, req nova.CommandRequest, pause bool) (nova.Reply, error) {
	verb := map[bool]string{true: "pause", false: "resume"}[pause]
	admin, missing, err := r.globalAdmin(ctx, CallerOf(req))
	if err != nil {
		return nova.Reply{}, err
	}
	if !admin {
		why := "only Nova admins can " + verb + " Nova"
		if len(missing) < len(r.settings().Environments) {
			why += ", and it reaches every environment: you are not an admin of " + strings.Join(missing, ", ")
		}
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "%s. It needs an admin of every environment or a global admin (`global_admins` in the config).", why)
	}
	p := Pause{Paused: pause, By: req.UserID, At: r.cfg.Now()}
	if _, err := store.Save(ctx, r.cfg.Store, store.KindMeta, store.PauseID, p, store.AnyVersion); err != nil {
		return nova.Reply{}, fmt.Errorf("store the pause switch: %w", err)
	}
	if err := r.cfg.Audit.Append(ctx, nova.AuditEntry{Actor: nova.SlackActor(req.UserID), Action: "nova." + verb, Outcome: nova.OutcomeOK}); err != nil {
		return nova.Reply{}, err
	}
	if pause {
		return nova.Reply{Message: render.Text(":double_vertical_bar: <@%s> paused Nova: no PagerDuty writes and no actions, for every service, until `/nova resume`. Hypotheses still appear in Slack.", req.UserID), InChannel: true}, nil
	}
	return nova.Reply{Message: render.Text(":arrow_forward: <@%s> resumed Nova.", req.UserID), InChannel: true}, nil
}

// Status reports on one service, or lists those the caller sees: of the
// environments they administer and of the channel they ask in.
func (r *Rollout) Status(ctx context.Context, c Caller, args []string) (nova.Reply, error) {
	set := r.settings()
	p, err := r.PauseState(ctx)
	if err != nil {
		return nova.Reply{}, err
	}
	var b strings.Builder
	if p.Paused {
		fmt.Fprintf(&b, ":double_vertical_bar: *Nova is paused* (by <@%s>, %s): no PagerDuty writes or actions.\n", p.By, p.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if len(args) == 0 {
		var svcs []nova.Service
		for _, s := range set.Services {
			ok, err := r.Sees(ctx, c, s)
			if err != nil {
				return nova.Reply{}, err
			}
			if ok {
				svcs = append(svcs, s)
			}
		}
		if len(svcs) == 0 {
			b.WriteString("No services to show here: `/nova status` lists the services of this channel and of the environments you administer.")
			return nova.Reply{Message: render.Text("%s", b.String())}, nil
		}
		sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
		fmt.Fprintf(&b, "*Services* (tier %s)\n", set.Tier)
		for _, s := range svcs {
			st, err := r.State(ctx, s)
			if err != nil {
				return nova.Reply{}, err
			}
			fmt.Fprintf(&b, "• *%s* (%s, %s): %s, %d incidents seen\n", s.Name, s.ID, s.Environment, st.Mode, st.IncidentsSeen)
		}
		return nova.Reply{Message: render.Text("%s", nova.Mrkdwn(strings.TrimRight(b.String(), "\n")))}, nil
	}
	svc, ok := set.ServiceByName(args[0])
	if ok {
		var err error
		if ok, err = r.Sees(ctx, c, svc); err != nil {
			return nova.Reply{}, err
		}
	}
	if !ok { // another environment's service is as unknown as a typo
		return nova.Reply{}, nova.Errorf(nova.ENOTFOUND, "unknown service %q. `/nova status` lists the services you can see here.", render.Truncate(args[0], 64))
	}
	st, err := r.State(ctx, svc)
	if err != nil {
		return nova.Reply{}, err
	}
	now := r.cfg.Now()
	fmt.Fprintf(&b, "*%s* (%s) · environment %s\n", svc.Name, svc.ID, svc.Environment)
	fmt.Fprintf(&b, "Mode: *%s*", st.Mode)
	if !st.Since.IsZero() {
		fmt.Fprintf(&b, " since %s (%s)", st.Since.UTC().Format("2006-01-02 15:04 UTC"), days(now.Sub(st.Since)))
	}
	if st.Mode == nova.ModeReadOnly {
		left := time.Duration(svc.WatchDays)*24*time.Hour - now.Sub(st.ReadOnlySince)
		if left > 0 {
			fmt.Fprintf(&b, "; promotion possible in %s", days(left))
		} else {
			b.WriteString("; watching period done, ready for promotion")
		}
	}
	fmt.Fprintf(&b, "\nIncidents seen: %d · hypotheses: %d", st.IncidentsSeen, st.Hypotheses)
	if st.Hypotheses > 0 {
		fmt.Fprintf(&b, " · mean time to hypothesis: %.1f s", st.HypothesisSeconds/float64(st.Hypotheses))
	}
	fmt.Fprintf(&b, "\n%s", feedbackSummary(st))
	if s := outcomeSummary(st); s != "" {
		b.WriteString("\n" + s)
	}
	if st.NovaAcks+st.PersonAcks > 0 {
		fmt.Fprintf(&b, "\nFirst acks: Nova %d%s, people %d%s", st.NovaAcks, meanSecs(st.NovaAckSeconds, st.NovaAcks), st.PersonAcks, meanSecs(st.PersonAckSeconds, st.PersonAcks))
		if s := ackSaving(st); s != "" {
			b.WriteString("\n" + s)
		}
	}
	return nova.Reply{Message: render.Text("%s", nova.Mrkdwn(b.String()))}, nil
}

// outcomeSummary shows what people answered on the postmortem drafts:
// hypothesis precision (right / answered) and how often Nova abstained.
func outcomeSummary(st nova.ServiceState) string {
	var parts []string
	if p, ok := st.HypothesisPrecision(); ok {
		parts = append(parts, fmt.Sprintf("Hypothesis right per postmortem answers: %.0f%% (%d right, %d partly, %d wrong)",
			100*p, st.AnswersRight, st.AnswersPartly, st.AnswersWrong))
	}
	if r, ok := st.AbstentionRate(); ok {
		parts = append(parts, fmt.Sprintf("abstained on %.0f%% of %d resolved incidents", 100*r, st.Resolved))
	}
	return strings.Join(parts, " · ")
}

// ackSaving says how much Nova's acks shortened time-to-acknowledge: the
// difference between people's and Nova's mean first-ack times, and Nova's
// share of first acks.
func ackSaving(st nova.ServiceState) string {
	if st.NovaAcks == 0 || st.PersonAcks == 0 {
		return ""
	}
	novaMean := st.NovaAckSeconds / float64(st.NovaAcks)
	peopleMean := st.PersonAckSeconds / float64(st.PersonAcks)
	share := 100 * float64(st.NovaAcks) / float64(st.NovaAcks+st.PersonAcks)
	return fmt.Sprintf("Nova made %.0f%% of first acks; its acks came %s sooner than people's on average",
		share, (time.Duration((peopleMean - novaMean) * float64(time.Second))).Round(time.Second))
}

func meanSecs(sum float64, n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (mean %s)", (time.Duration(sum/float64(n)) * time.Second).Round(time.Second))
}
