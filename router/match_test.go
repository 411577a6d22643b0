package router

import (
	"net/http"
	"testing"
)

const matchYAML = `
virtual_hosts:
- name: all
  domains: ["*"]
  routes:
  - {name: exact-path, match: {path: "/exact"}, route: {cluster: a}}
  - {name: nocase-path, match: {path: "/NoCase", case_sensitive: false}, route: {cluster: a}}
  - {name: sep, match: {path_separated_prefix: "/sep"}, route: {cluster: a}}
  - {name: regex, match: {safe_regex: {regex: "/re/[0-9]+"}}, route: {cluster: a}}
  - {name: grpc, match: {prefix: "/pkg.Svc/", grpc: {}}, route: {cluster: a}}
  - name: hdr-exact
    match: {prefix: "/h", headers: [{name: x-env, string_match: {exact: prod}}]}
    route: {cluster: a}
  - name: hdr-legacy-prefix
    match: {prefix: "/h", headers: [{name: x-env, prefix_match: "stag"}]}
    route: {cluster: a}
  - name: hdr-regex
    match: {prefix: "/h", headers: [{name: x-env, safe_regex_match: {regex: "dev[0-9]"}}]}
    route: {cluster: a}
  - name: hdr-range
    match: {prefix: "/h", headers: [{name: x-n, range_match: {start: 10, end: 20}}]}
    route: {cluster: a}
  - name: hdr-inverted
    match: {prefix: "/h", headers: [{name: x-env, string_match: {suffix: "-x"}, invert_match: true}]}
    route: {cluster: a}
  - name: hdr-absent
    match: {prefix: "/h", headers: [{name: x-absent, present_match: false}, {name: x-flag}]}
    route: {cluster: a}
  - name: hdr-host
    match: {prefix: "/h", headers: [{name: Host, string_match: {suffix: ".internal"}}]}
    route: {cluster: a}
  - name: hdr-method
    match: {prefix: "/h", headers: [{name: ":method", string_match: {exact: DELETE}}]}
    route: {cluster: a}
  - name: hdr-missing-empty
    match: {prefix: "/h", headers: [{name: x-opt, string_match: {exact: ""}, treat_missing_header_as_empty: true}]}
    route: {cluster: a}
  - name: query
    match: {prefix: "/q", query_parameters: [{name: "debug", string_match: {exact: "on"}}, {name: "a b", present_match: true}]}
    route: {cluster: a}
  - {name: never, match: {prefix: "/frac", runtime_fraction: {default_value: {numerator: 0}}}, route: {cluster: a}}
  - {name: always, match: {prefix: "/frac", runtime_fraction: {default_value: {numerator: 1000000, denominator: MILLION}}}, route: {cluster: a}}
  - {name: query-prefix, match: {prefix: "/qp?v=1"}, route: {cluster: a}}
  - {name: upper-prefix, match: {prefix: "/UP", case_sensitive: false}, route: {cluster: a}}
  - {name: fallback, match: {prefix: "/"}, route: {cluster: a}}
`

func TestRouteMatch(t *testing.T) {
	tbl := compileYAML(t, matchYAML)
	tests := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"path exact", request("GET", "/exact", "h"), "exact-path"},
		{"path exact ignores query", request("GET", "/exact?x=1", "h"), "exact-path"},
		{"path exact is exact", request("GET", "/exact/", "h"), "fallback"},
		{"path case_sensitive false", request("GET", "/nocase", "h"), "nocase-path"},
		{"path_separated_prefix itself", request("GET", "/sep", "h"), "sep"},
		{"path_separated_prefix segment", request("GET", "/sep/x", "h"), "sep"},
		{"path_separated_prefix not a segment", request("GET", "/separate", "h"), "fallback"},
		{"safe_regex whole path", request("GET", "/re/123", "h"), "regex"},
		{"safe_regex anchored", request("GET", "/re/123x", "h"), "fallback"},
		{"grpc", request("POST", "/pkg.Svc/Call", "h", "content-type", "application/grpc"), "grpc"},
		{"grpc+proto", request("POST", "/pkg.Svc/Call", "h", "content-type", "application/grpc+proto"), "grpc"},
		{"grpc-web is not grpc", request("POST", "/pkg.Svc/Call", "h", "content-type", "application/grpc-web"), "fallback"},
		{"not grpc", request("POST", "/pkg.Svc/Call", "h", "content-type", "application/json"), "fallback"},
		{"header exact", request("GET", "/h", "h", "x-env", "prod"), "hdr-exact"},
		{"header legacy prefix", request("GET", "/h", "h", "x-env", "staging"), "hdr-legacy-prefix"},
		{"header regex", request("GET", "/h", "h", "x-env", "dev7"), "hdr-regex"},
		{"header repeated joined with comma", request("GET", "/h", "h", "x-env", "dev1", "x-env", "dev2"), "hdr-inverted"},
		{"header range in", request("GET", "/h", "h", "x-n", "19", "x-env", "a-x"), "hdr-range"},
		{"header range end exclusive", request("GET", "/h", "h", "x-n", "20", "x-env", "a-x"), "hdr-missing-empty"}, // x-n out of range; nothing else under /h holds
		{"header inverted", request("GET", "/h", "h", "x-env", "other"), "hdr-inverted"},
		{"header absent and present", request("GET", "/h", "h", "x-env", "a-x", "x-flag", ""), "hdr-absent"},
		{"host is :authority", request("GET", "/h", "db.internal"), "hdr-host"},
		{"pseudo-header :method", request("DELETE", "/h", "h"), "hdr-method"},
		{"missing header as empty", request("GET", "/h", "h"), "hdr-missing-empty"},
		{"query both", request("GET", "/q?a+b&debug=%6Fn", "h"), "query"},
		{"query value differs", request("GET", "/q?debug=off&a%20b=1", "h"), "fallback"},
		{"query missing present one", request("GET", "/q?debug=on", "h"), "fallback"},
		{"runtime_fraction", request("GET", "/frac", "h"), "always"},
		{"prefix into the query", request("GET", "/qp?v=12", "h"), "query-prefix"},
		{"prefix into the query, other path", request("GET", "/qpx?v=1", "h"), "fallback"},
		{"prefix case_sensitive false", request("GET", "/upper", "h"), "upper-prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routeName(tbl, tt.req); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRuntimeFractionSamples(t *testing.T) {
	tbl := compileYAML(t, `
virtual_hosts:
- name: all
  domains: ["*"]
  routes:
  - {name: half, match: {prefix: "/", runtime_fraction: {default_value: {numerator: 5000, denominator: TEN_THOUSAND}}}, route: {cluster: a}}
  - {name: rest, match: {prefix: "/"}, route: {cluster: b}}
`)
	n := 0
	const total = 4000
	for range total {
		if routeName(tbl, request("GET", "/", "h")) == "half" {
			n++
		}
	}
	// 50% of 4000: the bounds are 10 standard deviations (sd ~32) wide.
	if n < 1680 || n > 2320 {
		t.Fatalf("%d of %d requests took the 50%% route", n, total)
	}
}
