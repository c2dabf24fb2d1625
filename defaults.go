package nova

import "time"

// Defaults, in one place: the configuration fills them in, and the
// application and adapters fall back on the same values when built without
// a configuration (tests, tools). The README's configuration table quotes them.
const (
	// DefaultListen is the address Nova serves on.
	DefaultListen = ":8080"
	// DefaultPagerDutyURL is PagerDuty's US REST API (EU: api.eu.pagerduty.com).
	DefaultPagerDutyURL = "https://api.pagerduty.com"
	// DefaultSlackURL is Slack's Web API.
	DefaultSlackURL = "https://slack.com/api/"
	// DefaultRatePerMinute is PagerDuty's REST limit per API key.
	DefaultRatePerMinute = 900
	// DefaultWatchDays is how long a service stays read-only before it may
	// be promoted to action mode.
	DefaultWatchDays = 14

	// DefaultWorkers is how many events one replica processes at once.
	DefaultWorkers = 8
	// DefaultVisibility is how long a claimed event (or a write, or an
	// action run) stays leased before another worker may take it over.
	DefaultVisibility = 2 * time.Minute
	// DefaultDedupTTL is how long webhook and event ids are remembered:
	// PagerDuty retries for up to 48 hours.
	DefaultDedupTTL = 72 * time.Hour
	// DefaultMaxAttempts is how often an event is tried before it is set
	// aside as a dead letter.
	DefaultMaxAttempts = 10
	// DefaultPoll is how often idle workers look for new events.
	DefaultPoll = 100 * time.Millisecond

	// DefaultTriageBudget bounds evidence gathering per incident.
	DefaultTriageBudget = 20 * time.Second
	// DefaultLLMTimeout bounds one call of the optional summariser.
	DefaultLLMTimeout = 8 * time.Second

	// DefaultRequiredApprovals is one approval, from a person other than Nova.
	DefaultRequiredApprovals = 1
	// DefaultApprovalExpiry is short on purpose: an approval given for what
	// the incident looked like half an hour ago may no longer fit it.
	DefaultApprovalExpiry = 30 * time.Minute
	// DefaultActionTimeout bounds one call of an action's executor.
	DefaultActionTimeout = 30 * time.Second

	// HTTP server limits (http: in the configuration).
	DefaultMaxHeaderBytes           = 64 << 10
	DefaultReadHeaderTimeout        = 5 * time.Second
	DefaultIdleTimeout              = 2 * time.Minute
	DefaultMaxConnections           = 1024
	DefaultReservedConnections      = 32
	DefaultMaxAuthFailuresPerMinute = 10
	// DefaultMinFreeDisk is the free space /readyz wants beside a bolt store.
	DefaultMinFreeDisk = 64 << 20
)
