package compressor_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

const envoyBootstrap = `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.compressor
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor
              response_direction_config:
                common_config:
                  min_content_length: 100
                  content_type: [text/plain]
                disable_on_etag_header: true
              compressor_library:
                name: text_optimized
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip
                  memory_level: 3
                  window_bits: 10
                  compression_level: BEST_COMPRESSION
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
`

func TestEnvoyConfig(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, host, port))
	// /text has an ETag: disable_on_etag_header leaves it alone.
	if resp, _ := get(t, "http://"+s.Addr("l")+"/text", "gzip"); resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("etag response compressed: %v", resp.Header)
	}
	if got := s.Counter("http.ingress.compressor.text_optimized.gzip.response.not_compressed_etag"); got != 1 {
		t.Fatalf("not_compressed_etag = %d", got)
	}
}

// Envoy's zstd library through the loader.
func TestEnvoyZstd(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	y := fmt.Sprintf(envoyBootstrap, host, port)
	y = strings.Replace(y, `"@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip
                  memory_level: 3
                  window_bits: 10
                  compression_level: BEST_COMPRESSION`, `"@type": type.googleapis.com/envoy.extensions.compression.zstd.compressor.v3.Zstd
                  compression_level: 7
                  enable_checksum: true`, 1)
	y = strings.Replace(y, "disable_on_etag_header: true", "disable_on_etag_header: false", 1)
	s := sluicetest.StartEnvoy(t, y)
	if resp, _ := get(t, "http://"+s.Addr("l")+"/text", "zstd"); resp.Header.Get("Content-Encoding") != "zstd" {
		t.Fatalf("not zstd: %v", resp.Header)
	}
}

// Envoy's brotli library through the loader.
func TestEnvoyBrotli(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	y := fmt.Sprintf(envoyBootstrap, host, port)
	y = strings.Replace(y, `"@type": type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip
                  memory_level: 3
                  window_bits: 10
                  compression_level: BEST_COMPRESSION`, `"@type": type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli
                  quality: 9
                  window_bits: 22`, 1)
	y = strings.Replace(y, "disable_on_etag_header: true", "disable_on_etag_header: false", 1)
	s := sluicetest.StartEnvoy(t, y)
	if resp, _ := get(t, "http://"+s.Addr("l")+"/text", "br"); resp.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("not br: %v", resp.Header)
	}
	if got := s.Counter("http.ingress.compressor.text_optimized.brotli.response.compressed"); got != 1 {
		t.Fatalf("compressed = %d", got)
	}
}
