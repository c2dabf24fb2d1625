package review

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Precision is the helpful share of answered hypotheses, and whether there
// is any answer to measure it on.
func Precision(helpful, wrong int64) (float64, bool) {
	if helpful+wrong <= 0 {
		return 0, false
	}
	return float64(helpful) / float64(helpful+wrong), true
}

// Percent renders a share as a whole percentage (6 of 7 is "86%").
func Percent(share float64) string {
	return fmt.Sprintf("%d%%", int(math.Round(share*100)))
}

// percentBelow renders a share under bar so that it never reads as the bar
// itself ("79.6%", not "80%").
func percentBelow(share, bar float64) string {
	if Percent(share) == Percent(bar) {
		return fmt.Sprintf("%.1f%%", math.Floor(share*1000)/10)
	}
	return Percent(share)
}

// Earned reports whether helpful and wrong answers clear the promotion bar;
// when they do not, why says what is missing, e.g. "7 of 10 needed
// answers; precision 86%" or "precision 70% is below the 80% bar".
func (p Promotion) Earned(helpful, wrong int64) (ok bool, why string) {
	answered := helpful + wrong
	share, measured := Precision(helpful, wrong)
	prec := "no precision yet"
	if measured {
		prec = "precision " + Percent(share)
	}
	if answered < int64(p.MinFeedback) {
		return false, fmt.Sprintf("%d of %d needed answers; %s", answered, p.MinFeedback, prec)
	}
	if measured && share+1e-9 < p.MinPrecision {
		return false, fmt.Sprintf("precision %s is below the %s bar (%d of %d answers helpful)", percentBelow(share, p.MinPrecision), Percent(p.MinPrecision), helpful, answered)
	}
	if !measured {
		return true, "no answers needed"
	}
	return true, fmt.Sprintf("%d answers, %s (bar: %d answers, %s)", answered, prec, p.MinFeedback, Percent(p.MinPrecision))
}

// MaxPeriod bounds how far back a review looks: ten years.
const MaxPeriod = 3650 * 24 * time.Hour

// ParsePeriod parses a review period: whole days ("90d") or a Go duration
// ("2160h"), between one hour and MaxPeriod.
func ParsePeriod(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > int(MaxPeriod/(24*time.Hour)) {
			return 0, fmt.Errorf("period %q is not a number of days (e.g. 90d) up to %dd", s, int(MaxPeriod/(24*time.Hour)))
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("period %q is not a duration: use days (90d) or hours (2160h)", s)
		}
	}
	if d < time.Hour || d > MaxPeriod {
		return 0, fmt.Errorf("period %q must be between 1h and %dd", s, int(MaxPeriod/(24*time.Hour)))
	}
	return d, nil
}
