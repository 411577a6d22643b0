package thrift_test

import (
	"context"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// BenchmarkEcho: echo calls from parallel Go clients, direct to a Go server
// and through thrift_proxy (one call per upstream connection, and 2 shared
// connections). Compare ns/op between the sub-benchmarks of one run.
func BenchmarkEcho(b *testing.B) {
	srv := thrifttest.StartServer(b, "bench", framedBinary)
	s := sluicetest.Start(b, proxyYAML(`stat_prefix: b
transport: FRAMED
protocol: BINARY
route_config: {routes: [{match: {method_name: ""}, route: {cluster: up}}]}`, clusterYAML("up", "", srv.Addr)))
	shared := sluicetest.Start(b, proxyYAML(`stat_prefix: b
transport: FRAMED
protocol: BINARY
max_upstream_connections_per_host: 2
max_requests_per_upstream_connection: 64
route_config: {routes: [{match: {method_name: ""}, route: {cluster: up}}]}`, clusterYAML("up", "", srv.Addr)))
	for _, tc := range []struct{ name, addr string }{
		{"direct", srv.Addr}, {"thrift_proxy", s.Addr("thrift")}, {"thrift_proxy_shared", shared.Addr("thrift")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				c := thrifttest.Dial(b, tc.addr, framedBinary, "")
				defer c.Trans.Close()
				for pb.Next() {
					if _, err := c.Echo(context.Background(), "0123456789abcdef0123456789abcdef"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
