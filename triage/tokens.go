package triage

import (
	"strings"
	"unicode"
)

// wordText is text reduced for token matching: lower-cased, every run of
// characters other than letters, digits and '_' turned into one space, and
// padded with a space at each end, so that " x509 " finds the whole word
// and "CERT_HAS_EXPIRED", "java.net.UnknownHostException" and "EMFILE" read
// the same whatever surrounds them. Tokens in scripts written without spaces
// (Chinese, Japanese) are found as substrings.
type wordText struct {
	padded string
	words  map[string]bool
}

// newWordText reduces s for matching.
func newWordText(s string) wordText {
	n := normWords(s)
	w := wordText{padded: " " + n + " ", words: make(map[string]bool, len(n)/6+1)}
	for _, f := range strings.Fields(n) {
		w.words[f] = true
	}
	return w
}

// normWords lower-cases s and turns every run of separators into one space.
func normWords(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// tokenSet is a compiled list of tokens: single words are looked up, words
// ending in "*" match as prefixes, phrases match on word boundaries, and
// tokens in scripts without spaces match anywhere.
type tokenSet struct {
	words, prefixes, phrases, unspaced []string
}

func compileTokens(tokens []string) tokenSet {
	var t tokenSet
	for _, tok := range tokens {
		prefix := strings.HasSuffix(tok, "*")
		n := normWords(strings.TrimSuffix(tok, "*"))
		switch {
		case n == "":
		case unspacedScript(n):
			t.unspaced = append(t.unspaced, n)
		case prefix && !strings.Contains(n, " "):
			t.prefixes = append(t.prefixes, n)
		case strings.Contains(n, " "):
			t.phrases = append(t.phrases, " "+n+" ")
		default:
			t.words = append(t.words, n)
		}
	}
	return t
}

// empty reports whether the set has no tokens.
func (t tokenSet) empty() bool {
	return len(t.words)+len(t.prefixes)+len(t.phrases)+len(t.unspaced) == 0
}

// match reports whether any token occurs in w, and which.
func (t tokenSet) match(w wordText) (string, bool) {
	for _, x := range t.words {
		if w.words[x] {
			return x, true
		}
	}
	for _, x := range t.phrases {
		if strings.Contains(w.padded, x) {
			return strings.TrimSpace(x), true
		}
	}
	for _, x := range t.unspaced {
		if strings.Contains(w.padded, x) {
			return x, true
		}
	}
	for _, p := range t.prefixes {
		if !strings.Contains(w.padded, " "+p) {
			continue
		}
		for word := range w.words {
			if strings.HasPrefix(word, p) {
				return word, true
			}
		}
	}
	return "", false
}

// unspacedScript reports whether s uses a script written without spaces
// between words, where whole-word matching means nothing.
func unspacedScript(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai) {
			return true
		}
	}
	return false
}
