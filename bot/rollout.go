package bot

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
	"github.com/novasre/nova/triage"
)

// changeMode moves a service along the ladder off → read-only → action.
// Promotion to action needs an admin and a finished watching period in
// read-only (or --force, audited); demotion is immediate.
func (a *App) changeMode(ctx context.Context, req nova.CommandRequest, name string, to nova.Mode, force, enable bool) (nova.Reply, error) {
	set := a.settings()
	svc, ok := set.ServiceByName(name)
	if !ok {
		return nova.Reply{}, nova.Errorf(nova.ENOTFOUND, "unknown service %q. Services are declared in Nova's config file; `/nova status` lists them.", truncate(name, 64))
	}
	if len(req.Environments) > 0 && !slices.Contains(req.Environments, svc.Environment) {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "this Slack app is not connected to environment %s, where %s lives", svc.Environment, svc.Name)
	}
	admin, err := a.isAdmin(ctx, svc.Environment, req.UserID)
	if err != nil {
		return nova.Reply{}, err
	}
	if !admin {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "only Nova admins of %s can change modes; ask one of them (see `slack.admins` in the config)", svc.Environment)
	}
	now := a.now()
	var from nova.Mode
	var feedback string
	st, err := store.Update(ctx, a.store, store.KindService, svc.ID, func(st *nova.ServiceState, exists bool) error {
		if !exists {
			*st = nova.ServiceState{ServiceID: svc.ID, Mode: svc.DeclaredMode, Since: now, ChangedBy: "config"}
		}
		from = st.Mode
		if st.Mode == to || (enable && st.Mode != nova.ModeOff) {
			return errUnchanged
		}
		if to == nova.ModeAction {
			if st.Mode != nova.ModeReadOnly {
				return nova.Errorf(nova.ECONFLICT, "%s is %s: enable it in read-only mode first and let Nova be watched for %d days", svc.Name, st.Mode, svc.WatchDays)
			}
			watched := now.Sub(st.ReadOnlySince)
			need := time.Duration(svc.WatchDays) * 24 * time.Hour
			feedback = feedbackSummary(*st)
			if watched < need && !force {
				return nova.Errorf(nova.ECONFLICT, "%s has been read-only for %s of its %d-day watching period (%s left). %s. An admin may override with `--force` (audited).",
					svc.Name, days(watched), svc.WatchDays, days(need-watched), feedback)
			}
		}
		st.Mode, st.Since, st.ChangedBy = to, now, nova.SlackActor(req.UserID)
		if to == nova.ModeReadOnly {
			st.ReadOnlySince = now // a new watching period begins
		}
		return nil
	})
	if err == errUnchanged {
		return nova.Reply{Message: text("%s is already in %s mode.", svc.Name, from)}, nil
	}
	if err != nil {
		return nova.Reply{}, err
	}
	a.modes.forget(svc.ID)
	detail := fmt.Sprintf("%s: %s → %s", svc.Name, from, to)
	if force {
		detail += " (--force: watching period overridden)"
	}
	if err := a.audit(ctx, nova.AuditEntry{Environment: svc.Environment, Service: svc.ID, Actor: nova.SlackActor(req.UserID),
		Action: "mode.change", Outcome: nova.OutcomeOK, Detail: detail}); err != nil {
		return nova.Reply{}, err
	}
	if to.Rank() < from.Rank() {
		_ = a.cancelServiceRequests(ctx, svc.ID, fmt.Sprintf("%s was set to %s mode", svc.Name, to))
	}
	msg := fmt.Sprintf("<@%s> set *%s* to *%s* mode (was %s).", req.UserID, svc.Name, st.Mode, from)
	switch to {
	case nova.ModeReadOnly:
		msg += fmt.Sprintf(" Nova will post shadow hypotheses here and write nothing to PagerDuty; promotion is possible after %d days.", svc.WatchDays)
	case nova.ModeAction:
		msg += " Nova will now write its hypotheses to the PagerDuty timeline. " + feedback + "."
		if force {
			msg += " The watching period was overridden with --force."
		}
	case nova.ModeOff:
		msg += " Nova will ignore its incidents."
	}
	return nova.Reply{Message: text("%s", msg), InChannel: true}, nil
}

func feedbackSummary(st nova.ServiceState) string {
	total := st.Helpful + st.Wrong
	if total == 0 {
		return "No feedback on its hypotheses yet"
	}
	s := fmt.Sprintf("Feedback so far: %d helpful, %d wrong cause (%.0f%% helpful)", st.Helpful, st.Wrong, 100*float64(st.Helpful)/float64(total))
	if _, why := triage.FeedbackShift(triage.Feedback{Helpful: int(st.Helpful), Wrong: int(st.Wrong)}); why != "" {
		s += ". " + why
	}
	return s
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

// setPaused stops or restarts every PagerDuty write and action run, for all
// services, on every replica (the switch is read from the store each time).
func (a *App) setPaused(ctx context.Context, req nova.CommandRequest, pause bool) (nova.Reply, error) {
	admin := false
	for env := range a.settings().Environments {
		ok, err := a.isAdmin(ctx, env, req.UserID)
		if err != nil {
			return nova.Reply{}, err
		}
		if ok && (len(req.Environments) == 0 || slices.Contains(req.Environments, env)) {
			admin = true
			break
		}
	}
	verb := map[bool]string{true: "pause", false: "resume"}[pause]
	if !admin {
		return nova.Reply{}, nova.Errorf(nova.EFORBIDDEN, "only Nova admins can %s Nova", verb)
	}
	p := pauseState{Paused: pause, By: req.UserID, At: a.now()}
	if _, err := store.Save(ctx, a.store, store.KindMeta, pauseKey, p, store.AnyVersion); err != nil {
		return nova.Reply{}, err
	}
	if err := a.audit(ctx, nova.AuditEntry{Actor: nova.SlackActor(req.UserID), Action: "nova." + verb, Outcome: nova.OutcomeOK}); err != nil {
		return nova.Reply{}, err
	}
	if pause {
		return nova.Reply{Message: text(":double_vertical_bar: <@%s> paused Nova: no PagerDuty writes and no actions, for every service, until `/nova resume`. Hypotheses still appear in Slack.", req.UserID), InChannel: true}, nil
	}
	return nova.Reply{Message: text(":arrow_forward: <@%s> resumed Nova.", req.UserID), InChannel: true}, nil
}

// status reports on one service, or lists them all.
func (a *App) status(ctx context.Context, args []string) (nova.Reply, error) {
	set := a.settings()
	p, err := a.paused(ctx)
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
			svcs = append(svcs, s)
		}
		sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
		fmt.Fprintf(&b, "*Services* (tier %s)\n", set.Tier)
		for _, s := range svcs {
			st, err := a.serviceState(ctx, s)
			if err != nil {
				return nova.Reply{}, err
			}
			fmt.Fprintf(&b, "• *%s* (%s, %s): %s, %d incidents seen\n", s.Name, s.ID, s.Environment, st.Mode, st.IncidentsSeen)
		}
		return nova.Reply{Message: text("%s", strings.TrimRight(b.String(), "\n"))}, nil
	}
	svc, ok := set.ServiceByName(args[0])
	if !ok {
		return nova.Reply{}, nova.Errorf(nova.ENOTFOUND, "unknown service %q. `/nova status` lists the declared services.", truncate(args[0], 64))
	}
	st, err := a.serviceState(ctx, svc)
	if err != nil {
		return nova.Reply{}, err
	}
	now := a.now()
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
	if st.NovaAcks+st.PersonAcks > 0 {
		fmt.Fprintf(&b, "\nFirst acks: Nova %d%s, people %d%s", st.NovaAcks, meanSecs(st.NovaAckSeconds, st.NovaAcks), st.PersonAcks, meanSecs(st.PersonAckSeconds, st.PersonAcks))
		if s := ackSaving(st); s != "" {
			b.WriteString("\n" + s)
		}
	}
	return nova.Reply{Message: text("%s", b.String())}, nil
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
