// Package e2e is Nova's end-to-end installation kit, shared by cmd/nova's
// end-to-end tests, cmd/nova-bench and the sandbox (cmd/nova-sandbox): the
// PagerDuty and Slack emulators seeded for an installation, its generated
// configuration, signed webhook deliveries, an automation receiver for
// actions, Nova running as a child process, and reading its metrics. It is
// test support: nothing in the nova binary imports it.
package e2e
