// Package render holds the text Nova writes, and nothing else: PagerDuty
// notes (hypothesis, action status, the audit chain head above the footer)
// and Slack messages (hypothesis, approval request, one-section replies).
// It does no I/O and reads no clock. Outside text (titles, summaries,
// names, evidence, model output) goes through nova's escaping in one place:
// nova.NoteText for notes, nova.Mrkdwn and its helpers for Slack.
package render
