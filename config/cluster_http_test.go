package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// TestUpstreamHTTP: the protocol and options a pool reads from
// typed_extension_protocol_options, the older http2_protocol_options and
// the defaults, and the errors of bad blocks.
func TestUpstreamHTTP(t *testing.T) {
	const hpo = `typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: `
	tests := []struct {
		name, cluster string
		proto         config.UpstreamProtocol
		streams       uint32
		idle          time.Duration
		maxReq        uint32
		wantErr       string
	}{
		{name: "default http1", cluster: ``, proto: config.ProtoHTTP1, idle: time.Hour},
		{name: "explicit h2", cluster: hpo + `{explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 8}}, common_http_protocol_options: {idle_timeout: 2s, max_requests_per_connection: 5}}}`,
			proto: config.ProtoHTTP2, streams: 8, idle: 2 * time.Second, maxReq: 5},
		{name: "explicit h1 with @type", cluster: hpo + `{"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http_protocol_options: {}}}}`,
			proto: config.ProtoHTTP1, idle: time.Hour},
		{name: "downstream", cluster: hpo + `{use_downstream_protocol_config: {http2_protocol_options: {}}}}`, proto: config.ProtoDownstream, idle: time.Hour},
		{name: "auto", cluster: hpo + `{auto_config: {http_protocol_options: {}, http2_protocol_options: {}}}}`, proto: config.ProtoAuto, idle: time.Hour},
		{name: "legacy http2_protocol_options", cluster: `http2_protocol_options: {max_concurrent_streams: 3}`, proto: config.ProtoHTTP2, streams: 3, idle: time.Hour},
		{name: "idle 0 disables", cluster: hpo + `{common_http_protocol_options: {idle_timeout: 0s}}}`, proto: config.ProtoHTTP1},
		{name: "explicit needs one", cluster: hpo + `{explicit_http_config: {}}}`,
			wantErr: `explicit_http_config: set exactly one of http_protocol_options, http2_protocol_options`},
		{name: "two selections", cluster: hpo + `{auto_config: {}, explicit_http_config: {http_protocol_options: {}}}}`,
			wantErr: `set one of explicit_http_config, use_downstream_protocol_config, auto_config`},
		{name: "bad window", cluster: `http2_protocol_options: {initial_stream_window_size: 10}`,
			wantErr: `clusters[0].http2_protocol_options.initial_stream_window_size: must be 65535..2147483647, got 10`},
		{name: "bad type", cluster: hpo + `{"@type": foo}}`, wantErr: `must be envoy.extensions.upstreams.http.v3.HttpProtocolOptions, got "foo"`},
		{name: "unknown key", cluster: `typed_extension_protocol_options: {envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions: {}}`, wantErr: `unknown field`},
		{name: "preconnect out of range", cluster: `preconnect_policy: {per_upstream_preconnect_ratio: 4}`,
			wantErr: `clusters[0].preconnect_policy.per_upstream_preconnect_ratio: must be 1..3, got 4`},
		{name: "pool min above max", cluster: `http_pool: {min_connections_per_host: 9, max_connections_per_host: 4}`,
			wantErr: `clusters[0].http_pool.min_connections_per_host: 9 is above max_connections_per_host 4`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := `clusters: [{name: c, endpoints: ["127.0.0.1:1"]`
			if tc.cluster != "" {
				src += ", " + tc.cluster
			}
			c, err := config.Parse("h.yaml", []byte(src+`}]`))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error:\n%v\nwant:\n%s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			proto, h2, common := c.Clusters[0].UpstreamHTTP()
			if proto != tc.proto || h2.MaxConcurrentStreams != tc.streams || common.IdleTimeout.D() != tc.idle || common.MaxRequestsPerConnection != tc.maxReq {
				t.Errorf("got %v streams %d idle %v maxreq %d; want %v %d %v %d", proto, h2.MaxConcurrentStreams, common.IdleTimeout.D(), common.MaxRequestsPerConnection, tc.proto, tc.streams, tc.idle, tc.maxReq)
			}
			if p := c.Clusters[0].HTTPPool; p.MaxConnectionsPerHost != 64 || p.TargetStreamsPerConnection != 1 {
				t.Errorf("http_pool defaults: %+v", p)
			}
		})
	}
}
