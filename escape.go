package nova

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Outside text is everything Nova shows but did not write: incident titles,
// alert and change summaries, change links, people's display names, action
// parameters and results, a language model's phrasing. Slack parses &, <
// and > in mrkdwn (a title holding <!channel> pings the whole channel, and
// <https://evil.example|Official rollback doc> is a link whose label the
// attacker chose), and a PagerDuty note may be shown by a renderer that
// understands HTML. This file is the one place that makes such text inert;
// every renderer of Slack messages and PagerDuty notes goes through it.

// Mrkdwn is Slack mrkdwn that Nova vouches for: the markup in it is Nova's
// own, and every piece of outside text in it went through Escape or
// EscapeLine. Build it with those, MrkdwnLink, Code, MentionUser, MentionGroup,
// Mrkdwnf and JoinMrkdwn. Converting a string to Mrkdwn directly is only
// right for text Nova wrote itself (a constant, or text assembled from
// Mrkdwn pieces).
type Mrkdwn string

// String returns the mrkdwn source.
func (m Mrkdwn) String() string { return string(m) }

// mrkdwnEscaper encodes Slack's three control characters, and only them:
// Slack shows any other entity literally.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes outside text safe to place in mrkdwn: Slack shows it exactly
// as written and never reads a mention, a link or a date from it. Line
// breaks are kept (as \n); other control characters and invisible
// formatting characters are removed (see PlainText).
func Escape(s string) Mrkdwn { return Mrkdwn(mrkdwnEscaper.Replace(clean(s, true))) }

// EscapeLine is Escape for text shown inline (a title, a name, a
// summary): line breaks become spaces, so outside text cannot start a line
// of its own and pass it off as part of Nova's message.
func EscapeLine(s string) Mrkdwn { return Mrkdwn(mrkdwnEscaper.Replace(clean(s, false))) }

// Code shows outside text as inline code. Backticks in it, which would end
// the code span, are shown as a look-alike (ˋ).
func Code(s string) Mrkdwn {
	s = strings.ReplaceAll(clean(s, false), "`", "ˋ")
	if s == "" {
		return ""
	}
	return Mrkdwn("`" + mrkdwnEscaper.Replace(s) + "`")
}

// PlainText is outside text for a place Slack does not parse (plain_text
// objects: headers, button labels, confirmation dialogs): valid UTF-8 on
// one line, without control characters or the invisible formatting
// characters that can reorder or hide text (bidirectional overrides and
// isolates, zero-width spaces, Unicode tag characters).
func PlainText(s string) string { return clean(s, false) }

// NoteText is outside text for a PagerDuty note, which PagerDuty shows as
// plain text (linking bare URLs). It is PlainText with < and > shown as
// look-alikes (‹ ›), so that no renderer can read an HTML element or a
// Slack-style <url|label> link from it, whatever it does with the note.
func NoteText(s string) string { return noteEscaper.Replace(clean(s, false)) }

var noteEscaper = strings.NewReplacer("<", "‹", ">", "›")

// clean returns s as valid UTF-8 without control characters (C0, DEL,
// C1) and format characters (Unicode category Cf: bidirectional controls,
// zero-width spaces, tags, ...), except the zero-width joiner and
// non-joiner that emoji sequences and several scripts need. Line breaks
// (CR, LF, CRLF, NEL, U+2028, U+2029) become \n when keepLines is set and a
// space otherwise; tabs become spaces.
func clean(s string, keepLines bool) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			// CRLF is one break: the \n that follows writes it.
		case r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			if keepLines {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d':
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsCleaning(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r >= 0x80 && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029') {
			return true
		}
	}
	return false
}

// maxURL bounds a URL Nova links to; longer ones are shown as text only.
const maxURL = 2048

// urlEscaper percent-encodes what url.URL.String leaves in a query or
// fragment but would end or split a Slack link (<url|label>) or an HTML
// attribute.
var urlEscaper = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", `"`, "%22", "'", "%27", "`", "%60", " ", "%20", `\`, "%5C")

// asciiHost is a host name, an IPv4 address or a bracketed IPv6 address,
// with an optional port. Non-ASCII hosts are refused: an internationalised
// name can imitate another one letter for letter.
var asciiHost = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// SafeURL validates a URL from outside before Nova links to it: http or
// https, an ASCII host, no user:password@ part (https://pagerduty.com@evil
// goes to evil), no whitespace or control characters, at most 2048 bytes.
// It returns the URL in canonical form with the characters that could end
// a link percent-encoded.
func SafeURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURL || !utf8.ValidString(raw) {
		return "", false
	}
	for _, r := range raw {
		if r <= ' ' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil || !asciiHost.MatchString(u.Host) {
		return "", false
	}
	s := urlEscaper.Replace(u.String())
	if len(s) > maxURL {
		return "", false
	}
	return s, true
}

// linkLabel is escaped outside text that cannot end a link label early.
func linkLabel(s string) string {
	return strings.ReplaceAll(string(EscapeLine(s)), "|", "¦")
}

// MrkdwnLink is Nova's own link: <url|label> when rawURL passes SafeURL, and the
// label alone (escaped) when it does not. The label is outside text.
func MrkdwnLink(rawURL, label string) Mrkdwn {
	label = strings.TrimSpace(label)
	u, ok := SafeURL(rawURL)
	if !ok {
		return EscapeLine(label)
	}
	u = strings.ReplaceAll(u, "&", "&amp;") // Slack decodes entities in link targets too
	if label == "" {
		return Mrkdwn("<" + u + ">")
	}
	return Mrkdwn("<" + u + "|" + linkLabel(label) + ">")
}

// slackID is a Slack user, bot, group or channel id.
var slackID = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)

// MentionUser mentions a Slack user by id (U… or W…). Anything else is
// shown as escaped text, never as a mention.
func MentionUser(id string) Mrkdwn {
	if slackID.MatchString(id) && (id[0] == 'U' || id[0] == 'W') {
		return Mrkdwn("<@" + id + ">")
	}
	return EscapeLine(id)
}

// MentionGroup mentions a Slack user group by id (S…). Anything else is
// shown as escaped text, never as a mention.
func MentionGroup(id string) Mrkdwn {
	if slackID.MatchString(id) && id[0] == 'S' {
		return Mrkdwn("<!subteam^" + id + ">")
	}
	return EscapeLine(id)
}

// keptMention is a user or user-group mention as Nova writes them.
var keptMention = regexp.MustCompile(`^(?:<@[UW][A-Z0-9]{2,32}>|<!subteam\^S[A-Z0-9]{2,32}>)`)

// EscapeExceptMentions is Escape for Nova's own error messages, which name
// approvers as <@U…> and <!subteam^S…> and may quote outside text: those
// two mention forms are kept, everything else is escaped (so <!channel>,
// <!here>, links and HTML never survive). Use it only for an ephemeral
// reply, which notifies nobody but its reader.
func EscapeExceptMentions(s string) Mrkdwn {
	s = clean(s, true)
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(mrkdwnEscaper.Replace(s))
			return Mrkdwn(b.String())
		}
		b.WriteString(mrkdwnEscaper.Replace(s[:i]))
		if m := keptMention.FindString(s[i:]); m != "" {
			b.WriteString(m)
			s = s[i+len(m):]
			continue
		}
		b.WriteString("&lt;")
		s = s[i+1:]
	}
}

// Mrkdwnf formats Nova's own mrkdwn. format is Nova's (a constant); every
// argument is outside text and is escaped (Escape) unless it is already
// Mrkdwn. Numbers and booleans are formatted as usual.
func Mrkdwnf(format string, args ...any) Mrkdwn {
	safe := make([]any, len(args))
	for i, a := range args {
		safe[i] = mrkdwnArg(a)
	}
	return Mrkdwn(fmt.Sprintf(format, safe...))
}

func mrkdwnArg(a any) any {
	switch v := a.(type) {
	case nil:
		return v
	case Mrkdwn:
		return string(v)
	case string:
		return string(Escape(v))
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = string(Escape(s))
		}
		return out
	case error:
		return string(Escape(v.Error()))
	case fmt.Stringer:
		return string(Escape(v.String()))
	}
	if rv := reflect.ValueOf(a); rv.Kind() == reflect.String {
		return string(Escape(rv.String()))
	}
	return a
}

// JoinMrkdwn joins mrkdwn pieces with a separator of Nova's own.
func JoinMrkdwn(parts []Mrkdwn, sep Mrkdwn) Mrkdwn {
	ss := make([]string, len(parts))
	for i, p := range parts {
		ss[i] = string(p)
	}
	return Mrkdwn(strings.Join(ss, string(sep)))
}

// entityDecoder undoes Escape for display as plain text.
var entityDecoder = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// Plain is what a reader sees of m, as plain text for places Slack does not
// parse (a header): links become their labels (or their URLs), mentions
// "@id", and entities the characters they stand for.
func (m Mrkdwn) Plain() string {
	s := string(m)
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(entityDecoder.Replace(s))
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			b.WriteString(entityDecoder.Replace(s))
			break
		}
		b.WriteString(entityDecoder.Replace(s[:i]))
		b.WriteString(entityDecoder.Replace(plainEntity(s[i+1 : i+j])))
		s = s[i+j+1:]
	}
	return b.String()
}

// plainEntity is the visible text of one <...> control sequence.
func plainEntity(inner string) string {
	target, label, hasLabel := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(target, "@"):
		if hasLabel {
			return "@" + label
		}
		return target
	case strings.HasPrefix(target, "#"):
		if hasLabel {
			return "#" + label
		}
		return target
	case strings.HasPrefix(target, "!subteam^"):
		if hasLabel {
			return label
		}
		return "@" + strings.TrimPrefix(target, "!subteam^")
	case strings.HasPrefix(target, "!"):
		if hasLabel {
			return label
		}
		return "@" + strings.TrimPrefix(target, "!")
	case hasLabel:
		return label
	}
	return target
}
