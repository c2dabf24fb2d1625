// Command nova-eval runs Nova's triage engine over the evaluation corpus and
// prints how it compares with naive baselines.
//
//	go run ./cmd/nova-eval [-cases triage/testdata/cases] [-split dev|holdout] [-v]
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
	flag.Parse()
	var err error
	if *explain != "" {
		err = explainCase(os.Stdout, *dir, *explain)
	} else {
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
	fmt.Fprintf(w, "sources:    %s\n", counts(r.BySource))
	byCat := map[string]int{}
	for c, n := range r.ByCategory {
		byCat[string(c)] = n
	}
	fmt.Fprintf(w, "categories: %s\n\n", counts(byCat))
	table(w, r)
	if split == "" {
		for _, s := range []string{"dev", "holdout"} {
			sub := only(cases, s)
			if len(sub) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s split (%d cases):\n", s, len(sub))
			table(w, triage.Evaluate(sub, triage.Options{}))
		}
	}
	fmt.Fprintf(w, "\nwrong but confident: top hypothesis at confidence >= %.2f, not abstained, wrong category.\n", triage.ConfidentAt)
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
