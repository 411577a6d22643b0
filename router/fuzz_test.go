package router

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzRoute throws random hosts, paths, queries and headers at a table
// using every match and action kind: routing, rewriting, redirecting and
// hashing must never panic. Seeds are real requests (as curl sends them)
// from the tests above.
func FuzzRoute(f *testing.F) {
	matchHosts := strings.Replace(matchYAML[len("virtual_hosts:\n"):], `domains: ["*"]`, `domains: ["m.test", "*.m.test", "m.*"]`, 1)
	tbl := compileYAML(f, actionYAML+matchHosts)
	seeds := []struct{ host, path, query, hname, hval string }{
		{"localhost:8080", "/plain", "", "User-Agent", "curl/7.88.1"},
		{"front", "/api/v1/items%2Fx", "q=1", "X-Env", "prod"},
		{"h", "/users/42/profile", "", "X-Cluster", "users"},
		{"[::1]:443", "/q", "a+b&debug=%6Fn", "Content-Type", "application/grpc"},
		{"a.M.test", "/h", "", "X-N", "-9223372036854775808"},
		{"", "/old/x", "x=%zz", "Cookie", "session=1; a"},
	}
	for _, s := range seeds {
		f.Add(s.host, s.path, s.query, s.hname, s.hval)
	}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	f.Fuzz(func(t *testing.T, host, path, query, hname, hval string) {
		req := &http.Request{Method: "GET", Host: host, URL: &url.URL{Path: path, RawQuery: query},
			Header: http.Header{http.CanonicalHeaderKey(hname): {hval}}}
		r := tbl.Route(req)
		if r == nil {
			return
		}
		r.Cluster(req)
		r.HashKey(req, remote)
		r.Redirect(req)
		r.DirectResponse()
		r.Rewrite(req)
		r.MutateResponse(http.Header{})
	})
}
