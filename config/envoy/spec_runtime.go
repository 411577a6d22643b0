package envoy

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-proxy/sluice/config"
)

// runtimeSpecs: the bootstrap's layered_runtime, read for one key family.
var runtimeSpecs = []message{
	{name: "envoy.config.bootstrap.v3.LayeredRuntime", fields: []field{own("layers", "")}},
	{name: "envoy.config.bootstrap.v3.RuntimeLayer", fields: []field{
		own("name", ""), own("static_layer", "envoy.resource_limits.listener.<name>.connection_limit is read"),
		ignored("disk_layer", "sluice reads no runtime from disk"),
		ignored("admin_layer", "sluice's /runtime is read-only"),
		ignored("rtds_layer", "sluice has no RTDS"),
	}},
	{name: "google.protobuf.Struct", fields: []field{own("fields", "")}},
	{name: "google.protobuf.Value", fields: []field{own("null_value", ""), own("number_value", ""), own("string_value", ""),
		own("bool_value", ""), own("struct_value", ""), own("list_value", "")}},
	{name: "google.protobuf.ListValue", fields: []field{own("values", "")}},
}

// listenerLimitKey is Envoy's runtime key for a listener's connection
// limit, around the listener's name.
const listenerLimitPrefix, listenerLimitSuffix = "envoy.resource_limits.listener.", ".connection_limit"

// runtimeLimits applies the static layers' per-listener connection limits
// (later layers win, as in Envoy) to the translated listeners as
// max_connections; other keys are warned about as ignored.
func (t *translator) runtimeLimits(lr protoreflect.Message, out map[string]any) {
	layers := lr.Get(lr.Descriptor().Fields().ByName("layers")).List()
	limits := map[string]any{}
	for i := 0; i < layers.Len(); i++ {
		l := layers.Get(i).Message()
		fd := l.Descriptor().Fields().ByName("static_layer")
		if !l.Has(fd) {
			continue
		}
		env := config.Join(config.Index("layered_runtime.layers", i), "static_layer")
		flat := map[string]*structpb.Value{}
		flatten("", l.Get(fd).Message().Interface().(*structpb.Struct), flat)
		for k, v := range flat {
			name, ok := strings.CutPrefix(k, listenerLimitPrefix)
			if name, ok2 := strings.CutSuffix(name, listenerLimitSuffix); ok && ok2 && name != "" {
				n, isNum := v.GetKind().(*structpb.Value_NumberValue)
				if !isNum || n.NumberValue < 0 || n.NumberValue != float64(uint32(n.NumberValue)) {
					t.errs.Add(config.Join(env, k), "a listener connection limit is a whole number 0..4294967295")
					continue
				}
				limits[name] = uint32(n.NumberValue)
				t.paths["listeners."+name] = config.Join(env, k)
				continue
			}
			t.warnings = append(t.warnings, fmt.Sprintf("%s: accepted and ignored by sluice (sluice has no runtime: it reads only %s<name>%s)",
				config.Join(env, k), listenerLimitPrefix, listenerLimitSuffix))
		}
	}
	ls, _ := out["listeners"].([]any)
	for _, l := range ls {
		if m, ok := l.(map[string]any); ok {
			if lim, ok := limits[fmt.Sprint(m["name"])]; ok {
				m["max_connections"] = lim
			}
		}
	}
}

// flatten turns nested structs into Envoy's dotted runtime keys.
func flatten(prefix string, s *structpb.Struct, out map[string]*structpb.Value) {
	for k, v := range s.GetFields() {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sv, ok := v.GetKind().(*structpb.Value_StructValue); ok {
			flatten(key, sv.StructValue, out)
			continue
		}
		out[key] = v
	}
}
