package accesslog

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// JSONFormat is a compiled json_format: each key's value is a format string
// (one operator alone keeps its type: numbers stay numbers).
type JSONFormat struct {
	keys []string
	vals []*Format
}

// CompileJSON compiles a json_format object.
func CompileJSON(m map[string]string) (*JSONFormat, error) {
	j := &JSONFormat{}
	for k := range m {
		j.keys = append(j.keys, k)
	}
	sort.Strings(j.keys) // Envoy sorts keys too
	for _, k := range j.keys {
		f, err := Compile(m[k])
		if err != nil {
			return nil, fmt.Errorf("json_format.%s: %w", k, err)
		}
		j.vals = append(j.vals, f)
	}
	return j, nil
}

// Append formats r as one JSON object and a newline onto dst.
func (j *JSONFormat) Append(dst []byte, r *Record) []byte {
	dst = append(dst, '{')
	for i, k := range j.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, k)
		dst = append(dst, ':')
		f := j.vals[i]
		if len(f.parts) == 1 && f.parts[0].op != "" {
			v, ok := r.value(&f.parts[0])
			switch {
			case !ok:
				dst = append(dst, "null"...)
			case f.parts[0].numeric:
				dst = append(dst, v...)
			case f.parts[0].op == "DYNAMIC_METADATA":
				// Envoy keeps the value's type: numbers, booleans and
				// structs as JSON, strings quoted.
				mv, _ := r.metadata(&f.parts[0])
				b, _ := json.Marshal(mv)
				dst = append(dst, b...)
			default:
				b, _ := json.Marshal(v)
				dst = append(dst, b...)
			}
			continue
		}
		b, _ := json.Marshal(string(f.Append(nil, r)))
		dst = append(dst, b...)
	}
	return append(dst, '}', '\n')
}
