// Package executor runs approved actions. Its one executor, Webhook, POSTs
// a signed JSON description of the action to the customer's own automation
// (Rundeck, Runbook Automation, a CI job, or a small relay in front of one)
// and reports the answer; it never decides whether an action may run,
// which is the approvals package's job.
//
// The wire format, signing scheme and retry rules are a public contract,
// documented for receivers in docs/action-webhooks.md.
package executor
