package tlsctx

import (
	"encoding/json"
	"fmt"
)

// jsonOf encodes a value decoded from YAML as JSON (YAML maps may have
// non-string keys, which JSON refuses).
func jsonOf(v any) ([]byte, error) {
	return json.Marshal(stringKeys(v))
}

func stringKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = stringKeys(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
	}
	return v
}
