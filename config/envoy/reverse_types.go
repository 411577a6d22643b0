package envoy

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// reversers undo the translate functions of the tables.
var reversers map[protoreflect.FullName]func(r *reverser, md protoreflect.MessageDescriptor, v any, p string) any

func init() {
	reversers = map[protoreflect.FullName]func(*reverser, protoreflect.MessageDescriptor, any, string) any{
		"envoy.config.core.v3.Address": func(r *reverser, _ protoreflect.MessageDescriptor, v any, p string) any {
			return r.address(v, p)
		},
		"envoy.type.v3.Percent": func(_ *reverser, _ protoreflect.MessageDescriptor, v any, _ string) any {
			return map[string]any{"value": v}
		},
		"envoy.config.core.v3.RuntimeDouble": func(_ *reverser, _ protoreflect.MessageDescriptor, v any, _ string) any {
			return map[string]any{"default_value": v}
		},
		"envoy.config.listener.v3.Listener":                  (*reverser).listener,
		"envoy.config.listener.v3.FilterChainMatch":          (*reverser).chainMatch,
		"envoy.config.listener.v3.Filter":                    (*reverser).filter,
		"envoy.config.cluster.v3.Cluster":                    (*reverser).cluster,
		"envoy.config.core.v3.TransportSocket":               (*reverser).tls,
		"envoy.config.core.v3.HealthCheck.CustomHealthCheck": (*reverser).redisHealthCheck,
	}
}

// listener writes the filters shorthand as one chain and adds the
// tls_inspector Envoy needs for chains matching on TLS facts.
func (r *reverser) listener(md protoreflect.MessageDescriptor, v any, p string) any {
	m, _ := v.(map[string]any)
	if fs, ok := m["filters"]; ok {
		m["filter_chains"] = []any{map[string]any{"filters": fs}}
		delete(m, "filters")
	}
	out := r.fields(md, m, p, map[string]bool{"access_log": m["access_log"] == nil})
	if m["access_log"] != nil {
		r.errs.Add(config.Join(p, "access_log"), "no conversion to Envoy's access_log yet")
	}
	chains, _ := m["filter_chains"].([]any)
	for _, c := range chains {
		cm, _ := c.(map[string]any)
		match, _ := cm["match"].(map[string]any)
		if match["server_names"] != nil || match["application_protocols"] != nil || match["transport_protocol"] != nil || cm["tls"] != nil {
			out["listener_filters"] = []any{map[string]any{"name": "envoy.filters.listener.tls_inspector",
				"typed_config": typed("envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", map[string]any{})}}
			break
		}
	}
	return out
}

// chainMatch writes source_prefixes as CidrRanges.
func (r *reverser) chainMatch(md protoreflect.MessageDescriptor, v any, p string) any {
	m, _ := v.(map[string]any)
	out := r.fields(md, m, p, map[string]bool{"source_prefixes": true})
	if l, _ := m["source_prefixes"].([]any); len(l) > 0 {
		var ranges []any
		for _, e := range l {
			s, _ := e.(string)
			addr, n, found := strings.Cut(s, "/")
			cr := map[string]any{"address_prefix": addr}
			if found {
				k, _ := strconv.Atoi(n)
				cr["prefix_len"] = k
			} else if strings.Contains(addr, ":") {
				cr["prefix_len"] = 128
			} else {
				cr["prefix_len"] = 32
			}
			ranges = append(ranges, cr)
		}
		out["source_prefix_ranges"] = ranges
	}
	return out
}

// filter writes {name: config} as a Filter with its typed_config.
func (r *reverser) filter(_ protoreflect.MessageDescriptor, v any, p string) any {
	m, _ := v.(map[string]any)
	for name, cfg := range m {
		for full, n := range filterNames {
			if n == name {
				tc := r.message(descriptor(full), cfg, config.Join(p, name))
				tm, _ := tc.(map[string]any)
				return map[string]any{"name": "envoy.filters.network." + name, "typed_config": typed(full, tm)}
			}
		}
		r.errs.Add(config.Join(p, name), "no Envoy filter for %q", name)
	}
	return nil
}

// cluster writes endpoints as load_assignment, the panic threshold under
// common_lb_config and redis_cluster as Envoy's cluster_type.
func (r *reverser) cluster(md protoreflect.MessageDescriptor, v any, p string) any {
	m, _ := v.(map[string]any)
	skip := map[string]bool{"endpoints": true, "healthy_panic_threshold": true, "cluster_refresh_rate": true,
		"overprovisioning_factor": true, "weighted_priority_health": true, "locality_weighted_lb": true}
	typ, _ := m["type"].(string)
	if typ == "static" || typ == "eds" || typ == "redis_cluster" {
		skip["dns_refresh_rate"] = true
	}
	if typ == "redis_cluster" {
		skip["type"] = true
	}
	out := r.fields(md, m, p, skip)
	name, _ := m["name"].(string)
	if la := r.loadAssignment(m, name, p); la != nil {
		out["load_assignment"] = la
	}
	common := map[string]any{}
	if t, _ := m["healthy_panic_threshold"].(float64); t != 50 {
		common["healthy_panic_threshold"] = map[string]any{"value": t}
	}
	if lw, _ := m["locality_weighted_lb"].(bool); lw {
		common["locality_weighted_lb_config"] = map[string]any{}
	}
	if len(common) > 0 {
		out["common_lb_config"] = common
	}
	if typ == "redis_cluster" {
		rc := map[string]any{}
		if rr, _ := m["cluster_refresh_rate"].(string); rr != "" && rr != "5s" {
			rc["cluster_refresh_rate"] = r.message(descriptor("google.protobuf.Duration"), rr, config.Join(p, "cluster_refresh_rate"))
		}
		out["cluster_type"] = map[string]any{"name": "envoy.clusters.redis",
			"typed_config": typed("envoy.extensions.clusters.redis.v3.RedisClusterConfig", rc)}
		out["lb_policy"] = "CLUSTER_PROVIDED"
	}
	return out
}

// tls writes a chain's tls as a DownstreamTlsContext transport socket.
func (r *reverser) tls(_ protoreflect.MessageDescriptor, v any, p string) any {
	m, _ := v.(map[string]any)
	file := func(k string) map[string]any { return map[string]any{"filename": m[k]} }
	common := map[string]any{"tls_certificates": []any{map[string]any{
		"certificate_chain": file("certificate_file"), "private_key": file("private_key_file")}}}
	if m["client_ca_file"] != nil {
		common["validation_context"] = map[string]any{"trusted_ca": file("client_ca_file")}
	}
	if m["alpn"] != nil {
		common["alpn_protocols"] = m["alpn"]
	}
	dtc := map[string]any{"common_tls_context": common}
	if m["require_client_certificate"] == true {
		dtc["require_client_certificate"] = true
	}
	return map[string]any{"name": "envoy.transport_sockets.tls",
		"typed_config": typed("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", dtc)}
}

// redisHealthCheck writes sluice's redis_health_check as Envoy's custom
// checker.
func (r *reverser) redisHealthCheck(_ protoreflect.MessageDescriptor, v any, p string) any {
	m, _ := v.(map[string]any)
	rc := map[string]any{}
	if k, _ := m["key"].(string); k != "" {
		rc["key"] = k
	}
	return map[string]any{"name": "envoy.health_checkers.redis",
		"typed_config": typed("envoy.extensions.health_checkers.redis.v3.Redis", rc)}
}
