package auditlog

import (
	"github.com/sirupsen/logrus"

	"github.com/novasre/nova"
)

// Milestones of an incident, each logged once at info level as
// "incident milestone" with the milestone's name, so an operator can follow
// one incident (incident_id) from the webhook to the run in the logs, and
// find each step's audit entry (audit_id).
const (
	MilestoneReceived   = "received"   // the trigger webhook is stored
	MilestoneHypothesis = "hypothesis" // triage has a result
	MilestoneNote       = "note"       // the hypothesis note is in PagerDuty
	MilestoneAck        = "ack"        // Nova acknowledged the incident
	MilestoneApproval   = "approval"   // a person approved or denied an action
	MilestoneRun        = "run"        // an action ran (ok or failed)
	MilestoneResolved   = "resolved"   // the incident was resolved
)

// milestoneOf names the milestone an audit entry marks, or "".
func milestoneOf(e nova.AuditEntry) string {
	switch {
	case e.Action == "action.run":
		return MilestoneRun
	case e.Outcome != nova.OutcomeOK:
		return ""
	case e.Action == "pagerduty.note.hypothesis":
		return MilestoneNote
	case e.Action == "pagerduty.acknowledge":
		return MilestoneAck
	case e.Action == "approval.approve" || e.Action == "approval.deny":
		return MilestoneApproval
	}
	return ""
}

// Milestone logs one milestone line.
func Milestone(log logrus.FieldLogger, name string, f logrus.Fields) {
	f["milestone"] = name
	log.WithFields(f).Info("incident milestone")
}

// auditMilestone logs the milestone an appended audit entry marks.
func (l *Log) auditMilestone(e nova.AuditEntry) {
	if m := milestoneOf(e); m != "" {
		Milestone(l.log, m, logrus.Fields{
			"incident_id": e.Incident, "service": e.Service, "environment": e.Environment,
			"audit_id": e.ID, "action": e.Action, "outcome": e.Outcome, "actor": e.Actor,
		})
	}
}
