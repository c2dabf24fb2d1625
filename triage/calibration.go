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
// cases like those. Between knots it interpolates linearly; beyond them it
// holds the end values.
type Calibration struct {
	Scores      []float64
	Confidences []float64
}

// IdentityCalibration leaves evidence scores as they are; the fit runs the
// engine with it to see the raw scores.
var IdentityCalibration = Calibration{Scores: []float64{0, 1}, Confidences: []float64{0, 1}}

// apply maps an evidence score to a confidence.
func (c *Calibration) apply(z float64) float64 {
	z = clamp01(z)
	n := len(c.Scores)
	if n == 0 || n != len(c.Confidences) {
		return z
	}
	if z <= c.Scores[0] {
		return c.Confidences[0]
	}
	if z >= c.Scores[n-1] {
		return c.Confidences[n-1]
	}
	i := sort.SearchFloat64s(c.Scores, z)
	x0, x1 := c.Scores[i-1], c.Scores[i]
	y0, y1 := c.Confidences[i-1], c.Confidences[i]
	if x1 <= x0 {
		return y1
	}
	return y0 + (y1-y0)*(z-x0)/(x1-x0)
}

// CalibrationPoint is one case's top evidence score and whether the top
// hypothesis was right.
type CalibrationPoint struct {
	Score float64
	Right bool
}

// minBlock is the fewest cases one step of the fitted map may rest on:
// isotonic regression on a few dozen cases otherwise makes steps of one.
const minBlock = 6

// FitIsotonic fits a non-decreasing map from score to the rate of right
// answers (pool-adjacent-violators), merges steps resting on fewer than
// minBlock cases into their neighbours, shrinks each step's rate towards
// one half by one pseudo-case (so that six right answers out of six read
// as 93%, not 100%), and places a knot at each step's mean score. It is
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
		b := block{n: 1, sum: p.Score}
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
			m := block{n: blocks[lo].n + blocks[hi].n, hits: blocks[lo].hits + blocks[hi].hits, sum: blocks[lo].sum + blocks[hi].sum}
			blocks = append(blocks[:lo], append([]block{m}, blocks[hi+1:]...)...)
			changed = true
			break
		}
	}
	out := Calibration{}
	prev := 0.0
	for _, b := range blocks {
		c := (b.hits + 0.5) / (b.n + 1)
		c = math.Max(c, prev) // shrinkage keeps order for blocks this size, but be sure
		c = math.Min(c, maxConfidence)
		prev = c
		out.Scores = append(out.Scores, round4(b.sum/b.n))
		out.Confidences = append(out.Confidences, round4(c))
	}
	return out
}

// block is one step of an isotonic fit: n cases, hits of them right, sum
// of their scores.
type block struct{ n, hits, sum float64 }

func (b block) rate() float64 { return b.hits / b.n }

// pool merges the last block into its predecessors while they violate the
// order.
func pool(blocks []block) []block {
	for len(blocks) > 1 {
		last, prev := blocks[len(blocks)-1], blocks[len(blocks)-2]
		if prev.rate() <= last.rate() {
			break
		}
		blocks = append(blocks[:len(blocks)-2], block{n: last.n + prev.n, hits: last.hits + prev.hits, sum: last.sum + prev.sum})
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
// abstaining acceptable): the threshold in [0.15, 0.55] with the most right
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
			abstain := o.NoHypothesis || o.Confidence < th
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
