package web

import (
	"encoding/json"
	"maps"
)

// mergeJSON encodes each value as a JSON object and merges their keys,
// later values winning; it flattens embedded results into one response.
func mergeJSON(parts ...any) ([]byte, error) {
	out := map[string]json.RawMessage{}
	for _, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		maps.Copy(out, m)
	}
	return json.Marshal(out)
}
