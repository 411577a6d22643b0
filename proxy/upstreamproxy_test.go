package proxy_test

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestUpstreamProxyProtocolHAProxy: a cluster with upstream_proxy_protocol
// (V1 and V2) in front of haproxy 2.6 bound with accept-proxy, which
// answers each HTTP request with the client address it sees: the real
// client's (127.0.0.7, not sluice's 127.0.0.1), or, behind a downstream
// PROXY header, the address that header named.
func TestUpstreamProxyProtocolHAProxy(t *testing.T) {
	hp := testenv.HAProxy(t, `
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:%[1]d accept-proxy
  http-request return status 200 content-type text/plain lf-string "src=%%[src]"
`)
	for _, ver := range []string{"V1", "V2"} {
		t.Run(ver, func(t *testing.T) {
			s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: direct
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: d, cluster: hap}}]
  - name: behind
    address: 127.0.0.1:0
    listener_filters: [{name: envoy.filters.listener.proxy_protocol}]
    filters: [{tcp_proxy: {stat_prefix: b, cluster: hap}}]
clusters:
  - name: hap
    endpoints: ["%s"]
    upstream_proxy_protocol: {version: %s}
`, hp.Addr(), ver))
			get := func(listener, src, prefix string) string {
				c := dialFrom(t, src, s.Addr(listener))
				c.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(c, prefix+"GET / HTTP/1.0\r\n\r\n")
				b, _ := io.ReadAll(c)
				return string(b)
			}
			if got := get("direct", "127.0.0.7", ""); !strings.HasSuffix(got, "src=127.0.0.7") {
				t.Errorf("direct client: %q", got)
			}
			if got := get("behind", "127.0.0.1", "PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n"); !strings.HasSuffix(got, "src=203.0.113.9") {
				t.Errorf("client behind a PROXY header: %q", got)
			}
		})
	}
}

// TestProxyProtocolEndToEnd: client -> haproxy (send-proxy-v2 with a
// unique-id TLV) -> sluice (proxy_protocol with pass_through_tlvs) ->
// haproxy (accept-proxy) through a cluster with upstream_proxy_protocol V2
// and pass_through_tlvs: the last haproxy sees the first client's address
// and the unique id the first haproxy made.
func TestProxyProtocolEndToEnd(t *testing.T) {
	back := testenv.HAProxy(t, `
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend fe
  bind 127.0.0.1:%[1]d accept-proxy
  http-request return status 200 content-type text/plain lf-string "src=%%[src] id=%%[fc_pp_unique_id]"
`)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: mid
    address: 127.0.0.1:0
    listener_filters:
      - name: envoy.filters.listener.proxy_protocol
        typed_config: {pass_through_tlvs: {match_type: INCLUDE_ALL}}
    filters: [{tcp_proxy: {stat_prefix: mid, cluster: back}}]
clusters:
  - name: back
    endpoints: ["%s"]
    upstream_proxy_protocol: {version: V2, pass_through_tlvs: {match_type: INCLUDE, tlv_type: [5]}}
`, back.Addr()))
	front := testenv.HAProxy(t, `
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen fe
  bind 127.0.0.1:%[1]d
  unique-id-format req-%%[src]
  server sluice `+s.Addr("mid")+` send-proxy-v2 proxy-v2-options unique-id
`)
	c := dialFrom(t, "127.0.0.8", front.Addr())
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	b, _ := io.ReadAll(c)
	if !strings.HasSuffix(string(b), "src=127.0.0.8 id=req-127.0.0.8") {
		t.Fatalf("the back haproxy answered %q", b)
	}
}
