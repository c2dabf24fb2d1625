package review

import (
	"fmt"
	"strings"
)

func (b *builder) integrity() {
	c := b.in.Chain
	if c.Problem != "" {
		subj := "audit chain"
		if c.EntryID != "" {
			subj = "audit entry " + c.EntryID
		}
		b.add(SectionIntegrity, subj, fmt.Sprintf("FAILED verification after %d good entries: %s", c.Entries, c.Problem), RecFix,
			"the log was edited, truncated or reordered: find who could write to the store, compare with a backup or an export, and run `nova audit verify` (with --incident anchors) for details")
	} else {
		keyed := "keyed (HMAC-SHA256 under the audit key)"
		if !c.Keyed {
			keyed = "UNKEYED: a plain SHA-256 chain anyone who can write to the store can recompute"
		}
		action := ""
		if !c.Keyed {
			action = "configure audit.key so that an edit cannot be hidden by rehashing (README: Trust boundary and audit)"
		}
		b.add(SectionIntegrity, "audit chain", fmt.Sprintf("intact: %d entries verified, head %s, %s", c.Entries, orDash(c.Head), keyed), "", action)
	}
	n := b.in.Notes
	switch {
	case n.Writes == 0:
		b.add(SectionIntegrity, "PagerDuty notes", "the period's audit records no note written to PagerDuty", "", "")
	default:
		how := fmt.Sprintf("%d of %d note writes compared with PagerDuty", n.Checked, n.Writes)
		if n.Sampled {
			how += " (a sample of incidents)"
		}
		if len(n.Mismatches) == 0 && len(n.Errors) == 0 {
			b.add(SectionIntegrity, "PagerDuty notes", how+": every one matches a note carrying its audit id", "", "")
		} else {
			b.add(SectionIntegrity, "PagerDuty notes", fmt.Sprintf("%s: %d mismatched, %d could not be read", how, len(n.Mismatches), len(n.Errors)), "", "")
		}
	}
	for _, m := range n.Mismatches {
		b.add(SectionIntegrity, "audit entry "+m.AuditID, fmt.Sprintf("note write on %s incident %s (note %s): %s", m.Environment, m.Incident, orDash(m.NoteID), m.Problem), RecFix,
			"compare the entry with the incident's PagerDuty timeline: a note missing or changed on either side means one of them was edited")
	}
	for _, e := range n.Errors {
		b.add(SectionIntegrity, "PagerDuty notes", "could not be read: "+e, RecCheck, "run the review again when PagerDuty answers; the writes were not confirmed")
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
