package triage

import (
	"regexp/syntax"
	"strings"
)

// literalHints returns literals one of which every match of pattern must
// start with (after zero-width assertions such as \b), or nil when the
// pattern does not allow such a prefilter. Matching is then skipped for
// texts that contain none of them: strings.Contains is far cheaper than
// running a 30-way alternation over a few kilobytes of alert text, and most
// signatures match nothing in a given incident.
func literalHints(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	hints, ok := leading(re.Simplify())
	if !ok || len(hints) == 0 {
		return nil
	}
	return hints
}

// leading returns the literals a match of re must begin with.
func leading(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCapture:
		return leading(re.Sub[0])
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			h, ok := leading(sub)
			if !ok {
				return nil, false
			}
			all = append(all, h...)
		}
		return all, true
	case syntax.OpConcat:
		// The parser factors alternations ("heap|high" becomes
		// "h(?:eap|igh)"), so a leading literal is extended by what follows
		// it; otherwise hints would be single letters that filter nothing.
		prefixes := []string{""}
		for _, sub := range re.Sub {
			switch sub.Op {
			case syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpBeginLine, syntax.OpBeginText,
				syntax.OpEndLine, syntax.OpEndText, syntax.OpEmptyMatch:
				continue // zero-width: what follows still starts the match
			}
			if sub.Op == syntax.OpLiteral && sub.Flags&syntax.FoldCase == 0 {
				for i := range prefixes {
					prefixes[i] += string(sub.Rune)
				}
				continue
			}
			if next, ok := leading(sub); ok && len(prefixes)*len(next) <= maxHints {
				var cross []string
				for _, p := range prefixes {
					for _, n := range next {
						cross = append(cross, p+n)
					}
				}
				prefixes = cross
			}
			break
		}
		if prefixes[0] == "" {
			return nil, false
		}
		return prefixes, true
	}
	return nil, false
}

// maxHints bounds the hints of one pattern: past it, scanning for each
// costs more than the regexp they spare.
const maxHints = 64

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
