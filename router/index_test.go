package router

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// indexedYAML has enough routes to be indexed, with prefixes nested in
// each other, paths that are prefixes of prefixes, and routes the index
// cannot hold (regex, case-insensitive, a prefix into the query), in an
// order where a later, longer prefix must not beat an earlier, shorter one.
const indexedYAML = `
virtual_hosts:
- name: v
  domains: ["*"]
  routes:
  - {name: r0, match: {path: "/a/b"}, route: {cluster: c}}
  - {name: r1, match: {prefix: "/a/", headers: [{name: x-v, string_match: {exact: "1"}}]}, route: {cluster: c}}
  - {name: r2, match: {safe_regex: {regex: "/a/[0-9]+"}}, route: {cluster: c}}
  - {name: r3, match: {prefix: "/a/b"}, route: {cluster: c}}
  - {name: r4, match: {path_separated_prefix: "/a"}, route: {cluster: c}}
  - {name: r5, match: {prefix: "/A/", case_sensitive: false}, route: {cluster: c}}
  - {name: r6, match: {prefix: "/b?x="}, route: {cluster: c}}
  - {name: r7, match: {prefix: "/b", query_parameters: [{name: q, present_match: true}]}, route: {cluster: c}}
  - {name: r8, match: {path: "/b"}, route: {cluster: c}}
  - {name: r9, match: {prefix: "/bc"}, route: {cluster: c}}
  - {name: r10, match: {prefix: "/b"}, route: {cluster: c}}
  - {name: r11, match: {prefix: "/bcd"}, route: {cluster: c}}
  - {name: r12, match: {path: ""}, route: {cluster: c}}
  - {name: r13, match: {prefix: "/c/", grpc: {}}, route: {cluster: c}}
  - {name: r14, match: {path: "/c/x", case_sensitive: false}, route: {cluster: c}}
  - {name: r15, match: {prefix: "/c"}, route: {cluster: c}}
  - {name: r16, match: {prefix: "/"}, route: {cluster: c}}
  - {name: r17, match: {prefix: ""}, route: {cluster: c}}
`

// scan is Envoy's plain first-match scan, the reference for the index.
func scan(vh *vhost, req *http.Request) *Route {
	path := req.URL.EscapedPath()
	for _, r := range vh.routes {
		if r.matches(req, path) {
			return r
		}
	}
	return nil
}

func checkIndex(t *testing.T, tbl *Table, req *http.Request) {
	t.Helper()
	vh := tbl.virtualHost(req.Host)
	want, got := scan(vh, req), tbl.Route(req)
	if want != got {
		t.Fatalf("%s %q %v: index found %v, scan %v", req.URL.EscapedPath(), req.URL.RawQuery, req.Header, nameOf(got), nameOf(want))
	}
}

func nameOf(r *Route) string {
	if r == nil {
		return "<none>"
	}
	return r.Name()
}

func TestIndexAgreesWithScan(t *testing.T) {
	tbl := compileYAML(t, indexedYAML)
	if tbl.virtualHost("h").index == nil {
		t.Fatal("the table is not indexed")
	}
	paths := []string{"", "/", "/a", "/a/", "/a/b", "/a/b/", "/a/bc", "/a/12", "/A/x", "/a/x", "/ab",
		"/b", "/b/", "/bc", "/bcd", "/bcde", "/c", "/c/", "/C/X", "/c/x", "/d", "x", "/a%2Fb"}
	for _, p := range paths {
		for _, q := range []string{"", "x=1", "q", "x"} {
			for _, h := range [][]string{nil, {"x-v", "1"}, {"content-type", "application/grpc"}} {
				req := &http.Request{Method: "GET", Host: "h", URL: &url.URL{Path: p, RawQuery: q}, Header: http.Header{}}
				if h != nil {
					req.Header.Set(h[0], h[1])
				}
				checkIndex(t, tbl, req)
			}
		}
	}
}

// FuzzRouteIndex checks the index against the plain scan on random
// requests.
func FuzzRouteIndex(f *testing.F) {
	tbl := compileYAML(f, indexedYAML)
	for _, s := range []string{"/a/b", "/bcd?q", "/c/x", "/A/b", "/b?x=1"} {
		p, q, _ := strings.Cut(s, "?")
		f.Add(p, q, "1", "application/grpc")
	}
	f.Fuzz(func(t *testing.T, path, query, xv, ct string) {
		req := &http.Request{Method: "GET", Host: "h", URL: &url.URL{Path: path, RawQuery: query},
			Header: http.Header{"X-V": {xv}, "Content-Type": {ct}}}
		checkIndex(t, tbl, req)
	})
}

func TestIndexOnlyForLongLists(t *testing.T) {
	var b strings.Builder
	b.WriteString("virtual_hosts:\n- name: v\n  domains: [\"*\"]\n  routes:\n")
	for i := range minIndexed - 1 {
		fmt.Fprintf(&b, "  - {match: {prefix: \"/%d\"}, route: {cluster: c}}\n", i)
	}
	if tbl := compileYAML(t, b.String()); tbl.virtualHost("h").index != nil {
		t.Fatal("a short list is indexed")
	}
}
