package httpconn_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestRouteTablesPerChain: two filter chains of one listener with the same
// stat_prefix and route configuration name ("local_route", as Envoy's
// examples name every one) keep their own tables: the shared table cell
// that lets kept-alive connections follow RDS is per chain.
func TestRouteTablesPerChain(t *testing.T) {
	route := func(body string) string {
		return `{name: local_route, virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, direct_response: {status: 200, body: {inline_string: "` + body + `"}}}]}]}`
	}
	s := sluicetest.Start(t, `
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - match: {source_prefixes: ["127.0.0.2/32"]}
        filters:
          - http_connection_manager: {stat_prefix: ingress, route_config: `+route("two")+`}
      - filters:
          - http_connection_manager: {stat_prefix: ingress, route_config: `+route("one")+`}
`)
	get := func(from string) string {
		t.Helper()
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) }}}
		resp, err := c.Get("http://" + s.Addr("l") + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if a, b := get("127.0.0.1"), get("127.0.0.2"); a != "one" || b != "two" {
		t.Fatalf("from 127.0.0.1 %q, from 127.0.0.2 %q; want one and two", a, b)
	}
}
