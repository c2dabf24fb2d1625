// Command nova-eval runs Nova's triage engine over the evaluation corpus and
// prints how it compares with naive baselines, for the development and the
// held-out split, with a reliability table of its confidence.
//
//	go run ./cmd/nova-eval [-cases triage/testdata/cases] [-split dev|holdout] [-v]
//	go run ./cmd/nova-eval -fit triage/calibration_data.go
//
// -fit refits the confidence calibration and the abstention threshold on the
// development split only, and writes them as Go source.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/novasre/nova"
	"github.com/novasre/nova/triage"
)

func main() {
	dir := flag.String("cases", "triage/testdata/cases", "directory of case files (*.json)")
	split := flag.String("split", "", "evaluate only cases of this split (dev or holdout)")
	verbose := flag.Bool("v", false, "list the cases Nova gets wrong")
	explain := flag.String("explain", "", "print Nova's full result and change ranking for one case id")
	fit := flag.String("fit", "", "refit the calibration on the dev split and write it to this Go file")
	flag.Parse()
	var err error
	switch {
	case *fit != "":
		err = writeFit(os.Stdout, *dir, *fit)
	case *explain != "":
		err = explainCase(os.Stdout, *dir, *explain)
	default:
		err = run(os.Stdout, *dir, *split, *verbose)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nova-eval:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, dir, split string, verbose bool) error {
	cases, err := load(dir)
	if err != nil {
		return err
	}
	if split != "" {
		cases = only(cases, split)
	}
	if len(cases) == 0 {
		return fmt.Errorf("no cases in %s", dir)
	}
	r := triage.Evaluate(cases, triage.Options{})
	fmt.Fprintf(w, "Nova triage evaluation: %d cases from %s\n", r.Cases, dir)
	fmt.Fprintf(w, "sources:    %d datasets and publishers, %d postmortems\n", len(r.BySource), sources(cases))
	byCat := map[string]int{}
	for c, n := range r.ByCategory {
		byCat[string(c)] = n
	}
	fmt.Fprintf(w, "categories: %s\n", counts(byCat))
	splits := []string{"holdout", "dev"}
	if split != "" {
		splits = []string{split}
	}
	for _, s := range splits {
		sub := only(cases, s)
		if len(sub) == 0 {
			continue
		}
		name := map[string]string{"dev": "development split (tuned and calibrated on)", "holdout": "held-out split (never tuned on)"}[s]
		fmt.Fprintf(w, "\n%s: %d cases, %d postmortems\n", firstNonEmpty(name, s), len(sub), sources(sub))
		sr := triage.Evaluate(sub, triage.Options{})
		table(w, sr)
		fmt.Fprintln(w)
		reliabilityTable(w, sr)
		fmt.Fprintln(w)
		signalTable(w, sr)
	}
	if split == "" {
		fmt.Fprintf(w, "\nall %d cases:\n", len(cases))
		table(w, r)
	}
	fmt.Fprintf(w, "\nwrong but confident: top hypothesis at confidence >= %.2f, not abstained, and wrong (wrong category, or a change\n"+
		"hypothesis that cites the wrong change first). Abstention recall and precision count cases marked abstain_ok.\n"+
		"Abstention threshold %.2f (calibrated confidence), chosen on the development split.\n", triage.ConfidentAt, triage.DefaultAbstainBelow)
	if verbose {
		failures(w, r.Outcomes)
	}
	return nil
}

// explainCase prints the result for one case next to its answer.
func explainCase(w io.Writer, dir, id string) error {
	cases, err := load(dir)
	if err != nil {
		return err
	}
	for _, c := range cases {
		if c.ID != id {
			continue
		}
		res := triage.Analyze(c.Input, triage.Options{}, c.Now)
		fmt.Fprintf(w, "%s (%s %s): want %s", c.ID, c.Source.Dataset, c.Source.OriginalID, c.Answer.Category)
		if c.Answer.CulpritChange != "" {
			fmt.Fprintf(w, ", culprit %s", c.Answer.CulpritChange)
		}
		fmt.Fprintf(w, "; abstained=%v\n", res.Abstained)
		for _, h := range res.Hypotheses {
			fmt.Fprintf(w, "\n#%d %s %.3f  %s\n", h.Rank, h.Category, h.Confidence, h.Summary)
			for _, e := range h.Evidence {
				fmt.Fprintf(w, "    [%s %s] %s\n", e.Kind, e.ID, e.Summary)
			}
			for _, s := range h.Suggestions {
				fmt.Fprintf(w, "    -> %s (%s, destructive=%v)\n", s.Title, s.ID, s.Destructive)
			}
		}
		fmt.Fprintln(w, "\nchanges, best first:")
		for _, sc := range triage.RankChanges(c.Input, triage.Options{}, c.Now) {
			fmt.Fprintf(w, "  %.3f  prox %.2f  %-9s %-20s %s %v\n", sc.Score, sc.Proximity, sc.Age, sc.Relation, sc.Change.Summary, sc.Shared)
		}
		fmt.Fprintln(w, "\npast incidents, most similar first:")
		for _, sp := range triage.RankPast(c.Input, triage.Options{}, c.Now) {
			fmt.Fprintf(w, "  %.3f  %-14s %s (pd %.1f)\n", sp.Similarity, sp.Category, sp.Past.Title, sp.Past.Score)
		}
		return nil
	}
	return fmt.Errorf("no case %q in %s", id, dir)
}

// load reads every *.json file in dir as one case, in name order.
func load(dir string) ([]triage.Case, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	cases := make([]triage.Case, 0, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		c, err := triage.ParseCase(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(n), err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

func only(cases []triage.Case, split string) []triage.Case {
	var out []triage.Case
	for _, c := range cases {
		if c.Split == split {
			out = append(out, c)
		}
	}
	return out
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// table prints one row per metric and one column per system.
func table(w io.Writer, r triage.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	header := "metric"
	for _, s := range r.Systems {
		header += "\t" + s.Name
	}
	fmt.Fprintln(tw, header)
	rows := []struct {
		name string
		get  func(triage.Scores) string
	}{
		{"category top-1", func(s triage.Scores) string { return s.Top1.String() }},
		{"category top-3", func(s triage.Scores) string { return s.Top3.String() }},
		{"culprit change ranked first", func(s triage.Scores) string { return s.CulpritFirst.String() }},
		{"culprit change mean rank", func(s triage.Scores) string {
			if s.CulpritFirst.Of == 0 {
				return "n/a"
			}
			return fmt.Sprintf("%.2f", s.CulpritMeanRank)
		}},
		{"past incident hit@3", func(s triage.Scores) string { return s.PastHit3.String() }},
		{"abstained", func(s triage.Scores) string { return s.Abstained.String() }},
		{"abstained on answerable cases", func(s triage.Scores) string { return s.AbstainedWrongly.String() }},
		{"  of which the held-back answer was wrong", func(s triage.Scores) string { return s.AbstainedSparedWrong.String() }},
		{"abstention recall (abstain_ok cases)", func(s triage.Scores) string { return s.AbstainRecall.String() }},
		{"abstention precision", func(s triage.Scores) string { return s.AbstainPrecision.String() }},
		{"wrong but confident", func(s triage.Scores) string { return s.WrongConfident.String() }},
		{"catalog fix suggested (top)", func(s triage.Scores) string { return s.FixSuggested.String() }},
	}
	for _, row := range rows {
		line := row.name
		for _, s := range r.Systems {
			line += "\t" + row.get(s)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

// failures lists the cases whose top-1 category or culprit Nova got wrong.
func failures(w io.Writer, outcomes []triage.Outcome) {
	fmt.Fprintln(w, "\ncases Nova gets wrong (top-1 category or culprit):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tsplit\twant\tgot\tconf\tabstained\tculprit rank\tsummary")
	for _, o := range outcomes {
		if o.Top1 && (o.CulpritRank == 0 || o.CulpritFirst) {
			continue
		}
		got := nova.Category("-")
		if o.Got != "" {
			got = o.Got
		}
		rank := "-"
		if o.CulpritRank > 0 {
			rank = fmt.Sprint(o.CulpritRank)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%v\t%s\t%s\n", o.ID, o.Split, o.Want, got, o.Confidence, o.Abstained, rank, o.Summary)
	}
	tw.Flush()
}

// reliabilityTable prints Nova's confidence bins: how many top hypotheses
// fell in each and how often they were right.
func reliabilityTable(w io.Writer, r triage.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "confidence\tcases\tright\tmean confidence")
	for _, b := range r.Reliability {
		hi := b.High
		if hi > 1 {
			hi = 1
		}
		mean := "-"
		if b.Right.Of > 0 {
			mean = fmt.Sprintf("%.2f", b.MeanConfidence)
		}
		fmt.Fprintf(tw, "%.1f-%.1f\t%d\t%s\t%s\n", b.Low, hi, b.Right.Of, b.Right, mean)
	}
	tw.Flush()
}

// signalTable prints where each abstention signal fired: on cases where
// abstaining is right, or on answerable ones Nova got right or wrong.
func signalTable(w io.Writer, r triage.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "abstention signal	abstain_ok	answerable, right	answerable, wrong	precision if abstaining on it")
	for _, t := range r.Signals {
		fired := triage.Ratio{Hits: t.OK, Of: t.OK + t.Right + t.Wrong}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", t.Signal, t.OK, t.Right, t.Wrong, fired)
	}
	tw.Flush()
}

// sources counts the distinct postmortems (dataset and original id) cases
// come from.
func sources(cases []triage.Case) int {
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Source.Dataset+"\x00"+c.Source.OriginalID] = true
	}
	return len(seen)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// writeFit refits the calibration and the abstention threshold on the dev
// split and writes them to path as Go source.
func writeFit(w io.Writer, dir, path string) error {
	cases, err := load(dir)
	if err != nil {
		return err
	}
	dev := only(cases, "dev")
	if len(dev) == 0 {
		return fmt.Errorf("no dev cases in %s", dir)
	}
	fit := triage.FitCalibrationCV(dev, triage.Options{})
	src, err := triage.CalibrationSource(fit.Calibration, fit.Abstain.Threshold)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "fitted on %d dev cases: %d knots, confident step raised by %.2f; abstain below %.2f\n"+
		"%d-fold cross-validated by postmortem on dev: wrong but confident %s, right %s, abstention recall %s, precision %s\nwrote %s\n",
		len(dev), len(fit.Calibration.Scores), fit.Margin, fit.Abstain.Threshold, fit.Folds,
		fit.WrongConfident, fit.Abstain.Right, fit.Abstain.Recall, fit.Abstain.Precision, path)
	return nil
}
