package actions

import (
	"encoding/json"

	"github.com/novasre/nova"
)

func encodeJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nova.WrapError(nova.EINTERNAL, err, "encode")
	}
	return b, nil
}
