package pg

import (
	"encoding/json"
	"fmt"
	"strings"
)

// libpg_query's JSON parse tree, decoded keeping the order of object keys:
// the walk reports a table's operations in the order it meets them, and that
// order must not depend on map iteration. A node is an object with one key,
// its type ({"RangeVar": {...}}); a field that holds one fixed type (an
// InsertStmt's relation, a SelectStmt's intoClause) is the bare object.

// field is one key of a JSON object.
type field struct {
	key string
	val any // object, []any, string, float64, bool or nil
}

// object is a JSON object with its keys in document order.
type object []field

// get returns the value of key, nil when absent (libpg_query leaves out
// zero values).
func (o object) get(key string) any {
	for _, f := range o {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// obj returns key's value when it is an object.
func (o object) obj(key string) object { v, _ := o.get(key).(object); return v }

// list returns key's value when it is an array.
func (o object) list(key string) []any { v, _ := o.get(key).([]any); return v }

// str returns key's value when it is a string.
func (o object) str(key string) string { v, _ := o.get(key).(string); return v }

// node returns a node's type and body: {"RangeVar": {...}} → "RangeVar",
// {...}. ok is false for anything else, including a bare struct field.
func node(v any) (typ string, body object, ok bool) {
	o, _ := v.(object)
	if len(o) != 1 || o[0].key == "" || o[0].key[0] < 'A' || o[0].key[0] > 'Z' {
		return "", nil, false
	}
	body, ok = o[0].val.(object)
	return o[0].key, body, ok
}

// decodeTree decodes libpg_query's JSON output.
func decodeTree(js string) (object, error) {
	d := json.NewDecoder(strings.NewReader(js))
	v, err := decodeValue(d)
	if err != nil {
		return nil, fmt.Errorf("parse tree: %w", err)
	}
	o, ok := v.(object)
	if !ok {
		return nil, fmt.Errorf("parse tree: not an object")
	}
	return o, nil
}

// decodeValue reads one JSON value.
func decodeValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var o object
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			o = append(o, field{key: k.(string), val: v})
		}
		_, err := d.Token() // '}'
		return o, err
	case json.Delim('['):
		var a []any
		for d.More() {
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := d.Token() // ']'
		return a, err
	}
	return tok, nil
}
