// Package envoy loads an Envoy v3 bootstrap (YAML or JSON) into sluice's one
// config model. The file is decoded with Envoy's generated protos
// (go-control-plane) through protojson, each message's protoc-gen-validate
// rules run, every set field is checked against the loader's table of what
// sluice implements (spec*.go), and the result is translated into the shape
// of sluice's own config and decoded by config.Parse, so that everything
// after the loader (typed filter configs, defaults, cross-reference checks)
// is shared. Problems are reported with the file and the JSON path of the
// Envoy field ("static_resources.clusters[0].lb_policy").
package envoy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-proxy/sluice/config"
)

// topKeys are the Bootstrap fields that mark a file as Envoy's: a sluice
// config has none of them at its top level (its admin is a plain address,
// not Envoy's admin.address.socket_address).
var topKeys = []string{"static_resources", "dynamic_resources", "node",
	"staticResources", "dynamicResources"}

// IsBootstrap reports whether data (YAML or JSON) looks like an Envoy
// bootstrap: one of static_resources, dynamic_resources or node at the top
// level, or an admin with Envoy's address.socket_address.
func IsBootstrap(data []byte) bool {
	var top map[string]any
	if yaml.Unmarshal(data, &top) != nil {
		return false
	}
	for _, k := range topKeys {
		if _, ok := top[k]; ok {
			return true
		}
	}
	if adm, ok := top["admin"].(map[string]any); ok {
		if addr, ok := adm["address"].(map[string]any); ok {
			_, sa := addr["socket_address"]
			_, sa2 := addr["socketAddress"]
			return sa || sa2
		}
	}
	return false
}

// Load reads and parses an Envoy bootstrap file.
func Load(file string) (*config.Config, []string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	return Parse(file, data)
}

// Parse decodes, checks and translates an Envoy bootstrap. name is the file
// it was read from (errors name it; relative paths resolve against its
// directory). The warnings name fields that sluice accepts and ignores, one
// line each, for the caller to log.
func Parse(name string, data []byte) (*config.Config, []string, error) {
	// Problems the precheck could remove do not stop the translation, so
	// that every problem of the file is reported at once.
	errs := &config.Errors{File: name}
	var bs bootstrapv3.Bootstrap
	if !decodeMessage(data, &bs, errs) {
		return nil, nil, errs
	}
	return fromBootstrap(&bs, errs)
}

// Decode reads YAML or JSON into Envoy's Bootstrap message, reporting every
// unknown field, bad enum value and unknown @type with its JSON path. It does
// not check the result against what sluice supports: FromBootstrap does.
func Decode(name string, data []byte) (*bootstrapv3.Bootstrap, error) {
	errs := &config.Errors{File: name}
	var bs bootstrapv3.Bootstrap
	if !decodeMessage(data, &bs, errs) || errs.Err() != nil {
		return nil, errs
	}
	return &bs, nil
}

// DecodeMessage reads YAML or JSON into m (an xDS file's
// DiscoveryResponse), reporting every unknown field, bad enum value and
// unknown @type with its JSON path, as Decode does for a bootstrap.
func DecodeMessage(name string, data []byte, m proto.Message) error {
	errs := &config.Errors{File: name}
	if !decodeMessage(data, m, errs) || errs.Err() != nil {
		return errs
	}
	return nil
}

// decodeMessage is Decode for any message type (xDS files hold a
// DiscoveryResponse). It returns false when the later stages cannot run;
// problems it could remove from the tree are in errs either way.
func decodeMessage(data []byte, m proto.Message, errs *config.Errors) bool {
	tree, err := toJSONTree(data)
	if err != nil {
		errs.Add("", "%v", err)
		return false
	}
	pc := &prechecker{errs: errs}
	if !pc.precheck(tree, m.ProtoReflect().Descriptor(), "") || pc.stuck {
		return false
	}
	js, err := json.Marshal(tree)
	if err != nil {
		errs.Add("", "%v", err)
		return false
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, m); err != nil {
		errs.Add("", "%v", err)
		return false
	}
	return true
}

// FromBootstrap checks a decoded bootstrap against the loader's tables and
// translates its admin and static resources into sluice's config, as Parse
// does. The xDS client (config/xds) calls it with a bootstrap whose static
// resources it extended with the resources a control plane sent, so that a
// listener or cluster from xDS is checked and translated exactly as one in a
// file.
func FromBootstrap(name string, bs *bootstrapv3.Bootstrap) (*config.Config, []string, error) {
	return fromBootstrap(bs, &config.Errors{File: name})
}

func fromBootstrap(bs *bootstrapv3.Bootstrap, errs *config.Errors) (*config.Config, []string, error) {
	name := errs.File
	t := newTranslator(errs)
	t.check(bs.ProtoReflect(), "")
	// Fields refused by the check are left out of the translation, so that
	// sluice's own checks (dangling clusters, regexes...) still run and
	// every problem is reported at once.
	early := len(errs.List)
	out := t.message(bs.ProtoReflect(), "", "")
	cfg, err := config.ParseNode(name, toNode(out))
	if err != nil {
		t.remap(err)
	}
	if errs.Err() != nil {
		dedup(errs, early)
		return nil, t.warnings, errs
	}
	cfg.SetSourcePaths(t.envPath)
	return cfg, t.warnings, nil
}

// dedup drops problems found after the first early ones at a path within,
// or enclosing, an earlier problem's path: they are consequences of it (a
// chain left without its refused filter), not problems of their own.
func dedup(errs *config.Errors, early int) {
	out := slices.Clone(errs.List[:early])
	for i, fe := range errs.List[early:] {
		if slices.Contains(errs.List[early:early+i], fe) {
			continue // the same problem found twice
		}
		related := false
		for _, e := range errs.List[:early] {
			if within(fe.Path, e.Path) || within(e.Path, fe.Path) {
				related = true
				break
			}
		}
		if !related {
			out = append(out, fe)
		}
	}
	errs.List = out
}

// within reports whether path p is q or inside it.
func within(p, q string) bool {
	return p == q || strings.HasPrefix(p, q+".") || strings.HasPrefix(p, q+"[")
}

// toJSONTree decodes YAML (JSON is YAML) into plain maps, lists and
// scalars that encoding/json can write.
func toJSONTree(data []byte) (any, error) {
	var v any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid YAML: %v", err)
	}
	if v == nil {
		return map[string]any{}, nil
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("a bootstrap is a mapping, got %T", v)
	}
	return jsonable(v, "")
}

func jsonable(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			c, err := jsonable(e, config.Join(path, k))
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	case map[any]any:
		return nil, fmt.Errorf("%s: mapping keys must be strings", path)
	case []any:
		for i, e := range x {
			c, err := jsonable(e, config.Index(path, i))
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	}
	return v, nil
}
