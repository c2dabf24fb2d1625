// Package triage is Nova's hypothesis engine: given the evidence gathered
// for one PagerDuty incident, it ranks explanations of what caused it,
// each with a category, a confidence, the evidence it rests on and next
// steps drawn only from the service's runbooks and action catalog.
//
// It is pure: values in, values out. No I/O, no logging, no clock (now is
// passed in), no goroutines. The bot gathers evidence under a time budget
// and calls Analyze; the evaluation (Evaluate, the corpus under
// testdata/cases, cmd/nova-eval) calls it the same way.
//
// # Signals
//
// Each signal adds pieces of support, each a strength in [0, 1], to a cause
// category:
//
//   - Change correlation (RankChanges). Only changes made within
//     Options.ChangeWindow before the trigger count. Each gets
//     noisyOr(0.8 × timing, 0.65 × content) × kind × PagerDuty factor, where
//     timing is a hyperbolic decay (half at Options.ChangeDecay) times the
//     relation to the service (same 1, related 0.7, none recorded 0.6,
//     unrelated 0.3), and content is how much the change shares with the
//     alerts (words weighted by rarity among the incident's changes, plus
//     shared topics such as "dns" or "memory"; touching the subsystem a
//     failure signature points at counts most), scaled mildly by relation
//     and fading to half at the window's edge. Kind: docs-only 0.35, revert
//     0.7, failed 1.2; PagerDuty's "intelligent" correlation 1.25. The best
//     change supports "change"; symptoms typical of bad changes (crash loops,
//     5xx, image pulls) add support in proportion to its timing.
//   - Failure signatures (signatures.go): a table of patterns in alert text
//     (OOMKilled, x509, NXDOMAIN, NotReady, ...) with the categories they point
//     at. When the best change touched a signature's topic (x509 errors after
//     a certificate change), the change explains the symptom and takes over
//     part of its support; a symptom bad changes rarely produce and the
//     change does not explain (InsufficientInstanceCapacity) discounts the
//     change hypothesis instead.
//   - Past incidents (RankPast): similarity is 60% PagerDuty's score and 40%
//     triage's own comparison of titles and of the failure signatures in
//     each incident (titles like "healthcheck is DOWN" match across
//     unrelated causes; disagreeing signatures expose that). A similar past
//     incident carries its category and resolution over. PagerDuty's outlier
//     class scales this: frequent ×1.2, rare ×0.8, anomaly ×0.6.
//   - Storms: Options.StormThreshold or more concurrent incidents (Related
//     and Concurrent) on other services become one shared-cause hypothesis
//     citing them, its category from the signature most of them share. A
//     recent change to a service related to the incident then also gains
//     support, and changes to the storm's services count as related.
//
// # Confidence
//
// A category's raw confidence is the noisy-OR of its pieces, 1 - Π(1 - s):
// independent support accumulates but never reaches 1 (it is capped at
// 0.95). Each hypothesis is then discounted by its strongest rival,
// conf = raw × (1 - 0.35 × rival), so that two plausible explanations make
// both less certain. The numbers are scores tuned on the dev half of the
// evaluation corpus, not calibrated probabilities.
//
// # Abstention
//
// When the best confidence is under Options.AbstainBelow, the result has
// Abstained set, but still lists the candidates (all weak) with their
// evidence, and Checked and NotChecked, so that the engineer sees what was
// considered and what was missing. Consumers must not present an abstained
// result's hypotheses as a conclusion.
package triage
