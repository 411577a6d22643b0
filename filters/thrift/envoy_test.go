package thrift_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// envoyBootstrap is an Envoy v3 bootstrap with thrift_proxy in front of a
// cluster whose ThriftProtocolOptions ask for header/compact upstream.
func envoyBootstrap(upstream, protocol string) string {
	host, port, _ := strings.Cut(upstream, ":")
	return `static_resources:
  listeners:
    - name: thrift
      address: {socket_address: {address: 127.0.0.1, port_value: 0}}
      filter_chains:
        - filters:
            - name: envoy.filters.network.thrift_proxy
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy
                stat_prefix: ev
                transport: FRAMED
                protocol: ` + protocol + `
                route_config:
                  name: local
                  routes:
                    - match: {method_name: "add"}
                      route: {cluster: calc}
                    - match: {service_name: ""}
                      route:
                        weighted_clusters: {clusters: [{name: calc, weight: 1}]}
                        request_mirror_policies:
                          - cluster: calc
                            runtime_fraction: {default_value: {numerator: 0}}
                thrift_filters:
                  - name: envoy.filters.thrift.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.router.v3.Router
                      close_downstream_on_upstream_error: false
  clusters:
    - name: calc
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.filters.network.thrift_proxy:
          "@type": type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProtocolOptions
          transport: HEADER
          protocol: COMPACT
      load_assignment:
        cluster_name: calc
        endpoints:
          - lb_endpoints:
              - endpoint: {address: {socket_address: {address: ` + host + `, port_value: ` + port + `}}}
`
}

// TestEnvoyBootstrap loads thrift_proxy from Envoy's format, translating
// framed/binary clients to a header/compact server.
func TestEnvoyBootstrap(t *testing.T) {
	srv := thrifttest.StartServer(t, "envoy", thrifttest.Stack{Transport: "header", Protocol: "compact"})
	s := sluicetest.StartEnvoy(t, envoyBootstrap(srv.Addr, "BINARY"))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	if v, err := c.Add(context.Background(), 20, 22); err != nil || v != 42 {
		t.Fatalf("add: %v %v", v, err)
	}
	if v, err := c.Whoami(context.Background()); err != nil || v != "envoy" {
		t.Fatalf("whoami: %q %v", v, err)
	}
	wantCounters(t, s, map[string]uint64{"thrift.ev.response_success": 2, "cluster.calc.thrift.upstream_rq_call": 2})
}

// TestEnvoyRefusals: the twitter protocol and an unknown protocol option
// key are refused with their Envoy paths.
func TestEnvoyRefusals(t *testing.T) {
	_, _, err := envoy.Parse("envoy.yaml", []byte(envoyBootstrap("127.0.0.1:1", "TWITTER")))
	if err == nil || !strings.Contains(err.Error(), "typed_config.protocol") || !strings.Contains(err.Error(), "TWITTER is not supported") {
		t.Fatalf("twitter: %v", err)
	}
	bad := strings.Replace(envoyBootstrap("127.0.0.1:1", "BINARY"), "envoy.filters.network.thrift_proxy:\n", "envoy.filters.network.http_connection_manager:\n", 1)
	_, _, err = envoy.Parse("envoy.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "typed_extension_protocol_options.envoy.filters.network.http_connection_manager") {
		t.Fatalf("unknown options key: %v", err)
	}
}
