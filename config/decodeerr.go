package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a type mismatch as "line N: cannot unmarshal !!str `abcdefg...`
// into T", quoting the first characters of the value. The value may be a
// secret (a token pasted where a list or a section belongs), so decoding
// errors are rewritten to name the field's path and the types involved, and
// never the value.

var (
	errLinePattern   = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownFieldText = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// nodeRef is where a node of the decoded document sits.
type nodeRef struct {
	line int
	path string
	tag  string
	key  bool
}

// indexNodes lists every node of the tree with its dotted field path.
func indexNodes(n *yaml.Node, path string, out *[]nodeRef) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			indexNodes(c, path, out)
		}
		return
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			p := join(path, k.Value)
			*out = append(*out, nodeRef{line: k.Line, path: p, tag: k.ShortTag(), key: true})
			indexNodes(n.Content[i+1], p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			indexNodes(c, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
	*out = append(*out, nodeRef{line: n.Line, path: path, tag: n.ShortTag()})
}

// decodeProblems turns a decoding error of the document doc into problems
// naming field paths; it reports ok=false for errors it does not know,
// which are then returned without any quoted value.
func decodeProblems(err error, doc []byte) ([]string, bool) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return nil, false
	}
	var root yaml.Node
	var refs []nodeRef
	if yaml.Unmarshal(doc, &root) == nil {
		indexNodes(&root, "", &refs)
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		out = append(out, describeDecodeError(e, refs))
	}
	return out, true
}

func describeDecodeError(e string, refs []nodeRef) string {
	line := 0
	msg := e
	if m := errLinePattern.FindStringSubmatch(e); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if rest, ok := strings.CutPrefix(msg, "cannot unmarshal "); ok {
		tag, _, _ := strings.Cut(rest, " ")
		into := ""
		if i := strings.LastIndex(rest, " into "); i >= 0 {
			into = rest[i+len(" into "):]
		}
		return fieldAt(refs, line, tag, false, "") + ": expected " + describeGoType(into) + ", found " + describeTag(tag) + " (value not shown)"
	}
	if m := unknownFieldText.FindStringSubmatch(msg); m != nil {
		return fieldAt(refs, line, "", true, m[1]) + ": unknown field (" + msg + ")"
	}
	// Messages of Nova's own decoders (dates, durations) name no secret, but
	// anything else is passed on without whatever it quotes.
	if strings.Contains(msg, "is not a date") || strings.Contains(msg, "is not a duration") || strings.Contains(msg, "is not a size") {
		return fieldAt(refs, line, "", false, "") + ": " + msg
	}
	if i, j := strings.IndexByte(msg, '`'), strings.LastIndexByte(msg, '`'); i >= 0 && j > i {
		msg = msg[:i] + "(value not shown)" + msg[j+1:]
	}
	return fieldAt(refs, line, "", false, "") + ": " + msg
}

// fieldAt names the field(s) on line: nodes with tag (any when ""), keys
// or values, with the key name when given. Several candidates on one line
// (a flow mapping) are all named.
func fieldAt(refs []nodeRef, line int, tag string, key bool, name string) string {
	var paths []string
	for _, r := range refs {
		if r.line != line || r.key != key || (tag != "" && r.tag != tag) || r.path == "" {
			continue
		}
		if name != "" && !strings.HasSuffix(r.path, name) {
			continue
		}
		if !containsString(paths, r.path) {
			paths = append(paths, r.path)
		}
	}
	if len(paths) == 0 {
		return "line " + strconv.Itoa(line) + " (after ${...} expansion)"
	}
	// A container and a field inside it on the same line: the field is the
	// more specific, and the one at fault.
	var specific []string
	for _, p := range paths {
		inner := false
		for _, q := range paths {
			inner = inner || (q != p && (strings.HasPrefix(q, p+".") || strings.HasPrefix(q, p+"[")))
		}
		if !inner {
			specific = append(specific, p)
		}
	}
	return strings.Join(specific, " or ")
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// describeTag names a YAML node tag for people.
func describeTag(tag string) string {
	switch tag {
	case "!!str":
		return "a string"
	case "!!seq":
		return "a list"
	case "!!map":
		return "a mapping"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "true or false"
	case "!!null":
		return "an empty value"
	case "!!timestamp":
		return "a timestamp"
	}
	return "a value of type " + tag
}

// describeGoType names the Go type yaml tried to fill, in YAML terms.
func describeGoType(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case t == "config.Secret":
		return "a string or a mapping {secret, created}"
	case t == "config.Duration":
		return "a duration"
	case t == "config.Date":
		return "a date"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "config."), strings.HasPrefix(t, "struct"):
		return "a mapping"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	}
	return "a " + t
}
