package nova

import (
	"errors"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want, line string }{
		{"<!channel> a & b", "&lt;!channel&gt; a &amp; b", "&lt;!channel&gt; a &amp; b"},
		{"&lt;!here&gt;", "&amp;lt;!here&amp;gt;", "&amp;lt;!here&amp;gt;"},
		{"one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour", "one two three four"},
		{"tab\there", "tab here", "tab here"},
		{"nul\x00bell\x07esc\x1b[0m del\x7f c1\u0085", "nulbellesc[0m del c1\n", "nulbellesc[0m del c1 "},
		{"\u202eexe.txt\u202c \u2066x\u2069 \u200bz\ufeff \U000E0041", "exe.txt x z ", "exe.txt x z "},
		{"👩\u200d💻 می\u200cخواهم", "👩\u200d💻 می\u200cخواهم", "👩\u200d💻 می\u200cخواهم"}, // joiners are kept
		{"\xff bad", "\uFFFD bad", "\uFFFD bad"},
		{"*bold* `code` _it_", "*bold* `code` _it_", "*bold* `code` _it_"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); string(got) != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := EscapeLine(tt.in); string(got) != tt.line {
			t.Errorf("EscapeLine(%q) = %q, want %q", tt.in, got, tt.line)
		}
	}
}

func TestNoteAndPlainText(t *testing.T) {
	in := "<script>alert(1)</script> & <https://evil.example|doc>\n\u202enext"
	if got, want := NoteText(in), "‹script›alert(1)‹/script› & ‹https://evil.example|doc› next"; got != want {
		t.Errorf("NoteText = %q, want %q", got, want)
	}
	if got, want := PlainText(in), "<script>alert(1)</script> & <https://evil.example|doc> next"; got != want {
		t.Errorf("PlainText = %q, want %q", got, want)
	}
}

func TestSafeURL(t *testing.T) {
	ok := map[string]string{
		"https://ci.example.com/deploys/981":        "https://ci.example.com/deploys/981",
		"HTTP://Example.com/a?b=1&c=2#frag":         "http://Example.com/a?b=1&c=2#frag",
		"https://x.example/a?q=a|b>c<d":             "https://x.example/a?q=a%7Cb%3Ec%3Cd",
		"https://x.example/p|q":                     "https://x.example/p%7Cq",
		"http://10.0.0.1:8080/x":                    "http://10.0.0.1:8080/x",
		"https://[2001:db8::1]/x":                   "https://[2001:db8::1]/x",
		"  https://trimmed.example/  ":              "https://trimmed.example/",
		"https://x.example/it's/\"q\"/`b`/\\":       "https://x.example/it%27s/%22q%22/%60b%60/%5C",
		"https://x.example/caf%C3%A9?q=%E2%80%AE":   "https://x.example/caf%C3%A9?q=%E2%80%AE",
		"https://x.example/café":                    "https://x.example/caf%C3%A9",
		"https://acme.pagerduty.com/incidents/Q1AB": "https://acme.pagerduty.com/incidents/Q1AB",
	}
	for in, want := range ok {
		if got, valid := SafeURL(in); !valid || got != want {
			t.Errorf("SafeURL(%q) = %q, %v; want %q", in, got, valid, want)
		}
	}
	for _, in := range []string{
		"", "javascript:alert(1)", "data:text/html,<script>", "mailto:a@b.example", "ftp://x.example/",
		"https://pagerduty.com@evil.example/", "https://user:pw@x.example/", "//x.example/a", "/relative",
		"https://evil.example|Official rollback doc", "https://x.example/a b", "https://x.example/\u202etxt",
		"https://x.example/\nnext", "https://exаmple.com/", // Cyrillic а
		"https:///nohost", "https://" + strings.Repeat("a", 2100) + ".example/",
	} {
		if got, valid := SafeURL(in); valid {
			t.Errorf("SafeURL(%q) accepted as %q", in, got)
		}
	}
}

func TestMrkdwnLinkAndMentions(t *testing.T) {
	tests := []struct {
		got  Mrkdwn
		want string
	}{
		{MrkdwnLink("https://x.example/a?b=1&c=2", "Deploy <v2> | prod"), "<https://x.example/a?b=1&amp;c=2|Deploy &lt;v2&gt; ¦ prod>"},
		{MrkdwnLink("https://evil.example|Official", "Official rollback doc"), "Official rollback doc"},
		{MrkdwnLink("javascript:alert(1)", "<!channel>"), "&lt;!channel&gt;"},
		{MrkdwnLink("https://x.example/", ""), "<https://x.example/>"},
		{MentionUser("U0ALICE"), "<@U0ALICE>"},
		{MentionUser("W0BOSS"), "<@W0BOSS>"},
		{MentionUser("U0A> <!channel"), "U0A&gt; &lt;!channel"},
		{MentionUser("S0ONCALL"), "S0ONCALL"},
		{MentionGroup("S0ONCALL"), "<!subteam^S0ONCALL>"},
		{MentionGroup("U0ALICE"), "U0ALICE"},
		{Code("a`b <c>"), "`aˋb &lt;c&gt;`"},
		{Code(""), ""},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "<!here>" }

func TestMrkdwnf(t *testing.T) {
	type category string
	got := Mrkdwnf("*%s* by %s: %s %s %v %d%% %.1f %q %s %v", "<!channel>", MentionUser("U0ALICE"), category("<x>"),
		stringer{}, errors.New("a<b"), 71, 0.25, "q<", []string{"<a>", "b"}, nil)
	want := "*&lt;!channel&gt;* by <@U0ALICE>: &lt;x&gt; &lt;!here&gt; a&lt;b 71% 0.2 \"q&lt;\" [&lt;a&gt; b] <nil>"
	if string(got) != want {
		t.Errorf("Mrkdwnf = %q\nwant        %q", got, want)
	}
	// A format verb never lets an argument's markup through.
	if got := Mrkdwnf("%v|%x", "<!here>", "<"); strings.Contains(string(got), "<!") {
		t.Errorf("Mrkdwnf = %q", got)
	}
}

func TestMrkdwnPlain(t *testing.T) {
	m := "Deploy " + MrkdwnLink("https://x.example/?a=1&b=2", "v2 & <beta>") + " by " + MentionUser("U0ALICE") +
		" for " + MentionGroup("S0ONCALL") + ": " + Escape("<!channel> &amp;") + " <https://y.example/>"
	want := "Deploy v2 & <beta> by @U0ALICE for @S0ONCALL: <!channel> &amp; https://y.example/"
	if got := m.Plain(); got != want {
		t.Errorf("Plain = %q, want %q", got, want)
	}
}

// FuzzEscape checks the property every renderer relies on: escaped text
// holds no < or >, every & starts one of the three entities, and
// decoding gives back the cleaned input.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"<!channel>", "&lt;", "a & b", "\u202e<@U1>", "<https://x|y>", "\xff<", "&amp;amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := string(Escape(s))
		if strings.ContainsAny(e, "<>") {
			t.Fatalf("Escape(%q) = %q keeps a control character", s, e)
		}
		for i := range len(e) {
			if e[i] == '&' && !strings.HasPrefix(e[i:], "&amp;") && !strings.HasPrefix(e[i:], "&lt;") && !strings.HasPrefix(e[i:], "&gt;") {
				t.Fatalf("Escape(%q) = %q has a bare &", s, e)
			}
		}
		if got := Mrkdwn(e).Plain(); got != clean(s, true) {
			t.Fatalf("Plain(Escape(%q)) = %q, want %q", s, got, clean(s, true))
		}
		if n := NoteText(s); strings.ContainsAny(n, "<>") {
			t.Fatalf("NoteText(%q) = %q", s, n)
		}
	})
}

func TestEscapeExceptMentions(t *testing.T) {
	in := "only <@U0ALICE> or members of <!subteam^S0ONCALL> may; you typed \"<!channel> <@U0A|x> <https://e.example|doc> <@u1> <b>\" & more"
	want := "only <@U0ALICE> or members of <!subteam^S0ONCALL> may; you typed \"&lt;!channel&gt; &lt;@U0A|x&gt; &lt;https://e.example|doc&gt; &lt;@u1&gt; &lt;b&gt;\" &amp; more"
	if got := EscapeExceptMentions(in); string(got) != want {
		t.Errorf("EscapeExceptMentions =\n%q\nwant\n%q", got, want)
	}
}
