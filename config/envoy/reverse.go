package envoy

import (
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/sluice-proxy/sluice/config"
)

// MarshalYAML renders cfg as an Envoy v3 bootstrap in YAML (sluice convert
// --to envoy). It walks the loader's tables backwards: each sluice field
// goes to the Envoy field it is read from, so that Parse reads the output
// back into the same config. A sluice field with no Envoy field and a
// value other than its default is reported with its path.
func MarshalYAML(cfg *config.Config) ([]byte, error) {
	bs, err := ToBootstrap(cfg)
	if err != nil {
		return nil, err
	}
	js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(bs)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(js, &n); err != nil {
		return nil, err
	}
	blockStyle(&n)
	return yaml.Marshal(&n)
}

func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// ToBootstrap is MarshalYAML's bootstrap.
func ToBootstrap(cfg *config.Config) (*bootstrapv3.Bootstrap, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := json.Unmarshal(js, &tree); err != nil {
		return nil, err
	}
	r := &reverser{errs: &config.Errors{File: "sluice"}}
	out := map[string]any{}
	if a, _ := tree["admin"].(map[string]any); a != nil && a["address"] != "" {
		out["admin"] = map[string]any{"address": r.address(a["address"], "admin.address")}
	}
	sr := map[string]any{}
	bsd := (&bootstrapv3.Bootstrap_StaticResources{}).ProtoReflect().Descriptor()
	for _, k := range []string{"listeners", "clusters"} {
		if l, _ := tree[k].([]any); len(l) > 0 {
			sr[k] = r.fieldValue(bsd.Fields().ByName(protoreflect.Name(k)), l, k)
		}
	}
	if len(sr) > 0 {
		out["static_resources"] = sr
	}
	if tree["drain_timeout"] != "30s" {
		r.errs.Add("drain_timeout", "no Envoy field for it (Envoy's --drain-time-s flag)")
	}
	if tree["overload_manager"] != nil {
		r.errs.Add("overload_manager", "not converted to Envoy's form by sluice yet")
	}
	if err := r.errs.Err(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	var bs bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(b, &bs); err != nil {
		return nil, fmt.Errorf("converting to Envoy's bootstrap: %v", err)
	}
	if err := r.checkPending(&bs); err != nil {
		return nil, err
	}
	return &bs, nil
}

// reverser turns sluice's JSON tree into Envoy's JSON.
type reverser struct {
	errs *config.Errors
	// pending are sluice fields without an Envoy field: fine when loading
	// the Envoy form gives them the same value (their default), else
	// reported.
	pending []pendingField
}

type pendingField struct {
	path  string
	value any
}

// checkPending loads bs back and reports each pending field whose value
// the Envoy form does not reproduce.
func (r *reverser) checkPending(bs *bootstrapv3.Bootstrap) error {
	if len(r.pending) == 0 {
		return nil
	}
	cfg, _, err := FromBootstrap("converted", bs)
	if err != nil {
		// Most likely what was left out made the rest invalid (an rbac
		// permission left empty): name the fields left out.
		for _, pf := range r.pending {
			r.errs.Add(pf.path, "no Envoy field for it: cannot be written as an Envoy bootstrap")
		}
		return r.errs
	}
	js, _ := json.Marshal(cfg)
	var tree any
	json.Unmarshal(js, &tree)
	for _, pf := range r.pending {
		if got, ok := lookup(tree, pf.path); !ok || !reflect.DeepEqual(got, pf.value) {
			r.errs.Add(pf.path, "no Envoy field for it: cannot be written as an Envoy bootstrap")
		}
	}
	return r.errs.Err()
}

// lookup finds a sluice path ("listeners[0].filter_chains[0].name") in a
// JSON tree.
func lookup(tree any, path string) (any, bool) {
	cur := tree
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[key]; !ok {
				return nil, false
			}
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(idx)
			l, ok := cur.([]any)
			if err != nil || !ok || i >= len(l) {
				return nil, false
			}
			cur = l[i]
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return cur, true
}

func (r *reverser) fieldValue(fd protoreflect.FieldDescriptor, v any, p string) any {
	switch {
	case fd.IsList():
		l, _ := v.([]any)
		out := make([]any, len(l))
		for i, e := range l {
			out[i] = r.single(fd, e, config.Index(p, i))
		}
		return out
	case fd.IsMap():
		m, _ := v.(map[string]any)
		out := map[string]any{}
		for k, e := range m {
			out[k] = r.single(fd.MapValue(), e, config.Join(p, k))
		}
		return out
	}
	return r.single(fd, v, p)
}

func (r *reverser) single(fd protoreflect.FieldDescriptor, v any, p string) any {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if s, ok := v.(string); ok {
			// sluice lower-cases some enums; Envoy's names are upper case,
			// or mixed (zookeeper's Multi).
			vals := fd.Enum().Values()
			for i := 0; i < vals.Len(); i++ {
				if n := string(vals.Get(i).Name()); strings.EqualFold(n, s) {
					return n
				}
			}
			return strings.ToUpper(s)
		}
	case protoreflect.MessageKind:
		return r.message(fd.Message(), v, p)
	}
	return v
}

// message converts v into Envoy's JSON for md.
func (r *reverser) message(md protoreflect.MessageDescriptor, v any, p string) any {
	name := md.FullName()
	switch {
	case name == "google.protobuf.Duration":
		s, _ := v.(string)
		d, err := time.ParseDuration(s)
		if err != nil {
			r.errs.Add(p, "invalid duration %q", s)
			return nil
		}
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	case leafTypes[name]:
		return v
	}
	if rev := reversers[name]; rev != nil {
		return rev(r, md, v, p)
	}
	return r.fields(md, v, p, nil)
}

// fields copies the keys of sluice's map v to the Envoy fields they are
// read from; skip names keys a caller handles itself.
func (r *reverser) fields(md protoreflect.MessageDescriptor, v any, p string, skip map[string]bool) map[string]any {
	spec := specs[md.FullName()]
	m, _ := v.(map[string]any)
	out := map[string]any{}
	if spec == nil {
		r.errs.Add(p, "%s: no conversion to Envoy's form", md.FullName())
		return out
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if skip[k] {
			continue
		}
		f := spec.bySluiceName(k)
		if f == nil {
			if !isDefault(k, m[k]) {
				r.pending = append(r.pending, pendingField{config.Join(p, k), m[k]})
			}
			continue
		}
		out[f.name] = r.fieldValue(md.Fields().ByName(protoreflect.Name(f.name)), m[k], config.Join(p, k))
	}
	return out
}

// bySluiceName returns the supported field sluice names k.
func (m *message) bySluiceName(k string) *field {
	for i := range m.fields {
		f := &m.fields[i]
		if f.ignored {
			continue
		}
		to := f.to
		if to == "" || to == "-" {
			to = f.name
		}
		if to == k {
			return f
		}
	}
	return nil
}

// sluiceDefaults are sluice-only fields at their defaults, left out of an
// Envoy bootstrap.
var sluiceDefaults = map[string]any{
	"per_connection_buffer_limit_bytes": float64(config.DefaultBufferLimit),
	"listener_filters_timeout":          "15s",
	"cluster_refresh_rate":              "5s",
}

// isDefault reports whether a sluice-only field holds its default or a
// zero value.
func isDefault(k string, v any) bool {
	if d, ok := sluiceDefaults[k]; ok && d == v {
		return true
	}
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case float64:
		return x == 0
	case string:
		return x == "" || x == "0s"
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// address renders "host:port" as Envoy's Address.
func (r *reverser) address(v any, p string) any {
	s, _ := v.(string)
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil {
		r.errs.Add(p, "invalid address %q", s)
		return nil
	}
	return map[string]any{"socket_address": map[string]any{"address": host, "port_value": n}}
}

// typed packs a message's JSON with its @type.
func typed(name protoreflect.FullName, m map[string]any) map[string]any {
	m["@type"] = "type.googleapis.com/" + string(name)
	return m
}

func descriptor(name protoreflect.FullName) protoreflect.MessageDescriptor {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		panic(err) // a type the loader links
	}
	return d.(protoreflect.MessageDescriptor)
}
