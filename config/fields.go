package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkFields walks the expanded YAML tree against the Config type and
// reports, with the field's path and line, every unknown field (with the
// closest known name when there is one) and every value of the wrong kind.
// It runs before decoding so that problems read as
//
//	store.pth: unknown field (line 3); did you mean path?
//	workers.count: expected an integer, found a string (line 7)
//
// instead of yaml's messages in terms of Go types. A value is never quoted:
// it may be a secret pasted into the wrong field.
func checkFields(root *yaml.Node) []string {
	var p problems
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	walkFields(&p, root, "", reflect.TypeOf(Config{}))
	return p
}

var (
	secretType   = reflect.TypeOf(Secret{})
	unmarshalerT = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

func walkFields(p *problems, n *yaml.Node, path string, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value: the field keeps its default
	}
	switch {
	case t == secretType:
		if n.Kind == yaml.MappingNode {
			walkMapping(p, n, path, map[string]reflect.Type{"secret": reflect.TypeOf(""), "created": reflect.TypeOf(Date{})})
			return
		}
		expectScalar(p, n, path, "a string or a mapping {secret, created}")
	case reflect.PointerTo(t).Implements(unmarshalerT):
		decodeScalar(p, n, path, t)
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.add(path, "expected a mapping, found %s (line %d)", kindName(n), n.Line)
			return
		}
		walkMapping(p, n, path, structFields(t))
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.add(path, "expected a mapping, found %s (line %d)", kindName(n), n.Line)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walkFields(p, n.Content[i+1], join(path, n.Content[i].Value), t.Elem())
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.add(path, "expected a list, found %s (line %d)", kindName(n), n.Line)
			return
		}
		for i, c := range n.Content {
			walkFields(p, c, fmt.Sprintf("%s[%d]", path, i), t.Elem())
		}
	default:
		decodeScalar(p, n, path, t)
	}
}

func walkMapping(p *problems, n *yaml.Node, path string, fields map[string]reflect.Type) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			p.add(f, "set twice (lines %d and %d)", line, k.Line)
			continue
		}
		seen[k.Value] = k.Line
		ft, ok := fields[k.Value]
		if !ok {
			p.add(f, "unknown field (line %d)%s", k.Line, suggest(k.Value, fields))
			continue
		}
		walkFields(p, v, f, ft)
	}
}

// structFields maps a struct's yaml names to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out[name] = sf.Type
	}
	return out
}

// suggest names the closest known field, or lists them all when none is
// close and the list is short.
func suggest(name string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	sort.Strings(known)
	best, bestD := "", 1<<30
	for _, k := range known {
		d := editDistance(strings.ToLower(name), k)
		if d < bestD {
			best, bestD = k, d
		}
	}
	// A typo, a transposition or a missing underscore: at most a third of the name.
	if limit := max(2, len(name)/3); bestD <= limit {
		return "; did you mean " + best + "?"
	}
	return "; known fields: " + strings.Join(known, ", ")
}

// editDistance is the Damerau-Levenshtein distance (optimal string
// alignment), so a transposed pair of letters counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func expectScalar(p *problems, n *yaml.Node, path, what string) {
	if n.Kind != yaml.ScalarNode {
		p.add(path, "expected %s, found %s (line %d)", what, kindName(n), n.Line)
	}
}

// decodeScalar decodes n into a fresh value of t and reports a failure in
// words rather than Go type names, without the value.
func decodeScalar(p *problems, n *yaml.Node, path string, t reflect.Type) {
	if n.Kind != yaml.ScalarNode {
		p.add(path, "expected %s, found %s (line %d)", typeName(t), kindName(n), n.Line)
		return
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		msg := typeErrorText(err)
		// Nova's own decoders (dates, durations, sizes) say what is wrong
		// without quoting more than a date or a duration; yaml's quote the
		// value, so they become a statement of the types.
		if strings.HasPrefix(msg, "cannot unmarshal") || strings.Contains(msg, "`") {
			msg = fmt.Sprintf("expected %s, found %s", typeName(t), kindName(n))
		}
		p.add(path, "%s (line %d)", msg, n.Line)
	}
}

var yamlLinePrefix = regexp.MustCompile(`^line \d+: `)

// typeErrorText strips yaml's wrapping from a decode error.
func typeErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return yamlLinePrefix.ReplaceAllString(te.Errors[0], "")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(Duration{}):
		return "a duration (e.g. 30s, 15m, 2h)"
	case reflect.TypeOf(Date{}):
		return "a date (YYYY-MM-DD)"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return "a " + t.Kind().String()
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return describeTag(n.ShortTag())
	}
	return "an alias"
}
