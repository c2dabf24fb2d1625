package triage

import (
	"fmt"
	"go/format"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Calibration maps the engine's evidence score, in [0, 1], to a confidence:
// the probability that the top hypothesis is right. The built-in map is
// fitted on the development split of the evaluation corpus by isotonic
// regression (FitCalibration; `go run ./cmd/nova-eval -fit` rewrites
// calibration_data.go), so that "70%" means right about 70% of the time on
// cases like those. It is a step function, as isotonic regression is: a
// score up to Scores[i] (and above Scores[i-1]) gets Confidences[i]; scores
// above the last bound get the last confidence.
type Calibration struct {
	Scores      []float64
	Confidences []float64
}

// IdentityCalibration leaves evidence scores as they are; the fit runs the
// engine with it to see the raw scores.
var IdentityCalibration = Calibration{}

// apply maps an evidence score to a confidence. Within a step it rises
// from an eighth of the way down to the previous step's confidence to an
// eighth of the way up to the next, so that stronger evidence never reads
// as less confident and two scores in one step are still told apart, while
// the step as a whole keeps about the confidence the fit gave it.
func (c *Calibration) apply(z float64) float64 {
	z = clamp01(z)
	n := len(c.Scores)
	if n == 0 || n != len(c.Confidences) {
		return z // the identity
	}
	i := sort.SearchFloat64s(c.Scores, z)
	if i >= n {
		i = n - 1
	}
	lo, down, up := 0.0, 0.0, maxConfidence-c.Confidences[i]
	if i > 0 {
		lo, down = c.Scores[i-1], c.Confidences[i]-c.Confidences[i-1]
	}
	if i+1 < n {
		up = c.Confidences[i+1] - c.Confidences[i]
	}
	frac := 0.0
	if hi := c.Scores[i]; hi > lo {
		frac = clamp01((z - lo) / (hi - lo))
	}
	conf := c.Confidences[i] - down/withinStep + (down/withinStep+math.Max(up, 0)/withinStep)*frac
	if c.Confidences[i] < ConfidentAt {
		// A step the fit found short of confident stays so all along.
		conf = math.Min(conf, ConfidentAt-0.01)
	}
	return conf
}

// Confidence maps an evidence score to a confidence, as Analyze does.
func (c Calibration) Confidence(score float64) float64 { return c.apply(score) }

// withinStep divides the distance to the neighbouring steps' confidences
// that a score covers within its own step.
const withinStep = 8

// CalibrationPoint is one case's top evidence score and whether the top
// hypothesis was right.
type CalibrationPoint struct {
	Score float64
	Right bool
}

// minStepGap is the least difference in rate between two steps.
const minStepGap = 0.05

// minBlock is the fewest cases one step of the fitted map may rest on:
// isotonic regression on a few dozen cases otherwise makes steps of one.
const minBlock = 6

// FitIsotonic fits a non-decreasing map from score to the rate of right
// answers (pool-adjacent-violators), merges steps resting on fewer than
// minBlock cases into their neighbours, shrinks each step's rate towards
// one half by one pseudo-case (so that six right answers out of six read
// as 93%, not 100%), and ends each step halfway to the next. It is
// deterministic: points are ordered by score, then rightness.
func FitIsotonic(points []CalibrationPoint) Calibration {
	if len(points) == 0 {
		return IdentityCalibration
	}
	ps := append([]CalibrationPoint(nil), points...)
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Score != ps[j].Score {
			return ps[i].Score < ps[j].Score
		}
		return !ps[i].Right && ps[j].Right
	})
	var blocks []block
	for _, p := range ps {
		b := block{n: 1, min: p.Score, max: p.Score}
		if p.Right {
			b.hits = 1
		}
		blocks = pool(append(blocks, b))
	}
	// Merge thin steps into the neighbour whose rate is closest.
	for changed := true; changed && len(blocks) > 1; {
		changed = false
		for i := range blocks {
			if blocks[i].n >= minBlock {
				continue
			}
			j := i + 1
			if i == len(blocks)-1 || (i > 0 && math.Abs(blocks[i-1].rate()-blocks[i].rate()) <= math.Abs(blocks[i+1].rate()-blocks[i].rate())) {
				j = i - 1
			}
			lo, hi := min(i, j), max(i, j)
			m := block{n: blocks[lo].n + blocks[hi].n, hits: blocks[lo].hits + blocks[hi].hits, min: blocks[lo].min, max: blocks[hi].max}
			blocks = append(blocks[:lo], append([]block{m}, blocks[hi+1:]...)...)
			changed = true
			break
		}
	}
	// Steps whose rates are within minStepGap of each other say the same
	// thing; one step is honest about it.
	for i := 1; i < len(blocks); {
		if blocks[i].rate()-blocks[i-1].rate() < minStepGap {
			blocks[i-1] = block{n: blocks[i-1].n + blocks[i].n, hits: blocks[i-1].hits + blocks[i].hits, min: blocks[i-1].min, max: blocks[i].max}
			blocks = append(blocks[:i], blocks[i+1:]...)
			continue
		}
		i++
	}
	out := Calibration{}
	prev := 0.0
	for i, b := range blocks {
		c := (b.hits + 0.5) / (b.n + 1)
		c = math.Max(c, prev) // shrinkage keeps order for blocks this size, but be sure
		c = math.Min(c, maxConfidence)
		prev = c
		// The step ends halfway between this block's highest score and the
		// next block's lowest.
		upper := 1.0
		if i+1 < len(blocks) {
			upper = (b.max + blocks[i+1].min) / 2
		}
		out.Scores = append(out.Scores, round4(upper))
		out.Confidences = append(out.Confidences, round4(c))
	}
	return out
}

// RaiseConfident returns c with the score at which confidence first
// reaches ConfidentAt raised by margin: scores in the margin get the
// confidence of the step below instead. Steps the margin swallows whole are
// dropped. A zero margin, or a map without such a step, is returned as is.
func RaiseConfident(c Calibration, margin float64) Calibration {
	out := Calibration{Scores: append([]float64(nil), c.Scores...), Confidences: append([]float64(nil), c.Confidences...)}
	if margin <= 0 {
		return out
	}
	i := 0
	for i < len(out.Confidences) && out.Confidences[i] < ConfidentAt {
		i++
	}
	if i == 0 || i == len(out.Confidences) {
		return out
	}
	bound := out.Scores[i-1] + margin
	for i < len(out.Scores)-1 && out.Scores[i] <= bound {
		out.Scores = append(out.Scores[:i], out.Scores[i+1:]...)
		out.Confidences = append(out.Confidences[:i], out.Confidences[i+1:]...)
	}
	out.Scores[i-1] = round4(minf(bound, out.Scores[i]))
	return out
}

// block is one step of an isotonic fit: n cases, hits of them right, and
// the lowest and highest of their scores.
type block struct{ n, hits, min, max float64 }

func (b block) rate() float64 { return b.hits / b.n }

// pool merges the last block into its predecessors while they violate the
// order or tie with it, so that the rates of the steps strictly increase.
func pool(blocks []block) []block {
	for len(blocks) > 1 {
		last, prev := blocks[len(blocks)-1], blocks[len(blocks)-2]
		if prev.rate() < last.rate() {
			break
		}
		blocks = append(blocks[:len(blocks)-2], block{n: last.n + prev.n, hits: last.hits + prev.hits, min: prev.min, max: last.max})
	}
	return blocks
}

func round4(f float64) float64 { return math.Round(f*10000) / 10000 }

// AbstainChoice is the abstention threshold chosen on the development split
// and what it gives there.
type AbstainChoice struct {
	Threshold                float64
	Right, Recall, Precision Ratio
}

// ChooseAbstainBelow picks the calibrated confidence under which triage
// abstains, from the development split's outcomes (confidence, right,
// abstaining acceptable, and Abstained for cases triage abstains on
// whatever their confidence: thin evidence): the threshold in [0.15, 0.55] with the most right
// answers (a right top hypothesis not abstained, or an abstention where
// abstaining was right), ties broken by abstention recall and then by the
// lower threshold. Wrong-but-confident answers sit at or above ConfidentAt,
// which this range leaves to the calibration itself.
func ChooseAbstainBelow(outcomes []Outcome) AbstainChoice {
	var best AbstainChoice
	for t := 15; t <= 55; t++ {
		th := float64(t) / 100
		c := AbstainChoice{Threshold: th}
		for _, o := range outcomes {
			abstain := o.NoHypothesis || o.Abstained || o.Confidence < th
			count(&c.Right, (abstain && o.AbstainOK) || (!abstain && o.Right))
			if o.AbstainOK {
				count(&c.Recall, abstain)
			}
			if abstain {
				count(&c.Precision, o.AbstainOK)
			}
		}
		if best.Right.Of == 0 || c.Right.Hits > best.Right.Hits ||
			(c.Right.Hits == best.Right.Hits && c.Recall.Hits > best.Recall.Hits) {
			best = c
		}
	}
	return best
}

// CalibrationSource renders a fitted map and abstention threshold as the Go
// source of calibration_data.go.
func CalibrationSource(c Calibration, abstainBelow float64) ([]byte, error) {
	list := func(fs []float64) string {
		parts := make([]string, len(fs))
		for i, f := range fs {
			parts[i] = strconv.FormatFloat(f, 'f', -1, 64)
		}
		return strings.Join(parts, ", ")
	}
	src := fmt.Sprintf(`// Code generated by "go run ./cmd/nova-eval -fit triage/calibration_data.go"; DO NOT EDIT.

package triage

// DefaultAbstainBelow is the calibrated confidence under which triage
// abstains, chosen on the development split of the evaluation corpus
// (ChooseAbstainBelow).
const DefaultAbstainBelow = %s

// defaultCalibration maps evidence scores to confidences; fitted on the
// development split by isotonic regression (FitCalibration).
var defaultCalibration = Calibration{
	Scores:      []float64{%s},
	Confidences: []float64{%s},
}
`, strconv.FormatFloat(abstainBelow, 'f', -1, 64), list(c.Scores), list(c.Confidences))
	return format.Source([]byte(src))
}

// DefaultCalibration returns a copy of the built-in confidence map.
func DefaultCalibration() Calibration {
	return Calibration{
		Scores:      append([]float64(nil), defaultCalibration.Scores...),
		Confidences: append([]float64(nil), defaultCalibration.Confidences...),
	}
}
