package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// dialFrom connects to addr from a given loopback source address (Linux
// answers for all of 127.0.0.0/8), so that a PROXY header has a client
// address distinct from the proxy's own.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// redisPing sends PING and returns the first reply line, or the read error.
func redisPing(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return "", err
	}
	return bufio.NewReader(c).ReadString('\n')
}

// TestHAProxySendProxyToRBACAndAccessLog: haproxy 2.6 with send-proxy-v2
// (and send-proxy, v1) in front of sluice, whose proxy_protocol listener
// filter makes the real client (127.0.0.5 or .6, not haproxy's 127.0.0.1)
// the connection's remote address: rbac's remote_ip policy lets .5 reach
// redis and refuses .6, and the access log writes the client address with
// haproxy's as the direct one.
func TestHAProxySendProxyToRBACAndAccessLog(t *testing.T) {
	for _, mode := range []string{"send-proxy-v2", "send-proxy"} {
		t.Run(mode, func(t *testing.T) {
			redis := testenv.Redis(t)
			logPath := filepath.Join(t.TempDir(), "access.log")
			s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: pp
    address: 127.0.0.1:0
    access_log: {path: %s}
    listener_filters:
      - name: envoy.filters.listener.proxy_protocol
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol}
    filters:
      - rbac:
          stat_prefix: pp
          rules:
            action: ALLOW
            policies:
              client5: {permissions: [{any: true}], principals: [{remote_ip: {address_prefix: 127.0.0.5, prefix_len: 32}}]}
      - tcp_proxy: {stat_prefix: pp, cluster: redis}
clusters:
  - {name: redis, endpoints: ["%s"]}
`, logPath, redis.Addr()))
			hp := testenv.HAProxy(t, `
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
listen fe
  bind 127.0.0.1:%[1]d
  server sluice `+s.Addr("pp")+` `+mode+`
`)
			c5 := dialFrom(t, "127.0.0.5", hp.Addr())
			if got, err := redisPing(c5); err != nil || got != "+PONG\r\n" {
				t.Fatalf("client 127.0.0.5: %q, %v", got, err)
			}
			c5.Close() // its access log line is written when it ends
			if got, err := redisPing(dialFrom(t, "127.0.0.6", hp.Addr())); err == nil {
				t.Fatalf("client 127.0.0.6 was not refused: %q", got)
			}
			s.WaitCounter("pp.rbac.allowed", 1, 10*time.Second)
			s.WaitCounter("pp.rbac.denied", 2, 10*time.Second) // .6 and the readiness probe
			ver := "v2"
			if mode == "send-proxy" {
				ver = "v1"
			}
			// Two clients and haproxy's readiness probe by testenv.
			s.WaitCounter("proxy_proto.versions."+ver+".found", 3, 10*time.Second)
			var log string
			poll.Eventually(t, 10*time.Second, func() bool {
				b, _ := os.ReadFile(logPath)
				log = string(b)
				return strings.Contains(log, `"127.0.0.5:`) && strings.Contains(log, `"127.0.0.6:`)
			}, "access log lines of both clients", func() any { return log })
			for _, want := range []string{`"downstream_remote_address":"127.0.0.5:`, `"downstream_remote_address":"127.0.0.6:`,
				`"downstream_direct_remote_address":"127.0.0.1:`, `rbac_access_denied`} {
				if !strings.Contains(log, want) {
					t.Errorf("access log lacks %s:\n%s", want, log)
				}
			}
		})
	}
}

// TestProxyProtocolPolicy: a connection without a header is closed unless
// allow_requests_without_proxy_protocol; a malformed header and a
// disallowed version close that connection only, counted, and the
// listener serves the next one.
func TestProxyProtocolPolicy(t *testing.T) {
	up := serve(t, echo)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: strict
    address: 127.0.0.1:0
    listener_filters:
      - name: envoy.filters.listener.proxy_protocol
        typed_config: {disallowed_versions: [V1], stat_prefix: strict}
    filters: [{tcp_proxy: {stat_prefix: strict, cluster: echo}}]
  - name: lax
    address: 127.0.0.1:0
    listener_filters:
      - name: envoy.filters.listener.proxy_protocol
        typed_config: {allow_requests_without_proxy_protocol: true}
    filters: [{tcp_proxy: {stat_prefix: lax, cluster: echo}}]
clusters:
  - {name: echo, endpoints: ["%s"]}
`, up))
	roundTrip := func(addr, header string) (string, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, header+"hello\n")
		return bufio.NewReader(c).ReadString('\n')
	}
	v2 := "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\xcb\x00\x71\x07\x7f\x00\x00\x01\x30\x39\x00\x50"
	cases := []struct {
		name, listener, header string
		ok                     bool
		counter                string
	}{
		{"no header refused", "strict", "", false, "proxy_proto.strict.not_found_disallowed"},
		{"v1 disallowed", "strict", "PROXY TCP4 203.0.113.7 127.0.0.1 12345 80\r\n", false, "proxy_proto.strict.versions.v1.disallowed"},
		{"v2 accepted", "strict", v2, true, "proxy_proto.strict.versions.v2.found"},
		{"malformed v2", "strict", "\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x02\xcb\x00", false, "proxy_proto.strict.versions.v2.error"},
		{"no header allowed", "lax", "", true, "proxy_proto.not_found_allowed"},
		{"malformed v1", "lax", "PROXY TCP4 nonsense\r\n", false, "proxy_proto.versions.v1.error"},
		{"v1 accepted", "lax", "PROXY TCP4 203.0.113.7 127.0.0.1 12345 80\r\n", true, "proxy_proto.versions.v1.found"},
	}
	for _, tc := range cases {
		got, err := roundTrip(s.Addr(tc.listener), tc.header)
		if tc.ok && (err != nil || got != "hello\n") {
			t.Errorf("%s: %q, %v; want the echo", tc.name, got, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: echoed %q, want the connection closed", tc.name, got)
		}
		s.WaitCounter(tc.counter, 1, 10*time.Second)
	}
}

// TestProxyProtocolSourceHash: tcp_proxy's hash_policy source_ip hashes the
// PROXY header's source, not the socket's peer (127.0.0.1 for every
// connection here): one source always reaches the same host, and different
// sources spread over the hosts.
func TestProxyProtocolSourceHash(t *testing.T) {
	var eps []string
	for i := range 4 {
		eps = append(eps, fmt.Sprintf("%q", tagServer(t, fmt.Sprintf("host%d", i))))
	}
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: pp
    address: 127.0.0.1:0
    listener_filters: [{name: envoy.filters.listener.proxy_protocol}]
    filters: [{tcp_proxy: {stat_prefix: pp, cluster: hosts, hash_policy: [{source_ip: {}}]}}]
clusters:
  - {name: hosts, lb_policy: maglev, endpoints: [%s]}
`, strings.Join(eps, ", ")))
	seen := map[string]bool{}
	for i := range 16 {
		hdr := fmt.Sprintf("PROXY TCP4 198.51.100.%d 127.0.0.1 %d 80\r\n", i+1, 40000+i)
		first := tagVia(t, "127.0.0.1", s.Addr("pp"), []byte(hdr))
		for j := range 3 { // other client ports, same client address
			hdr := fmt.Sprintf("PROXY TCP4 198.51.100.%d 127.0.0.1 %d 80\r\n", i+1, 50000+j)
			if got := tagVia(t, "127.0.0.1", s.Addr("pp"), []byte(hdr)); got != first {
				t.Fatalf("source 198.51.100.%d reached %s, then %s", i+1, first, got)
			}
		}
		seen[first] = true
	}
	if len(seen) < 2 {
		t.Fatalf("16 PROXY sources all reached %v: the hash did not use them", seen)
	}
}

// TestProxyProtocolAllowedSources: which peers may send PROXY headers is
// said with rbac's direct_remote_ip (the socket's peer, never the header's
// source): a header forged by a client connecting from 127.0.0.9 is
// refused, the same header from the trusted proxy's 127.0.0.1 is served.
func TestProxyProtocolAllowedSources(t *testing.T) {
	up := serve(t, echo)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: pp
    address: 127.0.0.1:0
    listener_filters: [{name: envoy.filters.listener.proxy_protocol}]
    filters:
      - rbac:
          stat_prefix: trusted
          rules:
            policies:
              from-lb: {permissions: [{any: true}], principals: [{direct_remote_ip: {address_prefix: 127.0.0.1, prefix_len: 32}}]}
      - tcp_proxy: {stat_prefix: pp, cluster: echo}
clusters:
  - {name: echo, endpoints: ["%s"]}
`, up))
	hdr := "PROXY TCP4 127.0.0.1 127.0.0.1 40000 80\r\nhello\n"
	if got := tagVia(t, "127.0.0.9", s.Addr("pp"), []byte(hdr)); got != "closed" {
		t.Errorf("forged header from 127.0.0.9: %q, want refused", got)
	}
	if got := tagVia(t, "127.0.0.1", s.Addr("pp"), []byte(hdr)); got != "hello" {
		t.Errorf("header from the trusted 127.0.0.1: %q, want the echo", got)
	}
	s.WaitCounter("trusted.rbac.denied", 1, 10*time.Second)
}
