package router

import (
	"fmt"
	"strings"
	"testing"
)

// table1000 is a 1,000-route table: 250 virtual hosts would hide the route
// scan, so one catch-all host holds every route, a mix of prefix, path,
// path_separated_prefix and header-conditioned routes.
func table1000(tb testing.TB) *Table {
	var b strings.Builder
	b.WriteString("virtual_hosts:\n- name: big\n  domains: [\"*\"]\n  routes:\n")
	for i := range 1000 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "  - {name: r%d, match: {prefix: \"/svc%d/\"}, route: {cluster: c%d}}\n", i, i, i%10)
		case 1:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path: \"/svc%d/exact\"}, route: {cluster: c%d}}\n", i, i, i%10)
		case 2:
			fmt.Fprintf(&b, "  - {name: r%d, match: {path_separated_prefix: \"/svc%d\"}, route: {cluster: c%d}}\n", i, i, i%10)
		case 3:
			fmt.Fprintf(&b, "  - {name: r%d, match: {prefix: \"/svc%d/\", headers: [{name: x-tenant, string_match: {exact: t%d}}]}, route: {cluster: c%d}}\n", i, i, i, i%10)
		}
	}
	return compileYAML(tb, b.String())
}

func TestRouteAllocatesNothing(t *testing.T) {
	tbl := compileYAML(t, actionYAML+`
- name: matcher
  domains: ["api.example.com", "*.example.org"]
  routes:
  - name: h
    match: {prefix: "/h", case_sensitive: false, headers: [{name: x-env, string_match: {exact: prod}}], query_parameters: [{name: a, present_match: true}]}
    route: {cluster: a}
`)
	reqs := []*struct {
		name string
		host string
		path string
	}{
		{"plain", "front", "/plain/x"},
		{"h", "api.example.com", "/H/x?a=1"},
		{"h", "www.example.org", "/h?b=2&a"},
	}
	for _, r := range reqs {
		req := request("GET", r.path, r.host, "x-env", "prod")
		if got := routeName(tbl, req); got != r.name {
			t.Fatalf("%s%s routed to %s", r.host, r.path, got)
		}
		if n := testing.AllocsPerRun(200, func() { tbl.Route(req) }); n != 0 {
			t.Fatalf("%s%s: %v allocations per Route", r.host, r.path, n)
		}
	}
	big := table1000(t)
	req := request("GET", "/svc996/items", "h")
	if got := routeName(big, req); got != "r996" {
		t.Fatalf("routed to %s", got)
	}
	if n := testing.AllocsPerRun(100, func() { big.Route(req) }); n != 0 {
		t.Fatalf("%v allocations per Route in the 1,000-route table", n)
	}
}

// BenchmarkRoute1000 routes to the last routes of a 1,000-route table (the
// worst case of Envoy's first-match scan, which sluice keeps).
func BenchmarkRoute1000(b *testing.B) {
	tbl := table1000(b)
	req := request("GET", "/svc999/x", "h", "x-tenant", "t999")
	if routeName(tbl, req) != "r999" {
		b.Fatal("wrong route")
	}
	b.ReportAllocs()
	for b.Loop() {
		tbl.Route(req)
	}
}

// BenchmarkRoute1000First routes to the first route.
func BenchmarkRoute1000First(b *testing.B) {
	tbl := table1000(b)
	req := request("GET", "/svc0/x", "h")
	b.ReportAllocs()
	for b.Loop() {
		tbl.Route(req)
	}
}
