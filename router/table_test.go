package router

import "testing"

const vhostsYAML = `
name: local
virtual_hosts:
- name: exact
  domains: ["api.example.com", "api.example.com:8080"]
  routes: [{name: exact, match: {prefix: "/"}, route: {cluster: a}}]
- name: short-suffix
  domains: ["*.com"]
  routes: [{name: short-suffix, match: {prefix: "/"}, route: {cluster: a}}]
- name: long-suffix
  domains: ["*.example.com"]
  routes: [{name: long-suffix, match: {prefix: "/"}, route: {cluster: a}}]
- name: prefix
  domains: ["www.*", "www.example.*"]
  routes: [{name: prefix, match: {prefix: "/"}, route: {cluster: a}}]
- name: any
  domains: ["*"]
  routes: [{name: any, match: {prefix: "/"}, route: {cluster: a}}]
`

func TestVirtualHostPrecedence(t *testing.T) {
	tbl := compileYAML(t, vhostsYAML)
	tests := []struct {
		host, want string
	}{
		{"api.example.com", "exact"},
		{"API.Example.COM", "exact"},
		{"api.example.com:8080", "exact"},
		{"api.example.com:9090", "any"}, // a port is part of the host unless ignored
		{"x.example.com", "long-suffix"},
		{"example.com", "short-suffix"}, // "*.example.com" needs a label in front
		{"other.com", "short-suffix"},
		{"www.example.com", "long-suffix"}, // suffix wildcards beat prefix ones
		{"www.example.org", "prefix"},
		{"www.", "any"}, // the wildcard stands for at least one character
		{"localhost", "any"},
		{"", "any"},
	}
	for _, tt := range tests {
		if got := routeName(tbl, request("GET", "/", tt.host)); got != tt.want {
			t.Errorf("host %q: got %s, want %s", tt.host, got, tt.want)
		}
	}
}

func TestIgnorePortInHostMatching(t *testing.T) {
	tbl := compileYAML(t, `
ignore_port_in_host_matching: true
virtual_hosts:
- name: a
  domains: ["a.test"]
  routes: [{name: a, match: {prefix: "/"}, route: {cluster: a}}]
- name: v6
  domains: ["[::1]"]
  routes: [{name: v6, match: {prefix: "/"}, route: {cluster: a}}]
`)
	for host, want := range map[string]string{"a.test:8080": "a", "a.test": "a", "[::1]:80": "v6", "[::1]": "v6", "b.test:80": "<none>"} {
		if got := routeName(tbl, request("GET", "/", host)); got != want {
			t.Errorf("host %q: got %s, want %s", host, got, want)
		}
	}
}

func TestNoVirtualHostNoRoute(t *testing.T) {
	tbl := compileYAML(t, `
virtual_hosts:
- name: a
  domains: ["a.test"]
  routes: [{name: a, match: {path: "/only"}, route: {cluster: a}}]
`)
	if r := tbl.Route(request("GET", "/only", "b.test")); r != nil {
		t.Fatalf("unknown host routed to %q", r.Name())
	}
	if r := tbl.Route(request("GET", "/other", "a.test")); r != nil {
		t.Fatalf("unmatched path routed to %q", r.Name())
	}
}

// TestConcurrentRoute routes from many goroutines at once: the table is
// shared read-only by every connection (run with -race).
func TestConcurrentRoute(t *testing.T) {
	tbl := compileYAML(t, actionYAML)
	done := make(chan string)
	for range 8 {
		go func() {
			for range 200 {
				req := request("GET", "/api/v1/x", "h")
				r := tbl.Route(req)
				r.Rewrite(req)
				r.MutateResponse(map[string][]string{})
				if tbl.Route(request("GET", "/w", "h")).Cluster(req) == "" {
					done <- "no weighted pick"
					return
				}
			}
			done <- ""
		}()
	}
	for range 8 {
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
	}
}
