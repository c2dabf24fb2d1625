package slack

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// Block Kit limits (reference/slack-api.md §4). Slack refuses a whole
// message that breaks any of them, so Render truncates instead: a shortened
// hypothesis is better than none during an incident.
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxHeaderText    = 150
	maxFields        = 10
	maxFieldText     = 2000
	maxContextText   = 3000
	maxButtons       = 25
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxButtonURL     = 3000
	maxActionID      = 255
	maxConfirmTitle  = 100
	maxConfirmText   = 300
	maxConfirmButton = 30
	// maxFallbackText keeps the notification text under the length Slack
	// recommends for chat.postMessage.
	maxFallbackText = 4000
)

const ellipsis = "…"

// textLen counts characters the way Slack's JavaScript clients do, in
// UTF-16 code units. That is never less than the rune count, so text that
// fits by this measure fits whichever of the two Slack applies.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// prefix returns the longest prefix of s whose textLen is at most max,
// cut at a rune boundary.
func prefix(s string, max int) string {
	if max <= 0 {
		return ""
	}
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > max {
			return s[:i]
		}
	}
	return s
}

// clean makes s valid UTF-8 so that cutting and counting never produce
// garbage from a malformed upstream string.
func clean(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// clipPlain shortens plain text to max characters, ending it with "…"
// when something was cut.
func clipPlain(s string, max int) string {
	s = clean(s)
	if textLen(s) <= max {
		return s
	}
	return strings.TrimRight(prefix(s, max-textLen(ellipsis)), " \t\n") + ellipsis
}

// cut shortens an opaque value (an id, a button value) without adding
// anything: an ellipsis would only make it a different id.
func cut(s string, max int) string { return prefix(clean(s), max) }

// clipMrkdwn shortens mrkdwn to max characters. When something was cut it
// appends "… <moreURL|more>" (or "…" without a valid http(s) URL) and never leaves a
// half link ("<https://…") or half entity ("&am") behind.
func clipMrkdwn(s string, max int, moreURL string) string {
	s = clean(s)
	if textLen(s) <= max {
		return s
	}
	suffix := " " + ellipsis
	if _, ok := nova.SafeURL(moreURL); ok {
		suffix = " " + ellipsis + " " + string(nova.MrkdwnLink(moreURL, "more"))
	}
	if textLen(suffix) > max/2 {
		// An absurd URL would crowd out the text; the ellipsis alone still says "cut".
		suffix = " " + ellipsis
	}
	head := prefix(s, max-textLen(suffix))
	if i := strings.LastIndexByte(head, '<'); i >= 0 && !strings.Contains(head[i:], ">") {
		head = head[:i]
	}
	if i := strings.LastIndexByte(head, '&'); i >= 0 && len(head)-i < 8 && !strings.Contains(head[i:], ";") {
		head = head[:i]
	}
	return strings.TrimRight(head, " \t\n") + suffix
}
