package envoy

// rbacRouteSpecs: the HTTP rbac filter's per-route config.
var rbacRouteSpecs = []message{
	{name: "envoy.extensions.filters.http.rbac.v3.RBACPerRoute", fields: []field{
		okNote("rbac", "replaces the filter's rules for the route; unset turns the filter off there"),
	}},
}

// Added to the shared tables here (as spec_http_grpc.go does), with
// track_per_rule_stats on the RBAC message.
func init() {
	for name, m := range indexSpecs(rbacRouteSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
	rb := specs["envoy.extensions.filters.http.rbac.v3.RBAC"]
	rb.fields = append(rb.fields, okNote("track_per_rule_stats", "rbac.<prefix>policy.<name>.allowed|denied|shadow_allowed|shadow_denied"))
}
