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

// expandNode replaces ${VAR} and ${file:PATH} in every scalar of the tree,
// recording problems with the dotted path of the field they are in, so that
// errors name the field and never the value.
func expandNode(n *yaml.Node, path string, lookup Lookup, problems *[]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			expandNode(c, path, lookup, problems)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			expandNode(n.Content[i+1], join(path, n.Content[i].Value), lookup, problems)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandNode(c, fmt.Sprintf("%s[%d]", path, i), lookup, problems)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		n.Value = refPattern.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := strings.TrimSpace(ref[2 : len(ref)-1])
			v, err := resolveRef(name, lookup)
			if err != nil {
				*problems = append(*problems, fmt.Sprintf("%s: %v", path, err))
			}
			return v
		})
		// A value built from a reference is a string, even if it looks like a number.
		n.Tag = "!!str"
	}
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
