package envoy

import (
	"encoding/base64"
	"errors"
	"net"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sluice-proxy/sluice/config"
)

// translator turns a checked Bootstrap into the tree of sluice's config
// (maps, lists and scalars named as sluice's YAML fields), remembering for
// each sluice path the Envoy path it came from, so that problems found by
// config.Parse are reported where the user wrote them.
type translator struct {
	errs     *config.Errors
	warnings []string
	paths    map[string]string // sluice path -> Envoy JSON path
	// viol are protoc-gen-validate violations by the path of the message
	// whose field broke a rule, reported when the check walks there.
	viol  map[string][][2]string
	depth int // check calls under way (an Any's check nests in its parent's)
}

func newTranslator(errs *config.Errors) *translator {
	return &translator{errs: errs, paths: map[string]string{}}
}

// message returns sluice's value for m: a scalar for well-known wrappers
// and durations, else the message's translate function or a copy of its
// supported fields.
func (t *translator) message(m protoreflect.Message, env, slu string) any {
	t.paths[slu] = env
	md := m.Descriptor()
	switch name := md.FullName(); {
	case name == "google.protobuf.Duration":
		return m.Interface().(*durationpb.Duration).AsDuration().String()
	case name == "google.protobuf.Empty":
		return map[string]any{}
	case leafTypes[name]:
		fd := md.Fields().ByName("value")
		return scalar(fd, m.Get(fd))
	case name == "google.protobuf.Any":
		inner, err := unpack(m)
		if err != nil {
			t.errs.Add(env, "%v", err)
			return nil
		}
		return t.message(inner, env, slu)
	}
	spec := specs[md.FullName()]
	if spec == nil { // check refused it already
		return nil
	}
	if spec.translate != nil {
		return spec.translate(t, m, env, slu)
	}
	return t.copyFields(m, spec, env, slu)
}

// copyFields copies the message's set, supported fields under their sluice
// names.
func (t *translator) copyFields(m protoreflect.Message, spec *message, env, slu string) map[string]any {
	out := map[string]any{}
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := spec.field(fd.Name())
		if !m.Has(fd) || f == nil || f.ignored || f.to == "-" {
			continue
		}
		to := f.to
		if to == "" {
			to = string(fd.Name())
		}
		out[to] = t.fieldValue(m, fd, config.Join(env, string(fd.Name())), config.Join(slu, to))
	}
	return out
}

// fieldValue converts one set field (list, map or single value).
func (t *translator) fieldValue(m protoreflect.Message, fd protoreflect.FieldDescriptor, env, slu string) any {
	v := m.Get(fd)
	switch {
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for j := range out {
			out[j] = t.value(fd, l.Get(j), config.Index(env, j), config.Index(slu, j))
		}
		return out
	case fd.IsMap():
		out := map[string]any{}
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			out[k.String()] = t.value(fd.MapValue(), mv, config.Join(env, k.String()), config.Join(slu, k.String()))
			return true
		})
		return out
	}
	return t.value(fd, v, env, slu)
}

func (t *translator) value(fd protoreflect.FieldDescriptor, v protoreflect.Value, env, slu string) any {
	if fd.Kind() == protoreflect.MessageKind {
		return t.message(v.Message(), env, slu)
	}
	if lastName(slu) != lastName(env) {
		// Else envPath finds it from its parent: most scalars keep their
		// name, and a large update has hundreds of thousands of them.
		t.paths[slu] = env
	}
	return scalar(fd, v)
}

// lastName is a path's last component, index included.
func lastName(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return v.Uint()
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return int64(v.Enum())
	}
	return v.Interface()
}

// lower turns an enum value in out[key] into sluice's lower-case spelling
// (ROUND_ROBIN -> round_robin).
func lower(out map[string]any, key string) {
	if s, ok := out[key].(string); ok {
		out[key] = strings.ToLower(s)
	}
}

// remap adds config.Parse's problems to t.errs, moved from sluice's paths
// to the Envoy paths they were translated from (lines are dropped: they
// would be the translated tree's).
func (t *translator) remap(err error) {
	var pe *config.Errors
	if !errors.As(err, &pe) {
		t.errs.Add("", "%v", err)
		return
	}
	for _, fe := range pe.List {
		t.errs.Add(t.envPath(fe.Path), "%s", fe.Msg)
	}
}

// envPath maps a sluice path to the Envoy path of its nearest translated
// ancestor plus the rest.
func (t *translator) envPath(p string) string {
	for q := p; q != ""; q = parent(q) {
		if e, ok := t.paths[q]; ok {
			return e + p[len(q):]
		}
	}
	return p
}

func parent(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func parseIP(s string) net.IP { return net.ParseIP(s) }
