package envoy

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/sluice-proxy/sluice/config"
)

// prechecker walks the decoded JSON against the message descriptors before
// protojson sees it: protojson stops at the first problem and names no
// path, while a user wants every unknown field, bad enum value and unknown
// @type at once, each with its JSON path. A bad field is reported and
// removed, so that the later stages (validation rules, sluice's checks) can
// report the file's other problems in the same run; stuck is set when a bad
// value cannot be removed (a list element) and the later stages must not run.
type prechecker struct {
	errs  *config.Errors
	stuck bool
}

// precheck checks v against md and reports whether v may stay.
func (pc *prechecker) precheck(v any, md protoreflect.MessageDescriptor, path string) bool {
	errs := pc.errs
	switch md.FullName() {
	case "google.protobuf.Any":
		return pc.precheckAny(v, path)
	case "google.protobuf.Duration":
		if s, ok := v.(string); !ok || !durationRE.MatchString(s) {
			errs.Add(path, "invalid duration %v (want seconds with an s suffix: \"5s\", \"0.25s\")", v)
			return false
		}
		return true
	}
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return true // wrappers, Struct, Value...: protojson checks their shape
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if v != nil {
			errs.Add(path, "want an object for %s, got %s", md.FullName(), jsonKind(v))
			return false
		}
		return true
	}
	for _, k := range sortedKeys(obj) {
		fd := fieldByName(md, k)
		fp := config.Join(path, k)
		if fd == nil {
			errs.Add(fp, "unknown field %q in %s", k, md.FullName())
			delete(obj, k)
			continue
		}
		fp = config.Join(path, string(fd.Name()))
		nv, keep := pc.precheckField(obj[k], fd, fp)
		if keep {
			obj[k] = nv
		} else {
			delete(obj, k)
		}
	}
	return true
}

// precheckField checks one field's value and returns it, with enum names
// upper-cased where the file wrote them in lower case.
func (pc *prechecker) precheckField(v any, fd protoreflect.FieldDescriptor, path string) (any, bool) {
	switch {
	case v == nil:
	case fd.IsMap():
		m, ok := v.(map[string]any)
		if !ok {
			pc.errs.Add(path, "want an object, got %s", jsonKind(v))
			return v, false
		}
		for _, k := range sortedKeys(m) {
			nv, keep := pc.precheckValue(m[k], fd.MapValue(), config.Join(path, k))
			m[k] = nv
			pc.stuck = pc.stuck || !keep
		}
	case fd.IsList():
		l, ok := v.([]any)
		if !ok {
			pc.errs.Add(path, "want a list, got %s", jsonKind(v))
			return v, false
		}
		for i, e := range l {
			nv, keep := pc.precheckValue(e, fd, config.Index(path, i))
			l[i] = nv
			pc.stuck = pc.stuck || !keep
		}
	default:
		return pc.precheckValue(v, fd, path)
	}
	return v, true
}

func (pc *prechecker) precheckValue(v any, fd protoreflect.FieldDescriptor, path string) (any, bool) {
	errs := pc.errs
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return v, pc.precheck(v, fd.Message(), path)
	case protoreflect.EnumKind:
		ed := fd.Enum()
		switch x := v.(type) {
		case string:
			if ed.Values().ByName(protoreflect.Name(x)) != nil {
				return x, true
			}
			// Envoy parses enums case-insensitively (its sandboxes write
			// "type: strict_dns"); protojson does not.
			if up := strings.ToUpper(x); ed.Values().ByName(protoreflect.Name(up)) != nil {
				return up, true
			}
			errs.Add(path, "invalid value %q for %s (known: %s)", x, ed.FullName(), enumNames(ed))
			return v, false
		case int, int64, uint64, float64:
			// numbers are allowed by protojson; Validate checks defined_only
		default:
			errs.Add(path, "invalid value %v for %s", v, ed.FullName())
			return v, false
		}
	}
	return v, true
}

// precheckAny resolves a typed_config's @type among the types linked into
// sluice (the filters and extensions it has) and checks the rest against it.
func (pc *prechecker) precheckAny(v any, path string) bool {
	errs := pc.errs
	obj, ok := v.(map[string]any)
	if !ok {
		errs.Add(path, "want an object with @type, got %s", jsonKind(v))
		return false
	}
	url, _ := obj["@type"].(string)
	if url == "" {
		errs.Add(config.Join(path, "@type"), "required")
		return false
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByURL(url)
	if err != nil {
		errs.Add(config.Join(path, "@type"), "unknown @type %q: not supported by sluice (its network filters: %s)", url, strings.Join(typeURLs(), ", "))
		return false
	}
	md := mt.Descriptor()
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return pc.precheck(obj["value"], md, config.Join(path, "value"))
	}
	rest := make(map[string]any, len(obj))
	for k, e := range obj {
		if k != "@type" {
			rest[k] = e
		}
	}
	keep := pc.precheck(rest, md, path)
	for k := range obj {
		if _, ok := rest[k]; !ok && k != "@type" {
			delete(obj, k) // removed as unknown
		} else if k != "@type" {
			obj[k] = rest[k]
		}
	}
	return keep
}

var durationRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]{0,9})?s$`)

func fieldByName(md protoreflect.MessageDescriptor, k string) protoreflect.FieldDescriptor {
	fs := md.Fields()
	if fd := fs.ByName(protoreflect.Name(k)); fd != nil {
		return fd
	}
	return fs.ByJSONName(k)
}

func enumNames(ed protoreflect.EnumDescriptor) string {
	var out []string
	for i := 0; i < ed.Values().Len(); i++ {
		out = append(out, string(ed.Values().Get(i).Name()))
	}
	return strings.Join(out, ", ")
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a number (%v)", v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
