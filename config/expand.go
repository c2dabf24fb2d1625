package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// refPattern matches ${NAME} and ${file:/path/to/secret}.
var refPattern = regexp.MustCompile(`\$\{([^}]*)\}`)

// Lookup resolves environment variables; tests replace it.
type Lookup func(name string) (string, bool)

// expander replaces ${VAR} and ${file:PATH} in every scalar of the tree,
// recording problems with the dotted path of the field they are in, so that
// errors name the field and never the value.
type expander struct {
	lookup Lookup
	// offline accepts references that cannot be resolved (they are still
	// recorded in unresolved, with a placeholder value).
	offline    bool
	problems   []string
	unresolved []string
}

// offlinePlaceholder stands in for a reference that cannot be resolved;
// long enough for the length checks on keys and secrets.
const offlinePlaceholder = "offline-placeholder-value"

func (x *expander) node(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			x.node(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			x.node(n.Content[i+1], join(path, n.Content[i].Value))
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			x.node(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = refPattern.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := strings.TrimSpace(ref[2 : len(ref)-1])
			v, err := resolveRef(name, x.lookup)
			if err == nil {
				return v
			}
			// The field's value is unknown: a stand-in keeps checks of other
			// fields from failing because of it (a service's channel needs
			// its environment's bot token), and the field's own checks are
			// dropped, since only the missing reference is its problem.
			x.unresolved = append(x.unresolved, path)
			if !x.offline || name == "" {
				x.problems = append(x.problems, fmt.Sprintf("%s: %v", path, err))
			}
			return offlinePlaceholder
		})
		// A value built from a reference is a string, even if it looks like a number.
		n.Tag = "!!str"
	}
}

// dropUnresolved removes the problems of fields whose value came from a
// reference that was not resolved: their real value is unknown, so nothing
// can be said about it beyond the missing reference itself.
func dropUnresolved(problems, unresolved []string) []string {
	if len(unresolved) == 0 {
		return problems
	}
	out := problems[:0]
	for _, pr := range problems {
		field, _, _ := strings.Cut(pr, ": ")
		skip := false
		for _, u := range unresolved {
			if u == field || strings.HasPrefix(u, field+".") || strings.HasPrefix(u, field+"[") {
				skip = true
				break
			}
		}
		if !skip {
			out = append(out, pr)
		}
	}
	return out
}

func resolveRef(name string, lookup Lookup) (string, error) {
	if p, ok := strings.CutPrefix(name, "file:"); ok {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("cannot read secret file %s: %v", p, unwrapPathError(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if name == "" {
		return "", fmt.Errorf("empty ${} reference")
	}
	v, ok := lookup(name)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
