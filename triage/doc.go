// Package triage is Nova's hypothesis engine: given the evidence gathered
// for one PagerDuty incident, it ranks explanations of what caused it,
// each with a category, a calibrated confidence, the evidence it rests on
// and next steps drawn only from the service's runbooks and action catalog.
//
// It is pure: values in, values out. No I/O, no logging, no clock (now is
// passed in), no goroutines. The bot gathers evidence under a time budget
// and calls Analyze; the evaluation (Evaluate, the corpus under
// testdata/cases, cmd/nova-eval) calls it the same way.
//
// # Evidence before timing
//
// Each signal adds pieces of support, each a strength in [0, 1], to a cause
// category. A change is scored on two separate things (RankChanges):
//
//   - What it explains: how much of what the alerts implicate (components,
//     parameters, hosts, the resource or subsystem a failure signature or
//     an exhausted number points at) the change touched: shared words
//     weighted by rarity among the incident's changes, host names whole,
//     shared topics such as "dns" or "memory". A crash loop, panic or failed
//     image pull in the very service changed minutes before counts as a
//     partial explanation. Some changes explain by what they did rather
//     than by words: a workload scaled to zero, deleted or detached from
//     its Service (selector, ports) explains requests finding nothing to
//     serve them; a flag switched on whose name says what it breaks
//     (fault injection, kill switches) explains its service's failures. A
//     change that says it has not taken effect (approved for later, not yet
//     in rotation, shipped disabled, a dry run) is discounted.
//   - When it was made, measured from the onset of the symptoms (the first
//     paging alert, or a detail such as first_seen or since), with a
//     hyperbolic decay scaled by its relation to the service.
//
// Timing alone reaches at most timingWeight and caps the change hypothesis
// at unexplainedCap: it is never a confident answer. A change made after
// the onset is discounted to afterOnsetFactor; a failure confined to one
// zone, host or pool counts against a change that went everywhere and for
// one that names that place; a failure spread over places (a breakdown by
// province, country, zone or client version, spread.go) counts against a
// change that named only some of them or missed the worst one. Changes older than the change window are
// considered when they explain the symptoms, up to Options.DelayedWindow
// for subsystems whose changes act late (certificates, DNS and caches,
// leaks, quotas). When the best change explains the symptoms and came just
// before them, the symptoms it caused (CPU pinned, connections refused)
// support it rather than a separate cause, except provider-side and
// time-driven ones (no capacity, power lost, a certificate that expired).
// A change that touched the symptom's very topic (a DNS change and DNS
// failures) takes the symptom's support over as far as its content
// explains it, however long ago it was made.
//
// # Signals from structure
//
//   - Failure signatures (signatures.go) are a data table: a pattern for
//     English prose, language-neutral tokens (exception class names, errno
//     names, TLS/PKI codes, exit reasons, the phrases of other languages),
//     and the words that contradict them. A signature about a resource whose
//     numbers are comfortably normal in the same incident is dropped. The
//     catalog is held to error messages as runtimes, databases, cloud SDKs
//     and monitoring tools print them (phrasebook tests), not to the
//     corpus; camel-case rule names ("NodeFilesystemSpaceFillingUp") are
//     read as words.
//   - Alert details are read as key/value evidence (details.go): numbers
//     against the limits, thresholds and baselines beside them, breakdowns
//     by zone or host, outside hosts named as upstreams, provider status and
//     cloud health events, onset times.
//   - Outside dependencies (deps.go) are causes of their own: a provider's
//     status or health alert, an outside host failing (a well-known
//     provider's host in a failing alert, or the provider whose SDK raised
//     the error), a CDN failing in front of a healthy origin, an incident on
//     a service the service depends on (Service.DependsOn, which the bot
//     fills from config and PagerDuty's service dependencies, or PagerDuty's
//     service_dependency relationship). Only a cloud platform's notice can
//     be about the platform itself (infrastructure); any other provider's is
//     a dependency failing.
//   - Storms: StormThreshold or more concurrent incidents on other services
//     are one shared-cause hypothesis, its category from the signature most
//     of them share; a change to a related service supports it, a change to
//     the incident's own service gains nothing from it.
//   - Past incidents carry their category and resolution over; when the
//     similar ones disagree about the cause, each counts for less, and a
//     hypothesis resting on past incidents alone stays moderate.
//
// # Confidence and abstention
//
// A category's raw strength is the noisy-OR of its pieces, discounted by its
// strongest rival and further when the two are too close to call. With no
// specific evidence at all (only generic symptoms and timing), or when the
// leader's only specific support is a resembling past incident, every
// score is halved. The resulting evidence score goes through Calibration, an
// isotonic map fitted on the development split of the corpus
// (FitCalibration), so that a confidence is the rate at which hypotheses
// with such evidence were right. The step into "confident" (ConfidentAt)
// and the abstention threshold are chosen on confidences cross-validated by
// postmortem, the step raised until wrong-but-confident is under 5% with 95%
// confidence (RaiseConfident, WilsonUpper): a map judged on the cases it was
// fitted to puts that step exactly where they stop being wrong. Triage
// abstains under DefaultAbstainBelow; in effect, on thin evidence and on
// past incidents alone. The
// evaluation reports where each abstention signal fires (AbstentionSignals):
// on the development split a close runner-up or disagreeing past incidents
// fire mostly on answerable cases, so they lower confidence but do not make
// triage abstain. An abstained result still
// lists the candidates it weighed, with Checked and NotChecked. A service's
// verdicts (responders' helpful/wrong, else how the incident was resolved)
// shift confidence within bounds (FeedbackShift), explained in the top
// hypothesis' evidence by what they actually moved. The top hypothesis says why
// not the most tempting change when it is not the answer (a ruled_out
// evidence item).
package triage
