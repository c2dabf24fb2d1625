// Package approvals is the state machine and policy for action requests:
// who may approve, how many distinct people must, when a request expires,
// and which checks must pass before an approved action may run.
//
// It is pure: every function takes values (including now) and returns
// values, so that the bot can compare-and-set the result in the store and
// the rules can be tested exhaustively without I/O.
//
// States and the only functions that move between them:
//
//	Propose ─▶ pending ─┬─ Decide(deny) ───────────────────────────▶ (denied)
//	              │     ├─ Expire, or Decide/Apply/AutoStart at ≥ ExpiresAt ▶ (expired)
//	              │     └─ Cancel ───────────────────────────────────▶ (cancelled)
//	              │
//	              │ Decide(approve) reaching the quorum of distinct people,
//	              │ or Apply (non-destructive, one click)
//	              ▼
//	           approved ─┬─ Expire, or Start at ≥ ExpiresAt ─────────▶ (expired)
//	              │      └─ Cancel, or Start with a failed precondition ▶ (cancelled)
//	              │
//	              │ Start: not expired, quorum re-counted, incident open,
//	              │ service in action mode, Nova not paused
//	              ▼
//	           running ──── Finish ─────────────────────▶ (succeeded) | (failed)
//
// AutoStart takes a pending non-destructive auto_run request through
// approved and Start in one step; destructive requests never skip a human.
//
// States in parentheses are final. Start is the only function that
// produces running, and it re-counts the distinct human approvals recorded
// in Decisions itself, so a destructive request whose state was set to
// approved by anything other than Decide (a bug, a hand-edited record) still
// cannot run.
//
// A request is decided under the approval policy in force now, never a
// weaker one than it was proposed with: the caller passes each open request
// through Reconcile (with the current Policy) before Decide, Apply or Start,
// and a running one through Authorize right before its executor is called.
// Reconcile narrows who may decide and whose approvals count, raises the
// quorum, shortens the expiry, and moves an approved request that lost its
// quorum back to pending. No request stays open longer than MaxExpiresAfter
// after it was created, whatever its record says.
//
// Errors carry nova error codes: EINVALID for malformed input, EFORBIDDEN
// for an actor who may not decide, ECONFLICT for a state that forbids the
// change. When a function returns an error together with a request whose
// state differs from the one passed in (expired or cancelled), the caller
// must store that request: the transition happened, the asked-for one did not.
package approvals
