package postmortem

import (
	"slices"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Answers to "Was Nova's hypothesis right?" (Yes / Partly / No in Slack).
const (
	AnswerRight  = "right"
	AnswerPartly = "partly"
	AnswerWrong  = "wrong"
)

// Answer is one person's answer to whether Nova's hypothesis was right.
type Answer struct {
	UserID string    `json:"user_id"`
	Answer string    `json:"answer"`
	At     time.Time `json:"at"`
}

// ParseAnswer accepts right/yes, partly and wrong/no.
func ParseAnswer(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case AnswerRight, "yes":
		return AnswerRight, nil
	case AnswerPartly, "partially":
		return AnswerPartly, nil
	case AnswerWrong, "no":
		return AnswerWrong, nil
	}
	return "", nova.Errorf(nova.EINVALID, "unknown answer %q: use yes, partly or no", s)
}

// RecordAnswer sets user's answer on the draft, replacing the one they gave
// before, and returns that earlier answer ("" when there was none). A draft
// of an incident where Nova abstained takes no answer: there is no
// hypothesis to judge.
func RecordAnswer(d Draft, user, answer string, now time.Time) (Draft, string, error) {
	answer, err := ParseAnswer(answer)
	if err != nil {
		return d, "", err
	}
	if user == "" {
		return d, "", nova.Errorf(nova.EINVALID, "an answer needs the person who gives it")
	}
	if d.Hypothesis.Top == nil {
		return d, "", nova.Errorf(nova.ECONFLICT, "Nova posted no hypothesis for %s, so there is nothing to judge", d.IncidentID)
	}
	before := ""
	kept := make([]Answer, 0, len(d.Answers)+1)
	for _, a := range d.Answers {
		if a.UserID == user {
			before = a.Answer
			continue
		}
		kept = append(kept, a)
	}
	d.Answers = append(kept, Answer{UserID: user, Answer: answer, At: now.UTC()})
	return d, before, nil
}

// Tally counts answers by kind.
func Tally(answers []Answer) (right, partly, wrong int) {
	for _, a := range answers {
		switch a.Answer {
		case AnswerRight:
			right++
		case AnswerPartly:
			partly++
		case AnswerWrong:
			wrong++
		}
	}
	return right, partly, wrong
}

func cloneAnswers(a []Answer) []Answer { return slices.Clone(a) }
