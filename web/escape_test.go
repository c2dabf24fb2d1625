package web

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostileCorpus is the outside text bot's FuzzOutsideTextStaysText and
// red-team tests use (bot/escape_test.go): Slack markup, HTML, entities,
// control and bidirectional characters. On the pages it must stay text.
var hostileCorpus = []string{
	"<!channel> checkout is down", "<!here>", "<!everyone> <!group>", "ping <@U0MALLORY> and <@W0BOSS|boss>",
	"<!subteam^S0ONCALL> <!subteam^S1|admins>", "<https://evil.example|Official rollback doc>", "<https://evil.example>",
	"<mailto:boss@evil.example|mail the boss>", "<#C0GENERAL>", "<!date^1392734382^{date}|today>",
	"<script>alert(1)</script>", `<img src=x onerror="alert(1)">`, "&lt;!channel&gt; already escaped",
	"&amp;lt;!here&amp;gt;", "a & b < c > d", "<<!channel>>", "<|>", "<https://evil.example|Official rollback doc",
	"line one\n<!channel> line two\r\n> quoted", "nul\x00byte\x07bell\x1b[31mred\x7f\u0085next",
	"\u202eexe.txt\u202c and \u2066isolate\u2069 \u200f", "zero\u200bwidth\ufeffjoiner\u2060", "tag\U000E0041\U000E0042 characters",
	"@here @channel @everyone", "`code` *bold* _it_ ~strike~ ```block```", "https://evil.example/|Official rollback doc",
	"https://pagerduty.com@evil.example/rollback", "javascript:alert(1)", "\xff\xfe invalid UTF-8", "https://ok.example/a|b>c<d",
	`"><svg onload=alert(1)>`, "' onmouseover='alert(1)", "</textarea></title><a href=//evil.example>x</a>",
	"{{.Session.CSRF}}", "<style>body{display:none}</style>", "<!-- comment -->", "<![CDATA[x]]>",
}

// tags finds the tags of a page; outside text in it is escaped, so it
// holds no raw < or >, and whatever an attribute's quoted value holds stays
// inside the quotes.
var (
	tags     = regexp.MustCompile(`<[^>]*>`)
	linkAttr = regexp.MustCompile(`(?i)\s(href|src|on[a-z]+|action|formaction|style)=`)
)

// markup lists the tags and the attributes that link, load or run
// something: only Nova's templates may produce them.
func markup(body string) []string {
	var out []string
	for _, tag := range tags.FindAllString(body, -1) {
		// Drop quoted values: they are text.
		tag = regexp.MustCompile(`"[^"]*"`).ReplaceAllString(tag, `""`)
		name, _, _ := strings.Cut(strings.Trim(tag, "<>/"), " ")
		out = append(out, "<"+name)
		for _, a := range linkAttr.FindAllStringSubmatch(tag, -1) {
			out = append(out, a[1]+"=")
		}
	}
	return out
}

func TestOutsideTextStaysTextOnThePages(t *testing.T) {
	rg, rv := newReviewRig(t, "plain")
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	pages := []string{"/", "/incidents", "/incidents/Q1", "/incidents/Q1/suggestions/s1", "/audit", "/review"}
	baseline := map[string]string{}
	for _, p := range pages {
		baseline[p] = strings.Join(markup(get(t, c, rg.srv.URL+p, 200)), " ")
	}
	for _, text := range hostileCorpus {
		rg.data.set(fixture(text))
		rv.mu.Lock()
		rv.text = text
		rv.mu.Unlock()
		for _, p := range pages {
			body := get(t, c, rg.srv.URL+p, 200)
			if got := strings.Join(markup(body), " "); got != baseline[p] {
				t.Errorf("%s with %q: outside text became markup:\n%s\nwant\n%s", p, text, got, baseline[p])
			}
			if strings.Contains(body, "javascript:") && !strings.Contains(html.UnescapeString(body), "javascript:alert(1)") {
				t.Errorf("%s with %q: a javascript: URL", p, text)
			}
			if p == "/incidents/Q1" && utf8.ValidString(text) && !strings.ContainsAny(text, "\x00\r") &&
				!strings.Contains(html.UnescapeString(body), "checkout-api 5xx "+text) {
				t.Errorf("%s: the title %q is not shown as the text it is", p, text)
			}
			if p == "/review" && utf8.ValidString(text) && !strings.ContainsAny(text, "\x00\r") &&
				!strings.Contains(html.UnescapeString(body), "dash "+text) {
				t.Errorf("%s: the key name %q is not shown as the text it is", p, text)
			}
		}
	}
}

// set replaces d's contents with from's.
func (d *fakeData) set(from *fakeData) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.recs, d.reqs, d.audit, d.services, d.actions = from.recs, from.reqs, from.audit, from.services, from.actions
}
