package review

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/novasre/nova"
)

// listed reports whether user is in ids, directly or through a user group,
// and names the groups that could not be read (so "no" is not certain).
func (b *builder) listed(ids []string, user string) (bool, []string) {
	var unknown []string
	for _, id := range ids {
		if id == user {
			return true, nil
		}
		if !strings.HasPrefix(id, "S") {
			continue
		}
		members, ok := b.in.Groups[id]
		if !ok {
			unknown = append(unknown, id)
			continue
		}
		if slices.Contains(members, user) {
			return true, nil
		}
	}
	return false, unknown
}

func (b *builder) groupNote(unknown []string) string {
	if len(unknown) == 0 {
		return ""
	}
	var why []string
	for _, g := range unknown {
		r := b.in.GroupErrors[g]
		if r == "" {
			r = "not read"
		}
		why = append(why, g+": "+r)
	}
	return " (user groups that could not be read: " + strings.Join(why, "; ") + ")"
}

// refusalKind sorts a refused attempt recorded in the audit log.
func refusalKind(e nova.AuditEntry) string {
	d := strings.ToLower(e.Detail)
	switch {
	case e.Action == "pagerduty.call":
		return "outside the PagerDuty allow-list"
	case e.Action == "slack.request" || e.Action == "pagerduty.request" || strings.HasSuffix(e.Action, ".request"):
		switch {
		case strings.Contains(d, "stale") || strings.Contains(d, "replay") || strings.Contains(d, "timestamp"):
			return "stale or replayed"
		case strings.Contains(d, "signature"):
			return "forged (bad signature)"
		}
		return "rejected request"
	case strings.HasPrefix(e.Action, "command.") || strings.HasPrefix(e.Action, "click."):
		switch {
		case strings.Contains(d, "only") || strings.Contains(d, "admin") || strings.Contains(d, "approver") ||
			strings.Contains(d, "not allowed") || strings.Contains(d, "not authori") || strings.Contains(d, "may not"):
			return "unauthorised"
		case strings.Contains(d, "expired") || strings.Contains(d, "stale") || strings.Contains(d, "no longer"):
			return "stale"
		}
		return "invalid command or click"
	}
	return "other"
}

func (b *builder) accessDrift() {
	refused := map[string]int64{}
	acted := map[string]map[string]int64{} // action kind → actor → count
	count := func(kind, actor string) {
		if acted[kind] == nil {
			acted[kind] = map[string]int64{}
		}
		acted[kind][actor]++
	}
	for _, e := range b.in.Audit {
		if e.Outcome == nova.OutcomeRefused {
			refused[refusalKind(e)]++
			continue
		}
		if e.Outcome != nova.OutcomeOK {
			continue
		}
		user, isPerson := strings.CutPrefix(e.Actor, "slack:")
		switch {
		case e.Action == "approval.approve" || e.Action == "approval.deny":
			verb := map[string]string{"approval.approve": "approved", "approval.deny": "denied"}[e.Action]
			count("approvals and denials", e.Actor)
			if !isPerson {
				continue
			}
			acc := b.in.Access[e.Environment]
			if ok, unknown := b.listed(acc.Approvers, user); !ok {
				b.add(SectionAccess, who(e.Actor), fmt.Sprintf("%s request %s on %s incident %s on %s (%s), but is not an approver of %s now%s",
					verb, firstField(e.Detail), e.Environment, e.Incident, day(e.Time), e.ID, e.Environment, b.groupNote(unknown)), RecCheck,
					fmt.Sprintf("confirm the decision was legitimate; if %s should approve, add them back to environments.%s.approvals.approvers", who(e.Actor), e.Environment))
			}
		case strings.HasPrefix(e.Action, "mode."):
			count("mode changes", e.Actor)
			if !isPerson {
				continue
			}
			acc := b.in.Access[e.Environment]
			if ok, unknown := b.listed(acc.Admins, user); !ok {
				b.add(SectionAccess, who(e.Actor), fmt.Sprintf("changed the mode of %s (%s) on %s (%s), but is not an admin of %s now%s",
					e.Service, e.Detail, day(e.Time), e.ID, e.Environment, b.groupNote(unknown)), RecCheck,
					fmt.Sprintf("confirm the change was legitimate; if %s should change modes, add them back to environments.%s.slack.admins", who(e.Actor), e.Environment))
			}
		case e.Action == "nova.pause" || e.Action == "nova.resume":
			count("pauses and resumes", e.Actor)
			if !isPerson {
				continue
			}
			if !b.globalAdmin(user) {
				b.add(SectionAccess, who(e.Actor), fmt.Sprintf("ran %s on %s (%s), but is not a global admin now (global_admins, or an admin of every environment)",
					strings.TrimPrefix(e.Action, "nova."), day(e.Time), e.ID), RecCheck,
					"confirm it was legitimate; add them to global_admins if they should pause Nova")
			}
		}
	}
	kinds := make([]string, 0, len(acted))
	for k := range acted {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		var parts []string
		for actor, n := range acted[k] {
			parts = append(parts, fmt.Sprintf("%s %d", who(actor), n))
		}
		sort.Strings(parts)
		b.add(SectionAccess, k, "by "+strings.Join(parts, ", "), "", "")
	}
	if len(refused) == 0 {
		b.add(SectionAccess, "refused attempts", "none in the period", "", "")
		return
	}
	var parts []string
	var total int64
	for k, n := range refused {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
		total += n
	}
	sort.Strings(parts)
	b.add(SectionAccess, "refused attempts", fmt.Sprintf("%d in the period: %s", total, strings.Join(parts, ", ")), "",
		"`nova audit export --since …` lists each with its reason and source")
	if n := refused["outside the PagerDuty allow-list"]; n > 0 {
		b.add(SectionAccess, "PagerDuty allow-list", fmt.Sprintf("Nova itself asked for %s outside its allow-list (audit action pagerduty.call)", plural(n, "call", "calls")), RecCheck,
			"find which code path asked (the entries name method and path) and report it: Nova never needs such calls")
	}
}

// globalAdmin reports whether user may pause Nova as a whole under the
// current configuration.
func (b *builder) globalAdmin(user string) bool {
	if ok, _ := b.listed(b.in.GlobalAdmins, user); ok {
		return true
	}
	if len(b.in.Access) == 0 {
		return false
	}
	for _, acc := range b.in.Access {
		if ok, _ := b.listed(acc.Admins, user); !ok {
			return false
		}
	}
	return true
}

func firstField(s string) string {
	f, _, _ := strings.Cut(s, " ")
	return f
}
