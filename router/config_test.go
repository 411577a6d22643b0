package router

import (
	"strings"
	"testing"
)

func TestRouteConfigErrors(t *testing.T) {
	const head = "virtual_hosts:\n- name: v\n  domains: [\"*\"]\n  routes:\n"
	tests := []struct {
		name, src, wantErr string
	}{
		{"valid", head + `  - {match: {prefix: "/"}, route: {cluster: a}}`, ""},
		{"unknown field", head + `  - {match: {prefix: "/", prefx: "/"}, route: {cluster: a}}`,
			"route_config.virtual_hosts[0].routes[0].match.prefx: unknown field"},
		{"two path matches", head + `  - {match: {prefix: "/", path: "/a"}, route: {cluster: a}}`,
			"route_config.virtual_hosts[0].routes[0].match: set exactly one of prefix, path, safe_regex, path_separated_prefix, connect_matcher (2 set)"},
		{"no action", head + `  - {match: {prefix: "/"}}`,
			"routes[0]: set exactly one of route, redirect, direct_response (0 set)"},
		{"two clusters", head + `  - {match: {prefix: "/"}, route: {cluster: a, cluster_header: x-c}}`,
			"routes[0].route: set exactly one of cluster, cluster_header, weighted_clusters (2 set)"},
		{"bad regex", head + `  - {match: {safe_regex: {regex: "("}}, route: {cluster: a}}`,
			"routes[0].match.safe_regex.regex: error parsing regexp"},
		{"prefix_rewrite with regex", head + `  - {match: {safe_regex: {regex: "/a"}}, route: {cluster: a, prefix_rewrite: "/b"}}`,
			"routes[0].route.prefix_rewrite: prefix_rewrite cannot be used with a safe_regex match"},
		{"zero weights", head + `  - {match: {prefix: "/"}, route: {weighted_clusters: {clusters: [{name: a, weight: 0}]}}}`,
			"route.weighted_clusters.clusters: the weights add up to 0"},
		{"bad total_weight", head + `  - {match: {prefix: "/"}, route: {weighted_clusters: {clusters: [{name: a, weight: 2}], total_weight: 100}}}`,
			"weighted_clusters.total_weight: 100 is not the sum of the weights (2)"},
		{"bad timeout", head + `  - {match: {prefix: "/"}, route: {cluster: a, timeout: 5}}`,
			"routes[0].route.timeout: invalid duration"},
		{"bad redirect code", head + `  - {match: {prefix: "/"}, redirect: {response_code: GONE}}`,
			`routes[0].redirect.response_code: unknown code "GONE"`},
		{"bad status", head + `  - {match: {prefix: "/"}, direct_response: {status: 99}}`,
			"direct_response.status: 99 is not an HTTP status"},
		{"bad append_action", head + `  - {match: {prefix: "/"}, route: {cluster: a}, request_headers_to_add: [{header: {key: x, value: y}, append_action: SOMETIMES}]}`,
			`request_headers_to_add[0].append_action: unknown action "SOMETIMES"`},
		{"two header matches", head + `  - {match: {prefix: "/", headers: [{name: x, exact_match: a, present_match: true}]}, route: {cluster: a}}`,
			"match.headers[0]: set at most one of"},
		{"empty range", head + `  - {match: {prefix: "/", headers: [{name: x, range_match: {start: 5, end: 5}}]}, route: {cluster: a}}`,
			"headers[0].range_match: start (5) must be below end (5)"},
		{"bad denominator", head + `  - {match: {prefix: "/", runtime_fraction: {default_value: {numerator: 1, denominator: BILLION}}}, route: {cluster: a}}`,
			`runtime_fraction.default_value.denominator: unknown denominator "BILLION"`},
		{"two hash sources", head + `  - {match: {prefix: "/"}, route: {cluster: a, hash_policy: [{header: {header_name: x}, cookie: {name: c}}]}}`,
			"hash_policy[0]: set exactly one of header, cookie, connection_properties, query_parameter (2 set)"},
		{"back-off base", head + `  - {match: {prefix: "/"}, route: {cluster: a, retry_policy: {retry_back_off: {base_interval: 0s}}}}`,
			"retry_policy.retry_back_off.base_interval: must be above 0"},
		{"duplicate domain", "virtual_hosts:\n- {name: a, domains: [x.com], routes: []}\n- {name: b, domains: [X.com], routes: []}",
			`route_config.virtual_hosts[1].domains[0]: domain "x.com" is already used by route_config.virtual_hosts[0]`},
		{"inner wildcard", "virtual_hosts:\n- {name: a, domains: [\"a.*.com\"], routes: []}",
			"virtual_hosts[0].domains[0]: a wildcard is allowed only as the whole domain, its first or its last character"},
		{"separated prefix slash", head + `  - {match: {path_separated_prefix: "/a/"}, route: {cluster: a}}`,
			"match.path_separated_prefix: must start with '/', not end with '/'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := decodeRC(tt.src)
			if err == nil {
				_, err = Compile(rc)
			}
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
				t.Fatalf("error %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestClusters(t *testing.T) {
	rc, err := decodeRC(actionYAML)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rc.Clusters(), ",")
	if got != "backend,backend,shadow,blue,none,green" {
		t.Fatalf("clusters %s", got)
	}
}
