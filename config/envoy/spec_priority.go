package envoy

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"

	"github.com/sluice-proxy/sluice/config"
)

// prioritySpecs: a ClusterLoadAssignment's priorities, localities and
// policy, flattened onto sluice's endpoints (priority, locality,
// locality_weight on each) and cluster (overprovisioning_factor,
// weighted_priority_health).
var prioritySpecs = []message{
	{name: "envoy.config.endpoint.v3.ClusterLoadAssignment", fields: []field{
		own("cluster_name", "required by Envoy; used by EDS only"),
		own("endpoints", ""),
		own("policy", "overprovisioning_factor and weighted_priority_health"),
	}},
	{name: "envoy.config.endpoint.v3.ClusterLoadAssignment.Policy", fields: []field{
		own("overprovisioning_factor", "percent, default 140"),
		own("weighted_priority_health", "a level's health from host weights"),
		ignored("endpoint_stale_after", "sluice keeps the last assignment until the next"),
	}, note: "drop_overloads is refused: sluice does not drop requests for the control plane"},
	{name: "envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig"},
	{name: "envoy.config.endpoint.v3.LocalityLbEndpoints", fields: []field{
		own("lb_endpoints", ""),
		own("locality", "groups endpoints for locality_weighted_lb_config; shown by /clusters"),
		own("load_balancing_weight", "the locality weight, with locality_weighted_lb_config"),
		own("priority", "0 (highest) .. 128, with Envoy's spill-over"),
	}},
}

// placeField maps the endpoint fields localityPlace fills to the Envoy
// field of the LocalityLbEndpoints they come from, for error paths.
var placeField = map[string]string{"priority": "priority", "locality": "locality", "locality_weight": "load_balancing_weight"}

// localityPlace returns what a LocalityLbEndpoints gives each of its
// endpoints in sluice's form: priority, locality and locality_weight,
// each only when set.
func (t *translator) localityPlace(lle protoreflect.Message, env string) map[string]any {
	l, _ := lle.Interface().(*endpointv3.LocalityLbEndpoints)
	out := map[string]any{}
	if l == nil {
		return out
	}
	if p := l.GetPriority(); p != 0 {
		out["priority"] = p
	}
	if loc := l.GetLocality(); loc != nil {
		m := map[string]any{}
		for k, v := range map[string]string{"region": loc.GetRegion(), "zone": loc.GetZone(), "sub_zone": loc.GetSubZone()} {
			if v != "" {
				m[k] = v
			}
		}
		out["locality"] = m
	}
	if w := l.GetLoadBalancingWeight(); w != nil {
		out["locality_weight"] = w.GetValue()
	}
	return out
}

// assignmentPolicy copies a load assignment's policy to the cluster.
func (t *translator) assignmentPolicy(la protoreflect.Message, env, slu string, out map[string]any) {
	cla, _ := la.Interface().(*endpointv3.ClusterLoadAssignment)
	pol := cla.GetPolicy()
	if pol == nil {
		return
	}
	if of := pol.GetOverprovisioningFactor(); of != nil {
		out["overprovisioning_factor"] = of.GetValue()
		t.paths[config.Join(slu, "overprovisioning_factor")] = config.Join(env, "policy.overprovisioning_factor")
	}
	if pol.GetWeightedPriorityHealth() {
		out["weighted_priority_health"] = true
	}
}

// placeEndpoint sets an EDS endpoint's priority and locality from its
// LocalityLbEndpoints (Endpoints, the fast EDS path).
func placeEndpoint(e *config.Endpoint, l *endpointv3.LocalityLbEndpoints) {
	e.Priority = l.GetPriority()
	if loc := l.GetLocality(); loc != nil {
		e.Locality = config.Locality{Region: loc.GetRegion(), Zone: loc.GetZone(), SubZone: loc.GetSubZone()}
	}
	if w := l.GetLoadBalancingWeight(); w != nil {
		e.LocalityWeight = w.GetValue()
	}
}

// AssignmentPolicy returns the overprovisioning factor (Envoy's default
// when unset) and weighted_priority_health of an assignment, for the fast
// EDS path, which moves endpoints without translating the cluster again.
func AssignmentPolicy(cla *endpointv3.ClusterLoadAssignment) (factor uint32, weighted bool) {
	factor = config.DefaultOverprovisioningFactor
	if of := cla.GetPolicy().GetOverprovisioningFactor(); of != nil {
		factor = of.GetValue()
	}
	return factor, cla.GetPolicy().GetWeightedPriorityHealth()
}

// loadAssignment writes a sluice cluster's endpoints as Envoy's
// load_assignment: one LocalityLbEndpoints per priority and locality, in
// the order they first appear, with the assignment's policy.
func (r *reverser) loadAssignment(m map[string]any, name, p string) map[string]any {
	eps, _ := m["endpoints"].([]any)
	if len(eps) == 0 {
		return nil
	}
	type key struct {
		prio float64
		loc  string
	}
	var groups []map[string]any
	at := map[key]int{}
	for i, e := range eps {
		em, _ := e.(map[string]any)
		lb := map[string]any{"endpoint": map[string]any{"address": r.address(em["address"], config.Join(config.Index(config.Join(p, "endpoints"), i), "address"))}}
		if w, _ := em["weight"].(float64); w != 1 && w != 0 {
			lb["load_balancing_weight"] = w
		}
		prio, _ := em["priority"].(float64)
		loc, _ := em["locality"].(map[string]any)
		k := key{prio, fmt.Sprint(loc["region"], "/", loc["zone"], "/", loc["sub_zone"])}
		gi, seen := at[k]
		if !seen {
			g := map[string]any{}
			if prio != 0 {
				g["priority"] = prio
			}
			if len(loc) > 0 {
				g["locality"] = loc
			}
			if lw, _ := em["locality_weight"].(float64); lw != 0 {
				g["load_balancing_weight"] = lw
			}
			gi = len(groups)
			at[k] = gi
			groups = append(groups, g)
		}
		lbs, _ := groups[gi]["lb_endpoints"].([]any)
		groups[gi]["lb_endpoints"] = append(lbs, lb)
	}
	la := map[string]any{"cluster_name": name, "endpoints": toAny(groups)}
	pol := map[string]any{}
	if of, _ := m["overprovisioning_factor"].(float64); of != 0 && of != config.DefaultOverprovisioningFactor {
		pol["overprovisioning_factor"] = of
	}
	if w, _ := m["weighted_priority_health"].(bool); w {
		pol["weighted_priority_health"] = true
	}
	if len(pol) > 0 {
		la["policy"] = pol
	}
	return la
}

// toAny converts a list of maps to a generic list.
func toAny(ms []map[string]any) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}
