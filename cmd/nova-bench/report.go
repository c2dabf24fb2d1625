package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Verdicts of a summary row.
const (
	verdictMet     = "yes"
	verdictMissed  = "**NO**"
	verdictNone    = "—"
	verdictSkipped = "skipped"
	verdictError   = "**ERROR**"
)

// met turns a comparison into a verdict.
func met(ok bool) string {
	if ok {
		return verdictMet
	}
	return verdictMissed
}

// row is one line of the summary table.
type row struct{ benchmark, figure, target, met string }

// summary collects the rows of a run and prints them as one markdown table.
type summary struct {
	rows    []row
	started time.Time
	elapsed time.Duration
	command string
	machine string
}

func (s *summary) add(benchmark, figure, target, verdict string) {
	s.rows = append(s.rows, row{benchmark, figure, target, verdict})
}

// markdown renders the table with how it was produced. The machine is
// shared and noisy: figures are from one run, medians and percentiles.
func (s *summary) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# nova-bench results\n\n")
	fmt.Fprintf(&b, "Command: `%s`  \n", s.command)
	fmt.Fprintf(&b, "Started %s, took %s, on %s (one run on a shared machine: medians and percentiles, not means).\n\n",
		s.started.Format(time.RFC3339), s.elapsed.Round(time.Second), s.machine)
	b.WriteString("| benchmark | figure | target | met |\n| --- | --- | --- | --- |\n")
	for _, r := range s.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.benchmark), cell(r.figure), cell(r.target), r.met)
	}
	return b.String()
}

func cell(s string) string {
	if s == "" {
		return verdictNone
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s", s.markdown())
}

func (s *summary) write(path string) error {
	return os.WriteFile(path, []byte(s.markdown()), 0o644)
}

// latencies summarises a sample of durations.
type latencies struct {
	n                  int
	p50, p90, p99, max time.Duration
}

// summarise computes nearest-rank percentiles; it sorts a copy.
func summarise(sample []time.Duration) latencies {
	if len(sample) == 0 {
		return latencies{}
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	return latencies{n: len(s), p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[len(s)-1]}
}

// percentile is the nearest-rank percentile of a sorted sample.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// ms formats a duration in milliseconds, with precision where it matters.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

// secs formats a duration in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// micro formats a small duration in microseconds.
func micro(d time.Duration) string {
	if d < time.Microsecond {
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	}
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// pct formats a share.
func pct(part, whole int) string {
	if whole == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

// share formats a/b as a percentage.
func share(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*a/b)
}

// ratio formats a/b as "0.42×".
func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// table prints an aligned markdown table for a section.
func table(w io.Writer, header []string, rows [][]string) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			fmt.Fprintf(&b, " %s%s |", c, strings.Repeat(" ", width[i]-len([]rune(c))))
		}
		fmt.Fprintln(w, b.String())
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
}

// firstLine keeps error text short enough for a table cell.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	return s
}
