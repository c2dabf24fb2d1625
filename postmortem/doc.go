// Package postmortem assembles the postmortem draft Nova writes when an
// incident is resolved: the boilerplate an engineer would otherwise copy by
// hand (header, impact figures, a merged timeline with the source of every
// line, what Nova thought beside what happened, the actions proposed and
// run, contributing changes and related incidents), followed by the
// sections people write, marked as theirs and left empty.
//
// It is pure, like triage and approvals: Build takes values (the incident
// record with its triage result, PagerDuty log entries and notes, Nova's
// audit entries, the approval requests, the previous version of the draft
// and now) and returns a Draft; Markdown renders one. The caller gathers
// the inputs and stores the result.
//
// Rules the package keeps:
//
//   - Nova writes no analysis of its own: the draft repeats Nova's recorded
//     hypothesis, labelled as such, and never states a root cause. The
//     outcome verdict (did the resolution match the hypothesis) is
//     "matched" or "not matched" only when the actions' record decides it,
//     and "undecided" otherwise (see Judge).
//   - One draft per incident: re-resolving after a reopen gives the same
//     draft id a new version (see Build); a second delivery of the same
//     resolve gives the same version.
//   - Outside text (titles, notes, log entry summaries, action results) is
//     escaped for Markdown and HTML, and only validated URLs become links.
package postmortem
