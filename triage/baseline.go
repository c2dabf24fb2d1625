package triage

import (
	"sort"

	"github.com/novasre/nova"
)

// evalMostRecent scores the rule "the latest change did it": category
// change, culprit the latest change in the window; no change, no answer.
func evalMostRecent(cases []Case, opts Options) Scores {
	s := Scores{Name: "most recent change"}
	rankSum := 0
	for _, c := range cases {
		v := newView(c.Input, opts, c.Now)
		var byTime []nova.ChangeEvent
		for _, ch := range v.candidateChanges() {
			if v.trigger.Sub(ch.Timestamp) <= v.opts.ChangeWindow {
				byTime = append(byTime, ch)
			}
		}
		sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].Timestamp.After(byTime[j].Timestamp) })
		guessed := len(byTime) > 0
		right := (guessed && c.Answer.Category == nova.CategoryChange) || (!guessed && c.Answer.AbstainOK)
		count(&s.Top1, right)
		count(&s.Top3, right)
		count(&s.Abstained, !guessed)
		if !c.Answer.AbstainOK {
			count(&s.AbstainedWrongly, !guessed)
		} else {
			count(&s.AbstainRecall, !guessed)
		}
		if !guessed {
			count(&s.AbstainPrecision, c.Answer.AbstainOK)
		}
		count(&s.WrongConfident, guessed && (c.Answer.Category != nova.CategoryChange || byTime[0].ID != c.Answer.CulpritChange))
		if id := c.Answer.CulpritChange; id != "" {
			rank := len(c.Input.Changes) + 1
			for i, ch := range byTime {
				if ch.ID == id {
					rank = i + 1
					break
				}
			}
			count(&s.CulpritFirst, rank == 1)
			rankSum += rank
		}
	}
	if s.CulpritFirst.Of > 0 {
		s.CulpritMeanRank = float64(rankSum) / float64(s.CulpritFirst.Of)
	}
	return s
}

// evalMajority scores always answering the corpus's most common categories
// (which it could only know in hindsight: a generous baseline).
func evalMajority(cases []Case, byCategory map[nova.Category]int) Scores {
	s := Scores{Name: "majority category"}
	cats := append([]nova.Category(nil), nova.Categories...)
	sort.SliceStable(cats, func(i, j int) bool { return byCategory[cats[i]] > byCategory[cats[j]] })
	for _, c := range cases {
		count(&s.Top1, c.Answer.Category == cats[0])
		count(&s.Top3, c.Answer.Category == cats[0] || c.Answer.Category == cats[1] || c.Answer.Category == cats[2])
		count(&s.Abstained, false)
		if !c.Answer.AbstainOK {
			count(&s.AbstainedWrongly, false)
		} else {
			count(&s.AbstainRecall, false)
		}
		count(&s.WrongConfident, c.Answer.Category != cats[0])
	}
	return s
}
