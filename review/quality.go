package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// ActionBacktestMark is the audit action of an admin's mark on a backtest
// row; its detail starts with the mark (right, partly or wrong).
const ActionBacktestMark = "backtest.mark"

// serviceQuality are one service's figures over the period.
type serviceQuality struct {
	incidents, hypotheses, abstentions int64
	// verdicts are the per-incident verdicts that calibrate confidence
	// (a person's latest, else the resolution's, and backtest marks), as
	// /nova status shows them; byResolution is the part judged by
	// resolutions.
	verdictsHelpful, verdictsWrong, byResolution int64
	// helpful and wrong are every responder's Helpful / Wrong button and
	// backtest marks: the promotion rule's count.
	helpful, wrong                   int64
	hypothesisSeconds                float64
	novaAcks, personAcks             int64
	novaAckSeconds, personAckSeconds float64
	wrongOnes                        []string
	marks                            map[string]string // backtest row marks by incident, latest wins
	actions                          map[nova.ApprovalState]int64
	proposed                         int64
}

func (b *builder) quality() {
	q := map[string]*serviceQuality{}
	get := func(id string) *serviceQuality {
		if q[id] == nil {
			q[id] = &serviceQuality{actions: map[nova.ApprovalState]int64{}, marks: map[string]string{}}
		}
		return q[id]
	}
	for _, r := range b.in.Incidents {
		s := get(r.ServiceID)
		s.incidents++
		if r.Triage != nil {
			if r.Triage.Abstained {
				s.abstentions++
			} else {
				s.hypotheses++
			}
			if d := r.TimeToHypothesis(); d > 0 {
				s.hypothesisSeconds += d.Seconds()
			}
		}
		for _, f := range r.Feedback {
			switch f.Verdict {
			case nova.FeedbackHelpful:
				s.helpful++
			case nova.FeedbackWrong:
				s.wrong++
			}
		}
		switch verdict, byResolution, judge := b.verdict(r); verdict {
		case nova.FeedbackHelpful:
			s.verdictsHelpful++
			if byResolution {
				s.byResolution++
			}
		case nova.FeedbackWrong:
			s.verdictsWrong++
			if byResolution {
				s.byResolution++
			}
			s.wrongOnes = append(s.wrongOnes, r.ID+" "+judge)
		}
		if d := r.TimeToAck(); d > 0 {
			switch r.AckedBy {
			case nova.AckByNova:
				s.novaAcks++
				s.novaAckSeconds += d.Seconds()
			case nova.AckByPerson:
				s.personAcks++
				s.personAckSeconds += d.Seconds()
			}
		}
	}
	// Marks an admin gave backtest rows count as feedback like the Slack
	// buttons (right as helpful); the latest mark of a row in the period
	// counts, as it does in the service's counters.
	for _, e := range b.in.Audit {
		if e.Action == ActionBacktestMark && e.Outcome == nova.OutcomeOK && e.Service != "" && e.Incident != "" {
			if f := strings.Fields(e.Detail); len(f) > 0 {
				get(e.Service).marks[e.Incident] = f[0]
			}
		}
	}
	for _, s := range q {
		for _, m := range s.marks {
			switch m {
			case "right":
				s.helpful++
				s.verdictsHelpful++
			case "wrong":
				s.wrong++
				s.verdictsWrong++
			}
		}
	}
	for _, a := range b.in.Approvals {
		s := get(a.ServiceID)
		s.proposed++
		s.actions[a.State]++
	}
	p := b.in.Promotion
	for _, svc := range b.services() {
		st, _ := b.state(svc)
		s := get(svc.ID)
		if st.Mode == nova.ModeOff && s.incidents == 0 && s.proposed == 0 && len(s.marks) == 0 {
			continue
		}
		var f strings.Builder
		fmt.Fprintf(&f, "%s mode; %s, %s posted, %s", st.Mode, plural(s.incidents, "incident", "incidents"),
			plural(s.hypotheses, "hypothesis", "hypotheses"), plural(s.abstentions, "abstention", "abstentions"))
		if n := s.hypotheses + s.abstentions; n > 0 && s.hypothesisSeconds > 0 {
			fmt.Fprintf(&f, " (mean time to hypothesis %.1f s)", s.hypothesisSeconds/float64(n))
		}
		if judged := s.verdictsHelpful + s.verdictsWrong; judged > 0 {
			vshare, _ := Precision(s.verdictsHelpful, s.verdictsWrong)
			fmt.Fprintf(&f, "; verdicts %d helpful, %d wrong: %s helpful (%s judged", s.verdictsHelpful, s.verdictsWrong,
				Percent(vshare), plural(judged, "incident", "incidents"))
			if s.byResolution > 0 {
				fmt.Fprintf(&f, "; %d by resolution", s.byResolution)
			}
			f.WriteString(")")
		} else {
			f.WriteString("; no feedback")
		}
		if len(s.marks) > 0 {
			n := map[string]int{}
			for _, m := range s.marks {
				n[m]++
			}
			fmt.Fprintf(&f, " (including backtest marks: %d right, %d partly, %d wrong)", n["right"], n["partly"], n["wrong"])
		}
		share, measured := Precision(s.helpful, s.wrong)
		if measured && (s.helpful != s.verdictsHelpful || s.wrong != s.verdictsWrong) {
			fmt.Fprintf(&f, "; the promotion rule counts responders' Helpful / Wrong buttons and backtest marks: %d helpful, %d wrong, precision %s",
				s.helpful, s.wrong, Percent(share))
		}
		if s.novaAcks+s.personAcks > 0 {
			fmt.Fprintf(&f, "; first acks: Nova %d, people %d", s.novaAcks, s.personAcks)
			if s.novaAcks > 0 && s.personAcks > 0 {
				saved := (s.personAckSeconds/float64(s.personAcks) - s.novaAckSeconds/float64(s.novaAcks)) * float64(s.novaAcks)
				if saved > 0 {
					fmt.Fprintf(&f, ", time saved about %s", (time.Duration(saved) * time.Second).Round(time.Second))
				}
			}
		}
		if s.proposed > 0 {
			approved := s.actions[nova.ApprovalApproved] + s.actions[nova.ApprovalRunning] + s.actions[nova.ApprovalSucceeded] + s.actions[nova.ApprovalFailed]
			fmt.Fprintf(&f, "; actions: %d proposed, %d approved, %d denied, %d expired, %d failed, %d succeeded",
				s.proposed, approved, s.actions[nova.ApprovalDenied], s.actions[nova.ApprovalExpired], s.actions[nova.ApprovalFailed], s.actions[nova.ApprovalSucceeded])
		}
		if len(s.wrongOnes) > 0 {
			fmt.Fprintf(&f, "; marked wrong: %s", strings.Join(s.wrongOnes, ", "))
		}
		rec, action := "", ""
		answered := s.helpful + s.wrong
		switch {
		case st.Mode == nova.ModeAction && measured && answered >= int64(max(p.MinFeedback, 1)) && share+1e-9 < p.MinPrecision:
			rec = RecDemote
			action = fmt.Sprintf("precision %s over %d answers (responders' buttons and backtest marks, as the promotion rule counts) is below the %s bar: `/nova mode %s read-only` until its hypotheses improve (runbooks, change events)",
				percentBelow(share, p.MinPrecision), answered, Percent(p.MinPrecision), svc.Name)
		case st.Mode == nova.ModeReadOnly:
			watched := b.in.Now.Sub(st.ReadOnlySince)
			need := time.Duration(svc.WatchDays) * 24 * time.Hour
			if st.ReadOnlySince.IsZero() || watched < need {
				left := need - watched
				if st.ReadOnlySince.IsZero() {
					left = need
				}
				fmt.Fprintf(&f, "; watching period: %s left", span(left))
				break
			}
			if ok, why := p.Earned(st.Helpful, st.Wrong); ok {
				rec = RecPromote
				action = fmt.Sprintf("watching period done and promotion earned on responders' buttons and backtest marks (%s): `/nova mode %s action`, and set mode: action in the config", why, svc.Name)
			} else {
				fmt.Fprintf(&f, "; watching period done, promotion not yet earned (it counts responders' buttons and backtest marks, not resolutions): %s", why)
			}
		}
		b.add(SectionQuality, subject(svc), f.String(), rec, action)
	}
}

// verdict is the verdict an incident of the period contributes to its
// service's calibration, as the service's counters hold it (see
// nova.IncidentVerdict), whether a resolution judged it, and who did
// ("by @U123 (real cause: …)", "by its postmortem answer", "by how it was
// resolved"). An incident judged before verdicts were kept counts its
// latest button.
func (b *builder) verdict(r nova.IncidentRecord) (verdict string, byResolution bool, judge string) {
	latest := func(verdict string) *nova.Feedback {
		var l *nova.Feedback
		for i := range r.Feedback {
			f := &r.Feedback[i]
			if (f.Verdict == verdict || verdict == "" && (f.Verdict == nova.FeedbackHelpful || f.Verdict == nova.FeedbackWrong)) &&
				(l == nil || !f.At.Before(l.At)) {
				l = f
			}
		}
		return l
	}
	v, kept := b.in.Verdicts[r.ID]
	switch {
	case kept && v.CountedByResolution:
		return v.Counted, true, "by how it was resolved"
	case kept && v.PersonBy == nova.VerdictByPostmortem:
		return v.Counted, false, "by its postmortem answer"
	case kept:
		verdict = v.Counted
	default:
		if f := latest(""); f != nil {
			verdict = f.Verdict
		}
	}
	f := latest(verdict)
	if verdict == "" || f == nil {
		return verdict, false, "by a responder"
	}
	judge = "by " + who(nova.SlackActor(f.UserID))
	if f.Cause != "" && verdict == nova.FeedbackWrong {
		judge += fmt.Sprintf(" (real cause: %q)", f.Cause)
	}
	return verdict, false, judge
}
