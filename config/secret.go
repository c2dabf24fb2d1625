package config

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Secret is a credential from the configuration. It never prints its value:
// String, JSON and YAML all give "[redacted]", so a Config can be logged.
type Secret struct {
	value string
	// Created is when the credential was issued; used for rotation reports.
	Created Date
}

// Value returns the secret itself. Call it only where the secret is used.
func (s Secret) Value() string { return s.value }

// IsZero reports whether no secret was configured.
func (s Secret) IsZero() bool { return s.value == "" }

// String hides the value.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return "[redacted]"
}

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalYAML accepts a plain string, or a mapping {secret, created}.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.value = n.Value
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{"line " + itoa(n.Line) + ": cannot unmarshal " + n.ShortTag() + " into config.Secret"}}
	}
	var v struct {
		Secret  string `yaml:"secret"`
		Created Date   `yaml:"created"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	s.value, s.Created = v.Secret, v.Created
	return nil
}

// Date is a calendar date (YYYY-MM-DD) in configuration files.
type Date struct{ time.Time }

// UnmarshalYAML parses YYYY-MM-DD or an RFC 3339 time.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "" {
		return nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, n.Value); err == nil {
			d.Time = t.UTC()
			return nil
		}
	}
	return &yaml.TypeError{Errors: []string{"line " + itoa(n.Line) + ": " + n.Value + " is not a date (use YYYY-MM-DD)"}}
}

// MarshalYAML writes the date as YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) {
	if d.IsZero() {
		return "", nil
	}
	return d.Format("2006-01-02"), nil
}

// Duration is a time.Duration written as "30s", "15m", "2h".
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Value == "" {
		return nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{"line " + itoa(n.Line) + ": " + n.Value + " is not a duration (use e.g. 30s, 15m, 2h)"}}
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// ByteSize is a size in bytes written as 65536, "64KiB", "10MB" or "1GiB".
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000},
	{"B", 1},
}

// UnmarshalYAML parses a byte size.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v := strings.TrimSpace(n.Value)
	if v == "" {
		return nil
	}
	mult := int64(1)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil || i < 0 || i > math.MaxInt64/mult {
		return &yaml.TypeError{Errors: []string{"line " + itoa(n.Line) + ": " + n.Value + " is not a size (use e.g. 65536, 64KiB, 100MiB)"}}
	}
	*b = ByteSize(i * mult)
	return nil
}

// MarshalYAML writes the size in bytes.
func (b ByteSize) MarshalYAML() (any, error) { return int64(b), nil }

// String writes the size in the largest binary unit it reaches: exactly
// when that unit divides it ("64KiB"), else to one decimal ("1.5GiB").
func (b ByteSize) String() string {
	for i := 3; i >= 0; i-- {
		u := byteUnits[i]
		if b < ByteSize(u.mult) {
			continue
		}
		if int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix
		}
		return strconv.FormatFloat(float64(b)/float64(u.mult), 'f', 1, 64) + u.suffix
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
