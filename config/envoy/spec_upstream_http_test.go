package envoy

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// httpCluster is a bootstrap with one cluster carrying opts.
func httpCluster(opts string) string {
	return `
static_resources:
  clusters:
  - name: grpc
    connect_timeout: 1s
    load_assignment:
      cluster_name: grpc
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 50051}}}}]}]
` + opts
}

// TestTranslateUpstreamHTTP: Envoy's HttpProtocolOptions and the older
// cluster-level http2_protocol_options reach the pool's settings; fields
// sluice does not read are refused with their Envoy path.
func TestTranslateUpstreamHTTP(t *testing.T) {
	c, _ := parse(t, httpCluster(`
    preconnect_policy: {per_upstream_preconnect_ratio: 1.5}
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        common_http_protocol_options: {idle_timeout: 30s, max_requests_per_connection: 100, max_connection_duration: 60s}
        explicit_http_config:
          http2_protocol_options: {max_concurrent_streams: 4, initial_stream_window_size: 65536, initial_connection_window_size: 1048576}
`))
	proto, h2, common := c.Clusters[0].UpstreamHTTP()
	if proto != config.ProtoHTTP2 || h2.MaxConcurrentStreams != 4 || h2.InitialStreamWindowSize != 65536 || h2.InitialConnectionWindowSize != 1<<20 {
		t.Errorf("got %v %+v", proto, h2)
	}
	if r := c.Clusters[0].PreconnectRatio(); r != 1.5 {
		t.Errorf("preconnect ratio %v", r)
	}
	if common.IdleTimeout.D() != 30*time.Second || common.MaxRequestsPerConnection != 100 || common.MaxConnectionDuration.D() != time.Minute {
		t.Errorf("common: %+v", common)
	}
	c, _ = parse(t, httpCluster(`    http2_protocol_options: {max_concurrent_streams: 2}`+"\n"))
	if proto, h2, _ := c.Clusters[0].UpstreamHTTP(); proto != config.ProtoHTTP2 || h2.MaxConcurrentStreams != 2 {
		t.Errorf("legacy field: %v %+v", proto, h2)
	}
	c, _ = parse(t, httpCluster(`
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        auto_config: {http_protocol_options: {}, http2_protocol_options: {}}
`))
	if proto, _, _ := c.Clusters[0].UpstreamHTTP(); proto != config.ProtoAuto {
		t.Errorf("auto_config: %v", proto)
	}
	c, _ = parse(t, httpCluster(`
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        auto_config: {http_protocol_options: {}, http2_protocol_options: {}}
        upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true, override_auto_sni_header: x-sni}
`))
	if u := c.Clusters[0].TypedExtensionProtocolOptions.HTTP.UpstreamHTTPProtocolOptions; u == nil ||
		*u != (config.UpstreamHTTPSNI{AutoSNI: true, AutoSANValidation: true, OverrideAutoSNIHeader: "x-sni"}) {
		t.Errorf("upstream_http_protocol_options: %+v", u)
	}

	_, _, err := Parse("envoy.yaml", []byte(httpCluster(`
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config:
          http2_protocol_options: {hpack_table_size: 100}
`)))
	want := "typed_extension_protocol_options.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.explicit_http_config.http2_protocol_options.hpack_table_size: not supported by sluice"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// FuzzUpstreamHTTP: no cluster HTTP options make the loader panic, and
// what it accepts resolves to a protocol.
func FuzzUpstreamHTTP(f *testing.F) {
	f.Add(httpCluster(`
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        common_http_protocol_options: {idle_timeout: 30s, max_requests_per_connection: 100}
        explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 4, initial_stream_window_size: 65536}}
`))
	f.Add(httpCluster("    http2_protocol_options: {max_concurrent_streams: 2}\n"))
	f.Fuzz(func(t *testing.T, data string) {
		cfg, _, err := Parse("fuzz.yaml", []byte(data))
		if err != nil {
			return
		}
		for i := range cfg.Clusters {
			if p, _, common := cfg.Clusters[i].UpstreamHTTP(); p > config.ProtoAuto || common.IdleTimeout == nil {
				t.Fatalf("cluster %d: protocol %v, idle %v", i, p, common.IdleTimeout)
			}
		}
	})
}

// TestTranslateGRPCHealthCheck: Envoy's grpc_health_check reaches sluice's.
func TestTranslateGRPCHealthCheck(t *testing.T) {
	c, _ := parse(t, httpCluster(`
    health_checks:
    - timeout: 1s
      interval: 5s
      unhealthy_threshold: 2
      healthy_threshold: 1
      grpc_health_check: {service_name: model, authority: model.internal}
`))
	g := c.Clusters[0].HealthChecks[0].GRPCHealthCheck
	if g == nil || g.ServiceName != "model" || g.Authority != "model.internal" {
		t.Errorf("grpc_health_check: %+v", g)
	}
}
