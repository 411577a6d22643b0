package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"go.yaml.in/yaml/v3"
)

// LBPolicyType is what the loader must know of a load-balancing policy to
// decode and check a cluster's lb_policy and its config block. cluster/lb
// registers one for every policy, as the filters package does for filters,
// so that this package stays a leaf.
type LBPolicyType struct {
	// Name is the lb_policy value ("ring_hash").
	Name string
	// ConfigField is the cluster field that holds the policy's config
	// (Envoy's "ring_hash_lb_config"); empty when the policy has none.
	ConfigField string
	// NewConfig returns a pointer to a fresh typed config holding the
	// policy's defaults; it is decoded over. Needed with ConfigField.
	NewConfig func() any
	// Validate reports the decoded config's problems under path.
	Validate func(cfg any, path string, errs *Errors)
}

var (
	lbMu       sync.RWMutex
	lbPolicies = map[string]LBPolicyType{}
)

// RegisterLBPolicy adds a load-balancing policy; it panics on an empty or
// duplicate name, or a config field without NewConfig and Validate.
func RegisterLBPolicy(pt LBPolicyType) {
	if pt.Name == "" || (pt.ConfigField != "" && (pt.NewConfig == nil || pt.Validate == nil)) {
		panic(fmt.Sprintf("config: RegisterLBPolicy %q needs a name, and NewConfig and Validate with a ConfigField", pt.Name))
	}
	lbMu.Lock()
	defer lbMu.Unlock()
	if _, dup := lbPolicies[pt.Name]; dup {
		panic(fmt.Sprintf("config: lb policy %q registered twice", pt.Name))
	}
	lbPolicies[pt.Name] = pt
}

func lookupLBPolicy(name string) (LBPolicyType, bool) {
	lbMu.RLock()
	defer lbMu.RUnlock()
	pt, ok := lbPolicies[name]
	return pt, ok
}

// lbPolicyList returns the registered policies sorted by name.
func lbPolicyList() []LBPolicyType {
	lbMu.RLock()
	defer lbMu.RUnlock()
	out := make([]LBPolicyType, 0, len(lbPolicies))
	for _, pt := range lbPolicies {
		out = append(out, pt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// lbBlock is one policy config block given in a cluster.
type lbBlock struct {
	field, policy string
	cfg           any
}

// DecodeNode decodes the cluster's own fields and every registered policy's
// config block (ring_hash_lb_config ...), each into its policy's type.
func (c *Cluster) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	c.SetDefaults()
	extra := map[string]func(string, *yaml.Node){}
	for _, pt := range lbPolicyList() {
		if pt.ConfigField == "" {
			continue
		}
		extra[pt.ConfigField] = func(fp string, vn *yaml.Node) {
			cfg := pt.NewConfig()
			d.Decode(fp, vn, cfg)
			pt.Validate(cfg, fp, d.Errs)
			c.lbBlocks = append(c.lbBlocks, lbBlock{pt.ConfigField, pt.Name, cfg})
		}
	}
	type plain Cluster
	d.decodeFields(path, n, reflect.ValueOf((*plain)(c)).Elem(), extra)
}

// LBConfig returns the typed config of the cluster's lb_policy (such as
// *lb.RingHashConfig), or nil for the policy's defaults.
func (c *Cluster) LBConfig() any {
	for _, b := range c.lbBlocks {
		if b.policy == c.LBPolicy {
			return b.cfg
		}
	}
	return nil
}

// validateLB checks lb_policy against the registry and refuses a policy
// block that does not match it (Envoy's lb_config is a oneof tied to the
// policy).
func (c *Cluster) validateLB(path string, errs *Errors) {
	if _, ok := lookupLBPolicy(c.LBPolicy); !ok {
		var names []string
		for _, pt := range lbPolicyList() {
			names = append(names, pt.Name)
		}
		errs.Add(Join(path, "lb_policy"), "unknown lb_policy %q (known: %s)", c.LBPolicy, joinNames(names))
	}
	for _, b := range c.lbBlocks {
		if b.policy != c.LBPolicy {
			errs.Add(Join(path, b.field), "only for lb_policy %s, not %s", b.policy, c.LBPolicy)
		}
	}
}

// MarshalJSON renders the cluster with its policy block under the block's
// field name, as it is written.
func (c Cluster) MarshalJSON() ([]byte, error) {
	type plain Cluster
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.lbBlocks) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, blk := range c.lbBlocks {
		if m[blk.field], err = json.Marshal(blk.cfg); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}
