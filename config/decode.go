package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// This is a small strict decoder over go.yaml.in/yaml/v3 nodes (the
// maintained continuation of gopkg.in/yaml.v3). The library's own
// KnownFields mode refuses unknown keys, but its errors carry a line and a Go
// type name, not the field path users need ("listeners[0].filters[1]...");
// walking the node tree ourselves gives the path and collects every problem
// instead of stopping at the first.

// NodeDecoder is implemented by config types that accept more than one YAML
// shape (an endpoint given as "host:port" or as a mapping, a filter given as
// a one-key mapping of its name to its typed config).
type NodeDecoder interface {
	DecodeNode(d *Decoder, path string, n *yaml.Node)
}

// Validator is implemented by config types that check their own values after
// decoding. Paths passed in are the type's own path.
type Validator interface {
	Validate(path string, errs *Errors)
}

// Decoder walks YAML nodes into Go values, recording errors with their paths.
type Decoder struct {
	Errs *Errors
	// Dir is the directory relative file paths (fields tagged
	// `sluice:"path"`) are resolved against: the config file's.
	Dir string
	// Filters are filter types known to this decode only, besides the
	// registered ones (a test server's own filters): tests add theirs here
	// instead of registering them globally, so they can run in parallel.
	Filters []FilterType

	lines  map[string]int // the YAML line of each decoded path
	files  []fileRef      // path-tagged fields, for CheckFiles
	checks []fileCheck    // FileCheckers met, for CheckFiles
}

var (
	nodeDecoderType = reflect.TypeOf((*NodeDecoder)(nil)).Elem()
	textUnmarshaler = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// Decode fills v (a pointer) from n; problems are recorded in d.Errs. After a
// value is decoded its Validate method, if any, runs.
func (d *Decoder) Decode(path string, n *yaml.Node, v any) {
	d.decode(path, n, reflect.ValueOf(v).Elem())
}

func (d *Decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.Errs.AddLine(path, line, format, args...)
}

func (d *Decoder) decode(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.setLine(path, n.Line)
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		v.Addr().Interface().(NodeDecoder).DecodeNode(d, path, n)
	} else {
		d.decodeKind(path, n, v)
	}
	// Validate runs even when a field failed to decode, so that one run
	// reports every problem; a failed field is left at its zero value or
	// default, so validators must not assume decoded fields are sane.
	if v.CanAddr() {
		if val, ok := v.Addr().Interface().(Validator); ok {
			val.Validate(path, d.Errs)
		}
		if fc, ok := v.Addr().Interface().(FileChecker); ok {
			d.checks = append(d.checks, fileCheck{path, fc})
		}
	}
}

// setLine records the line a path was read from (the first one, for a
// path decoded twice).
func (d *Decoder) setLine(path string, line int) {
	if d.lines == nil {
		d.lines = map[string]int{}
	}
	if _, ok := d.lines[path]; !ok && line > 0 {
		d.lines[path] = line
	}
}

func (d *Decoder) decodeKind(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an explicit null leaves the zero value
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "expected a scalar value")
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(path, n, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(path, n, v.Elem())
	case reflect.Struct:
		d.decodeStruct(path, n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n, "expected a list")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(Index(path, i), c, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(path, n, "expected a mapping")
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(Join(path, k), n.Content[i+1], ev)
			m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), ev)
		}
		v.Set(m)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(path, n, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "expected a %s, got a %s", kindName(v.Kind()), nodeKind(n))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(path, n, "cannot use %q as a %s", n.Value, kindName(v.Kind()))
		}
	}
}

func (d *Decoder) decodeStruct(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "expected a mapping, got a %s", nodeKind(n))
		return
	}
	if sd, ok := v.Addr().Interface().(interface{ SetDefaults() }); ok {
		sd.SetDefaults()
	}
	d.decodeFields(path, n, v, nil)
}

// decodeFields decodes a mapping into the struct v's fields; keys in extra
// are handed to their function instead (fields known only at run time, such
// as registered policies' config blocks).
func (d *Decoder) decodeFields(path string, n *yaml.Node, v reflect.Value, extra map[string]func(path string, n *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "expected a mapping, got a %s", nodeKind(n))
		return
	}
	fields := structFields(v.Type())
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		fp := Join(path, k)
		idx, ok := fields[k]
		fn := extra[k]
		if !ok && fn == nil {
			var more []string
			for name := range extra {
				more = append(more, name)
			}
			sort.Strings(more)
			known := append(fieldNames(v.Type()), more...)
			d.fail(fp, n.Content[i], "unknown field (known: %s)", strings.Join(known, ", "))
			continue
		}
		if seen[k] {
			d.fail(fp, n.Content[i], "field given twice")
			continue
		}
		seen[k] = true
		d.setLine(fp, n.Content[i].Line)
		if fn != nil {
			fn(fp, n.Content[i+1])
			continue
		}
		d.decode(fp, n.Content[i+1], v.Field(idx))
		if kind, ok := v.Type().Field(idx).Tag.Lookup("sluice"); ok {
			d.pathField(fp, kind, v.Field(idx))
		}
	}
}

// structFields maps the YAML names of t's fields to their indexes. Fields
// without a yaml tag or tagged "-" are not decoded.
func structFields(t reflect.Type) map[string]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := buildStructFields(t)
	fieldCache.Store(t, m)
	return m
}

// fieldCache holds structFields' answers by type, read-only once stored: a
// 10,000-cluster xDS update decodes 100,000 endpoints, and reading every
// field's tag again for each was a tenth of the decode.
var fieldCache sync.Map // reflect.Type → map[string]int

func buildStructFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name := yamlName(t.Field(i))
		if name != "" {
			m[name] = i
		}
	}
	return m
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name := yamlName(t.Field(i)); name != "" {
			out = append(out, name)
		}
	}
	return out
}

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	if tag == "" || tag == "-" || !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Float32, reflect.Float64:
		return "number"
	default:
		if k >= reflect.Int && k <= reflect.Uint64 {
			return "integer"
		}
		return k.String()
	}
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return fmt.Sprintf("scalar %q", n.Value)
	}
	return "node"
}
